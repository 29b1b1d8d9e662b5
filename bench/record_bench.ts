/**
 * What recording costs per byte, in terms that do not depend on the machine, and a peer.
 *
 * Rows:
 * - CPU seconds per recorded GB of the recording (the relay's hand-off into the worker, SPICE
 *   framing, TCP framing, pcap writing: the process's CPU time, both threads and the file
 *   writes), against a plain copy-and-write of the same bytes, in the same chunks, to a file,
 *   written as the recording writes (blocking writes of a capture file's write chunk): the
 *   least any recorder must do. The stream is fed at the pace the worker takes it, so
 *   everything is recorded.
 * - The recording proxy's throughput with the default backlog (`deno task capture`, a bulk
 *   display stream) against the plain relay (`--no-record`) while `tcpdump -i lo -w FILE`
 *   records the same stream: the peer a user would reach for, with its kernel drop count.
 *   Skipped, with the reason, when tcpdump is missing or may not capture.
 */
import process from "node:process";
import type { Bench, BenchRow } from "./types.ts";
import { BLOCK_BYTES, messageBlock, startProxy, type Stopped } from "./proxy_bench.ts";
import { type BulkLoad, bulkLoad } from "./bulk_load.ts";
import { Recording, type RecordingConnection } from "../harness/capture/recording.ts";
import { DEFAULT_READ_BUFFER } from "../harness/capture/proxy.ts";
import { CHANNEL_TYPES } from "../lib/spice/tables.ts";
import { syntheticLink } from "../testing/synthetic_spice.ts";
import { concatBytes } from "../lib/bytes.ts";
import { CHUNK_BYTES as CHUNK_BYTES_OF_FILES } from "../lib/capture/_channel_file.ts";

/** A capture file's write chunk (lib/capture/_channel_file.ts). */
const CHUNK_BYTES_WRITTEN = CHUNK_BYTES_OF_FILES;
/** The relay's read size. */
const CHUNK_BYTES = DEFAULT_READ_BUFFER;
/** The sustained rate the recording proxy must record whole. */
const SUSTAINED_BYTES_PER_S = 1e9;
/**
 * Bytes of a peer row's stream before its clock starts. The recording's cold start is not
 * sustained throughput: its worker takes the first ~10 MiB at a tenth of its later speed (code
 * not yet compiled, fresh memory, whose first touch costs ~4 ms per MiB on this kind of VM),
 * so a 64 MiB backlog fills behind a stream at 1 GB/s from the first byte and `--record-all`
 * holds the relay for ~0.1 s once, just after 64 MiB. That hold is reported in the row's name.
 */
const WARM_BYTES = 256 << 20;
/** Feeding pauses while the worker holds this much: nothing turns lossy. */
const PACE_BYTES = 16 << 20;
/**
 * Blocks recorded before the count starts, in both measurements: a worker's first megabytes
 * pay for compiling its code, a cost per session, not per byte.
 */
const WARM_UP_BLOCKS = 8;

/** CPU seconds (user + system) of this process so far. */
function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A measurement: CPU seconds and wall seconds spent on `bytes`. */
interface Cost {
  cpu: number;
  wall: number;
  bytes: number;
}

/** Hands `blocks` blocks to a connection of a recording in relay-sized chunks, paced. */
async function feed(
  rec: Recording,
  { conn, block, blocks }: { conn: RecordingConnection; block: Uint8Array; blocks: number },
): Promise<void> {
  for (let b = 0; b < blocks; b++) {
    for (let at = 0; at < block.length; at += CHUNK_BYTES) {
      while (rec.inFlightBytes > PACE_BYTES) await pause(1);
      if (!conn.push(false, block.subarray(at, at + CHUNK_BYTES))) {
        throw new Error("the recording dropped bytes: pacing failed");
      }
    }
  }
}

/**
 * Records `blocks` blocks of the bulk stream through a {@link Recording}, everything kept,
 * after {@link WARM_UP_BLOCKS} not counted.
 */
async function recordCost(block: Uint8Array, blocks: number, dir: string): Promise<Cost> {
  const rec = await Recording.start({ dir, flushIntervalMs: 0 });
  const conn = rec.openConnection();
  const l = syntheticLink(CHANNEL_TYPES.display);
  conn.push(true, l.link);
  conn.push(false, l.reply);
  conn.push(true, concatBytes([l.authMechanism, l.ticket]));
  conn.push(false, l.result);
  await feed(rec, { conn, block, blocks: WARM_UP_BLOCKS });
  await rec.stats();
  const cpu0 = cpuSeconds();
  const t0 = performance.now();
  await feed(rec, { conn, block, blocks });
  conn.close();
  await rec.close();
  return {
    cpu: cpuSeconds() - cpu0,
    wall: (performance.now() - t0) / 1000,
    bytes: blocks * block.length,
  };
}

/**
 * Copies the same chunks into a buffer as large as a capture file's write chunk and writes it
 * the way the recording worker does (a blocking write, lib/capture/file_sink.ts) when full,
 * after the same warm-up as {@link recordCost}: the least a recorder must do, with the same I/O.
 */
async function copyWriteCost(block: Uint8Array, blocks: number, path: string): Promise<Cost> {
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  const buf = new Uint8Array(CHUNK_BYTES_WRITTEN);
  let n = 0;
  const flush = () => {
    for (let w = 0; w < n;) w += file.writeSync(buf.subarray(w, n));
    n = 0;
  };
  const copy = async (count: number) => {
    for (let b = 0; b < count; b++) {
      for (let at = 0; at < block.length; at += CHUNK_BYTES) {
        const chunk = block.subarray(at, at + CHUNK_BYTES);
        if (n + chunk.length > buf.length) flush();
        buf.set(chunk, n);
        n += chunk.length;
      }
      await pause(0); // as the recording's feeder gives its event loop a turn
    }
  };
  let cpu0 = 0;
  let t0 = 0;
  try {
    await copy(WARM_UP_BLOCKS);
    cpu0 = cpuSeconds();
    t0 = performance.now();
    await copy(blocks);
    flush();
  } finally {
    file.close();
  }
  return {
    cpu: cpuSeconds() - cpu0,
    wall: (performance.now() - t0) / 1000,
    bytes: blocks * block.length,
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/**
 * CPU per GB, recording and copy-and-write alternated, five of each; medians (the file system
 * now and then charges a write run several times its usual system time, whichever writes).
 */
async function cpuRows(quick: boolean, dir: string): Promise<BenchRow[]> {
  const block = messageBlock();
  const blocks = quick ? 4 : 128; // × 4 MiB: ~17 MB or ~540 MB
  const rec: Cost[] = [];
  const plain: Cost[] = [];
  for (let i = 0; i < (quick ? 1 : 5); i++) {
    plain.push(await copyWriteCost(block, blocks, `${dir}/copy-${i}`));
    await Deno.remove(`${dir}/copy-${i}`);
    rec.push(await recordCost(block, blocks, `${dir}/rec-${i}`));
    await Deno.remove(`${dir}/rec-${i}`, { recursive: true });
  }
  const perGb = (c: Cost) => c.cpu / (c.bytes / 1e9);
  const ours = median(rec.map(perGb));
  const ref = median(plain.map(perGb));
  const mb = Math.round(blocks * BLOCK_BYTES / 1e6);
  return [{
    name: `recording CPU per GB (${mb} MB bulk display stream after a ` +
      `${Math.round(WARM_UP_BLOCKS * BLOCK_BYTES / 1e6)} MB warm-up, ${
        CHUNK_BYTES >> 10
      } KiB chunks, everything ` +
      `recorded at ${median(rec.map((c) => c.bytes / 1e6 / c.wall)).toFixed(0)} MB/s)`,
    value: ours,
    unit: "CPU s/GB",
    reference: ref,
    referenceName: "copy + blocking write to a file",
    ratio: ref / ours,
    goal: "≥ 0.33× (≤ 3× copy + write)",
    met: ours <= 3 * ref,
  }];
}

/** tcpdump's kernel drop count from its exit summary. */
function droppedByKernel(stderr: string): number | undefined {
  const m = /(\d+) packets? dropped by kernel/.exec(stderr);
  return m ? Number(m[1]) : undefined;
}

/**
 * The bulk stream a peer run sends: blocks, the rate held (undefined: full speed), and the
 * bytes read before the clock starts.
 */
interface Stream {
  blocks: number;
  rate?: number;
  skipBytes?: number;
}

/** The plain relay's MB/s while tcpdump records its server side; undefined + why if it can't. */
async function tcpdumpRun(
  load: BulkLoad,
  stream: Stream,
  dir: string,
): Promise<{ mbPerS: number; drops: number | undefined } | string> {
  const server = await load.serve(stream.blocks, stream.rate);
  const args = ["-i", "lo", "-n", "-w", `${dir}/tcpdump.pcap`, `tcp port ${server.port}`];
  let dump: Deno.ChildProcess;
  try {
    dump = new Deno.Command("tcpdump", { args, stdout: "null", stderr: "piped" }).spawn();
  } catch (e) {
    await server.done();
    return e instanceof Deno.errors.NotFound ? "tcpdump not installed" : String(e);
  }
  const reader = dump.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!/listening on/.test(text)) {
    const { value, done } = await reader.read();
    if (done) {
      await dump.status;
      await server.done();
      return `tcpdump cannot capture: ${text.trim().split("\n").pop()}`;
    }
    text += value;
  }
  const proxy = await startProxy("plain", { serverPort: server.port, outDir: `${dir}/unused` });
  let mbPerS = 0;
  try {
    mbPerS = await load.read(proxy.port, server.totalBytes, stream.skipBytes);
  } finally {
    await proxy.stop();
    await server.done();
    dump.kill("SIGINT");
    for (let r = await reader.read(); !r.done; r = await reader.read()) text += r.value;
    await dump.status;
  }
  return { mbPerS, drops: droppedByKernel(text) };
}

/** What one run of our recording proxy did: MB/s and its summary's counts. */
interface OurRun extends Stopped {
  mbPerS: number;
}

/** Our recording proxy (default backlog): MB/s and what it did not record. */
async function recordingRun(
  load: BulkLoad,
  stream: Stream,
  o: { dir: string; extraArgs: string[] },
): Promise<OurRun> {
  const server = await load.serve(stream.blocks, stream.rate);
  const dir = o.dir;
  const proxy = await startProxy("rec", {
    serverPort: server.port,
    outDir: dir,
    extraArgs: o.extraArgs,
  });
  let mbPerS = 0;
  let stopped: Stopped;
  try {
    mbPerS = await load.read(proxy.port, server.totalBytes, stream.skipBytes);
  } finally {
    stopped = await proxy.stop();
    await server.done();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
  return { mbPerS, ...stopped };
}

/**
 * Our recording proxy against the plain relay under tcpdump, three runs each: at full speed
 * (informational: how fast, and whether it turns lossy), at full speed with `--record-all`
 * (informational: how fast with everything recorded), from a source held to 1 GB/s for about
 * a second (informational: the default never slows the relay, so it may turn lossy), and the
 * same with `--record-all` (the goal: everything recorded, at the rate held). Held rates are
 * clocked after the first {@link WARM_BYTES}. Both arms get the same load generator
 * ({@link bulkLoad}).
 */
async function peerRows(quick: boolean, dir: string): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const load = await bulkLoad(dir);
  // Sustained: the rate is clocked after the first WARM_BYTES.
  const held = {
    blocks: quick ? 1 : 256,
    rate: SUSTAINED_BYTES_PER_S,
    skipBytes: quick ? 0 : WARM_BYTES,
  };
  const heldLabel = `held to ${SUSTAINED_BYTES_PER_S / 1e6} MB/s`;
  const runs: { label: string; stream: Stream; args: string[]; goal: boolean }[] = [
    { label: "full speed", stream: { blocks: quick ? 1 : 50 }, args: [], goal: false },
    {
      label: "full speed, --record-all",
      stream: { blocks: quick ? 1 : 256, skipBytes: quick ? 0 : WARM_BYTES },
      args: ["--record-all"],
      goal: false,
    },
    { label: heldLabel, stream: held, args: [], goal: false },
    { label: `${heldLabel}, --record-all`, stream: held, args: ["--record-all"], goal: true },
  ];
  for (const { label, stream, args, goal } of runs) {
    const ours: OurRun[] = [];
    const peer: { mbPerS: number; drops: number | undefined }[] = [];
    for (let i = 0; i < (quick ? 1 : 3); i++) {
      const t = await tcpdumpRun(load, stream, `${dir}/peer-${i}`);
      if (typeof t === "string") {
        return [{
          name: `recording proxy vs plain relay + tcpdump -w: skipped (${t})`,
          value: NaN,
          unit: "MB/s",
        }];
      }
      peer.push(t);
      ours.push(await recordingRun(load, stream, { dir: `${dir}/ours-${i}`, extraArgs: args }));
    }
    const value = median(ours.map((r) => r.mbPerS));
    const lossy = Math.max(...ours.map((r) => r.lossy));
    const drops = peer.map((r) => r.drops ?? "?").join("/");
    const mb = Math.round(stream.blocks * BLOCK_BYTES / 1e6);
    const held = args.includes("--record-all")
      ? `; relay held for the recorder ${ours.map((r) => r.heldMs).join("/")} ms`
      : "";
    rows.push({
      name: `recording proxy, ${label} (${mb} MB; ${lossy} connection(s) lossy${held}) vs plain ` +
        `relay + tcpdump -i lo -w (kernel drops per run: ${drops}; load: ${load.name})`,
      value,
      unit: "MB/s",
      reference: median(peer.map((r) => r.mbPerS)),
      referenceName: "plain relay + tcpdump",
      ...(goal
        ? {
          goal: `everything recorded at ≥ ${SUSTAINED_BYTES_PER_S / 1e6 * 0.97} MB/s`,
          met: lossy === 0 && value >= SUSTAINED_BYTES_PER_S / 1e6 * 0.97,
        }
        : { goal: "(informational)" }),
    });
  }
  return rows;
}

/**
 * Where the CPU rows write: a RAM file system when there is one. A disk's file system now and
 * then charges a run several times its usual system time (seen on ext4 with `discard`, for
 * either arm), which is the file system's noise, not the recorder's cost.
 */
async function cpuDir(): Promise<string> {
  try {
    return await Deno.makeTempDir({ dir: "/dev/shm", prefix: "spicecap-record-bench-" });
  } catch {
    return await Deno.makeTempDir({ prefix: "spicecap-record-bench-" });
  }
}

/** Recording CPU per byte against copy-and-write, and the proxy against tcpdump. */
export const bench: Bench = async ({ quick }) => {
  const dir = await Deno.makeTempDir({ prefix: "spicecap-record-bench-" });
  const ram = await cpuDir();
  try {
    for (const d of ["peer-0", "peer-1", "peer-2"]) await Deno.mkdir(`${dir}/${d}`);
    return [...await cpuRows(quick, ram), ...await peerRows(quick, dir)];
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(ram, { recursive: true });
  }
};

if (import.meta.main) {
  const quick = Deno.args.includes("--quick");
  for (const r of await bench({ quick })) console.log(JSON.stringify(r));
}
