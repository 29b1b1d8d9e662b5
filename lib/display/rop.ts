/**
 * Raster operations: the SPICE ROP descriptor bits, their reduction to one of the sixteen
 * binary raster ops (X11 GX order), and ternary ROP3 codes (docs/protocol.md, "Display
 * channel: drawing").
 */

/** ROP descriptor bits (`SpiceRopd`), u16 in DRAW_FILL/COPY/OPAQUE/BLEND. */
export const ROPD = {
  INVERS_SRC: 1 << 0,
  INVERS_BRUSH: 1 << 1,
  INVERS_DEST: 1 << 2,
  OP_PUT: 1 << 3,
  OP_OR: 1 << 4,
  OP_AND: 1 << 5,
  OP_XOR: 1 << 6,
  OP_BLACKNESS: 1 << 7,
  OP_WHITENESS: 1 << 8,
  OP_INVERS: 1 << 9,
  INVERS_RES: 1 << 10,
} as const;

/**
 * The sixteen binary raster ops as 4-bit truth tables: bit `(1-s)*2 + (1-d)` is the result for
 * source bit s and destination bit d (the X11 GX numbering: COPY = 3, XOR = 6, NOOP = 5).
 */
export const ROPS = {
  CLEAR: 0,
  AND: 1,
  AND_REVERSE: 2,
  COPY: 3,
  AND_INVERTED: 4,
  NOOP: 5,
  XOR: 6,
  OR: 7,
  NOR: 8,
  EQUIV: 9,
  INVERT: 10,
  OR_REVERSE: 11,
  COPY_INVERTED: 12,
  OR_INVERTED: 13,
  NAND: 14,
  SET: 15,
} as const;

/** Which operand a descriptor's "source" and "destination" mean for one draw. */
export type RopInput = "src" | "brush" | "dest";

const INVERT_BIT: Readonly<Record<RopInput, number>> = {
  src: ROPD.INVERS_SRC,
  brush: ROPD.INVERS_BRUSH,
  dest: ROPD.INVERS_DEST,
};

/** The two-operand ops a descriptor may select, tested in this order (first match wins). */
const BINARY_OPS: readonly (readonly [number, (s: number, d: number) => number])[] = [
  [ROPD.OP_PUT, (s) => s],
  [ROPD.OP_OR, (s, d) => s | d],
  [ROPD.OP_AND, (s, d) => s & d],
  [ROPD.OP_XOR, (s, d) => s ^ d],
];

/** Ops that ignore both operands and the inversion bits, tested after BINARY_OPS. */
const CONSTANT_OPS: readonly (readonly [number, number])[] = [
  [ROPD.OP_BLACKNESS, ROPS.CLEAR],
  [ROPD.OP_WHITENESS, ROPS.SET],
  [ROPD.OP_INVERS, ROPS.INVERT],
];

/**
 * Reduces a ROP descriptor to a binary raster op.
 *
 * @param descriptor the u16 `rop_descriptor`
 * @param inputs which operand plays source and which destination (fill: brush/dest, copy and
 *   blend: src/dest, opaque: brush/src)
 * @returns one of {@link ROPS}; a descriptor with no op bit is COPY
 */
export function ropFromDescriptor(
  descriptor: number,
  inputs: { src: RopInput; dest: RopInput },
): number {
  const invS = descriptor & INVERT_BIT[inputs.src] ? 1 : 0;
  const invD = descriptor & INVERT_BIT[inputs.dest] ? 1 : 0;
  const invR = descriptor & ROPD.INVERS_RES ? 1 : 0;
  for (const [bit, op] of BINARY_OPS) {
    if (!(descriptor & bit)) continue;
    let table = 0;
    for (const s of [0, 1]) {
      for (const d of [0, 1]) {
        if ((op(s ^ invS, d ^ invD) & 1) ^ invR) table |= 1 << ((1 - s) * 2 + (1 - d));
      }
    }
    return table;
  }
  for (const [bit, rop] of CONSTANT_OPS) if (descriptor & bit) return rop;
  return ROPS.COPY;
}

/**
 * Applies a binary raster op to two 32-bit words, bit by bit.
 *
 * @param rop one of {@link ROPS}
 * @param words source and destination words
 * @returns the new destination word (unsigned)
 */
export function applyRop(rop: number, words: { s: number; d: number }): number {
  const { s, d } = words;
  let out = 0;
  if (rop & 1) out |= s & d;
  if (rop & 2) out |= s & ~d;
  if (rop & 4) out |= ~s & d;
  if (rop & 8) out |= ~s & ~d;
  return out >>> 0;
}

/**
 * Applies a ternary ROP3 code: bit `p*4 + s*2 + d` of the code is the result for pattern
 * (brush) bit p, source bit s and destination bit d (0xCC = source copy, 0xF0 = pattern copy).
 *
 * @param rop3 the u8 code from DRAW_ROP3
 * @param words pattern, source and destination words
 * @returns the new destination word (unsigned)
 */
export function applyRop3(rop3: number, words: { p: number; s: number; d: number }): number {
  let out = 0;
  for (let i = 0; i < 8; i++) {
    if (!(rop3 & (1 << i))) continue;
    const p = i & 4 ? words.p : ~words.p;
    const s = i & 2 ? words.s : ~words.s;
    const d = i & 1 ? words.d : ~words.d;
    out |= p & s & d;
  }
  return out >>> 0;
}
