/**
 * Byte-stream builders for tests: SPICE connections shaped like the sessions in
 * docs/protocol.md "A spicy-screenshot session" (main + display), in mini or full header form.
 * Test helper only; not exported from mod.ts.
 */
import {
  buildLinkMessage,
  buildLinkReply,
  buildMessage,
  buildU32,
  LINK_HEADER_BYTES,
  PUBKEY_BYTES,
  TICKET_BYTES,
} from "../lib/spice/link.ts";
import { CHANNEL_TYPES } from "../lib/spice/tables.ts";
import type { SpiceUnitKind } from "../lib/spice/types.ts";
import { concatBytes } from "../lib/bytes.ts";

/** DER prefix of an RSA-1024 SubjectPublicKeyInfo with e = 65537, as QEMU sends it. */
const SPKI_PREFIX = [
  0x30,
  0x81,
  0x9f,
  0x30,
  0x0d,
  0x06,
  0x09,
  0x2a,
  0x86,
  0x48,
  0x86,
  0xf7,
  0x0d,
  0x01,
  0x01,
  0x01,
  0x05,
  0x00,
  0x03,
  0x81,
  0x8d,
  0x00,
  0x30,
  0x81,
  0x89,
  0x02,
  0x81,
  0x81,
  0x00,
];

/** A 162-byte key shaped like QEMU's (the modulus bytes are filler). */
export function fakePubKey(fill = 0xa5): Uint8Array {
  const key = new Uint8Array(PUBKEY_BYTES).fill(fill);
  key.set(SPKI_PREFIX);
  key.set([0x02, 0x03, 0x01, 0x00, 0x01], PUBKEY_BYTES - 5);
  return key;
}

/** Little-endian body writer for fixtures. */
export function le(...parts: (["u8" | "u16" | "u32" | "i32", number] | ["u64", bigint])[]) {
  const size = { u8: 1, u16: 2, u32: 4, i32: 4, u64: 8 };
  const out = new Uint8Array(parts.reduce((n, [k]) => n + size[k], 0));
  const dv = new DataView(out.buffer);
  let at = 0;
  for (const [k, v] of parts) {
    if (typeof v === "bigint") dv.setBigUint64(at, v, true);
    else if (k === "u8") dv.setUint8(at, v);
    else if (k === "u16") dv.setUint16(at, v, true);
    else if (k === "u32") dv.setUint32(at, v, true);
    else dv.setInt32(at, v, true);
    at += size[k];
  }
  return out;
}

/** What a framer should produce for one unit of a fixture stream. */
export interface ExpectedUnit {
  kind: SpiceUnitKind;
  length: number;
  type?: number;
  name?: string;
}

/** Both directions of one connection plus the units expected from each. */
export interface ConnectionFixture {
  client: Uint8Array;
  server: Uint8Array;
  clientUnits: ExpectedUnit[];
  serverUnits: ExpectedUnit[];
}

/** Options for the fixture builders. */
export interface FixtureOptions {
  /** Mini (6-byte) headers; false gives full (18-byte) headers with serials. @default true */
  miniHeader?: boolean;
  /** Zero bytes after PING id 3 (QEMU sends 256000). @default 1000 */
  pingPayload?: number;
}

/** Accumulates one direction's bytes and expectations. */
class Direction {
  parts: Uint8Array[] = [];
  units: ExpectedUnit[] = [];
  serial = 1n;
  constructor(readonly mini: boolean) {}
  raw(kind: SpiceUnitKind, bytes: Uint8Array): this {
    this.parts.push(bytes);
    this.units.push({ kind, length: bytes.length });
    return this;
  }
  msg(type: number, name: string, body: Uint8Array = new Uint8Array(0)): this {
    const bytes = buildMessage(type, body, { miniHeader: this.mini, serial: this.serial++ });
    this.parts.push(bytes);
    this.units.push({ kind: "message", length: bytes.length, type, name });
    return this;
  }
  bytes(): Uint8Array {
    return concatBytes(this.parts);
  }
}

const MINI_CAP = 0x08;

function linkPhase(
  c: Direction,
  s: Direction,
  channelType: number,
  connectionId: number,
  caps: { client: number; server: number },
): void {
  const common = 0x05 | (c.mini ? MINI_CAP : 0); // AUTH_SELECTION, AUTH_SASL (+ MINI_HEADER)
  c.raw(
    "link",
    buildLinkMessage({
      major: 2,
      minor: 2,
      connectionId,
      channelType,
      channelId: 0,
      commonCaps: [common],
      channelCaps: [caps.client],
    }),
  );
  const reply = buildLinkReply({
    major: 2,
    minor: 2,
    error: 0,
    pubKey: fakePubKey(),
    commonCaps: [0x0b],
    channelCaps: [caps.server],
  });
  s.raw("linkReply", reply);
  c.raw("authMechanism", buildU32(1));
  c.raw("ticket", new Uint8Array(TICKET_BYTES).fill(0x5a));
  s.raw("linkResult", buildU32(0));
}

/** The session id every fixture uses. */
export const FIXTURE_SESSION_ID = 0x1234abcd;

/**
 * The main channel of a spicy-screenshot session (docs/protocol.md "A spicy-screenshot
 * session", rows 1–13), plus a MSG_LIST with two sub-messages and a client DISCONNECTING.
 */
export function mainFixture(options: FixtureOptions = {}): ConnectionFixture {
  const mini = options.miniHeader ?? true;
  const c = new Direction(mini);
  const s = new Direction(mini);
  linkPhase(c, s, CHANNEL_TYPES.main, 0, { client: 0x0f, server: 0x0f });
  s.msg(
    103,
    "INIT",
    le(
      ["u32", FIXTURE_SESSION_ID],
      ["u32", 1],
      ["u32", 1],
      ["u32", 1],
      ["u32", 0],
      ["u32", 10],
      ["u32", 987654],
      ["u32", 50323456],
    ),
  );
  const name = new TextEncoder().encode("QEMU 7.2.22\0");
  s.msg(113, "NAME", concatBytes([le(["u32", name.length]), name]));
  s.msg(114, "UUID", new Uint8Array(16));
  s.msg(4, "PING", le(["u32", 1], ["u64", 1_700_000_000_000_001n]));
  s.msg(4, "PING", le(["u32", 2], ["u64", 1_700_000_000_000_002n]));
  c.msg(104, "ATTACH_CHANNELS");
  c.msg(3, "PONG", le(["u32", 1], ["u64", 1_700_000_000_000_001n]));
  c.msg(3, "PONG", le(["u32", 2], ["u64", 1_700_000_000_000_002n]));
  const payload = new Uint8Array(options.pingPayload ?? 1000);
  s.msg(4, "PING", concatBytes([le(["u32", 3], ["u64", 1_700_000_000_000_003n]), payload]));
  s.msg(
    104,
    "CHANNELS_LIST",
    le(["u32", 3], ["u8", 2], ["u8", 0], ["u8", 4], ["u8", 0], ["u8", 3], ["u8", 0]),
  );
  c.msg(3, "PONG", le(["u32", 3], ["u64", 1_700_000_000_000_003n]));
  s.msg(8, "LIST", subMessageList([[106, le(["u32", 4242])], [105, le(["u16", 3], ["u16", 1])]]));
  c.msg(6, "DISCONNECTING", le(["u64", 99n], ["u32", 0]));
  return { client: c.bytes(), server: s.bytes(), clientUnits: c.units, serverUnits: s.units };
}

/** `{u16 count; u32 offsets[count]}` followed by `{u16 type; u32 size; body}` sub-messages. */
export function subMessageList(subs: [number, Uint8Array][]): Uint8Array {
  const head = 2 + 4 * subs.length;
  const parts: Uint8Array[] = [];
  const offsets: number[] = [];
  let at = head;
  for (const [type, body] of subs) {
    offsets.push(at);
    parts.push(le(["u16", type], ["u32", body.length]), body);
    at += 6 + body.length;
  }
  return concatBytes([
    le(["u16", subs.length], ...offsets.map((o) => ["u32", o] as ["u32", number])),
    ...parts,
  ]);
}

/** A display channel as in rows 14–17 of that session: DISPLAY_INIT, SET_ACK … MARK, ACK_SYNC. */
export function displayFixture(options: FixtureOptions = {}): ConnectionFixture {
  const mini = options.miniHeader ?? true;
  const c = new Direction(mini);
  const s = new Direction(mini);
  linkPhase(c, s, CHANNEL_TYPES.display, FIXTURE_SESSION_ID, { client: 0x03bf, server: 0x1052 });
  c.msg(101, "INIT", le(["u8", 1], ["u64", 20971520n], ["u8", 1], ["i32", 6290432]));
  s.msg(3, "SET_ACK", le(["u32", 1], ["u32", 20]));
  s.msg(108, "INVAL_ALL_PALETTES");
  s.msg(314, "SURFACE_CREATE", le(["u32", 0], ["u32", 720], ["u32", 400], ["u32", 32], ["u32", 1]));
  s.msg(304, "DRAW_COPY", drawCopyBody());
  s.msg(
    317,
    "MONITORS_CONFIG",
    le(
      ["u16", 1],
      ["u16", 1],
      ...[0, 0, 720, 400, 0, 0, 0].map((v) => ["u32", v] as ["u32", number]),
    ),
  );
  s.msg(102, "MARK");
  c.msg(1, "ACK_SYNC", le(["u32", 1]));
  return { client: c.bytes(), server: s.bytes(), clientUnits: c.units, serverUnits: s.units };
}

/** DRAW_COPY of a 720×400 LZ_RGB image (image data is filler). */
export function drawCopyBody(): Uint8Array {
  const base = le(["u32", 0], ["i32", 0], ["i32", 0], ["i32", 400], ["i32", 720], ["u8", 0]);
  // src_bitmap ptr, src_area, rop_descriptor, scale_mode, mask {flags, pos.x, pos.y, bitmap ptr}
  const copyFixed = 4 + 16 + 2 + 1 + (1 + 4 + 4 + 4);
  const imageAt = base.length + copyFixed;
  const copy = concatBytes([
    le(["u32", imageAt], ["i32", 0], ["i32", 0], ["i32", 400], ["i32", 720]),
    le(["u16", 8], ["u8", 0], ["u8", 0], ["i32", 0], ["i32", 0], ["u32", 0]),
  ]);
  const image = le(["u64", 0x1122334455667788n], ["u8", 101], ["u8", 0], ["u32", 720], [
    "u32",
    400,
  ]);
  return concatBytes([base, copy, image, new Uint8Array(64).fill(7)]);
}

/** Offset of the link message body in a client stream (for error-offset assertions). */
export const LINK_BODY_AT = LINK_HEADER_BYTES;
