import assert from "node:assert/strict";
import {
  diffArgs,
  parseRegressConfig,
  RegressConfigError,
  replayArgs,
  resolvePassword,
} from "./config.ts";

const FILE = "g/regress.json";

function rejects(text: string, pattern: RegExp): void {
  assert.throws(() => parseRegressConfig(text, FILE), (e: unknown) => {
    assert.ok(e instanceof RegressConfigError, String(e));
    assert.match(e.message, /^g\/regress\.json:/);
    assert.match(e.message, pattern);
    return true;
  });
}

Deno.test("regress.json: every field read, lists default to empty", () => {
  const c = parseRegressConfig(
    JSON.stringify({
      version: 1,
      password: "secret",
      timeoutMs: 5000,
      speed: "realtime",
      gate: "none",
      keep: ["mm-time"],
      normalise: ["draw-images"],
      ignoreTypes: ["NOTIFY"],
      rules: "rules.json",
      lookahead: 16,
      timingMs: 50,
    }),
    FILE,
  );
  assert.deepEqual(c.password, { kind: "literal", value: "secret" });
  assert.equal(c.timeoutMs, 5000);
  assert.equal(c.gate, "none");
  assert.deepEqual(c.keep, ["mm-time"]);
  assert.equal(c.rules, "rules.json");
  assert.deepEqual(parseRegressConfig("{}", FILE), {
    password: undefined,
    timeoutMs: undefined,
    speed: undefined,
    gate: undefined,
    keep: [],
    normalise: [],
    ignoreTypes: [],
    rules: undefined,
    lookahead: undefined,
    timingMs: undefined,
  });
});

Deno.test("regress.json: a bad file or field is named with what was expected", () => {
  rejects("{", /expected JSON/);
  rejects("[]", /expected a JSON object, got an array/);
  rejects('{"pasword": "x"}', /'pasword': expected no such field/);
  rejects('{"version": 2}', /'version': expected 1, got number 2/);
  rejects('{"timeoutMs": -1}', /'timeoutMs': expected a positive integer/);
  rejects('{"timeoutMs": "10"}', /'timeoutMs'.*got "10"/);
  rejects('{"gate": "screens"}', /'gate': expected "screen" or "none"/);
  rejects('{"speed": "fast"}', /'speed'/);
  rejects('{"keep": "mm-time"}', /'keep': expected an array of names/);
  rejects('{"keep": ["no-such"]}', /'keep\[0\]': expected a normaliser name/);
  rejects('{"ignoreTypes": [""]}', /'ignoreTypes\[0\]': expected a name/);
  rejects('{"rules": "../elsewhere.json"}', /'rules': expected a relative path inside/);
  rejects('{"rules": "/etc/rules.json"}', /'rules'/);
  rejects('{"password": "env:1BAD"}', /'password': expected "env:NAME"/);
  rejects('{"password": 7}', /'password': expected a string, got number 7/);
});

Deno.test("regress.json: password from the environment or literal; unset variable named", () => {
  const env = (name: string) => name === "GOLDEN_PW" ? "pw" : undefined;
  const fromEnv = parseRegressConfig('{"password": "env:GOLDEN_PW"}', FILE);
  assert.deepEqual(resolvePassword(fromEnv, env), { password: "pw" });
  const unset = parseRegressConfig('{"password": "env:NOT_SET"}', FILE);
  assert.deepEqual(resolvePassword(unset, env), { missing: "NOT_SET" });
  assert.deepEqual(resolvePassword(parseRegressConfig("{}", FILE), env), {});
});

Deno.test("regress.json becomes replay and diff arguments, paths inside the golden", () => {
  const config = parseRegressConfig(
    '{"timeoutMs": 3000, "keep": ["mm-time"], "ignoreTypes": ["NOTIFY"], "rules": "r.json"}',
    FILE,
  );
  assert.deepEqual(replayArgs("g", { config, outDir: "o", password: "s" }), [
    "g",
    "--out",
    "o",
    "--password",
    "s",
    "--timeout",
    "3000",
    "--rules",
    "g/r.json",
  ]);
  assert.deepEqual(diffArgs("g", { config, actualDir: "o" }), [
    "o",
    "g",
    "--keep",
    "mm-time",
    "--ignore-type",
    "NOTIFY",
    "--rules",
    "g/r.json",
  ]);
});
