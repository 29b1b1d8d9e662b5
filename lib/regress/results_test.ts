import assert from "node:assert/strict";
import { exitStatus, formatResultTable, type GoldenResult } from "./results.ts";

const same: GoldenResult = { name: "g/a", outcome: "same", differences: 0, timeMs: 2660 };
const differs: GoldenResult = { name: "g/bb", outcome: "differs", differences: 3, timeMs: 12040 };
const error: GoldenResult = { name: "g/c", outcome: "error", timeMs: 10 };

Deno.test("result table: one aligned row per golden in the given order, then totals", () => {
  const notRun: GoldenResult = { name: "g/d", outcome: "not-run", timeMs: 0 };
  assert.equal(
    formatResultTable([same, differs, error, notRun]),
    [
      "golden  result         differences    time",
      "g/a     same                     0   2.7 s",
      "g/bb    DIFFERS                  3  12.0 s",
      "g/c     COULD NOT RUN            -   0.0 s",
      "g/d     not run                  -       -",
      "4 goldens: 1 same, 1 differs, 1 could not run, 1 not run",
      "",
    ].join("\n"),
  );
  assert.equal(formatResultTable([]), "golden  result  differences  time\n0 goldens\n");
});

Deno.test("exit status: 0 all same, 1 any differs, 2 any could not run, 130 interrupted", () => {
  assert.equal(exitStatus([same], false), 0);
  assert.equal(exitStatus([], false), 0);
  assert.equal(exitStatus([same, differs], false), 1);
  assert.equal(exitStatus([same, { ...differs, outcome: "updated" }], false), 1);
  assert.equal(exitStatus([same, differs, error], false), 2);
  assert.equal(exitStatus([same, differs], true), 130);
});
