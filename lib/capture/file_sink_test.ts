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
      await w.write(new Uint8Array([1, 2, 3]));
      await w.write(new Uint8Array(5 << 20).fill(7));
      await w.close();
      const got = await Deno.readFile(path);
      assert.equal(got.length, 3 + (5 << 20));
      assert.deepEqual(got.subarray(0, 4), new Uint8Array([1, 2, 3, 7]));
      assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
      const again = factory(path).getWriter();
      await assert.rejects(again.write(new Uint8Array(1)), Deno.errors.AlreadyExists);
      assert.equal((await Deno.readFile(path)).length, 3 + (5 << 20), "left as it was");
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
