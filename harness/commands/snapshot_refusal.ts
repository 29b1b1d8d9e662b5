/**
 * `replay` refuses a flight-recorder snapshot that starts mid-stream: the guest state it
 * starts from cannot be recreated (lib/capture/manifest_snapshot.ts).
 *
 * @module
 */
import { snapshotReplayRefusal } from "../../lib/capture/manifest_snapshot.ts";
import { openSession } from "../../lib/session/session_files.ts";
import { InputError } from "../errors.ts";

/**
 * Throws when `source` is a snapshot whose ring did not keep the whole session.
 *
 * @param source session directory or channel file
 * @throws {InputError} naming the snapshot and why it cannot be replayed
 */
export async function refuseSnapshotReplay(source: string): Promise<void> {
  const { manifest } = await openSession(source);
  const refusal = snapshotReplayRefusal(manifest?.snapshot);
  if (refusal !== undefined) throw new InputError(`${source}: ${refusal}`);
}
