/**
 * Regenerates fixtures/golden/: small golden sessions recorded with spicecap itself
 * (`deno task capture` with its own QEMU) and real clients.
 *
 *   deno run -A tools/make_golden_fixtures.ts [NAME…]
 *
 * Every fixture boots the static guest (harness/guest.ts), so a replay's display stream is
 * byte-identical to the golden's whatever the blink phase of SeaBIOS's cursor would have been.
 * Needs qemu-system-x86_64, spicy-screenshot, spicy and xvfb-run. Each session lands in
 * fixtures/golden/<name>/ (the client's screenshot file is removed); fixtures/golden/README.md
 * gets one line per fixture saying how it was made.
 */
import { requireTool } from "../harness/processes/tools.ts";

/** One golden fixture: directory name, capture arguments, README text. */
export interface GoldenFixture {
  name: string;
  args: string[];
  /** Password the replay must use (`--password`), when the fixture has one. */
  password?: string;
  tools: string[];
  about: string;
}

/** The golden fixtures, in README order. */
export const GOLDEN_FIXTURES: readonly GoldenFixture[] = Object.freeze([
  {
    name: "screenshot",
    args: ["--client", "spicy-screenshot", "--guest", "static"],
    tools: ["qemu-system-x86_64", "spicy-screenshot"],
    about: "spicy-screenshot against the default QEMU (main + display, ~50 ms)",
  },
  {
    name: "all_channels",
    args: ["--client", "spicy", "--channels", "all", "--guest", "static", "--duration", "3"],
    tools: ["qemu-system-x86_64", "spicy", "xvfb-run"],
    about: "spicy under Xvfb for 3 s against QEMU with audio and usbredir (7 channels)",
  },
  {
    name: "password",
    args: ["--client", "spicy-screenshot", "--guest", "static", "--password", "secret"],
    password: "secret",
    tools: ["qemu-system-x86_64", "spicy-screenshot"],
    about: "spicy-screenshot with SPICE password 'secret' (replay with --password secret)",
  },
]);

/** Where the fixtures live. */
export const GOLDEN_DIR = new URL("../fixtures/golden/", import.meta.url).pathname;

const MAX_SESSION_BYTES = 2 * 1024 * 1024;

async function dirBytes(dir: string): Promise<number> {
  let n = 0;
  for await (const e of Deno.readDir(dir)) {
    if (e.isFile) n += (await Deno.stat(`${dir}/${e.name}`)).size;
  }
  return n;
}

async function record(f: GoldenFixture): Promise<void> {
  for (const t of f.tools) requireTool(t);
  const out = `${GOLDEN_DIR}${f.name}`;
  await Deno.remove(out, { recursive: true }).catch(() => {});
  const cli = new URL("../harness/cli.ts", import.meta.url).pathname;
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", cli, "capture", ...f.args, "-o", out],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (code !== 0) {
    throw new Error(`capture of ${f.name} exited ${code}: ${new TextDecoder().decode(stderr)}`);
  }
  for await (const e of Deno.readDir(out)) {
    if (e.name.endsWith(".ppm")) await Deno.remove(`${out}/${e.name}`);
  }
  // How `deno task regress` replays and compares it (the replay needs the password).
  const regress = f.password === undefined ? { version: 1 } : { version: 1, password: f.password };
  await Deno.writeTextFile(`${out}/regress.json`, JSON.stringify(regress) + "\n");
  const bytes = await dirBytes(out);
  if (bytes > MAX_SESSION_BYTES) throw new Error(`${f.name} is ${bytes} bytes, over 2 MiB`);
  console.log(`${f.name}: ${bytes} bytes`);
}

async function writeReadme(): Promise<void> {
  const lines = [
    "# Golden sessions",
    "",
    "Recorded with spicecap itself; regenerate with `deno run -A tools/make_golden_fixtures.ts`.",
    "tests/replay_golden_test.ts replays each against a fresh QEMU and diffs the result here;",
    "`deno task regress` does the same for each with the options in its `regress.json`.",
    "",
    ...GOLDEN_FIXTURES.map((f) =>
      `- \`${f.name}/\`: ${f.about}: \`deno task capture ${
        f.args.join(" ")
      } -o fixtures/golden/${f.name}\``
    ),
    "",
  ];
  await Deno.writeTextFile(`${GOLDEN_DIR}README.md`, lines.join("\n"));
}

if (import.meta.main) {
  const wanted = Deno.args.length ? Deno.args : GOLDEN_FIXTURES.map((f) => f.name);
  await Deno.mkdir(GOLDEN_DIR, { recursive: true });
  for (const name of wanted) {
    const f = GOLDEN_FIXTURES.find((x) => x.name === name);
    if (!f) {
      throw new Error(`unknown fixture ${name}; known: ${GOLDEN_FIXTURES.map((x) => x.name)}`);
    }
    await record(f);
  }
  await writeReadme();
}
