/**
 * X server numbers for the clients spicecap starts under `xvfb-run`. `xvfb-run -a` looks for a
 * free number and starts Xvfb on it, but two started at the same moment can pick the same one:
 * one client then shows its window on the other's server (and typing into it, or waiting for it,
 * goes wrong). Each client here reserves its number first with a file created new, then starts
 * `xvfb-run --server-num=N`.
 */
import { entryExists } from "../exists.ts";

const FIRST = 100;
const COUNT = 800;

/** A reserved X server number; `release()` frees it once the client has exited. */
export interface XServerNumber {
  /** The number: the client's display is `:number`. */
  readonly number: number;
  /** Frees the number (idempotent). */
  release(): Promise<void>;
}

function lockPath(n: number): string {
  return `/tmp/spicecap-x${n}.lock`;
}

function processAlive(pid: number): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

/**
 * Creates the lock of number `n` holding our pid; false when it exists already. The pid is
 * written to a file of our own first and then linked into place, so a lock is never seen empty.
 */
async function createLock(n: number): Promise<boolean> {
  const temp = `${lockPath(n)}.${Deno.pid}.${crypto.randomUUID()}`;
  await Deno.writeTextFile(temp, `${Deno.pid}\n`, { createNew: true, mode: 0o600 });
  try {
    await Deno.link(temp, lockPath(n));
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.AlreadyExists) return false;
    throw e;
  } finally {
    await Deno.remove(temp).catch(() => {});
  }
}

/** Takes number `n` if no X server and no live spicecap process holds it. */
async function tryTake(n: number): Promise<boolean> {
  if (entryExists(`/tmp/.X${n}-lock`) || entryExists(`/tmp/.X11-unix/X${n}`)) return false;
  if (await createLock(n)) return true;
  // A lock left by a process that is gone (killed before it could release) is taken over.
  const pid = Number((await Deno.readTextFile(lockPath(n)).catch(() => "")).trim());
  if (Number.isInteger(pid) && pid > 0 && processAlive(pid)) return false;
  await Deno.remove(lockPath(n)).catch(() => {});
  return await createLock(n);
}

/**
 * Reserves an X server number no other client of ours uses and no X server runs on.
 *
 * @returns the number and how to release it
 * @throws {Error} when all numbers from 100 on are taken
 */
export async function reserveXServerNumber(): Promise<XServerNumber> {
  const start = Deno.pid % COUNT;
  for (let i = 0; i < COUNT; i++) {
    const n = FIRST + (start + i) % COUNT;
    if (await tryTake(n)) {
      let released = false;
      return {
        number: n,
        release: async () => {
          if (released) return;
          released = true;
          await Deno.remove(lockPath(n)).catch(() => {});
        },
      };
    }
  }
  throw new Error(`no free X server number from ${FIRST} to ${FIRST + COUNT - 1}`);
}
