/**
 * Files created new and private: a `WritableStream` onto a new 0600 file (the thin adapter
 * between writers and disk), and the create-new helpers every output file goes through.
 */

/**
 * Creates the file `path`, which must not exist (O_CREAT|O_EXCL: a symbolic link there is not
 * followed), with mode 0600, open for writing.
 *
 * @param path the new file
 * @returns the open file
 * @throws {Deno.errors.AlreadyExists} naming `path` when anything is there already
 */
export async function createNewFile(path: string): Promise<Deno.FsFile> {
  try {
    return await Deno.open(path, { createNew: true, write: true, mode: 0o600 });
  } catch (e) {
    if (e instanceof Deno.errors.AlreadyExists) {
      throw new Deno.errors.AlreadyExists(
        `${path} already exists; spicecap never overwrites or follows an existing entry`,
      );
    }
    throw e;
  }
}

/**
 * Writes `bytes` to the new file `path` (see {@link createNewFile}); a partly written file is
 * removed again.
 *
 * @param path the new file
 * @param bytes its contents
 * @throws {Deno.errors.AlreadyExists} naming `path` when anything is there already
 */
export async function writeNewFile(path: string, bytes: Uint8Array): Promise<void> {
  const file = await createNewFile(path);
  try {
    let off = 0;
    while (off < bytes.length) off += await file.write(bytes.subarray(off));
  } catch (e) {
    file.close();
    await Deno.remove(path).catch(() => {});
    throw e;
  }
  file.close();
}

/**
 * Creates `path` (see {@link createNewFile}: mode 0600, an existing entry is an error) when the
 * stream starts. An open error (an existing file, permission, missing directory) errors the
 * stream, so the writer's next flush rejects with it.
 *
 * @param path file to create
 * @returns a byte sink
 */
export function fileSink(path: string): WritableStream<Uint8Array> {
  return newFileSink(path, false);
}

/**
 * Like {@link fileSink}, but each write is a blocking system call on the calling thread: for a
 * thread that does nothing else meanwhile (the recording worker), it saves the hop to the I/O
 * thread pool and back that an asynchronous write costs (two thread wake-ups per write, about
 * a third of the write's CPU on this kind of machine; `deno task bench --only record`).
 *
 * @param path file to create (mode 0600; an existing entry is an error)
 * @returns a byte sink
 */
export function blockingFileSink(path: string): WritableStream<Uint8Array> {
  return newFileSink(path, true);
}

/**
 * Most bytes one write hands the kernel, for a blocking and an asynchronous sink. A writer's
 * chunk may be larger (a capture file's is 4 MiB); it goes out in slices. The kernel sizes the
 * page-cache folios of a buffered write after the write, and where the host took back the
 * guest's free huge pages (virtio-balloon free page reporting, as on the VMs spicecap's CI runs
 * on), filling fresh large folios costs CPU per byte: a GB to a cold ext4 file cost 2.1–2.3
 * CPU s at 2 or 4 MiB per write, 0.45 at 1 MiB, 0.10–0.15 at 256 KiB. A blocking write costs
 * a system call, ~0.01 s/GB more at 256 KiB; an asynchronous one also a hop to the I/O threads
 * and back, so it stays at 1 MiB (256 KiB cost it 0.1–0.3 s/GB more).
 */
const WRITE_SLICE_BYTES = { blocking: 256 << 10, async: 1 << 20 } as const;

/** The sink of {@link fileSink} (`blocking` false) and {@link blockingFileSink}. */
function newFileSink(path: string, blocking: boolean): WritableStream<Uint8Array> {
  let file: Deno.FsFile | undefined;
  const sliceBytes = WRITE_SLICE_BYTES[blocking ? "blocking" : "async"];
  const close = () => {
    file?.close();
    file = undefined;
  };
  return new WritableStream<Uint8Array>({
    async start() {
      file = await createNewFile(path);
    },
    async write(chunk) {
      for (let off = 0; off < chunk.length;) {
        const slice = chunk.subarray(off, off + sliceBytes);
        off += blocking ? file!.writeSync(slice) : await file!.write(slice);
      }
    },
    close,
    abort: close,
  });
}

/** Whether a sink factory's sinks are done with a chunk once its write resolved. */
export function releasesChunks(factory: (path: string) => WritableStream<Uint8Array>): boolean {
  return factory === fileSink || factory === blockingFileSink;
}
