/**
 * Both ends of the bulk display stream the recording bench's peer rows send through a proxy:
 * bench/c/bulk_load.c when gcc builds it (the load generator then costs the cores only its
 * socket copies, which leaves the proxy under test what a 2-core machine has), else the
 * bench's own Deno source and reader (bench/proxy_bench.ts).
 */
import { FakeServer, messageBlock, throughput } from "./proxy_bench.ts";
import { buildC, runC } from "./c_programs.ts";
import { syntheticLink } from "../testing/synthetic_spice.ts";
import { CHANNEL_TYPES } from "../lib/spice/tables.ts";
import { concatBytes } from "../lib/bytes.ts";

/** A source that listens for the proxy's one connection. */
export interface Source {
  /** Where it listens. */
  port: number;
  /** The stream's length. */
  totalBytes: number;
  /** Resolves once it has sent everything and closed. */
  done(): Promise<void>;
}

/** The two ends of the stream. */
export interface BulkLoad {
  /** What generates the load, for row names. */
  name: string;
  /**
   * Starts a source of `blocks` 4 MiB blocks of display messages.
   *
   * @param rate bytes per second held on average (undefined: full speed)
   */
  serve(blocks: number, rate?: number): Promise<Source>;
  /** Reads the stream through `port`; MB/s over the bytes after `skipBytes`. */
  read(port: number, totalBytes: number, skipBytes?: number): Promise<number>;
}

/** The Deno source and reader of bench/proxy_bench.ts. */
const denoLoad: BulkLoad = {
  name: "Deno source and reader",
  serve(blocks, rate) {
    const server = new FakeServer(blocks, 0, rate);
    return Promise.resolve({
      port: server.port,
      totalBytes: server.totalBytes,
      done: () => server.close(),
    });
  },
  read: throughput,
};

/** The link file bench/c/bulk_load.c reads: four u32 lengths, then the four messages. */
function linkFile(): Uint8Array {
  const l = syntheticLink(CHANNEL_TYPES.display);
  const parts = [l.link, l.reply, concatBytes([l.authMechanism, l.ticket]), l.result];
  return concatBytes([
    new Uint8Array(new Uint32Array(parts.map((p) => p.length)).buffer),
    ...parts,
  ]);
}

/**
 * The load for the peer rows, its files in `dir`: bench/c/bulk_load.c built with gcc, or the
 * Deno ends when gcc is missing or fails.
 */
export async function bulkLoad(dir: string): Promise<BulkLoad> {
  const exe = await buildC("bulk_load", dir);
  if (!exe) return denoLoad;
  const link = `${dir}/link.bin`;
  const block = `${dir}/block.bin`;
  const blockBytes = messageBlock();
  await Deno.writeFile(link, linkFile());
  await Deno.writeFile(block, blockBytes);
  return {
    name: "C source and reader (bench/c/bulk_load.c)",
    async serve(blocks, rate) {
      const child = new Deno.Command(exe, {
        args: ["serve", link, block, String(blocks), String(rate ?? 0)],
        stdout: "piped",
      }).spawn();
      const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
      let text = "";
      while (!/port \d+\n/.test(text)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`bulk_load serve exited: ${text}`);
        text += value;
      }
      reader.releaseLock();
      return {
        port: Number(/port (\d+)/.exec(text)![1]),
        totalBytes: blocks * blockBytes.length,
        done: async () => {
          // It exits by itself once everything is sent; after a failed run it may still wait.
          try {
            child.kill("SIGTERM");
          } catch {
            // exited already
          }
          await child.stdout.cancel().catch(() => {});
          await child.status;
        },
      };
    },
    async read(port, totalBytes, skipBytes = 0) {
      return Number(
        await runC(exe, ["read", String(port), link, String(totalBytes), String(skipBytes)]),
      );
    },
  };
}
