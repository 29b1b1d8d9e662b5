/**
 * The QUIC model shared by the decoder and the test encoder: Golomb code families for 5 and 8
 * bits per channel, the context buckets with their adaptive code choice, the wait-mask schedule
 * that decides when the model updates, and the run-length (MELCODE) state.
 *
 * @module
 */

/** Codeword length limit. */
const MAX_CODE_LEN = 26;
/** Wait-mask index the schedule stops growing at. */
export const WMI_MAX = 6;
/** Symbols coded at each wait-mask index before it grows. */
export const WMI_NEXT = 2048;
/** Model-halving thresholds by wait-mask index (evolution mode 3). */
const TRIGGERS = [110, 550, 900, 800, 550, 400, 350, 250, 140, 160, 140];
/** MELCODE run-length order exponent for each of the 32 states. */
export const MELC_ORDER = [
  0,
  0,
  0,
  0,
  1,
  1,
  1,
  1,
  2,
  2,
  2,
  2,
  3,
  3,
  3,
  3,
  4,
  4,
  5,
  5,
  6,
  6,
  7,
  7,
  8,
  9,
  10,
  11,
  12,
  13,
  14,
  15,
];

/** The pseudo-random table that spaces model updates. */
const CHAOS = new Uint32Array([
  0x02c57542,
  0x35427717,
  0x2f5a2153,
  0x9244f155,
  0x7bd26d07,
  0x354c6052,
  0x57329b28,
  0x2993868e,
  0x6cd8808c,
  0x147b46e0,
  0x99db66af,
  0xe32b4cac,
  0x1b671264,
  0x9d433486,
  0x62a4c192,
  0x06089a4b,
  0x9e3dce44,
  0xdaabee13,
  0x222425ea,
  0xa46f331d,
  0xcd589250,
  0x8bb81d7f,
  0xc8b736b9,
  0x35948d33,
  0xd7ac7fd0,
  0x5fbe2803,
  0x2cfbc105,
  0x013dbc4e,
  0x7a37820f,
  0x39f88e9e,
  0xedd58794,
  0xc5076689,
  0xfcada5a4,
  0x64c2f46d,
  0xb3ba3243,
  0x8974b4f9,
  0x5a05aebd,
  0x20afcd00,
  0x39e2b008,
  0x88a18a45,
  0x600bde29,
  0xf3971ace,
  0xf37b0a6b,
  0x7041495b,
  0x70b707ab,
  0x06beffbb,
  0x4206051f,
  0xe13c4ee3,
  0xc1a78327,
  0x91aa067c,
  0x8295f72a,
  0x732917a6,
  0x1d871b4d,
  0x4048f136,
  0xf1840e7e,
  0x6a6048c1,
  0x696cb71a,
  0x7ff501c3,
  0x0fc6310b,
  0x57e0f83d,
  0x8cc26e74,
  0x11a525a2,
  0x946934c7,
  0x7cd888f0,
  0x8f9d8604,
  0x4f86e73b,
  0x04520316,
  0xdeeea20c,
  0xf1def496,
  0x67687288,
  0xf540c5b2,
  0x22401484,
  0x3478658a,
  0xc2385746,
  0x01979c2c,
  0x5dad73c8,
  0x0321f58b,
  0xf0fedbee,
  0x92826ddf,
  0x284bec73,
  0x5b1a1975,
  0x03df1e11,
  0x20963e01,
  0xa17cf12b,
  0x740d776e,
  0xa7a6bf3c,
  0x01b5cce4,
  0x1118aa76,
  0xfc6fac0a,
  0xce927e9b,
  0x00bf2567,
  0x806f216c,
  0xbca69056,
  0x795bd3e9,
  0xc9dc4557,
  0x8929b6c2,
  0x789d52ec,
  0x3f3fbf40,
  0xb9197368,
  0xa38c15b5,
  0xc3b44fa8,
  0xca8333b0,
  0xb7e8d590,
  0xbe807feb,
  0xbf5f8360,
  0xd99e2f5c,
  0x372928e1,
  0x7c757c4c,
  0x0db5b154,
  0xc01ede02,
  0x1fc86e78,
  0x1f3985be,
  0xb4805c77,
  0x00c880fa,
  0x974c1b12,
  0x35ab0214,
  0xb2dc840d,
  0x5b00ae37,
  0xd313b026,
  0xb260969d,
  0x7f4c8879,
  0x1734c4d3,
  0x49068631,
  0xb9f6a021,
  0x6b863e6f,
  0xcee5debf,
  0x29f8c9fb,
  0x53dd6880,
  0x72b61223,
  0x1f67a9fd,
  0x0a0f6993,
  0x13e59119,
  0x11cca12e,
  0xfe6b6766,
  0x16b6effc,
  0x97918fc4,
  0xc2b8a563,
  0x94f2f741,
  0x0bfa8c9a,
  0xd1537ae8,
  0xc1da349c,
  0x873c60ca,
  0x95005b85,
  0x9b5c080e,
  0xbc8abbd9,
  0xe1eab1d2,
  0x6dac9070,
  0x4ea9ebf1,
  0xe0cf30d4,
  0x1ef5bd7b,
  0xd161043e,
  0x5d2fa2e2,
  0xff5d3cae,
  0x86ed9f87,
  0x2aa1daa1,
  0xbd731a34,
  0x9e8f4b22,
  0xb1c2c67a,
  0xc21758c9,
  0xa182215d,
  0xccb01948,
  0x8d168df7,
  0x04238cfe,
  0x368c3dbc,
  0x0aeadca5,
  0xbad21c24,
  0x0a71fee5,
  0x9fc5d872,
  0x54c152c6,
  0xfc329483,
  0x6783384a,
  0xeddb3e1c,
  0x65f90e30,
  0x884ad098,
  0xce81675a,
  0x4b372f7d,
  0x68bf9a39,
  0x43445f1e,
  0x40f8d8cb,
  0x90d5acb6,
  0x4cd07282,
  0x349eeb06,
  0x0c9d5332,
  0x520b24ef,
  0x80020447,
  0x67976491,
  0x2f931ca3,
  0xfe9b0535,
  0xfcd30220,
  0x61a9e6cc,
  0xa487d8d7,
  0x3f7c5dd1,
  0x7d0127c5,
  0x48f51d15,
  0x60dea871,
  0xc9a91cb7,
  0x58b53bb3,
  0x9d5e0b2d,
  0x624a78b4,
  0x30dbee1b,
  0x9bdf22e7,
  0x1df5c299,
  0x2d5643a7,
  0xf4dd35ff,
  0x03ca8fd6,
  0x53b47ed8,
  0x6f2c19aa,
  0xfeb0c1f4,
  0x49e54438,
  0x2f2577e6,
  0xbf876969,
  0x72440ea9,
  0xfa0bafb8,
  0x74f5b3a0,
  0x7dd357cd,
  0x89ce1358,
  0x6ef2cdda,
  0x1e7767f3,
  0xa6be9fdb,
  0x4f5f88f8,
  0xba994a3a,
  0x08ca6b65,
  0xe0893818,
  0x9e00a16a,
  0xf42bfc8f,
  0x9972eedc,
  0x749c8b51,
  0x32c05f5e,
  0xd706805f,
  0x6bfbb7cf,
  0xd9210a10,
  0x31a1db97,
  0x923a9559,
  0x37a7a1f6,
  0x059f8861,
  0xca493e62,
  0x65157e81,
  0x8f6467dd,
  0xab85ff9f,
  0x9331aff2,
  0x8616b9f5,
  0xedbd5695,
  0xee7e29b1,
  0x313ac44f,
  0xb903112f,
  0x432ef649,
  0xdc0a36c0,
  0x61cf2bba,
  0x81474925,
  0xa8b6c7ad,
  0xee5931de,
  0xb2f8158d,
  0x59fb7409,
  0x2e3dfaed,
  0x9af25a3f,
  0xe1fed4d5,
]);

/** `(1 << n) - 1` for n in 0..32. */
export function lowMask(n: number): number {
  return n >= 32 ? 0xffffffff : (1 << n) - 1;
}

/** The Golomb code family of one channel depth. */
export interface QuicFamily {
  /** Bits per channel: 5 or 8. */
  bpc: number;
  /** Per code l: how many values get a plain Golomb-Rice codeword. */
  nGR: Uint32Array;
  /** Per code l: length of the escape (not-GR) codeword. */
  notGRlen: Uint32Array;
  /** Per code l: input windows at or below this are escape codewords. */
  notGRprefixMask: Uint32Array;
  /** Per code l: suffix bits of the escape codeword. */
  notGRsuffixLen: Uint32Array;
  /** Codeword length of value n under code l at `n * 8 + l`. */
  codeLen: Uint8Array;
  /** Codeword of value n under code l at `n * 8 + l`. */
  code: Uint32Array;
  /** Signed residual to unsigned index. */
  u2l: Uint8Array;
  /** Unsigned index back to the residual. */
  l2u: Uint8Array;
  /** Bucket number of each context value. */
  bucketOf: Uint8Array;
  /** How many buckets. */
  nBuckets: number;
}

function ceilLog2(v: number): number {
  if (v <= 1) return 0;
  return 32 - Math.clz32(v - 1);
}

function makeFamily(bpc: number): QuicFamily {
  const f: QuicFamily = {
    bpc,
    nGR: new Uint32Array(8),
    notGRlen: new Uint32Array(8),
    notGRprefixMask: new Uint32Array(8),
    notGRsuffixLen: new Uint32Array(8),
    codeLen: new Uint8Array(256 * 8),
    code: new Uint32Array(256 * 8),
    u2l: new Uint8Array(256),
    l2u: new Uint8Array(256),
    bucketOf: new Uint8Array(1 << bpc),
    nBuckets: 0,
  };
  const levels = 1 << bpc;
  for (let l = 0; l < bpc; l++) {
    const altPrefix = Math.min(MAX_CODE_LEN - bpc, lowMask(bpc - l));
    const altCodewords = levels - (altPrefix << l);
    f.nGR[l] = altPrefix << l;
    f.notGRsuffixLen[l] = ceilLog2(altCodewords);
    f.notGRlen[l] = altPrefix + f.notGRsuffixLen[l];
    f.notGRprefixMask[l] = lowMask(32 - altPrefix);
    for (let n = 0; n < 256; n++) {
      const gr = n < f.nGR[l];
      f.code[n * 8 + l] = gr ? (1 << l) | (n & lowMask(l)) : n - f.nGR[l];
      f.codeLen[n * 8 + l] = gr ? (n >> l) + l + 1 : f.notGRlen[l];
    }
  }
  const half = (levels - 1) >> 1;
  for (let s = 0; s < levels; s++) {
    f.u2l[s] = s <= half ? s << 1 : ((levels - 1 - s) << 1) + 1;
    f.l2u[s] = s & 1 ? levels - 1 - (s >> 1) : s >> 1;
  }
  f.nBuckets = fillBuckets(f.bucketOf, levels);
  return f;
}

/** Buckets of 1, 2, 4, … contexts; the last one absorbs a remainder smaller than its size. */
function fillBuckets(bucketOf: Uint8Array, levels: number): number {
  let n = 0, end = -1, size = 1, rep = 2;
  do {
    const start = end + 1;
    if (!--rep) {
      rep = 1;
      size *= 2;
    }
    end = start + size - 1;
    if (end + size >= levels) end = levels - 1;
    bucketOf.fill(n, start, end + 1);
    n++;
  } while (end < levels - 1);
  return n;
}

/** The 8 bits per channel family. */
export const FAMILY_8 = makeFamily(8);
/** The 5 bits per channel family (RGB16). */
export const FAMILY_5 = makeFamily(5);

/** The adaptive state one group of channels shares: update schedule and run-length state. */
export interface QuicState {
  /** Symbols left before the next model update. */
  waitCount: number;
  /** Index into the chaos table. */
  seed: number;
  /** Counter total that halves a bucket's counters. */
  trigger: number;
  /** Wait-mask index. */
  wmIdx: number;
  /** Symbols left at this wait-mask index. */
  wmLeft: number;
  /** MELCODE state. */
  melcState: number;
  /** MELCODE order exponent. */
  melcLen: number;
  /** 1 << melcLen. */
  melcOrder: number;
}

/** A fresh state, as at the start of each image. */
export function newState(): QuicState {
  return {
    waitCount: 0,
    seed: 0xff,
    trigger: TRIGGERS[0],
    wmIdx: 0,
    wmLeft: WMI_NEXT,
    melcState: 0,
    melcLen: MELC_ORDER[0],
    melcOrder: 1 << MELC_ORDER[0],
  };
}

/** Moves to the next wait-mask index. */
export function nextWaitMask(st: QuicState): void {
  st.wmIdx++;
  st.trigger = TRIGGERS[Math.min(st.wmIdx, 10)];
  st.wmLeft = WMI_NEXT;
}

/** The next pseudo-random number. */
export function tabrand(st: QuicState): number {
  st.seed = (st.seed + 1) & 0xff;
  return CHAOS[st.seed];
}

/** One channel's model: residual history of the current row and the bucket counters. */
export interface QuicChannel {
  /** Residual indices of the row, entry i+1 for pixel i (entry 0 is pixel -1). */
  corr: Uint8Array;
  /** Counters, 8 per bucket. */
  counters: Uint32Array;
  /** Best code per bucket. */
  bestCode: Uint8Array;
}

/** A fresh channel for an image `width` pixels wide. */
export function newChannel(family: QuicFamily, width: number): QuicChannel {
  return {
    corr: new Uint8Array(width + 1),
    counters: new Uint32Array(family.nBuckets * 8),
    bestCode: new Uint8Array(family.nBuckets).fill(family.bpc - 1),
  };
}

/**
 * Adds `value`'s codeword lengths to the bucket of context `ctx` and picks its best code.
 * Positional parameters: this runs for every pixel of every channel.
 */
export function updateModel(
  st: QuicState,
  ch: QuicChannel,
  family: QuicFamily,
  ctx: number,
  value: number,
): void {
  const bpc = family.bpc;
  const b = family.bucketOf[ctx & ((1 << bpc) - 1)];
  const c = ch.counters, base = b * 8, lens = family.codeLen, row = value * 8;
  let best = bpc - 1;
  let bestLen = (c[base + best] += lens[row + best]);
  for (let i = bpc - 2; i >= 0; i--) {
    const len = (c[base + i] += lens[row + i]);
    if (len < bestLen) {
      best = i;
      bestLen = len;
    }
  }
  ch.bestCode[b] = best;
  if (bestLen > st.trigger) { for (let i = 0; i < bpc; i++) c[base + i] >>>= 1; }
}
