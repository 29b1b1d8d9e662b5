/**
 * The layering of docs/architecture.md "Layers", checked over the files in the working tree
 * (what .gitignore leaves in): which folder may import which. Reads files only: no processes,
 * no network.
 */
import assert from "node:assert/strict";
import {
  allImports,
  describe,
  type Import,
  importsOf,
  isTestFile,
  libFolder,
  topFolder,
} from "../testing/import_scan.ts";

/**
 * lib/ folders by layer, lowest first, as in docs/architecture.md "Layers": a file may import
 * its own folder and folders of the same or a lower layer. "lib" stands for the files directly
 * in lib/ (lib/bytes.ts). A new lib/ folder fails the layering test until it is added here and
 * to the table in the doc.
 */
const LIB_LAYERS: Readonly<Record<string, number>> = Object.freeze({
  "lib": 0,
  "lib/net": 1,
  "lib/pcap": 1,
  "lib/spice": 2,
  "lib/capture": 3,
  "lib/session": 4,
  "lib/check": 5,
  "lib/diff": 5,
  "lib/replay": 5,
  "lib/display": 5,
  "lib/serve": 6,
  "lib/report": 6,
  "lib/regress": 6,
});

/** Files outside lib/ that lib/ may import: the tool's name and version. */
const LIB_MAY_IMPORT_FILES: readonly string[] = Object.freeze(["deno.json"]);

/** Top-level folders that code in lib/ (tests beside it aside) never imports. */
const NEVER_FROM_LIB: readonly string[] = Object.freeze([
  "harness",
  "testing",
  "tools",
  "tests",
  "bench",
]);

Deno.test("the import scanner finds static, type-only, multi-line, re-export, dynamic and worker imports", () => {
  const text = [
    "/**",
    ' * import { x } from "./in_a_doc_comment.ts";',
    " */",
    'import { a } from "./a.ts";',
    'import type { B } from "../b/b.ts";',
    "import {",
    "  c,",
    "  type C,",
    '} from "./c.ts";',
    'export * from "./d.ts";',
    'export { e } from "./e.ts";',
    'import f, { g } from "./f.ts";',
    'import * as h from "./h.ts";',
    'import "./i.ts";',
    'import json from "../../deno.json" with { type: "json" };',
    'import assert from "node:assert/strict";',
    'const k = await import("./k.ts");',
    '// const l = await import("./l.ts");',
    'const WORKER_URL = new URL("./m.ts", import.meta.url).href;',
    'const FIXTURE = new URL("../fixtures/n.pcap", import.meta.url);',
  ].join("\n");
  const found = importsOf("lib/x/y.ts", text).map((i) => `${i.to}:${i.line}`).sort();
  assert.deepEqual(found, [
    "deno.json:15",
    "lib/b/b.ts:5",
    "lib/x/a.ts:4",
    "lib/x/c.ts:9",
    "lib/x/d.ts:10",
    "lib/x/e.ts:11",
    "lib/x/f.ts:12",
    "lib/x/h.ts:13",
    "lib/x/i.ts:14",
    "lib/x/k.ts:17",
    "lib/x/m.ts:19",
  ]);
});

Deno.test("no non-test file in lib/ imports from harness/, testing/, tools/, tests/ or bench/", async () => {
  const { imports } = await allImports();
  const bad = imports.filter((i) =>
    i.from.startsWith("lib/") && !isTestFile(i.from) && NEVER_FROM_LIB.includes(topFolder(i.to))
  );
  assert.deepEqual(bad.map(describe), [], "lib/ is pure code: move the import or the code");
});

Deno.test("each lib/ folder imports only folders at or below its own layer (tests also testing/)", async () => {
  const { files, imports } = await allImports();
  const unknown = [...new Set(files.map(libFolder).filter((f) => f !== undefined))]
    .filter((f) => !(f in LIB_LAYERS));
  assert.deepEqual(
    unknown,
    [],
    "a lib/ folder missing from LIB_LAYERS: give it a layer here and in docs/architecture.md",
  );
  const bad: string[] = [];
  for (const i of imports) {
    const own = libFolder(i.from);
    if (own === undefined) continue;
    const target = libFolder(i.to);
    if (target !== undefined) {
      if (LIB_LAYERS[target] > LIB_LAYERS[own]) {
        bad.push(
          `${describe(i)}: ${target} (layer ${LIB_LAYERS[target]}) is above ${own} (layer ${
            LIB_LAYERS[own]
          })`,
        );
      }
    } else if (isTestFile(i.from) && topFolder(i.to) === "testing") {
      continue;
    } else if (!LIB_MAY_IMPORT_FILES.includes(i.to)) {
      bad.push(`${describe(i)}: outside lib/`);
    }
  }
  assert.deepEqual(bad, []);
});

/** The one harness/ module mod.ts exports: the test fixtures. */
const FIXTURE_MODULE = "harness/fixture/mod.ts";

Deno.test("harness/ imports only lib/ and harness/, testing/ only lib/, harness/ and testing/, mod.ts only lib/ and the fixtures", async () => {
  const { imports } = await allImports();
  const allowed = (i: Import): boolean => {
    const from = topFolder(i.from);
    const to = topFolder(i.to);
    if (i.from === "mod.ts") return to === "lib" || i.to === FIXTURE_MODULE;
    if (from === "harness") {
      if (i.to.startsWith("harness/fixture/")) return i.from.startsWith("harness/fixture/");
      if (isTestFile(i.from) && to === "testing") return true;
      return to === "lib" || to === "harness" || i.to === "deno.json";
    }
    if (from === "testing") return to === "lib" || to === "harness" || to === "testing";
    return true;
  };
  assert.deepEqual(imports.filter((i) => !allowed(i)).map(describe), []);
});
