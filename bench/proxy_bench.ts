/**
 * The recording proxy against the same proxy as a plain relay (`--no-record`), same run, same
 * code path: `deno task capture --target <fake server>` in a child process, a synthetic SPICE
 * stream (link phase, then mini-header messages of mixed sizes) through it.
 *
 * Rows: throughput (recording / plain) with the default backlog (64 MiB: when the recording
 * worker falls that far behind, the connection's rest is relayed unrecorded and counted as
 * dropped), the same with `--record-all` (everything recorded, the relay waiting for the
 * recorder when the backlog is full: what recording costs when it must keep up), and the
 * latency one message adds on its way through the proxy (p50, p99; recording minus plain).
 */
import type { Bench, BenchRow } from "./types.ts";
import { CHANNEL_TYPES } from "../lib/spice/tables.ts";
import {
  syntheticLink,
  syntheticMessage,
  syntheticMessageSizes,
} from "../testing/synthetic_spice.ts";
import { concatBytes } from "../lib/bytes.ts";

const CLI = new URL("../harness/cli.ts", import.meta.url).pathname;
/** Bytes of one block of the bulk stream. */
export const BLOCK_BYTES = 4 << 20;
const LATENCY_SIZES = [40, 200, 1500, 6885, 18];
const START_TIMEOUT_MS = 20_000;

async function readExactly(conn: Deno.Conn, out: Uint8Array): Promise<void> {
  let got = 0;
  while (got < out.length) {
    const n = await conn.read(out.subarray(got));
    if (n === null) throw new Error(`EOF after ${got} of ${out.length} bytes`);
    got += n;
  }
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let off = 0; off < bytes.length;) off += await conn.write(bytes.subarray(off));
}

/** A rate-held display stream makes up for at most this much lost time at full speed. */
const MAX_CATCH_UP_MS = 20;

/** One block of server messages, written again and again. */
export function messageBlock(): Uint8Array {
  return concatBytes(
    syntheticMessageSizes(BLOCK_BYTES).map((size, i) =>
      syntheticMessage(i % 3 === 0 ? 302 : 304, size)
    ),
  );
}

/** The fake SPICE server: link phase, then bulk (display) or ping-pong (cursor). */
export class FakeServer {
  readonly listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  readonly port = (this.listener.addr as Deno.NetAddr).port;
  /** Send times (performance.now) of ping-pong messages, by index. */
  readonly sentAt: number[] = [];
  readonly #block = messageBlock();
  #serving: Promise<void>;

  /**
   * @param blocks display blocks to send (bulk)
   * @param pings cursor ping-pongs (latency)
   * @param rate bytes per second the display stream is held to on average (default: as fast as
   *   the peer reads)
   */
  constructor(readonly blocks: number, readonly pings: number, readonly rate?: number) {
    this.#serving = this.#accept();
  }

  get totalBytes(): number {
    return this.blocks * this.#block.length;
  }

  async #accept(): Promise<void> {
    const handlers: Promise<void>[] = [];
    for await (const conn of this.listener) handlers.push(this.#serve(conn).catch(() => {}));
    await Promise.all(handlers);
  }

  async #serve(conn: Deno.Conn): Promise<void> {
    (conn as Deno.TcpConn).setNoDelay(true);
    const head = new Uint8Array(16);
    await readExactly(conn, head);
    const rest = new Uint8Array(new DataView(head.buffer).getUint32(12, true));
    await readExactly(conn, rest);
    const l = syntheticLink(rest[4]);
    await writeAll(conn, l.reply);
    await readExactly(conn, new Uint8Array(4 + 128));
    await writeAll(conn, l.result);
    if (rest[4] === CHANNEL_TYPES.display) {
      // A source of `rate`: one block per period; behind by more than MAX_CATCH_UP_MS, it
      // does not make up for the time lost (no burst above the rate beyond that).
      const period = this.rate === undefined ? 0 : this.#block.length / this.rate * 1000;
      let due = performance.now();
      for (let i = 0; i < this.blocks; i++) {
        await writeAll(conn, this.#block);
        if (this.rate === undefined) continue;
        due = Math.max(due + period, performance.now() - MAX_CATCH_UP_MS);
        const ahead = due - performance.now();
        if (ahead > 0) await new Promise((resolve) => setTimeout(resolve, ahead));
      }
    } else {
      const ack = new Uint8Array(6);
      for (let i = 0; i < this.pings; i++) {
        const msg = syntheticMessage(104, LATENCY_SIZES[i % LATENCY_SIZES.length]);
        this.sentAt[i] = performance.now();
        await writeAll(conn, msg);
        await readExactly(conn, ack);
      }
    }
    conn.close();
  }

  async close(): Promise<void> {
    this.listener.close();
    await this.#serving;
  }
}

/** What a capture run reported in its summary. */
export interface Stopped {
  /** Packets dropped (session queue and lossy connections). */
  dropped: number;
  /** Connections whose recording stopped early. */
  lossy: number;
  /** Milliseconds the relay waited for the recorder (`--record-all`). */
  heldMs: number;
}

/** Where {@link startProxy}'s capture relays to and records into. */
interface ProxyPlace {
  /** The fake server's port. */
  serverPort: number;
  /** Session directory (unused with --no-record). */
  outDir: string;
  /** More `capture` arguments (e.g. `--ring 64MiB`). */
  extraArgs?: string[];
}

/** `deno task capture --target` in a child process; resolves once its proxy listens. */
export async function startProxy(mode: Mode, { serverPort, outDir, extraArgs }: ProxyPlace) {
  const args = ["run", "-A", CLI, "capture", "--json", "--target", `127.0.0.1:${serverPort}`];
  args.push(...(mode === "plain" ? ["--no-record"] : ["-o", outDir]), ...extraArgs ?? []);
  if (mode === "full") args.push("--record-all");
  const child = new Deno.Command(Deno.execPath(), { args, stdout: "piped", stderr: "piped" })
    .spawn();
  const summary = new Response(child.stdout).text();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  const deadline = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // exited meanwhile
    }
  }, START_TIMEOUT_MS);
  let port: number | undefined;
  try {
    while (port === undefined) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`capture exited before listening: ${text}`);
      text += value;
      const m = /spice:\/\/127\.0\.0\.1:(\d+)/.exec(text);
      if (m) port = Number(m[1]);
    }
  } finally {
    clearTimeout(deadline);
  }
  const drained = (async () => {
    for (let r = await reader.read(); !r.done; r = await reader.read()) text += r.value;
  })();
  return {
    port,
    /** Stops the capture; resolves with what it dropped. */
    stop: async (): Promise<Stopped> => {
      child.kill("SIGTERM");
      const status = await child.status;
      await drained;
      const s = JSON.parse(await summary || "{}");
      if (status.code !== 0 && !s.dropped) {
        throw new Error(`capture exited with ${status.code}: ${text}`);
      }
      return {
        dropped: s.dropped ?? 0,
        lossy: s.proxy?.lossyConnections ?? 0,
        heldMs: s.proxy?.relayHeldMs ?? 0,
      };
    },
  };
}

async function linkClient(port: number, channelType: number): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  conn.setNoDelay(true);
  const l = syntheticLink(channelType);
  await writeAll(conn, l.link);
  await readExactly(conn, new Uint8Array(l.reply.length));
  await writeAll(conn, concatBytes([l.authMechanism, l.ticket]));
  await readExactly(conn, new Uint8Array(4));
  return conn;
}

/**
 * MB/s of the bulk stream through the proxy.
 *
 * @param port the proxy's port
 * @param totalBytes the stream's length
 * @param skipBytes bytes read before the clock starts (a sustained rate leaves out the start)
 */
export async function throughput(port: number, totalBytes: number, skipBytes = 0): Promise<number> {
  const conn = await linkClient(port, CHANNEL_TYPES.display);
  const buf = new Uint8Array(4 << 20); // the load generator shares the cores: few reads
  let t0 = performance.now();
  let got = 0;
  let clocked = skipBytes === 0;
  while (got < totalBytes) {
    const n = await conn.read(buf);
    if (n === null) throw new Error(`stream ended after ${got} of ${totalBytes} bytes`);
    got += n;
    if (!clocked && got >= skipBytes) {
      clocked = true;
      t0 = performance.now();
      skipBytes = got;
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  conn.close();
  return (totalBytes - skipBytes) / 1e6 / seconds;
}

/** One-way latencies (ms) of ping-pong messages server → client through the proxy. */
async function latencies(port: number, server: FakeServer): Promise<number[]> {
  const conn = await linkClient(port, CHANNEL_TYPES.cursor);
  const out: number[] = [];
  const ack = syntheticMessage(2, 0);
  for (let i = 0; i < server.pings; i++) {
    const msg = new Uint8Array(6 + LATENCY_SIZES[i % LATENCY_SIZES.length]);
    await readExactly(conn, msg);
    out.push(performance.now() - server.sentAt[i]);
    await writeAll(conn, ack);
  }
  conn.close();
  return out;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

/** plain: --no-record; rec: the default (may turn lossy); full: --record-all. */
export type Mode = "plain" | "rec" | "full";

interface Run extends Stopped {
  mbPerS: number;
  p50: number;
  p99: number;
}

/** The stream {@link measure} sends: bulk blocks and ping-pong messages. */
interface Workload {
  /** 4 MiB blocks of display messages. */
  blocks: number;
  /** Cursor ping-pong messages timed. */
  pings: number;
  /** Parent of the session directory. */
  dir: string;
}

async function measure(mode: Mode, { blocks, pings, dir }: Workload): Promise<Run> {
  const server = new FakeServer(blocks, pings);
  const proxy = await startProxy(mode, { serverPort: server.port, outDir: `${dir}/${mode}` });
  let mbPerS = 0;
  let lat: number[] = [];
  let stopped: Stopped = { dropped: 0, lossy: 0, heldMs: 0 };
  try {
    mbPerS = await throughput(proxy.port, server.totalBytes);
    lat = (await latencies(proxy.port, server)).sort((a, b) => a - b);
  } finally {
    stopped = await proxy.stop();
    await server.close();
  }
  return { mbPerS, p50: percentile(lat, 0.5), p99: percentile(lat, 0.99), ...stopped };
}

/** Recording proxy vs plain relay: throughput and added latency. */
export const bench: Bench = async ({ quick }) => {
  const blocks = quick ? 1 : 50; // × 4 MiB: ~4 MB or ~200 MB
  const pings = quick ? 50 : 3000;
  const dir = await Deno.makeTempDir({ prefix: "spicecap-proxy-bench-" });
  try {
    // Alternate and keep each mode's best, so a noisy moment does not decide the ratio.
    const plain: Run[] = [];
    const rec: Run[] = [];
    const full: Run[] = [];
    for (let i = 0; i < (quick ? 1 : 2); i++) {
      const workload = { blocks, pings, dir: `${dir}/${i}` };
      plain.push(await measure("plain", workload));
      rec.push(await measure("rec", workload));
      full.push(await measure("full", workload));
    }
    const most = (runs: Run[], k: keyof Run) => Math.max(...runs.map((r) => r[k]));
    const least = (runs: Run[], k: keyof Run) => Math.min(...runs.map((r) => r[k]));
    const recMb = most(rec, "mbPerS");
    const fullMb = most(full, "mbPerS");
    const plainMb = most(plain, "mbPerS");
    const added50 = least(rec, "p50") - least(plain, "p50");
    const added99 = least(rec, "p99") - least(plain, "p99");
    const mb = Math.round(blocks * BLOCK_BYTES / 1e6);
    const rows: BenchRow[] = [
      {
        name: `proxy throughput, recording pcap (${mb} MB, ${
          Math.max(...rec.map((r) => r.dropped))
        } packets dropped, ${Math.max(...rec.map((r) => r.lossy))} connection(s) lossy)`,
        value: recMb,
        unit: "MB/s",
        reference: plainMb,
        referenceName: "same proxy --no-record",
        ratio: recMb / plainMb,
        goal: "≥ 0.90× plain relay",
        met: recMb / plainMb >= 0.9,
      },
      {
        name: `proxy throughput, recording everything (--record-all; ${
          Math.max(...full.map((r) => r.dropped))
        } packets dropped)`,
        value: fullMb,
        unit: "MB/s",
        reference: plainMb,
        referenceName: "same proxy --no-record",
        ratio: fullMb / plainMb,
        goal: "(informational)",
      },
      {
        // The plain relay's own latency is context, not a reference to divide by.
        name: `proxy latency added by recording, p50 (plain relay p50 ${
          least(plain, "p50").toFixed(3)
        } ms)`,
        value: added50,
        unit: "ms",
        goal: "(informational)",
      },
      {
        name: `proxy latency added by recording, p99 (plain relay p99 ${
          least(plain, "p99").toFixed(3)
        } ms)`,
        value: added99,
        unit: "ms",
        goal: "< 1 ms",
        met: added99 < 1,
      },
    ];
    return rows;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
};

if (import.meta.main) {
  const quick = Deno.args.includes("--quick");
  for (const r of await bench({ quick })) console.log(JSON.stringify(r));
}
