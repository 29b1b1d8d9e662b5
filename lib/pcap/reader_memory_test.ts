import assert from "node:assert/strict";
import { hugePcapStream } from "./_huge_stream.ts";
import { readCaptureBatches } from "./reader.ts";

const GIB = 2 ** 30;
const MIB = 2 ** 20;

Deno.test("readCaptureBatches() streams a pcap larger than 4 GiB with flat memory", async () => {
  // 64 KiB packets in 1 MiB chunks that never line up with records: every 16th record
  // straddles a chunk boundary and goes through the partial-tail path.
  const { stream, records, fileBytes } = hugePcapStream(4 * GIB + MIB, 65_536);
  assert.ok(fileBytes > 4 * GIB);
  const rss0 = Deno.memoryUsage().rss;
  let peak = rss0;
  let seen = 0;
  let bytes = 0;
  let lastOffset = -1;
  let batches = 0;
  for await (const batch of readCaptureBatches(stream)) {
    for (const r of batch) {
      bytes += r.data.length;
      assert.ok(r.offset > lastOffset);
      lastOffset = r.offset;
    }
    seen += batch.length;
    if ((++batches & 63) === 0) peak = Math.max(peak, Deno.memoryUsage().rss);
  }
  assert.equal(seen, records);
  assert.equal(bytes, records * 65_536);
  assert.equal(lastOffset, fileBytes - 16 - 65_536);
  // Holding the stream would need > 4 GiB; the reader holds one chunk and one record.
  const growth = peak - rss0;
  assert.ok(growth < 256 * MIB, `RSS grew by ${(growth / MIB).toFixed(0)} MiB while streaming`);
});
