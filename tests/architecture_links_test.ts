/**
 * Every relative link of the Markdown files resolves (files, folders, heading anchors), and
 * every citation of a docs/ section names a heading that exists. Reads files only.
 */
import assert from "node:assert/strict";
import { resolve } from "../testing/import_scan.ts";
import { REPO_ROOT as ROOT, repoFiles, textOf } from "../testing/repo_files.ts";

/** This file, as a repo path. */
const THIS_FILE = "tests/architecture_links_test.ts";

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
