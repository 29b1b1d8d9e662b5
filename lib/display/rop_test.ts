import assert from "node:assert/strict";
import { applyRop, applyRop3, ROPD, ropFromDescriptor, ROPS } from "./rop.ts";

const COPY_INPUTS = { src: "src", dest: "dest" } as const;

Deno.test("ropFromDescriptor() reduces descriptors to the binary op", () => {
  const cases: [number, number][] = [
    [ROPD.OP_PUT, ROPS.COPY],
    [ROPD.OP_PUT | ROPD.INVERS_SRC, ROPS.COPY_INVERTED],
    [ROPD.OP_PUT | ROPD.INVERS_SRC | ROPD.INVERS_RES, ROPS.COPY],
    [ROPD.OP_OR, ROPS.OR],
    [ROPD.OP_OR | ROPD.INVERS_RES | ROPD.INVERS_SRC | ROPD.INVERS_DEST, ROPS.AND],
    [ROPD.OP_AND | ROPD.INVERS_DEST, ROPS.AND_REVERSE],
    [ROPD.OP_XOR | ROPD.INVERS_SRC, ROPS.EQUIV],
    [ROPD.OP_XOR | ROPD.INVERS_SRC | ROPD.INVERS_DEST, ROPS.XOR],
    [ROPD.OP_OR | ROPD.OP_AND, ROPS.OR],
    [ROPD.OP_BLACKNESS | ROPD.INVERS_RES, ROPS.CLEAR],
    [ROPD.OP_WHITENESS, ROPS.SET],
    [ROPD.OP_INVERS, ROPS.INVERT],
    [0, ROPS.COPY],
  ];
  for (const [desc, rop] of cases) {
    assert.equal(ropFromDescriptor(desc, COPY_INPUTS), rop, `descriptor ${desc}`);
  }
});

Deno.test("ropFromDescriptor() reads INVERS_BRUSH as the source inversion of a fill", () => {
  const fill = { src: "brush", dest: "dest" } as const;
  assert.equal(ropFromDescriptor(ROPD.OP_PUT | ROPD.INVERS_BRUSH, fill), ROPS.COPY_INVERTED);
  assert.equal(ropFromDescriptor(ROPD.OP_PUT | ROPD.INVERS_SRC, fill), ROPS.COPY);
});

Deno.test("applyRop() and applyRop3() compute bitwise results on 32-bit words", () => {
  assert.equal(applyRop(ROPS.XOR, { s: 0xff00ff00, d: 0x0ff00ff0 }), 0xf0f0f0f0);
  assert.equal(applyRop(ROPS.AND_INVERTED, { s: 0xf0, d: 0xff }), 0x0f);
  assert.equal(applyRop(ROPS.SET, { s: 0, d: 0 }), 0xffffffff);
  assert.equal(applyRop3(0xcc, { p: 1, s: 0x1234, d: 0xffff }), 0x1234, "SRCCOPY");
  assert.equal(applyRop3(0xf0, { p: 0xabcd, s: 0x1234, d: 0 }), 0xabcd, "PATCOPY");
  assert.equal(applyRop3(0x5a, { p: 0xff, s: 0, d: 0x0f }), 0xf0, "PATINVERT");
});
