import assert from "node:assert/strict";
import { blockingFileSink, fileSink, releasesChunks } from "./file_sink.ts";

for (
  const [name, factory] of [["fileSink", fileSink], ["blockingFileSink", blockingFileSink]] as const
) {
  Deno.test(`${name} creates a new 0600 file, writes every chunk in order, and never overwrites`, async () => {
    const dir = await Deno.makeTempDir();
    try {
      const path = `${dir}/f.pcap`;
      const w = factory(path).getWriter();
      // Larger than a write slice and not a multiple of it; each slice's bytes differ.
      const big = new Uint8Array((5 << 20) + 3).map((_, i) => (i ^ (i >>> 16)) & 0xff);
      await w.write(new Uint8Array([1, 2, 3]));
      await w.write(big);
      await w.close();
      const got = await Deno.readFile(path);
      assert.equal(got.length, 3 + big.length);
      assert.deepEqual(got.subarray(0, 3), new Uint8Array([1, 2, 3]));
      assert.ok(got.subarray(3).every((b, i) => b === big[i]), "every slice in order");
      assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
      const again = factory(path).getWriter();
      await assert.rejects(again.write(new Uint8Array(1)), Deno.errors.AlreadyExists);
      assert.equal((await Deno.readFile(path)).length, 3 + big.length, "left as it was");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("both file sinks release a chunk once its write resolved; other sinks may keep it", () => {
  assert.ok(releasesChunks(fileSink));
  assert.ok(releasesChunks(blockingFileSink));
  assert.equal(releasesChunks(() => new WritableStream()), false);
});
