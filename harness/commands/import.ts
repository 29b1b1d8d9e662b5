import type { Io } from "../io.ts";

/** `deno task import`: not implemented yet. */
export async function run(_args: string[], io: Io): Promise<number> {
  await io.err("spicecap import: not implemented yet\n");
  return 2;
}
