import type { Io } from "../io.ts";

/** `deno task inspect`: not implemented yet. */
export async function run(_args: string[], io: Io): Promise<number> {
  await io.err("spicecap inspect: not implemented yet\n");
  return 2;
}
