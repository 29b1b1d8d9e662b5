/**
 * Replay and diff benchmarks:
 * - realtime scheduling accuracy: the replay scheduler (targetNs + waitUntil) sending ≥ 1000
 *   messages over ≥ 2 s to a local sink socket; p50/p99 lateness and end drift;
 * - diff of two 200 000-message captures (`deno task diff`, a subprocess) against
 *   `tshark -r F -T json` on one of them: wall time and peak RSS (GNU time's %M).
 */
import type { Bench, BenchRow } from "./types.ts";
import { percentile, realTimer, targetNs, waitUntil } from "../lib/replay/schedule.ts";
import { hasTool } from "../harness/processes/tools.ts";
import { fileSink } from "../lib/capture/file_sink.ts";
import { CLIENT_IP, SERVER_IP } from "../lib/capture/naming.ts";
import { TcpFlow } from "../lib/net/tcp_flow.ts";
import { createWriter } from "../lib/pcap/writer.ts";
import { buildLinkMessage, buildLinkReply, buildMessage, buildU32 } from "../lib/spice/link.ts";

const CLI = new URL("../harness/cli.ts", import.meta.url).pathname;

/** Sends `count` messages spread over `spanMs` on the real clock; returns lateness in ns. */
async function scheduleRun(count: number, spanMs: number): Promise<number[]> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const sink = (async () => {
    const c = await listener.accept();
    for await (const _ of c.readable) { /* discard */ }
  })();
  const conn = await Deno.connect({
    hostname: "127.0.0.1",
    port: (listener.addr as Deno.NetAddr).port,
  });
  conn.setNoDelay(true);
  const timer = realTimer();
  const message = buildMessage(101, new Uint8Array(64));
  const stepNs = BigInt(Math.round((spanMs * 1e6) / count));
  const t0 = 5_000_000_000n; // recorded times are arbitrary; only differences matter
  const start = timer.nowNs() + 10_000_000n;
  const late: number[] = [];
  for (let i = 0; i < count; i++) {
    const target = targetNs(start, t0, t0 + BigInt(i) * stepNs, { kind: "factor", factor: 1 })!;
    late.push(Number(await waitUntil(timer, target)));
    await conn.write(message);
  }
  conn.close();
  await sink;
  listener.close();
  return late;
}

/** Writes a display-channel capture of `count` server messages (+ an ACK every 20). */
async function writeCapture(path: string, count: number, alterAt: number): Promise<void> {
  const writer = createWriter("pcap", fileSink(path), { tsResolution: "ns" });
  const flow = new TcpFlow({
    clientIp: CLIENT_IP,
    serverIp: SERVER_IP,
    clientPort: 10002,
    serverPort: 5930,
  });
  let ts = 1_700_000_000_000_000_000n;
  const put = (frames: { frame: Uint8Array }[]) => {
    for (const f of frames) writer.write({ tsNs: ts += 10_000n, data: f.frame });
  };
  put(flow.open());
  put(flow.send(
    "toServer",
    buildLinkMessage({
      major: 2,
      minor: 2,
      connectionId: 7,
      channelType: 2,
      channelId: 0,
      commonCaps: [0x0d],
      channelCaps: [0x3bf],
    }),
  ));
  put(flow.send(
    "toClient",
    buildLinkReply({
      major: 2,
      minor: 2,
      error: 0,
      pubKey: new Uint8Array(162),
      commonCaps: [0x0b],
      channelCaps: [0x1052],
    }),
  ));
  put(flow.send("toServer", buildU32(1)));
  put(flow.send("toServer", new Uint8Array(128)));
  put(flow.send("toClient", buildU32(0)));
  const body = new Uint8Array(120);
  for (let i = 0; i < count; i++) {
    body.fill(i & 0xff, 21);
    if (i === alterAt) body[60] ^= 0xff;
    put(flow.send("toClient", buildMessage(304, body)));
    if (i % 20 === 19) put(flow.send("toServer", buildMessage(2, new Uint8Array(0))));
    if (i % 5000 === 0) await writer.flush();
  }
  put(flow.close());
  await writer.close();
}

/** Runs argv under GNU time; returns wall ms and peak RSS in MB. */
async function measure(argv: string[]): Promise<{ ms: number; rssMb: number; code: number }> {
  const t = performance.now();
  const { code, stderr } = await new Deno.Command("/usr/bin/time", {
    args: ["-f", "MAXRSS %M", ...argv],
    stdout: "null",
    stderr: "piped",
  }).output();
  const ms = performance.now() - t;
  const m = /MAXRSS (\d+)/.exec(new TextDecoder().decode(stderr));
  return { ms, rssMb: m ? Number(m[1]) / 1024 : NaN, code };
}

/** The replay/diff benchmark rows. */
export const bench: Bench = async ({ quick }) => {
  const rows: BenchRow[] = [];
  const count = quick ? 300 : 2000;
  const spanMs = quick ? 600 : 4000;
  const late = await scheduleRun(count, spanMs);
  const sorted = [...late].sort((a, b) => a - b);
  const p50 = percentile(sorted, 50) / 1e3;
  const p99 = percentile(sorted, 99) / 1e3;
  const tenth = Math.max(1, Math.floor(late.length / 10));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const drift = (mean(late.slice(-tenth)) - mean(late.slice(0, tenth))) / 1e3;
  const label = `replay realtime ${count} msgs over ${spanMs / 1000} s`;
  rows.push({ name: `${label}: lateness p50`, value: p50, unit: "µs" });
  rows.push({
    name: `${label}: lateness p99`,
    value: p99,
    unit: "µs",
    goal: "p99 < 1000 µs",
    met: p99 < 1000,
  });
  rows.push({
    name: `${label}: end drift (last−first 10%)`,
    value: drift,
    unit: "µs",
    goal: "|drift| < 500 µs",
    met: Math.abs(drift) < 500,
  });

  const messages = quick ? 5000 : 200_000;
  const dir = await Deno.makeTempDir({ prefix: "spicecap-replay-bench-" });
  try {
    const a = `${dir}/a.pcap`;
    const g = `${dir}/g.pcap`;
    await writeCapture(a, messages, -1);
    await writeCapture(g, messages, Math.floor(messages / 2));
    const ours = await measure([Deno.execPath(), "run", "-A", CLI, "diff", a, g]);
    if (ours.code !== 1) throw new Error(`diff exited ${ours.code}, expected 1 (one difference)`);
    let ref: { ms: number; rssMb: number } | undefined;
    if (hasTool("tshark")) ref = await measure(["tshark", "-r", a, "-T", "json"]);
    const name = `diff two ${messages / 1000}k-message captures`;
    const ratio = ref ? ref.ms / ours.ms : undefined;
    rows.push({
      name: `${name}: time`,
      value: ours.ms,
      unit: "ms",
      reference: ref?.ms,
      referenceName: "tshark -T json (one file)",
      ratio,
      goal: "≥ 25× faster",
      met: ratio === undefined ? undefined : ratio >= 25,
    });
    // Flat memory: the same diff must also run with V8's old space capped at 48 MB.
    const capped = await measure([
      Deno.execPath(),
      "run",
      "--v8-flags=--max-old-space-size=48",
      "-A",
      CLI,
      "diff",
      a,
      g,
    ]);
    rows.push({
      name: `${name}: under a 48 MB V8 heap cap`,
      value: capped.ms,
      unit: "ms",
      goal: "completes (memory does not grow with the capture)",
      met: capped.code === 1,
    });
    rows.push({
      name: `${name}: peak RSS`,
      value: ours.rssMb,
      unit: "MB",
      reference: ref?.rssMb,
      referenceName: "tshark -T json (one file)",
      ratio: ref ? ref.rssMb / ours.rssMb : undefined,
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  return rows;
};

if (import.meta.main) {
  const quick = Deno.args.includes("--quick");
  for (const r of await bench({ quick })) console.log(JSON.stringify(r));
}
