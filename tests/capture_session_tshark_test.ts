/**
 * CaptureSession output read by an independent decoder: tshark must accept every format we
 * write, see good checksums, follow the TCP stream back to exactly our bytes and dissect SPICE
 * with no decode flags.
 */
import assert from "node:assert/strict";
import { steppingClock } from "../lib/capture/clock.ts";
import { CaptureSession } from "../lib/capture/session.ts";
import type { CaptureFormat, TsResolution } from "../lib/pcap/types.ts";
import { mainFixture } from "../testing/spice_fixtures.ts";
import { SpiceConnectionFramer } from "../lib/spice/framer.ts";
import type { SpiceUnit } from "../lib/spice/types.ts";
import { missingTools } from "../harness/processes/tools.ts";
import {
  CHECKSUM_STATUS,
  checksumStatuses,
  runTshark,
  type TsharkOutput,
} from "../testing/tshark.ts";

const skip = missingTools("tshark") !== undefined;

function tshark(...args: string[]): Promise<TsharkOutput> {
  return runTshark(args);
}

/** Records the main fixture in causal order: link phase piece by piece, then messages. */
async function recordMain(
  dir: string,
  format: CaptureFormat,
  tsResolution: TsResolution,
): Promise<{ client: Uint8Array; server: Uint8Array }> {
  const fixture = mainFixture({ pingPayload: 256_000 });
  const framer = new SpiceConnectionFramer();
  const client = framer.pushClient(fixture.client);
  const server = framer.pushServer(fixture.server);
  const session = await CaptureSession.create(dir, {
    format,
    tsResolution,
    clock: steppingClock({ stepNs: 1_000_000n }),
  });
  const conn = session.openConnection(1, 0)!;
  const send = (u: SpiceUnit) =>
    u.fromClient
      ? conn.sent(u.bytes, `main → ${u.kind === "message" ? u.name : u.kind}`)
      : conn.received(u.bytes);
  // link, reply, mechanism, ticket, result, then the server's and the client's messages
  [client[0], server[0], client[1], client[2], server[1]].forEach(send);
  server.slice(2).forEach(send);
  client.slice(3).forEach(send);
  await session.close();
  return { client: fixture.client, server: fixture.server };
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

for (
  const [format, res] of [["pcap", "us"], ["pcap", "ns"], ["pcapng", "ns"], ["pcapng", "us"]] as [
    CaptureFormat,
    TsResolution,
  ][]
) {
  Deno.test({
    name: `tshark reads a CaptureSession ${format} (${res}) file: checksums, follow stream, SPICE`,
    ignore: skip,
    fn: async () => {
      const dir = await Deno.makeTempDir();
      try {
        const sent = await recordMain(`${dir}/s`, format, res);
        const file = `${dir}/s/main.${format}`;

        const statuses = await checksumStatuses(file);
        assert.ok(statuses.length > 20);
        for (const [ip, tcp] of statuses) {
          assert.deepEqual([ip, tcp], [CHECKSUM_STATUS.GOOD, CHECKSUM_STATUS.GOOD]);
        }

        // Follow TCP stream returns exactly the bytes of each direction, in order.
        const follow = (await tshark("-r", file, "-q", "-z", "follow,tcp,raw,0")).stdout;
        const lines = follow.split("\n").filter((l) => /^\t?[0-9a-f]+$/.test(l));
        const fromClient = lines.filter((l) => !l.startsWith("\t")).join("");
        const fromServer = lines.filter((l) => l.startsWith("\t")).map((l) => l.slice(1)).join("");
        assert.equal(fromClient, hex(sent.client));
        assert.equal(fromServer, hex(sent.server));

        // With no decode flags, the SPICE heuristic recognises the link and dissects messages.
        const info = (await tshark("-r", file, "-Y", "spice")).stdout;
        assert.match(info, /Spice MAIN/);
        const types = (await tshark(
          "-r",
          file,
          "-Y",
          "spice",
          "-T",
          "fields",
          "-e",
          "spice.message_type",
        )).stdout;
        assert.match(types, /103/, "MAIN_INIT (103) is dissected");
        assert.match(types, /104/, "CHANNELS_LIST / ATTACH_CHANNELS (104) is dissected");
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}
