import type { Io } from "../io.ts";

/** `deno task diff`: not implemented yet. */
export async function run(_args: string[], io: Io): Promise<number> {
  await io.err("spicecap diff: not implemented yet\n");
  return 2;
}
