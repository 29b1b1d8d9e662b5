/** A `WritableStream` onto a file created 0600: the thin adapter between writers and disk. */

/**
 * Opens `path` for writing (created with mode 0600, truncated) when the stream starts.
 * An open error (permission, missing directory) errors the stream, so the writer's next
 * flush rejects with it.
 *
 * @param path file to create
 * @returns a byte sink
 */
export function fileSink(path: string): WritableStream<Uint8Array> {
  let file: Deno.FsFile | undefined;
  return new WritableStream<Uint8Array>({
    async start() {
      file = await Deno.open(path, { write: true, create: true, truncate: true, mode: 0o600 });
    },
    async write(chunk) {
      let off = 0;
      while (off < chunk.length) off += await file!.write(chunk.subarray(off));
    },
    close() {
      file?.close();
      file = undefined;
    },
    abort() {
      file?.close();
      file = undefined;
    },
  });
}
