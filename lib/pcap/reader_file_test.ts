import assert from "node:assert/strict";
import {
  memorySink,
  readAll,
  type RecordSnapshot,
  snapshot,
} from "../../testing/pcap_test_util.ts";
import { PcapngWriter } from "./pcapng_writer.ts";
import { readCaptureFile, readCaptureFileBatches } from "./reader.ts";

/** A pcapng of `count` records of 1..200 bytes each, written by our writer. */
async function manyRecords(count: number): Promise<Uint8Array> {
  const { sink, bytes } = memorySink();
  const w = new PcapngWriter(sink, { interfaces: [{ tsResolution: "us" }] });
  for (let i = 0; i < count; i++) {
    const data = new Uint8Array(1 + (i * 37) % 200).fill(i & 0xff);
    w.write({ tsNs: 1_700_000_000_000_000_000n + BigInt(i) * 1000n, data });
  }
  await w.close();
  return bytes();
}

Deno.test("readCaptureFileBatches() reads a file of many chunks as the in-memory reader does", async () => {
  const bytes = await manyRecords(5000); // ~640 KiB: several file chunks, records across them
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/many.pcapng`;
    await Deno.writeFile(path, bytes);
    const fromFile: RecordSnapshot[] = [];
    for await (const batch of readCaptureFileBatches(path)) fromFile.push(...batch.map(snapshot));
    const { records, error } = await readAll([bytes]);
    assert.equal(error, undefined);
    assert.equal(fromFile.length, 5000);
    assert.deepEqual(fromFile, records);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "readCaptureFile() reads a named pipe, which it reads asynchronously",
  ignore: Deno.build.os === "windows",
  async fn() {
    const bytes = await manyRecords(2000);
    const dir = await Deno.makeTempDir();
    try {
      const path = `${dir}/pipe.pcapng`;
      const made = await new Deno.Command("mkfifo", { args: [path] }).output();
      assert.ok(made.success, "mkfifo");
      const write = (async () => {
        const pipe = await Deno.open(path, { write: true });
        for (let at = 0; at < bytes.length; at += 10_000) {
          await pipe.write(bytes.subarray(at, at + 10_000));
        }
        pipe.close();
      })();
      let count = 0;
      for await (const r of readCaptureFile(path)) count = r.packetNumber;
      await write;
      assert.equal(count, 2000);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
