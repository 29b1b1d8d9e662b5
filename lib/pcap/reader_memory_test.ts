import assert from "node:assert/strict";
import { hugePcapStream } from "../../testing/huge_stream.ts";
import { readCaptureBatches } from "./reader.ts";

const GIB = 2 ** 30;
const MIB = 2 ** 20;

Deno.test("readCaptureBatches() streams a pcap larger than 4 GiB with flat memory", async () => {
  // 64 KiB packets in 1 MiB chunks that never line up with records: every 16th record
  // straddles a chunk boundary and goes through the partial-tail path.
  const { stream, records, fileBytes } = hugePcapStream(4 * GIB + MIB, 65_536);
  assert.ok(fileBytes > 4 * GIB);
  // This isolate's own heap and ArrayBuffer memory: unlike RSS, not shared with the other
  // test modules that `deno test --parallel` runs in the same process.
  const used = () => {
    const m = Deno.memoryUsage();
    return m.heapUsed + m.external;
  };
  const used0 = used();
  let peak = used0;
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
    if ((++batches & 63) === 0) peak = Math.max(peak, used());
  }
  assert.equal(seen, records);
  assert.equal(bytes, records * 65_536);
  assert.equal(lastOffset, fileBytes - 16 - 65_536);
  // Holding the stream would need > 4 GiB; the reader holds one chunk and one record.
  const growth = peak - used0;
  assert.ok(growth < 256 * MIB, `memory grew by ${(growth / MIB).toFixed(0)} MiB while streaming`);
});
