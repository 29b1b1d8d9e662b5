/**
 * No import cycles among the repo's .ts files, type-only imports and worker module URLs
 * included (docs/architecture.md "Layers"). Reads files only.
 */
import assert from "node:assert/strict";
import { allImports } from "../testing/import_scan.ts";

Deno.test("there is no import cycle among the .ts files (type-only imports and worker URLs count)", async () => {
  const { files, imports } = await allImports();
  const edges = new Map<string, string[]>(files.map((f) => [f, []]));
  for (const i of imports) if (edges.has(i.to)) edges.get(i.from)!.push(i.to);
  const cycles = findCycles(edges);
  assert.deepEqual(
    cycles.map((c) => c.join(" → ")),
    [],
    "break each cycle, e.g. by moving the shared types into a module both import",
  );
});

/**
 * One cycle per strongly connected component with more than one file (or a file importing
 * itself), as the path "a → b → … → a", via Tarjan's algorithm.
 */
function findCycles(edges: ReadonlyMap<string, readonly string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const connect = (v: string) => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (edges.get(v) ?? []).includes(v)) components.push(component);
    }
  };
  for (const v of [...edges.keys()].sort()) if (!index.has(v)) connect(v);
  return components.map((component) => cyclePath(component, edges));
}

/** A shortest cycle through the component's first file (by name), by breadth-first search. */
function cyclePath(component: string[], edges: ReadonlyMap<string, readonly string[]>): string[] {
  const members = new Set(component);
  const start = [...component].sort()[0];
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const w of edges.get(v) ?? []) {
      if (!members.has(w)) continue;
      if (w === start) {
        const path = [start];
        for (let u = v; u !== start; u = previous.get(u)!) path.splice(1, 0, u);
        return [...path, start];
      }
      if (!previous.has(w)) {
        previous.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start];
}

Deno.test("findCycles() reports each cycle as a path and ignores acyclic imports", () => {
  const edges = new Map<string, string[]>([
    ["a.ts", ["b.ts"]],
    ["b.ts", ["c.ts"]],
    ["c.ts", ["a.ts", "d.ts"]],
    ["d.ts", []],
    ["e.ts", ["e.ts"]],
    ["f.ts", ["d.ts"]],
  ]);
  assert.deepEqual(findCycles(edges).map((c) => c.join(" → ")).sort(), [
    "a.ts → b.ts → c.ts → a.ts",
    "e.ts → e.ts",
  ]);
});
