/**
 * The relative imports of the repo's TypeScript files, read from their text (static, type-only,
 * re-exports, dynamic imports, and module URLs started as workers), for the layering tests.
 */
import { repoFiles, textOf } from "./repo_files.ts";

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
export interface Import {
  /** The importing file. */
  from: string;
  /** The imported file, as a repo path. */
  to: string;
  /** The line of the import in `from`. */
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
export function importsOf(path: string, text: string): Import[] {
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
export function resolve(from: string, specifier: string): string {
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
export async function allImports(): Promise<{ files: string[]; imports: Import[] }> {
  const files = (await repoFiles()).filter((f) => f.endsWith(".ts"));
  const imports: Import[] = [];
  for (const f of files) imports.push(...importsOf(f, (await textOf(f)) ?? ""));
  return { files, imports };
}

/** Whether a path is a test file (`*_test.ts`). */
export function isTestFile(path: string): boolean {
  return path.endsWith("_test.ts");
}

/** The lib/ layer key of a path: "lib/<folder>" or "lib" for files directly in lib/. */
export function libFolder(path: string): string | undefined {
  const m = /^lib\/(?:([^/]+)\/)?[^/]+$|^lib\/([^/]+)\//.exec(path);
  if (!m) return undefined;
  const folder = m[1] ?? m[2];
  return folder === undefined ? "lib" : `lib/${folder}`;
}

/** The top-level folder of a repo path ("" for a file at the root). */
export function topFolder(path: string): string {
  return path.includes("/") ? path.slice(0, path.indexOf("/")) : "";
}

/** An import as `from:line imports to`. */
export function describe(i: Import): string {
  return `${i.from}:${i.line} imports ${i.to}`;
}
