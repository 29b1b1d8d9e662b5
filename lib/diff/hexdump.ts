/** Hex excerpts of compared bytes around a differing offset, for diff reports. */

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** Bytes per hexdump row. */
export const ROW_BYTES = 16;

/**
 * Space-separated hex of up to `before` bytes before `offset` and `after` bytes from it.
 *
 * @param bytes the compared bytes
 * @param offset differing offset
 * @param options `before` (default 8) and `after` (default 24): bytes shown either side
 * @returns e.g. "00 01 02 03"; empty when `offset` is past the end
 */
export function hexExcerpt(
  bytes: Uint8Array,
  offset: number,
  options: { before?: number; after?: number } = {},
): string {
  const { before = 8, after = 24 } = options;
  const start = Math.max(0, offset - before);
  const end = Math.min(bytes.length, offset + after);
  const out: string[] = [];
  for (let i = start; i < end; i++) out.push(HEX[bytes[i]]);
  return out.join(" ");
}

/**
 * Side-by-side rows of expected and actual bytes around `offset`: one row before the differing
 * one and one after, each `expected` row followed by its `actual` row; differing bytes are
 * marked with `^` underneath.
 *
 * @param expected golden bytes
 * @param actual actual bytes
 * @param options `offset`: first differing offset; `indent`: prefix of every line (default four
 *   spaces)
 * @returns the lines (no trailing newline)
 */
export function hexRows(
  expected: Uint8Array,
  actual: Uint8Array,
  options: { offset: number; indent?: string },
): string[] {
  const { offset, indent = "    " } = options;
  const row0 = Math.max(0, Math.floor(offset / ROW_BYTES) - 1) * ROW_BYTES;
  const last = Math.max(expected.length, actual.length);
  const lines: string[] = [];
  for (let row = row0; row < Math.min(last, row0 + 3 * ROW_BYTES); row += ROW_BYTES) {
    const cells = (b: Uint8Array) => {
      const c: string[] = [];
      for (let i = row; i < row + ROW_BYTES; i++) c.push(i < b.length ? HEX[b[i]] : "  ");
      return c.join(" ");
    };
    const marks: string[] = [];
    let any = false;
    for (let i = row; i < row + ROW_BYTES; i++) {
      const d = expected[i] !== actual[i];
      any ||= d;
      marks.push(d ? "^^" : "  ");
    }
    const at = row.toString(16).padStart(6, "0");
    lines.push(`${indent}expected ${at}  ${cells(expected)}`);
    lines.push(`${indent}actual   ${at}  ${cells(actual)}`);
    if (any) lines.push(`${indent}                 ${marks.join(" ").trimEnd()}`);
  }
  return lines;
}
