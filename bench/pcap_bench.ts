/**
 * pcap bench: write and read Ethernet+IPv4+TCP frames (checksums computed per frame, seq
 * varying) with our writers/reader and with a C libpcap program (bench/c/pcap_ref.c,
 * pcap_dump / pcap_next_ex) on the same workload, in the same run. Our writers write through
 * the library's blocking file sink (lib/capture/file_sink.ts, as the recorder does), C through
 * stdio: both block on their writes.
 *
 * Run alone: `deno run -A bench/pcap_bench.ts [--quick]`.
 */
import type { Bench, BenchRow } from "./types.ts";
import { buildC, runC } from "./c_programs.ts";
import type { FrameSpec } from "../lib/net/types.ts";
import { TCP_FLAGS } from "../lib/net/types.ts";
import { writeFrame } from "../lib/net/frame.ts";
import { readCaptureBatches, readCaptureFile, readCaptureFileBatches } from "../lib/pcap/reader.ts";
import { createWriter } from "../lib/pcap/writer.ts";
import { blockingFileSink } from "../lib/capture/file_sink.ts";
import type { CaptureFormat } from "../lib/pcap/types.ts";

type WriteFrame = (spec: FrameSpec, payload: Uint8Array, out: Uint8Array, at: number) => number;

const START_NS = 1_700_000_000_000_000_000n;
const READ_GOAL_PPS = 2_300_000;
const FLUSH_ABOVE_BYTES = 4 << 20;

/** Compiles the C reference into `dir`; undefined when gcc or libpcap headers are missing. */
async function buildReference(dir: string): Promise<string | undefined> {
  try {
    await Deno.stat("/usr/include/pcap/pcap.h");
  } catch {
    return undefined;
  }
  return await buildC("pcap_ref", dir, ["pcap"]);
}

async function runReference(exe: string, args: string[]): Promise<number[]> {
  return (await runC(exe, args)).trim().split(/\s+/).map(Number);
}

/**
 * How our side builds and stores frames: "copy" builds each frame in a scratch buffer and
 * hands it to `write()`; "in place" builds it straight into the writer's buffer between
 * `beginRecord()` and `commitRecord()` (what CaptureSession does through TcpFlow.sendInto).
 */
type WriteMode = "copy" | "in place";

/** Writes `count` frames like pcap_ref.c does; returns elapsed ms. */
async function writeOurs(
  path: string,
  format: CaptureFormat,
  count: number,
  payloadBytes: number,
  writeFrame: WriteFrame,
  mode: WriteMode,
): Promise<number> {
  const payload = new Uint8Array(payloadBytes).map((_, i) => i * 7);
  const frameBytes = 54 + payloadBytes;
  const frame = new Uint8Array(frameBytes);
  const spec: FrameSpec = {
    srcIp: 0x0a000001,
    dstIp: 0x0a000002,
    srcPort: 10001,
    dstPort: 5930,
    seq: 0,
    ack: 1000,
    flags: TCP_FLAGS.PSH | TCP_FLAGS.ACK,
    ipId: 0,
  };
  await Deno.remove(path).catch(() => {}); // the sink creates its file new
  const t0 = performance.now();
  // A file sink is done with a chunk once its write resolved: chunks can be reused.
  const w = createWriter(format, blockingFileSink(path), {
    tsResolution: "us",
    recycleChunks: true,
  });
  const packet = { tsNs: START_NS, data: frame };
  let seconds = Number(START_NS / 1_000_000_000n);
  let nanoseconds = Number(START_NS % 1_000_000_000n);
  for (let i = 0; i < count; i++) {
    spec.seq = (1000 + i * payloadBytes) >>> 0;
    spec.ipId = i & 0xffff;
    if (mode === "copy") {
      writeFrame(spec, payload, frame, 0);
      w.write(packet);
      packet.tsNs += 1000n;
    } else {
      const at = w.beginRecord(seconds, nanoseconds, frameBytes);
      writeFrame(spec, payload, w.recordBytes, at);
      w.commitRecord();
      nanoseconds += 1000;
      if (nanoseconds >= 1_000_000_000) {
        nanoseconds -= 1_000_000_000;
        seconds++;
      }
    }
    // Backpressure as a real producer applies it (C's fwrite blocks the same way).
    if ((i & 1023) === 0 && w.bufferedBytes > FLUSH_ABOVE_BYTES) await w.flush();
  }
  await w.close();
  return performance.now() - t0;
}

/** Reads a file with our reader; returns packets, elapsed ms and peak RSS. */
async function readOurs(
  path: string,
  batches: boolean,
): Promise<{ packets: number; ms: number; peakRss: number }> {
  let packets = 0;
  let sink = 0;
  let peakRss = Deno.memoryUsage().rss;
  const t0 = performance.now();
  if (batches) {
    let n = 0;
    for await (const batch of readCaptureFileBatches(path)) {
      packets += batch.length;
      for (const r of batch) sink += r.data.length + r.data[0];
      if ((++n & 255) === 0) peakRss = Math.max(peakRss, Deno.memoryUsage().rss);
    }
  } else {
    for await (const r of readCaptureFile(path)) {
      sink += r.data.length + r.data[0];
      if ((++packets & 0xffff) === 0) peakRss = Math.max(peakRss, Deno.memoryUsage().rss);
    }
  }
  const ms = performance.now() - t0;
  if (sink < 0) throw new Error("unreachable");
  return { packets, ms, peakRss: Math.max(peakRss, Deno.memoryUsage().rss) };
}

/** A > 4 GiB (full) or 512 MiB (quick) pcap of 64 KiB packets, generated on the fly. */
async function streamHuge(
  totalBytes: number,
): Promise<{ ms: number; peakRss: number; gb: number }> {
  const { hugePcapStream } = await import("../testing/huge_stream.ts");
  const { stream, records } = hugePcapStream(totalBytes, 65_536);
  let seen = 0;
  let bytes = 0;
  let peakRss = Deno.memoryUsage().rss;
  const t0 = performance.now();
  let n = 0;
  for await (const batch of readCaptureBatches(stream)) {
    for (const r of batch) bytes += r.data.length;
    seen += batch.length;
    if ((++n & 63) === 0) peakRss = Math.max(peakRss, Deno.memoryUsage().rss);
  }
  if (seen !== records) throw new Error(`huge stream: read ${seen} of ${records} records`);
  return { ms: performance.now() - t0, peakRss, gb: bytes / 2 ** 30 };
}

const MB = 1e6;
/** Each measurement is repeated and the best run kept, on both sides (warms our JIT too). */
const RUNS = 3;
/** Reads are short: more rounds, so that both sides get a quiet moment on a busy machine. */
const READ_RUNS = 5;

/** The read variants: each format through the batch and the per-record API. */
const READ_VARIANTS = [
  { format: "pcap", batches: true },
  { format: "pcap", batches: false },
  { format: "pcapng", batches: true },
  { format: "pcapng", batches: false },
] as const;

/**
 * Reads `<base>.pcap` / `<base>.pcapng` with each variant and the C reference (the .pcap), in
 * rounds where C and ours alternate, as the writes do, so load changes hit both sides alike;
 * the best run of each is kept.
 */
async function readBench(
  ref: string | undefined,
  base: string,
  payload: number,
  count: number,
): Promise<BenchRow[]> {
  let cMs = Infinity;
  const ours = READ_VARIANTS.map(() => ({ packets: 0, ms: Infinity, peakRss: 0 }));
  for (let round = 0; round < READ_RUNS; round++) {
    if (ref !== undefined) {
      const [packets, ns] = await runReference(ref, ["read", `${base}.pcap`]);
      if (packets !== count) throw new Error(`C read ${packets} of ${count} packets`);
      cMs = Math.min(cMs, ns / 1e6);
    }
    for (const [i, { format, batches }] of READ_VARIANTS.entries()) {
      const run = await readOurs(`${base}.${format}`, batches);
      if (run.packets !== count) throw new Error(`read ${run.packets} of ${count} packets`);
      const top = ours[i];
      ours[i] = {
        packets: run.packets,
        ms: Math.min(top.ms, run.ms),
        peakRss: Math.max(top.peakRss, run.peakRss),
      };
    }
  }
  const cPps = ref === undefined ? undefined : count / (cMs / 1000);
  return READ_VARIANTS.flatMap(({ format, batches }, i) =>
    readRows(format, payload, batches, ours[i], cPps)
  );
}

function writeRows(
  format: CaptureFormat,
  mode: WriteMode,
  payload: number,
  pps: number,
  cPps: number | undefined,
  source: string,
): BenchRow[] {
  const frameBytes = 54 + payload;
  const note = format === "pcapng" ? "; C ref: pcap_dump (libpcap has no pcapng writer)" : "";
  const how = mode === "copy" ? "write()" : "in place: beginRecord/commitRecord";
  const referenceName = cPps === undefined ? undefined : "C libpcap pcap_dump";
  return [{
    name: `write ${format} ${payload} B payload frames, ${how} (frames by ${source}${note})`,
    value: pps,
    unit: "frames/s",
    reference: cPps,
    referenceName,
    goal: "≥ 1.0× C",
    met: cPps === undefined ? undefined : pps >= cPps,
  }, {
    name: `write ${format} ${payload} B payload frames, ${how}`,
    value: (pps * frameBytes) / MB,
    unit: "MB/s",
    reference: cPps === undefined ? undefined : (cPps * frameBytes) / MB,
    referenceName,
  }];
}

function readRows(
  format: CaptureFormat,
  payload: number,
  batches: boolean,
  r: { packets: number; ms: number; peakRss: number },
  cPps: number | undefined,
): BenchRow[] {
  const pps = r.packets / (r.ms / 1000);
  const halfC = cPps === undefined ? undefined : pps >= 0.5 * cPps;
  const api = batches ? "readCaptureFileBatches" : "readCaptureFile";
  return [{
    name: `read ${format} ${payload} B payload frames via ${api}` +
      (format === "pcapng" ? " (C ref reads the same frames as pcap)" : ""),
    value: pps,
    unit: "packets/s",
    reference: cPps,
    referenceName: cPps === undefined ? undefined : "C libpcap pcap_next_ex",
    goal: payload === 64 ? "≥ 2.3 M/s and ≥ 0.5× C" : "≥ 0.5× C",
    met: payload === 64 ? pps >= READ_GOAL_PPS && halfC !== false : halfC,
  }, {
    name: `peak RSS reading ${format} ${payload} B via ${api}`,
    value: r.peakRss / MB,
    unit: "MB",
  }];
}

/** The pcap bench: write/read rows against C libpcap. */
export const bench: Bench = async ({ quick }) => {
  const rows: BenchRow[] = [];
  const dir = await Deno.makeTempDir({ prefix: "spicecap-pcap-bench-" });
  try {
    const ref = await buildReference(dir);
    const source = "lib/net/frame.ts writeFrame";
    const workloads = [
      { payload: 64, count: quick ? 200_000 : 3_000_000 },
      { payload: 1400, count: quick ? 100_000 : 1_000_000 },
    ];
    for (const { payload, count } of workloads) {
      // C and ours alternate within each round so load changes hit both sides alike.
      const cPath = `${dir}/c_${payload}.pcap`;
      let cMs = Infinity;
      const variants = [
        { format: "pcap", mode: "in place" },
        { format: "pcapng", mode: "in place" },
        { format: "pcap", mode: "copy" },
        { format: "pcapng", mode: "copy" },
      ] as const;
      const ourMs = variants.map(() => Infinity);
      for (let round = 0; round < RUNS; round++) {
        if (ref !== undefined) {
          const [ns] = await runReference(ref, ["write", cPath, String(count), String(payload)]);
          cMs = Math.min(cMs, ns / 1e6);
        }
        for (const [i, { format, mode }] of variants.entries()) {
          const path = `${dir}/ours_${payload}.${format}`;
          const ms = await writeOurs(path, format, count, payload, writeFrame, mode);
          ourMs[i] = Math.min(ourMs[i], ms);
        }
      }
      const cPps = ref === undefined ? undefined : count / (cMs / 1000);
      for (const [i, { format, mode }] of variants.entries()) {
        rows.push(...writeRows(format, mode, payload, count / (ourMs[i] / 1000), cPps, source));
      }
      const ourPcap = `${dir}/ours_${payload}.pcap`;
      rows.push(...await readBench(ref, `${dir}/ours_${payload}`, payload, count));
      for (const f of [cPath, ourPcap, `${dir}/ours_${payload}.pcapng`]) {
        await Deno.remove(f).catch(() => {});
      }
    }
    const huge = await streamHuge(quick ? 512 * 2 ** 20 : 4 * 2 ** 30 + 2 ** 20);
    rows.push({
      name: `stream a generated ${
        huge.gb.toFixed(2)
      } GiB pcap (64 KiB packets) through readCaptureBatches`,
      value: (huge.gb * 2 ** 30) / MB / (huge.ms / 1000),
      unit: "MB/s",
    });
    rows.push({
      name: `peak RSS while streaming ${huge.gb.toFixed(2)} GiB`,
      value: huge.peakRss / MB,
      unit: "MB",
      goal: "flat (< 300 MB)",
      met: huge.peakRss < 300 * MB,
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  return rows;
};

if (import.meta.main) {
  const quick = Deno.args.includes("--quick");
  for (const r of await bench({ quick })) {
    const ratio = r.reference
      ? ` ref ${r.reference.toFixed(1)} ratio ${(r.value / r.reference).toFixed(2)}`
      : "";
    console.log(
      `${r.name}: ${r.value.toFixed(1)} ${r.unit}${ratio}${
        r.met === undefined ? "" : r.met ? " MET" : " NOT MET"
      }`,
    );
  }
}
