import type { Io } from "../io.ts";

/** `deno task check`: not implemented yet. */
export async function run(_args: string[], io: Io): Promise<number> {
  await io.err("spicecap check: not implemented yet\n");
  return 2;
}
