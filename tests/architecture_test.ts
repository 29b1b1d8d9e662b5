/**
 * The layering of docs/architecture.md "Layers", checked over the files in the working tree
 * (what .gitignore leaves in): which folder may import which, no import cycles, no absolute
 * machine paths or citations of documents outside the repo, and no broken relative links in the
 * Markdown files. Reads files only: no processes, no network.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);
/** This file, as a repo path. */
const THIS_FILE = "tests/architecture_test.ts";

/**
 * lib/ folders by layer, lowest first, as in docs/architecture.md "Layers": a file may import
 * its own folder and folders of the same or a lower layer. "lib" stands for the files directly
 * in lib/ (lib/bytes.ts). A new lib/ folder fails the layering test until it is added here and
 * to the table in the doc.
 */
const LIB_LAYERS: Readonly<Record<string, number>> = Object.freeze({
  "lib": 0,
  "lib/net": 1,
  "lib/pcap": 2,
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

// ---------------------------------------------------------------------------------------------
// The files

/** Paths relative to the repo root, "/"-separated, of every file .gitignore leaves in. */
async function repoFiles(): Promise<string[]> {
  const ignored = await gitignoreMatchers();
  const out: string[] = [];
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(new URL(dir || ".", ROOT))) {
      const path = dir ? `${dir}/${e.name}` : e.name;
      if (e.name === ".git" || ignored.some((m) => m(path, e.isDirectory))) continue;
      if (e.isDirectory) await walk(path);
      else if (e.isFile) out.push(path);
    }
  };
  await walk("");
  return out.sort();
}

/** The repo's .gitignore as matchers (anchored "/x", directory-only "x/", "*" globs). */
async function gitignoreMatchers(): Promise<((path: string, isDir: boolean) => boolean)[]> {
  let text = "";
  try {
    text = await Deno.readTextFile(new URL(".gitignore", ROOT));
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return text.split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#")).map(
    (line) => {
      const dirOnly = line.endsWith("/");
      const body = line.replace(/^\//, "").replace(/\/$/, "");
      const anchored = line.startsWith("/") || body.includes("/");
      const glob = new RegExp(
        "^" + body.split("*").map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join("[^/]*") +
          "$",
      );
      return (path: string, isDir: boolean) => {
        if (dirOnly && !isDir) return false;
        return anchored ? glob.test(path) : glob.test(path.slice(path.lastIndexOf("/") + 1));
      };
    },
  );
}

const decoder = new TextDecoder("utf-8", { fatal: false });

/** The file's text, or undefined for a binary file (a NUL byte in its first 8 KiB). */
async function textOf(path: string): Promise<string | undefined> {
  const bytes = await Deno.readFile(new URL(path, ROOT));
  if (bytes.subarray(0, 8192).includes(0)) return undefined;
  return decoder.decode(bytes);
}

// ---------------------------------------------------------------------------------------------
// Imports

/** `import … from "x"`, `import type … from "x"`, `export … from "x"`, at the start of a line. */
const STATIC_IMPORT =
  /^[ \t]*(?:import|export)\s+(?:type\s+)?(?:[\w$]+\s*,\s*)?(?:\{[^}]*\}|\*(?:\s+as\s+[\w$]+)?|[\w$]+)\s+from\s*["']([^"']+)["']/gm;
/** `import "x";` (side effects only). */
const BARE_IMPORT = /^[ \t]*import\s*["']([^"']+)["']/gm;
/** `import("x")` with a literal specifier. */
const DYNAMIC_IMPORT = /\bimport\(\s*["']([^"']+)["']\s*\)/g;
/**
 * `new URL("x.ts", import.meta.url)`: a module started as a worker or a child process. It is
 * not in Deno's module graph, but the file naming it depends on it just the same, so it counts.
 */
const MODULE_URL = /\bnew URL\(\s*["'](\.{1,2}\/[^"']+\.ts)["']\s*,\s*import\.meta\.url\s*\)/g;

/** One relative import of a file: the line it is on and the file it names. */
interface Import {
  from: string;
  to: string;
  line: number;
}

/** Whether a line is (the start of) a comment, so an example inside a doc comment is skipped. */
function isCommentLine(line: string): boolean {
  const t = line.trimStart();
  return t.startsWith("*") || t.startsWith("//") || t.startsWith("/*");
}

/**
 * Relative imports of a TypeScript source (type-only ones and worker module URLs included),
 * resolved to repo paths.
 */
function importsOf(path: string, text: string): Import[] {
  const out: Import[] = [];
  const lineAt = (index: number) => text.slice(0, index).split("\n").length;
  const add = (specifier: string, index: number) => {
    if (!specifier.startsWith("./") && !specifier.startsWith("../")) return;
    out.push({ from: path, to: resolve(path, specifier), line: lineAt(index) });
  };
  for (const re of [STATIC_IMPORT, BARE_IMPORT]) {
    for (const m of text.matchAll(re)) add(m[1], m.index + m[0].length - m[1].length - 1);
  }
  let offset = 0;
  for (const line of text.split("\n")) {
    if (!isCommentLine(line)) {
      for (const m of line.matchAll(DYNAMIC_IMPORT)) add(m[1], offset + m.index);
      for (const m of line.matchAll(MODULE_URL)) add(m[1], offset + m.index);
    }
    offset += line.length + 1;
  }
  return out;
}

/** A relative specifier of `from` as a repo path ("../x" above the root stays visible). */
function resolve(from: string, specifier: string): string {
  const parts = from.split("/").slice(0, -1);
  for (const piece of specifier.split("/")) {
    if (piece === "" || piece === ".") continue;
    if (piece === "..") {
      if (parts.length === 0 || parts[parts.length - 1] === "..") parts.push("..");
      else parts.pop();
    } else parts.push(piece);
  }
  return parts.join("/");
}

/** Every relative import of every .ts file in the tree. */
async function allImports(): Promise<{ files: string[]; imports: Import[] }> {
  const files = (await repoFiles()).filter((f) => f.endsWith(".ts"));
  const imports: Import[] = [];
  for (const f of files) imports.push(...importsOf(f, (await textOf(f)) ?? ""));
  return { files, imports };
}

function isTestFile(path: string): boolean {
  return path.endsWith("_test.ts");
}

/** The lib/ layer key of a path: "lib/<folder>" or "lib" for files directly in lib/. */
function libFolder(path: string): string | undefined {
  const m = /^lib\/(?:([^/]+)\/)?[^/]+$|^lib\/([^/]+)\//.exec(path);
  if (!m) return undefined;
  const folder = m[1] ?? m[2];
  return folder === undefined ? "lib" : `lib/${folder}`;
}

function topFolder(path: string): string {
  return path.includes("/") ? path.slice(0, path.indexOf("/")) : "";
}

function describe(i: Import): string {
  return `${i.from}:${i.line} imports ${i.to}`;
}

// ---------------------------------------------------------------------------------------------
// Tests

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

// ---------------------------------------------------------------------------------------------
// Machine paths and outside documents

/**
 * An absolute path on a build machine's home or work area. A leak anywhere, code included:
 * nothing in the repo may depend on where someone's checkout lives.
 */
const MACHINE_PATH = /(?<![\w.~-])\/(?:work|home|root|farm|Users)\/[\w.@+-]/;
/**
 * A temporary path. Code may build temp paths (Deno.makeTempDir, test arguments) and a recorded
 * manifest keeps the command line it ran, so this only counts in comments and in prose.
 */
const TEMP_PATH = /(?<![\w.~-])\/tmp\/[\w.@+-]/;
/** Documents that live outside the repo; the facts belong in docs/ instead. */
const OUTSIDE_DOCUMENTS: readonly RegExp[] = Object.freeze([
  /\.\.\/shared\b/,
  /\bspice-protocol\.md\b/,
  /\bARCHITECTURE\.md\b/,
  /\bSTYLE\.md\b/,
]);
/** Files with C-style comments, checked for temporary paths. */
const C_LIKE = /\.(ts|js|mjs|c|h)$/;
/** Files with shell-style comments, checked for temporary paths. */
const HASH_COMMENTS = /(^|\/)(run|[^/.]+\.(sh|ya?ml|toml))$|^\.ci\/|^\.gitignore$/;

/** The comment text of each line (the whole line for a comment line), by 1-based line number. */
function commentsOf(path: string, text: string): [number, string][] {
  const out: [number, string][] = [];
  const lines = text.split("\n");
  if (C_LIKE.test(path)) {
    let inBlock = false;
    lines.forEach((line, i) => {
      const t = line.trimStart();
      if (inBlock || t.startsWith("/*") || t.startsWith("*") || t.startsWith("//")) {
        out.push([i + 1, line]);
        if (t.startsWith("/*")) inBlock = true;
        if (line.includes("*/")) inBlock = false;
        return;
      }
      const at = line.search(/(^|\s)\/\/|\/\*/);
      if (at >= 0) {
        out.push([i + 1, line.slice(at)]);
        if (line.includes("/*", at) && !line.includes("*/", at)) inBlock = true;
      }
    });
  } else if (HASH_COMMENTS.test(path)) {
    lines.forEach((line, i) => {
      const at = line.search(/(^|\s)#/);
      if (at >= 0) out.push([i + 1, line.slice(at)]);
    });
  }
  return out;
}

/** What is wrong in one file: machine paths anywhere, temp paths in comments or prose, citations. */
function pathAndCitationProblems(path: string, text: string): string[] {
  const problems: string[] = [];
  text.split("\n").forEach((line, i) => {
    if (MACHINE_PATH.test(line)) {
      problems.push(`${path}:${i + 1}: absolute machine path: ${line.trim()}`);
    }
    for (const re of OUTSIDE_DOCUMENTS) {
      if (re.test(line)) {
        problems.push(`${path}:${i + 1}: cites a document outside the repo: ${line.trim()}`);
      }
    }
    if (path.endsWith(".md") && TEMP_PATH.test(line)) {
      problems.push(`${path}:${i + 1}: temporary path in prose: ${line.trim()}`);
    }
  });
  for (const [n, comment] of commentsOf(path, text)) {
    if (TEMP_PATH.test(comment)) {
      problems.push(`${path}:${n}: temporary path in a comment: ${comment.trim()}`);
    }
  }
  return problems;
}

Deno.test("the path and citation patterns catch leaks in comments, not temp paths in code", () => {
  const leak = ["/", "work", "/", "main/lib/x.ts"].join("");
  const cited = ["spice-protocol", ".md"].join("");
  const text = [
    `/** Offsets from ${leak} §2. */`,
    `// see ${cited}`,
    'const dir = await Deno.makeTempDir({ prefix: "spicecap-" });',
    'await main(["merge", "/nonexistent", "-o", "/tmp/x.pcapng"], io);',
    ["const x = 1; /", "/ written to /tmp/build-1234/out"].join(""),
    "const url = `https://example.com/home/page`;",
  ].join("\n");
  assert.deepEqual(pathAndCitationProblems("lib/x.ts", text).map((p) => p.split(": ")[0]), [
    "lib/x.ts:1",
    "lib/x.ts:2",
    "lib/x.ts:5",
  ]);
});

Deno.test("no file has an absolute machine path or cites a document outside the repo", async () => {
  const problems: string[] = [];
  for (const path of await repoFiles()) {
    const text = await textOf(path);
    if (text !== undefined) problems.push(...pathAndCitationProblems(path, text));
  }
  assert.deepEqual(problems, [], "cite docs/protocol.md or docs/architecture.md instead");
});

// ---------------------------------------------------------------------------------------------
// Links

/** A heading's anchor as GitHub makes it: lower case, punctuation dropped, spaces to hyphens. */
function anchorOf(heading: string): string {
  return heading.trim().toLowerCase().replace(/[`*_]/g, (c) => (c === "_" ? "_" : ""))
    .replace(/[^\p{L}\p{N}\s_-]/gu, "").replace(/\s/g, "-");
}

/** Anchors of every heading of a Markdown text (duplicates get -1, -2 … as on GitHub). */
function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const m of withoutCode(markdown).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = anchorOf(m[1]);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** Markdown with fenced blocks and inline code blanked (keeping line numbers). */
function withoutCode(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, (b) => b.replace(/[^\n]/g, " "))
    .replace(/`[^`\n]*`/g, (s) => " ".repeat(s.length));
}

/** Inline links `[text](target)` and reference definitions `[name]: target` of a Markdown text. */
function linksOf(markdown: string): { target: string; line: number }[] {
  const text = withoutCode(markdown);
  const out: { target: string; line: number }[] = [];
  const lineAt = (index: number) => text.slice(0, index).split("\n").length;
  for (const m of text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+["'(][^)]*)?\)/g)) {
    out.push({ target: m[1], line: lineAt(m.index) });
  }
  for (const m of text.matchAll(/^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)) {
    out.push({ target: m[1], line: lineAt(m.index) });
  }
  return out;
}

/** Why a link of `path` does not resolve, or undefined when it does (or is not relative). */
async function brokenLink(path: string, target: string): Promise<string | undefined> {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith("//")) return undefined;
  const [rawFile, fragment] = target.split("#", 2);
  const file = decodeURIComponent(rawFile.split("?")[0]);
  const resolved = file === ""
    ? path
    : file.startsWith("/")
    ? file.replace(/^\/+/, "").replace(/\/$/, "")
    : resolve(path, file.replace(/\/$/, ""));
  if (resolved === ".." || resolved.startsWith("../")) return "points outside the repo";
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(new URL(resolved || ".", ROOT));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return `${resolved} does not exist`;
    throw e;
  }
  if (fragment && info.isFile && resolved.endsWith(".md")) {
    const anchors = anchorsOf(await Deno.readTextFile(new URL(resolved, ROOT)));
    if (!anchors.has(fragment.toLowerCase())) return `${resolved} has no heading #${fragment}`;
  }
  return undefined;
}

Deno.test("the link scanner resolves files, folders and heading anchors", async () => {
  assert.equal(anchorOf("Where things are"), "where-things-are");
  assert.equal(
    anchorOf("`lib/` — pure code (bytes in, values out)"),
    "lib--pure-code-bytes-in-values-out",
  );
  assert.deepEqual(
    linksOf("See [a](docs/a.md#x) and `[b](nope.md)`.\n```\n[c](nope2.md)\n```\n[d]: ../e.md\n")
      .map((l) => `${l.target}@${l.line}`),
    ["docs/a.md#x@1", "../e.md@5"],
  );
  assert.equal(await brokenLink("README.md", "https://example.com/x.md"), undefined);
  assert.equal(await brokenLink("README.md", "lib/"), undefined);
  assert.equal(await brokenLink("docs/x.md", "../mod.ts"), undefined);
  assert.equal(await brokenLink("docs/x.md", "../../outside.md"), "points outside the repo");
  assert.equal(await brokenLink("README.md", "no_such_file.md"), "no_such_file.md does not exist");
});

Deno.test("every relative link in the Markdown files resolves to a file in the repo", async () => {
  const docs = (await repoFiles()).filter((f) => f.endsWith(".md"));
  assert.ok(docs.includes("README.md"), "README.md is found");
  assert.ok(docs.includes("docs/architecture.md"), "docs/architecture.md is found");
  const broken: string[] = [];
  for (const path of docs) {
    for (const { target, line } of linksOf(await Deno.readTextFile(new URL(path, ROOT)))) {
      const why = await brokenLink(path, target);
      if (why) broken.push(`${path}:${line}: (${target}) ${why}`);
    }
  }
  assert.deepEqual(broken, []);
});

/**
 * `docs/<name>.md "<Section>"` (a comma after the name, and more sections joined by commas or
 * "and", are fine) in comments and docs: the sections a citation points at.
 */
const SECTION_CITATION = /\bdocs\/([\w-]+\.md),?\s+((?:"[^"]+"(?:,\s*|\s+and\s+)?)+)/g;

/** Text with comment continuations (a newline, then `*` or `//`) joined into one line. */
function joinCommentLines(text: string): string {
  return text.replace(/\n[ \t]*(?:\*(?!\/)|\/\/)[ \t]*/g, " ");
}

/** Headings of a Markdown text, lower case. */
function headingsOf(markdown: string): Set<string> {
  const names = withoutCode(markdown).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm);
  return new Set([...names].map((h) => h[1].toLowerCase()));
}

/** Every `docs/x.md "Section"` citation of a text whose section is not a heading of x. */
async function badCitations(
  path: string,
  text: string,
  headings: Map<string, Set<string>>,
): Promise<string[]> {
  const bad: string[] = [];
  for (const m of joinCommentLines(text).matchAll(SECTION_CITATION)) {
    const doc = `docs/${m[1]}`;
    if (!headings.has(doc)) {
      try {
        headings.set(doc, headingsOf(await Deno.readTextFile(new URL(doc, ROOT))));
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
        headings.set(doc, new Set());
      }
    }
    for (const q of m[2].matchAll(/"([^"]+)"/g)) {
      const section = q[1].replace(/\s+/g, " ");
      if (!headings.get(doc)!.has(section.toLowerCase())) {
        bad.push(`${path}: ${doc} has no section "${section}"`);
      }
    }
  }
  return bad;
}

Deno.test("the citation scanner reads sections across comment lines and lists", async () => {
  const headings = new Map([["docs/a.md", new Set(["link phase", "message numbers"])]]);
  const text = [
    "/**",
    ' * Offsets (docs/a.md "Link phase" and "Message numbers"), layouts (docs/a.md, "Link',
    ' * phase"), names (docs/a.md "Nowhere").',
    " */",
    '// see docs/a.md "Message',
    '// numbers", "Gone"',
  ].join("\n");
  assert.deepEqual(await badCitations("x.ts", text, headings), [
    'x.ts: docs/a.md has no section "Nowhere"',
    'x.ts: docs/a.md has no section "Gone"',
  ]);
});

Deno.test("every citation of a docs/ section names a heading that exists", async () => {
  const headings = new Map<string, Set<string>>();
  const bad: string[] = [];
  for (const path of await repoFiles()) {
    if (path === THIS_FILE) continue; // its examples cite made-up documents on purpose
    const text = await textOf(path);
    if (text !== undefined && text.includes("docs/")) {
      bad.push(...await badCitations(path, text, headings));
    }
  }
  assert.deepEqual(bad, []);
});
