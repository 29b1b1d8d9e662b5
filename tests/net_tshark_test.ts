/**
 * tshark agrees with lib/net: frames of a TcpFlow carry good checksums, follow as one clean TCP
 * stream and raise no TCP analysis warnings.
 */
import assert from "node:assert/strict";
import { missingTools } from "../harness/processes/tools.ts";
import { CHECKSUM_STATUS, checksumStatuses, runTshark } from "../testing/tshark.ts";
import { type FlowFrame, TcpFlow } from "../lib/net/tcp_flow.ts";
import type { Direction } from "../lib/net/types.ts";

const PCAP_GLOBAL_HEADER_BYTES = 24;
const PCAP_RECORD_HEADER_BYTES = 16;
const PCAP_MAGIC_US = 0xa1b2c3d4;
const LINKTYPE_ETHERNET = 1;

/** A classic little-endian microsecond pcap file, written by hand to stay independent of lib/pcap. */
function pcapFile(frames: Uint8Array[]): Uint8Array {
  const total = PCAP_GLOBAL_HEADER_BYTES +
    frames.reduce((n, f) => n + PCAP_RECORD_HEADER_BYTES + f.length, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setUint32(0, PCAP_MAGIC_US, true); // magic: µs timestamps, little-endian
  view.setUint16(4, 2, true); // version major
  view.setUint16(6, 4, true); // version minor
  view.setInt32(8, 0, true); // thiszone
  view.setUint32(12, 0, true); // sigfigs
  view.setUint32(16, 262144, true); // snap length
  view.setUint32(20, LINKTYPE_ETHERNET, true); // link type
  let o = PCAP_GLOBAL_HEADER_BYTES;
  frames.forEach((frame, i) => {
    view.setUint32(o, 1_700_000_000, true); // seconds
    view.setUint32(o + 4, i * 1000, true); // microseconds: 1 ms apart
    view.setUint32(o + 8, frame.length, true); // captured length
    view.setUint32(o + 12, frame.length, true); // original length
    out.set(frame, o + PCAP_RECORD_HEADER_BYTES);
    o += PCAP_RECORD_HEADER_BYTES + frame.length;
  });
  return out;
}

function bytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

function hex(b: Uint8Array): string {
  return Array.from(b, (v) => v.toString(16).padStart(2, "0")).join("");
}

async function tshark(args: string[]): Promise<string> {
  return (await runTshark(args)).stdout;
}

Deno.test({
  name: "tshark validates checksums, follows the stream and flags nothing in a TcpFlow capture",
  ignore: missingTools("tshark") !== undefined,
  async fn() {
    const flow = new TcpFlow({
      clientIp: 0x0a000001,
      serverIp: 0x0a000002,
      clientPort: 10001,
      serverPort: 5930,
    });
    const sends: [Direction, Uint8Array][] = [
      ["toServer", bytes(18, 1)],
      ["toClient", bytes(200, 2)],
      ["toServer", bytes(1, 3)],
      ["toClient", bytes(256018, 4)], // four segments, the server ACKed between them
      ["toServer", bytes(70000, 5)],
      ["toServer", bytes(3000, 6)],
      ["toClient", bytes(65495, 7)], // exactly one MSS
    ];
    const frames: FlowFrame[] = [...flow.open()];
    for (const [direction, payload] of sends) frames.push(...flow.send(direction, payload));
    frames.push(...flow.close());

    const dir = await Deno.makeTempDir({ prefix: "net_tshark_" });
    try {
      const file = `${dir}/flow.pcap`;
      await Deno.writeFile(file, pcapFile(frames.map((f) => f.frame)));

      const statuses = await checksumStatuses(file);
      assert.equal(statuses.length, frames.length);
      statuses.forEach((pair, i) =>
        assert.deepEqual(pair, [CHECKSUM_STATUS.GOOD, CHECKSUM_STATUS.GOOD], `frame ${i + 1}`)
      );

      const flagged = await tshark(["-r", file, "-Y", "tcp.analysis.flags"]);
      assert.equal(flagged.trim(), "", `tshark flagged TCP analysis warnings:\n${flagged}`);

      const follow = await tshark(["-r", file, "-q", "-z", "follow,tcp,raw,0"]);
      const body = follow.split("\n");
      const start = body.findIndex((l) => l.startsWith("Node 1:"));
      assert.ok(start > 0, `no follow output:\n${follow.slice(0, 500)}`);
      assert.match(body[start - 1], /^Node 0: 10\.0\.0\.1:10001$/);
      const chunks: [Direction, string][] = [];
      for (const line of body.slice(start + 1)) {
        if (line.startsWith("====")) break;
        if (line === "") continue;
        const direction: Direction = line.startsWith("\t") ? "toClient" : "toServer";
        const last = chunks.at(-1);
        if (last !== undefined && last[0] === direction) last[1] += line.trim();
        else chunks.push([direction, line.trim()]);
      }
      assert.deepEqual(
        chunks.map(([d, h]) => [d, h.length / 2]),
        sends.map(([d, p]) => [d, p.length]).reduce<[Direction, number][]>((acc, [d, n]) => {
          const last = acc.at(-1);
          if (last !== undefined && last[0] === d) last[1] += n as number;
          else acc.push([d as Direction, n as number]);
          return acc;
        }, []),
        "follow shows each direction's bytes in send order",
      );
      for (const direction of ["toServer", "toClient"] as const) {
        const got = chunks.filter(([d]) => d === direction).map(([, h]) => h).join("");
        const sent = sends.filter(([d]) => d === direction).map(([, p]) => hex(p)).join("");
        assert.ok(got === sent, `${direction} bytes differ from what was sent`);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
