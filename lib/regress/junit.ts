/**
 * JUnit XML for a regression run: the format GitHub Actions (through test-report actions),
 * GitLab (`artifacts:reports:junit`) and Jenkins (`junit` step) display. One `<testsuite>` in a
 * `<testsuites>`; one `<testcase>` per golden that finished; a differing golden has a `<failure>`
 * (the diff summary as its message, the diff as its text), one that could not run an `<error>`;
 * kept artifacts are `<property>` elements of the testcase.
 *
 * @module
 */
import { finished, type GoldenResult } from "./results.ts";

/**
 * Characters XML 1.0 cannot hold at all (C0 controls but tab, LF, CR; U+FFFE, U+FFFF; lone
 * surrogates) become U+FFFD.
 */
function xmlChars(text: string): string {
  let out = "";
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    const ok = c === 0x9 || c === 0xa || c === 0xd || (c >= 0x20 && c <= 0xd7ff) ||
      (c >= 0xe000 && c <= 0xfffd) || c >= 0x10000;
    out += ok ? ch : "\uFFFD";
  }
  return out;
}

/**
 * Text content escaped for XML: `&`, `<`, `>` as entities; characters XML cannot hold replaced.
 *
 * @param text any string
 */
export function escapeXmlText(text: string): string {
  return xmlChars(text).replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

/**
 * An attribute value escaped for a double-quoted attribute: as text, plus `"`, `'` and the
 * whitespace a parser would otherwise normalise to spaces (tab, LF, CR) as character references.
 *
 * @param text any string
 */
export function escapeXmlAttr(text: string): string {
  return escapeXmlText(text).replaceAll('"', "&quot;").replaceAll("'", "&apos;")
    .replaceAll("\t", "&#9;").replaceAll("\n", "&#10;").replaceAll("\r", "&#13;");
}

function attrs(pairs: Record<string, string | number | undefined>): string {
  return Object.entries(pairs)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${escapeXmlAttr(String(v))}"`)
    .join("");
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

/** How the report is labelled. */
export interface JunitOptions {
  /** The testsuite's name. @default "spicecap regress" */
  suite?: string;
  /** ISO time the run started. */
  timestamp?: string;
  /** Suite-level properties, e.g. the shard and whether the run was interrupted. */
  properties?: Record<string, string>;
}

function properties(props: Record<string, string> | undefined, indent: string): string[] {
  const entries = Object.entries(props ?? {});
  if (entries.length === 0) return [];
  return [
    `${indent}<properties>`,
    ...entries.map(([name, value]) => `${indent}  <property${attrs({ name, value })}/>`),
    `${indent}</properties>`,
  ];
}

function testcase(r: GoldenResult, suite: string): string[] {
  const open = `    <testcase${attrs({ name: r.name, classname: suite, time: seconds(r.timeMs) })}`;
  const body = properties(r.artifacts, "      ");
  const kind = r.outcome === "error"
    ? "error"
    : r.outcome === "differs" || r.outcome === "updated"
    ? "failure"
    : undefined;
  if (kind) {
    const type = r.outcome === "error" ? "could-not-run" : r.outcome;
    const message = r.message ?? (kind === "error" ? "could not run" : "differs");
    body.push(
      `      <${kind}${attrs({ message, type })}>${escapeXmlText(r.details ?? message)}</${kind}>`,
    );
  }
  if (body.length === 0) return [`${open}/>`];
  return [`${open}>`, ...body, "    </testcase>"];
}

/**
 * The JUnit XML document for a run. Goldens that did not finish (interrupted, not run) are left
 * out; pass the interruption as a suite property.
 *
 * @param results the goldens in the run's order
 * @param options names, time and suite properties
 */
export function junitXml(results: readonly GoldenResult[], options: JunitOptions = {}): string {
  const suite = options.suite ?? "spicecap regress";
  const done = results.filter(finished);
  const failures = done.filter((r) => r.outcome === "differs" || r.outcome === "updated").length;
  const errors = done.filter((r) => r.outcome === "error").length;
  const time = seconds(done.reduce((sum, r) => sum + r.timeMs, 0));
  const counts = { tests: done.length, failures, errors, skipped: 0, time };
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites${attrs({ name: suite, ...counts })}>`,
    `  <testsuite${attrs({ name: suite, ...counts, timestamp: options.timestamp })}>`,
    ...properties(options.properties, "    "),
    ...done.flatMap((r) => testcase(r, suite)),
    "  </testsuite>",
    "</testsuites>",
  ];
  return lines.join("\n") + "\n";
}
