/**
 * The session manifest, `session.json` (contract: docs/architecture.md "Session directory"):
 * its types, its validator, and reading and writing it.
 */
import { type Manifest, MANIFEST_FILE } from "./manifest_types.ts";
import { ManifestError, validateManifest } from "./manifest_validate.ts";
import { writeNewFile } from "./file_sink.ts";

export * from "./manifest_types.ts";
export {
  describeJson,
  isPlainFileName,
  ManifestError,
  type ManifestProblem,
  validateManifest,
} from "./manifest_validate.ts";

/**
 * Parses the text of a manifest and validates it.
 *
 * @param text contents of `session.json`
 * @param file path used in errors
 * @returns the typed manifest
 * @throws {ManifestError} when it is not JSON or not a manifest this version reads
 */
export function parseManifest(text: string, file: string): Manifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ManifestError(file, {
      field: "",
      expected: "valid JSON",
      actual: (e as SyntaxError).message,
    });
  }
  return validateManifest(value, file);
}

/**
 * Reads and validates `<dir>/session.json`.
 *
 * @param dir session directory
 * @returns the manifest
 * @throws {ManifestError} when it is not valid JSON or not a manifest this version reads
 * @throws {Deno.errors.NotFound} when the directory holds no manifest
 */
export async function readManifest(dir: string): Promise<Manifest> {
  const file = `${dir}/${MANIFEST_FILE}`;
  return parseManifest(await Deno.readTextFile(file), file);
}

/**
 * Writes `<dir>/session.json` atomically (a temporary file renamed over it), mode 0600, so a
 * reader never sees half a manifest. When the temporary file cannot be written (a full disk),
 * it is removed, and the manifest is written over the old one in place if it fits in the
 * blocks that file already holds (no new space needed); otherwise the first error is thrown.
 *
 * @param dir session directory
 * @param manifest what to write
 * @throws the write error when neither way worked; no `session.json.tmp` is left behind
 */
export async function writeManifest(dir: string, manifest: Manifest): Promise<void> {
  const path = `${dir}/${MANIFEST_FILE}`;
  const bytes = new TextEncoder().encode(JSON.stringify(manifest, null, 2) + "\n");
  try {
    await writeNewFile(`${path}.tmp`, bytes); // created new: an entry there is never followed
    await Deno.rename(`${path}.tmp`, path);
  } catch (e) {
    await Deno.remove(`${path}.tmp`).catch(() => {});
    if (!(await overwriteInPlace(path, bytes))) throw e;
  }
}

/**
 * Writes `bytes` over an existing file when they fit in the blocks it holds already.
 *
 * @returns false when the file is missing or too small (nothing written)
 */
async function overwriteInPlace(path: string, bytes: Uint8Array): Promise<boolean> {
  const blocks = await Deno.stat(path).then((s) => s.blocks ?? 0, () => 0);
  if (bytes.length > blocks * 512) return false;
  const file = await Deno.open(path, { write: true });
  try {
    for (let off = 0; off < bytes.length;) off += await file.write(bytes.subarray(off));
    await file.truncate(bytes.length);
  } finally {
    file.close();
  }
  return true;
}
