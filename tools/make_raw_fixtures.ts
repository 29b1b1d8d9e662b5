/**
 * Regenerates the real-session fixtures in `fixtures/raw/` by capturing loopback with tshark
 * while a real QEMU serves a real SPICE client. Run as root (or with capture rights on `lo`):
 *
 *     deno run -A tools/make_raw_fixtures.ts [NAME…]
 *
 * Uses the plain command lines of docs/protocol.md "Running the real pieces" and nothing from
 * lib/, so the fixtures are an independent reference for the readers. Every process started
 * here is stopped by its pid.
 */
import { QEMU_BASE_ARGS } from "../harness/processes/qemu_command_line.ts";

const OUT_DIR = new URL("../fixtures/raw/", import.meta.url).pathname;
const QEMU_ALL_CHANNELS = [
  "-audiodev",
  "spice,id=a",
  "-device",
  "intel-hda",
  "-device",
  "hda-duplex,audiodev=a",
  "-device",
  "qemu-xhci",
  "-chardev",
  "spicevmc,name=usbredir,id=u1",
  "-device",
  "usb-redir,chardev=u1",
];
const MAX_FIXTURE_BYTES = 1_000_000;

/** One fixture: how the capture is taken and which client runs. */
interface FixtureSpec {
  file: string;
  readme: string;
  /** tshark capture options besides -i/-w/-f. */
  interfaceName: "lo" | "any";
  tsharkExtra: string[];
  qemuExtra: string[];
  client: (port: number, dir: string) => string[];
  /** Client run time limit in ms (the client is stopped after it). */
  clientMs: number;
}

/** spicy-screenshot's command line: one screenshot of the server on `port`, written to `dir`. */
function screenshotClient(port: number, dir: string): string[] {
  return ["spicy-screenshot", "-h", "127.0.0.1", "-p", String(port), "-o", `${dir}/shot.ppm`];
}

const FIXTURES: FixtureSpec[] = [
  {
    file: "screenshot_lo.pcapng",
    readme:
      "spicy-screenshot (main + display) against QEMU 7.2 `-vga qxl`, `tshark -i lo -w F -f 'tcp port N'` (pcapng, Ethernet)",
    interfaceName: "lo",
    tsharkExtra: [],
    qemuExtra: [],
    client: screenshotClient,
    clientMs: 10_000,
  },
  {
    file: "screenshot_sll2.pcap",
    readme:
      "spicy-screenshot, `tshark -i any -y LINUX_SLL2 -F pcap` (classic pcap, Linux cooked v2, µs)",
    interfaceName: "any",
    tsharkExtra: ["-y", "LINUX_SLL2", "-F", "pcap"],
    qemuExtra: [],
    client: screenshotClient,
    clientMs: 10_000,
  },
  {
    file: "spicy_all_channels.pcapng",
    readme:
      "`xvfb-run -a spicy` for ~3 s against QEMU with intel-hda + usb-redir (all channels: main, display, inputs, cursor, playback, record, usbredir), `tshark -i lo` (pcapng)",
    interfaceName: "lo",
    tsharkExtra: [],
    qemuExtra: QEMU_ALL_CHANNELS,
    // `timeout` stops spicy inside xvfb-run, so xvfb-run itself ends its Xvfb.
    client: (port) => [
      "xvfb-run",
      "-a",
      "timeout",
      "3",
      "spicy",
      "-h",
      "127.0.0.1",
      "-p",
      String(port),
    ],
    clientMs: 20_000,
  },
];

/** A free loopback TCP port (listen on 0, read it, close). */
function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Whether something listens on `port`, read from /proc/net/tcp so no probe lands in the capture. */
function isListening(port: number): boolean {
  const hex = port.toString(16).toUpperCase().padStart(4, "0");
  for (const f of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = Deno.readTextFileSync(f);
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length > 3 && cols[1].endsWith(`:${hex}`) && cols[3] === "0A") return true;
    }
  }
  return false;
}

/** Polls `cond` every 50 ms until it holds; `what` names it when `timeoutMs` runs out. */
async function pollUntil(
  cond: () => boolean,
  { what, timeoutMs }: { what: string; timeoutMs: number },
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Collects a child's stderr as text while it runs. */
function collect(stream: ReadableStream<Uint8Array>): { text: () => string; done: Promise<void> } {
  let text = "";
  const decoder = new TextDecoder();
  const done = (async () => {
    for await (const chunk of stream) text += decoder.decode(chunk, { stream: true });
  })();
  return { text: () => text, done };
}

async function stop(child: Deno.ChildProcess, signal: Deno.Signal = "SIGTERM"): Promise<void> {
  try {
    child.kill(signal);
  } catch {
    // already exited
  }
  await child.status;
}

async function record(spec: FixtureSpec): Promise<void> {
  const work = await Deno.makeTempDir({ prefix: "spicecap-fixture-" });
  const port = freePort();
  const out = `${OUT_DIR}${spec.file}`;
  await Deno.remove(out).catch(() => {});
  const qemu = new Deno.Command("qemu-system-x86_64", {
    args: [
      ...QEMU_BASE_ARGS,
      "-spice",
      `port=${port},addr=127.0.0.1,disable-ticketing=on`,
      ...spec.qemuExtra,
    ],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const qemuErr = collect(qemu.stderr);
  let tshark: Deno.ChildProcess | undefined;
  try {
    await pollUntil(() => isListening(port), {
      what: `QEMU listening on port ${port}`,
      timeoutMs: 10_000,
    });
    // tshark writes into a temp file first: it drops root rights for the file it creates.
    const tmpOut = `${work}/${spec.file}`;
    tshark = new Deno.Command("tshark", {
      args: ["-i", spec.interfaceName, "-w", tmpOut, "-f", `tcp port ${port}`, ...spec.tsharkExtra],
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const tsharkErr = collect(tshark.stderr);
    await pollUntil(() => tsharkErr.text().includes("Capturing on"), {
      what: "tshark printing 'Capturing on'",
      timeoutMs: 10_000,
    });
    // dumpcap prints before the socket is fully armed; give it a packet-free moment.
    await new Promise((r) => setTimeout(r, 300));
    const [cmd, ...args] = spec.client(port, work);
    const client = new Deno.Command(cmd, { args, stdout: "null", stderr: "null" }).spawn();
    const timer = setTimeout(() => {
      try {
        client.kill("SIGTERM");
      } catch {
        // exited
      }
    }, spec.clientMs);
    await client.status;
    clearTimeout(timer);
    await new Promise((r) => setTimeout(r, 300));
    await stop(qemu);
    await new Promise((r) => setTimeout(r, 300));
    await stop(tshark, "SIGINT");
    await tsharkErr.done;
    tshark = undefined;
    await Deno.copyFile(tmpOut, out);
    await Deno.chmod(out, 0o644);
    const size = (await Deno.stat(out)).size;
    console.log(`${spec.file}: ${size} bytes`);
    if (size > MAX_FIXTURE_BYTES) console.warn(`${spec.file} is over ${MAX_FIXTURE_BYTES} bytes`);
  } catch (e) {
    console.error(`${spec.file}: ${e instanceof Error ? e.message : e}\nqemu: ${qemuErr.text()}`);
    throw e;
  } finally {
    if (tshark) await stop(tshark, "SIGINT");
    await stop(qemu);
    await Deno.remove(work, { recursive: true });
  }
}

function readme(): string {
  return [
    "# Real-session fixtures",
    "",
    "Recorded on loopback from a real QEMU 7.2 SPICE server and real spice-gtk 0.42 clients by",
    "`deno run -A tools/make_raw_fixtures.ts` (needs root for `tshark -i lo`). Regenerating changes",
    "ports, keys, tickets and timestamps; the tests derive everything from the files themselves.",
    "",
    ...FIXTURES.map((f) => `- \`${f.file}\`: ${f.readme}.`),
    "",
  ].join("\n");
}

if (import.meta.main) {
  await Deno.mkdir(OUT_DIR, { recursive: true });
  const wanted = new Set(Deno.args);
  for (const spec of FIXTURES) {
    if (wanted.size === 0 || wanted.has(spec.file)) await record(spec);
  }
  await Deno.writeTextFile(`${OUT_DIR}README.md`, readme());
}
