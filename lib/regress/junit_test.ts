import assert from "node:assert/strict";
import { escapeXmlAttr, escapeXmlText, junitXml } from "./junit.ts";
import type { GoldenResult } from "./results.ts";
import { childrenNamed, parseXml } from "../../testing/xml.ts";

const NASTY = `a<b>&"c'\n\td\r\u0001\uFFFE\uD800]]>end`;

const results: GoldenResult[] = [
  { name: "golden/same", outcome: "same", differences: 0, timeMs: 2500 },
  {
    name: `golden/${NASTY}`,
    outcome: "differs",
    differences: 2,
    timeMs: 1234,
    message: `differs: 2 differences ${NASTY}`,
    details: `diff text ${NASTY}`,
    artifacts: { replay: "art/x/replay", diff: `art/x/diff&<.txt` },
  },
  { name: "golden/broken", outcome: "error", timeMs: 5, message: "QEMU exited (code 1)" },
  { name: "golden/late", outcome: "interrupted", timeMs: 700 },
  { name: "golden/never", outcome: "not-run", timeMs: 0 },
];

Deno.test("escaping: text keeps quotes, attributes escape them and line breaks", () => {
  assert.equal(escapeXmlText(`<a & "b">`), `&lt;a &amp; "b"&gt;`);
  assert.equal(escapeXmlAttr(`<a & "b">'\n`), "&lt;a &amp; &quot;b&quot;&gt;&apos;&#10;");
  assert.equal(escapeXmlText("x\u0000y\uFFFFz\uDC00"), "x\uFFFDy\uFFFDz\uFFFD");
  assert.equal(escapeXmlText("😀"), "😀");
});

Deno.test("JUnit XML: well formed, one testcase per finished golden, failures and errors", () => {
  const xml = junitXml(results, {
    timestamp: "2026-01-01T00:00:00Z",
    properties: { shard: "1/2", interrupted: "true" },
  });
  const root = parseXml(xml);
  assert.equal(root.name, "testsuites");
  const [suite] = childrenNamed(root, "testsuite");
  assert.deepEqual(
    [suite.attributes.tests, suite.attributes.failures, suite.attributes.errors],
    ["3", "1", "1"],
  );
  assert.equal(suite.attributes.time, "3.739");
  const props = childrenNamed(childrenNamed(suite, "properties")[0], "property");
  assert.deepEqual(props.map((p) => [p.attributes.name, p.attributes.value]), [
    ["shard", "1/2"],
    ["interrupted", "true"],
  ]);
  const cases = childrenNamed(suite, "testcase");
  assert.deepEqual(cases.map((c) => c.attributes.name), [
    "golden/same",
    `golden/${
      NASTY.replaceAll("\u0001", "\uFFFD").replace("\uFFFE", "\uFFFD").replace("\uD800", "\uFFFD")
    }`,
    "golden/broken",
  ]);
  assert.equal(cases[0].children.length, 0);
  const [failure] = childrenNamed(cases[1], "failure");
  assert.equal(failure.attributes.type, "differs");
  assert.ok(failure.attributes.message.startsWith("differs: 2 differences a<b>&\"c'\n\td\r"));
  assert.ok(failure.text.startsWith("diff text a<b>"));
  assert.ok(failure.text.endsWith("]]>end"));
  const artifacts = childrenNamed(childrenNamed(cases[1], "properties")[0], "property");
  assert.deepEqual(artifacts.map((p) => p.attributes.value), ["art/x/replay", "art/x/diff&<.txt"]);
  const [error] = childrenNamed(cases[2], "error");
  assert.equal(error.attributes.type, "could-not-run");
  assert.equal(error.attributes.message, "QEMU exited (code 1)");
});

Deno.test("JUnit XML of an empty or wholly interrupted run is still a valid report", () => {
  const root = parseXml(junitXml(results.slice(3)));
  const [suite] = childrenNamed(root, "testsuite");
  assert.equal(suite.attributes.tests, "0");
  assert.equal(childrenNamed(suite, "testcase").length, 0);
});

Deno.test("the test parser refuses what is not well formed", () => {
  for (
    const bad of [
      "<a>",
      "<a></b>",
      "<a x=1/>",
      '<a x="1" x="2"/>',
      "<a>&nope;</a>",
      "<a>&</a>",
      "<a/><b/>",
      "<a>\u0001</a>",
    ]
  ) {
    assert.throws(() => parseXml(bad), SyntaxError, bad);
  }
});
