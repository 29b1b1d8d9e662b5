/**
 * Files written by lib/pcap's writers, read by tshark: no warnings, right packet count,
 * timestamps, snap-length cut, checksums, pcapng comments, directions and interface names.
 */
import assert from "node:assert/strict";
import { missingTools } from "../harness/processes/tools.ts";
import { buildFrame } from "../lib/net/frame.ts";
import { TCP_FLAGS } from "../lib/net/types.ts";
import type { CaptureWriter, PacketToWrite } from "../lib/pcap/types.ts";
import { createWriter } from "../lib/pcap/writer.ts";
import { PcapngWriter } from "../lib/pcap/pcapng_writer.ts";
import { runTshark } from "../testing/tshark.ts";

const skip = missingTools("tshark") !== undefined;
const T0 = 1_700_000_000_123_456_789n;
const enc = new TextEncoder();

function frame(i: number, payload: Uint8Array, toServer = true): Uint8Array {
  const [client, server] = [0x0a000001, 0x0a000002];
  return buildFrame({
    srcIp: toServer ? client : server,
    dstIp: toServer ? server : client,
    srcPort: toServer ? 10001 : 5930,
    dstPort: toServer ? 5930 : 10001,
    seq: 1000 + i * 100,
    ack: 5000,
    flags: TCP_FLAGS.PSH | TCP_FLAGS.ACK,
    ipId: i,
  }, payload);
}

async function writeFile(
  path: string,
  make: (sink: WritableStream<Uint8Array>) => CaptureWriter,
  packets: PacketToWrite[],
) {
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  const w = make(file.writable);
  for (const p of packets) w.write(p);
  await w.close();
}

/** Runs tshark, asserts exit 0 and a clean stderr, returns the field rows. */
async function tsharkFields(path: string, fields: string[]): Promise<string[][]> {
  const out = await runTshark([
    "-r",
    path,
    "-o",
    "tcp.check_checksum:TRUE",
    "-o",
    "ip.check_checksum:TRUE",
    "-T",
    "fields",
    "-E",
    "separator=|",
    ...fields.flatMap((f) => ["-e", f]),
  ]);
  assert.equal(out.stderr.trim(), "", `tshark stderr for ${path}`);
  return out.stdout.trim().split("\n").map((l) => l.split("|"));
}

function packets(count: number): PacketToWrite[] {
  return Array.from({ length: count }, (_, i) => ({
    tsNs: T0 + BigInt(i) * 1_000_000_001n,
    data: frame(i, enc.encode(`message ${i} `.repeat(i + 1))),
  }));
}

for (const tsResolution of ["us", "ns"] as const) {
  Deno.test({
    name: `tshark reads a ${tsResolution} pcap from PcapWriter with the right times and lengths`,
    ignore: skip,
    fn: async () => {
      const dir = await Deno.makeTempDir();
      try {
        const path = `${dir}/t.pcap`;
        const list = packets(5);
        list.push({ tsNs: T0 + 9_000_000_000n, data: frame(9, new Uint8Array(300).fill(0x41)) });
        await writeFile(
          path,
          (s) => createWriter("pcap", s, { tsResolution, snapLength: 200 }),
          list,
        );
        const rows = await tsharkFields(path, [
          "frame.time_epoch",
          "frame.len",
          "frame.cap_len",
          "tcp.seq_raw",
          "ip.checksum.status",
          "tcp.checksum.status",
        ]);
        assert.equal(rows.length, 6);
        const epoch = (t: bigint) => {
          const kept = tsResolution === "ns" ? t : t / 1000n * 1000n;
          return `${kept / 1_000_000_000n}.${String(kept % 1_000_000_000n).padStart(9, "0")}`;
        };
        assert.deepEqual(rows.map((r) => r[0]), list.map((p) => epoch(p.tsNs)));
        assert.deepEqual(rows.map((r) => Number(r[1])), list.map((p) => p.data.length));
        assert.deepEqual(
          rows.map((r) => Number(r[2])),
          list.map((p) => Math.min(200, p.data.length)),
        );
        assert.deepEqual(rows.map((r) => r[3]), ["1000", "1100", "1200", "1300", "1400", "1900"]);
        // 1 = Good; the cut last frame cannot have its TCP checksum verified.
        assert.deepEqual(rows.slice(0, 5).map((r) => [r[4], r[5]]), Array(5).fill(["1", "1"]));
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}

Deno.test({
  name: "tshark reads PcapngWriter interfaces, comments, directions and timestamps",
  ignore: skip,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const path = `${dir}/t.pcapng`;
      const file = await Deno.open(path, { write: true, create: true, truncate: true });
      const w = new PcapngWriter(file.writable, {
        application: "spicecap test",
        interfaces: [{ name: "main", description: "SPICE main channel" }],
      });
      const display = w.addInterface({ name: "display", tsResolution: "us" });
      w.write({
        tsNs: T0,
        data: frame(0, enc.encode("hello")),
        direction: "outbound",
        comment: "link message",
      });
      w.write({ tsNs: T0 + 1n, data: frame(1, enc.encode("reply"), false), direction: "inbound" });
      w.write({
        tsNs: T0 + 2_000n,
        data: frame(2, enc.encode("draw")),
        interfaceId: display,
        direction: "inbound",
        comment: "ünïcode",
      });
      w.setInterfaceDrops(display, 3);
      await w.close();
      const rows = await tsharkFields(path, [
        "frame.time_epoch",
        "frame.interface_name",
        "frame.packet_flags_direction",
        "frame.comment",
        "tcp.checksum.status",
      ]);
      assert.deepEqual(rows, [
        ["1700000000.123456789", "main", "0x00000002", "link message", "1"],
        ["1700000000.123456790", "main", "0x00000001", "", "1"],
        ["1700000000.123458000", "display", "0x00000001", "ünïcode", "1"],
      ]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
