/**
 * Diff benchmark: two 200 000-message display captures differing in one message, diffed by
 * `harness/cli.ts diff` (a subprocess) against `tshark -r F -T json` on one of them, timed in
 * the same run: wall time (ours: best of two), peak RSS (GNU time's %M), and a run under a
 * 48 MB V8 heap cap.
 */
import { hasTool } from "../harness/processes/tools.ts";
import { fileSink } from "../lib/capture/file_sink.ts";
import { CLIENT_IP, SERVER_IP } from "../lib/capture/naming.ts";
import { TcpFlow } from "../lib/net/tcp_flow.ts";
import { createWriter } from "../lib/pcap/writer.ts";
import { buildLinkMessage, buildLinkReply, buildMessage, buildU32 } from "../lib/spice/link.ts";
import type { Bench, BenchRow } from "./types.ts";

const CLI = new URL("../harness/cli.ts", import.meta.url).pathname;

/** Writes a display-channel capture of `count` server messages (+ an ACK every 20). */
async function writeCapture(
  path: string,
  { count, alterAt }: { count: number; alterAt: number },
): Promise<void> {
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

/** The diff benchmark rows. */
export const bench: Bench = async ({ quick }) => {
  const rows: BenchRow[] = [];
  const messages = quick ? 1000 : 200_000;
  const dir = await Deno.makeTempDir({ prefix: "spicecap-replay-bench-" });
  try {
    const a = `${dir}/a.pcap`;
    const g = `${dir}/g.pcap`;
    await writeCapture(a, { count: messages, alterAt: -1 });
    await writeCapture(g, { count: messages, alterAt: Math.floor(messages / 2) });
    // Best of two, as the check rows do: one run of a loaded machine is mostly noise.
    let ours: { ms: number; rssMb: number; code: number } | undefined;
    for (let run = 0; run < (quick ? 1 : 2); run++) {
      const r = await measure([Deno.execPath(), "run", "-A", CLI, "diff", a, g]);
      if (r.code !== 1) throw new Error(`diff exited ${r.code}, expected 1 (one difference)`);
      if (!ours || r.ms < ours.ms) ours = r;
    }
    ours = ours!;
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
