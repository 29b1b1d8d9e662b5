/**
 * Serve benchmark: the largest golden session served at --speed max to the replay's client
 * (the recorded client side, re-driven by `replay --target` in a child process over loopback): time from the client's
 * main link to the last recorded server message sent, against the recording's own duration; and
 * the latency serve adds per message (from the moment a message may go to its bytes handed to the
 * socket and recorded; the transfer itself is the kernel's and the client's).
 */
import type { Bench, BenchRow } from "./types.ts";
import { percentile } from "../lib/replay/schedule.ts";
import { loadServePlan, serveRecording } from "../harness/serve/server.ts";

const GOLDEN = new URL("../fixtures/golden/", import.meta.url).pathname;
const CLI = new URL("../harness/cli.ts", import.meta.url).pathname;

/** The golden session with the most bytes. */
async function largestGolden(): Promise<string> {
  let best = { dir: "", bytes: -1 };
  for await (const e of Deno.readDir(GOLDEN)) {
    if (!e.isDirectory) continue;
    let bytes = 0;
    for await (const f of Deno.readDir(`${GOLDEN}${e.name}`)) {
      bytes += (await Deno.stat(`${GOLDEN}${e.name}/${f.name}`)).size;
    }
    if (bytes > best.bytes) best = { dir: `${GOLDEN}${e.name}`, bytes };
  }
  return best.dir;
}

/** One serve of `source` to the replayed client; the serve outcome. */
async function serveOnce(source: string, tmp: string, run: number) {
  const { plan, manifest } = await loadServePlan(source);
  let port!: (p: number) => void;
  const listening = new Promise<number>((r) => port = r);
  const served = serveRecording({
    plan,
    manifest,
    hostname: "127.0.0.1",
    port: 0,
    outDir: `${tmp}/served-${run}`,
    idleMs: 0,
    onListening: (_url, p) => port(p),
  });
  // The client runs in its own process, so its work does not count as serve's latency.
  const replay = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      CLI,
      "replay",
      source,
      "--target",
      `127.0.0.1:${await listening}`,
      "--out",
      `${tmp}/client-${run}`,
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  const [session] = await served;
  if (!session || session.outcome.status !== "served" || !replay.success) {
    throw new Error(
      `serve bench: ${session?.outcome.status ?? "no session"} ${
        session?.outcome.message ?? ""
      } / ` +
        new TextDecoder().decode(replay.stderr),
    );
  }
  return { outcome: session.outcome, recordedMs: Number(plan.endNs - plan.t0Ns) / 1e6 };
}

/** The serve benchmark rows. */
export const bench: Bench = async ({ quick }) => {
  const source = await largestGolden();
  const name = source.replace(/\/+$/, "").split("/").pop();
  const tmp = await Deno.makeTempDir({ prefix: "spicecap-serve-bench-" });
  try {
    const runs = quick ? 1 : 3;
    const totals: number[] = [];
    const added: { name: string; ms: number }[] = [];
    let recordedMs = 0;
    let messages = 0;
    if (!quick) await serveOnce(source, tmp, -1); // warm-up, not counted
    for (let i = 0; i < runs; i++) {
      const r = await serveOnce(source, tmp, i);
      totals.push(r.outcome.connectToLastMs);
      added.push(...r.outcome.added);
      recordedMs = r.recordedMs;
      messages = r.outcome.sent;
    }
    totals.sort((a, b) => a - b);
    added.sort((a, b) => a.ms - b.ms);
    const ms = added.map((a) => a.ms);
    const worst = added[added.length - 1];
    const label = `serve ${name} (${messages} server msgs) at max speed`;
    const p50 = percentile(ms, 50) * 1000;
    return [
      {
        name: `${label}: connect → last message (median of ${runs})`,
        value: percentile(totals, 50),
        unit: "ms",
        reference: recordedMs,
        referenceName: "recorded duration",
      },
      {
        name: `${label}: added latency p50`,
        value: p50,
        unit: "µs",
        goal: "p50 < 1000 µs",
        met: p50 < 1000,
      },
      {
        name: `${label}: added latency p99 (worst: ${worst.name})`,
        value: percentile(ms, 99) * 1000,
        unit: "µs",
      },
    ] satisfies BenchRow[];
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
};
