/**
 * No file of the repo holds an absolute machine path, a temporary path in a comment or prose,
 * or cites a document that lives outside the repo. Reads files only.
 */
import assert from "node:assert/strict";
import { repoFiles, textOf } from "../testing/repo_files.ts";

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
