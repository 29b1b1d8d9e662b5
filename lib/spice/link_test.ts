import assert from "node:assert/strict";
import { fakePubKey } from "../../testing/spice_fixtures.ts";
import {
  buildLinkMessage,
  buildLinkReply,
  buildMessage,
  capWords,
  COMMON_CAP,
  FULL_HEADER_BYTES,
  hasCap,
  LINK_HEADER_BYTES,
  type LinkMessage,
  MINI_HEADER_BYTES,
  parseLinkMessage,
  parseLinkReply,
  parseMessageHeader,
  setConnectionId,
} from "./link.ts";
import { SpiceFramingError } from "./types.ts";

/**
 * spicy-screenshot's main link message (docs/protocol.md "A spicy-screenshot session", row 1),
 * field by field.
 */
const SPICY_MAIN_LINK = new Uint8Array([
  0x52,
  0x45,
  0x44,
  0x51, // magic "REDQ"
  0x02,
  0x00,
  0x00,
  0x00, // major 2
  0x02,
  0x00,
  0x00,
  0x00, // minor 2
  0x1a,
  0x00,
  0x00,
  0x00, // size 26
  0x00,
  0x00,
  0x00,
  0x00, // connection_id 0
  0x01, // channel_type main
  0x00, // channel_id 0
  0x01,
  0x00,
  0x00,
  0x00, // num_common_caps 1
  0x01,
  0x00,
  0x00,
  0x00, // num_channel_caps 1
  0x12,
  0x00,
  0x00,
  0x00, // caps_offset 18
  0x0d,
  0x00,
  0x00,
  0x00, // common caps: AUTH_SELECTION, AUTH_SASL, MINI_HEADER
  0x0f,
  0x00,
  0x00,
  0x00, // main caps
]);

const MAIN_LINK: LinkMessage = {
  major: 2,
  minor: 2,
  connectionId: 0,
  channelType: 1,
  channelId: 0,
  commonCaps: [0x0d],
  channelCaps: [0x0f],
};

Deno.test("parseLinkMessage() reads spicy-screenshot's 42-byte main link", () => {
  assert.equal(SPICY_MAIN_LINK.length, 42);
  assert.deepEqual(parseLinkMessage(SPICY_MAIN_LINK), MAIN_LINK);
});

Deno.test("buildLinkMessage() writes the same bytes spice-gtk sends", () => {
  assert.deepEqual(buildLinkMessage(MAIN_LINK), SPICY_MAIN_LINK);
  const cursor = { ...MAIN_LINK, channelType: 4, connectionId: 0xdeadbeef, channelCaps: [] };
  const bytes = buildLinkMessage(cursor);
  assert.equal(bytes.length, 38);
  assert.deepEqual(parseLinkMessage(bytes), cursor);
});

Deno.test("parseLinkMessage() honours a caps_offset other than 18", () => {
  const bytes = new Uint8Array(46);
  bytes.set(SPICY_MAIN_LINK.subarray(0, 34));
  new DataView(bytes.buffer).setUint32(12, 30, true); // size 30
  new DataView(bytes.buffer).setUint32(30, 22, true); // caps_offset 22
  bytes.set([0x09, 0, 0, 0, 0x02, 0, 0, 0], 38);
  const m = parseLinkMessage(bytes);
  assert.deepEqual([m.commonCaps, m.channelCaps], [[0x09], [0x02]]);
});

Deno.test("parseLinkMessage() reports bad magic, short size and caps outside the body", () => {
  const bad = SPICY_MAIN_LINK.slice();
  bad[0] = 0x47;
  assert.throws(() => parseLinkMessage(bad), (e: unknown) => {
    assert.ok(e instanceof SpiceFramingError);
    assert.equal(e.offset, 0);
    assert.match(e.message, /REDQ/);
    return true;
  });
  const small = SPICY_MAIN_LINK.slice();
  small[12] = 10;
  assert.throws(() => parseLinkMessage(small), /size ≥ 18, found 10/);
  const caps = SPICY_MAIN_LINK.slice();
  caps[22] = 5; // 5 common caps words do not fit
  assert.throws(() => parseLinkMessage(caps), (e: unknown) => {
    assert.ok(e instanceof SpiceFramingError);
    assert.equal(e.offset, LINK_HEADER_BYTES + 18);
    return true;
  });
  assert.throws(() => parseLinkMessage(SPICY_MAIN_LINK.subarray(0, 30)), /need 42 bytes, found 30/);
});

Deno.test("link reply round-trips and has QEMU's 194 + 8 byte shape", () => {
  const reply = {
    major: 2,
    minor: 2,
    error: 0,
    pubKey: fakePubKey(),
    commonCaps: [0x0b],
    channelCaps: [0x0f],
  };
  const bytes = buildLinkReply(reply);
  assert.equal(bytes.length, 202);
  assert.equal(new DataView(bytes.buffer).getUint32(12, true), 186);
  assert.deepEqual(bytes.subarray(20, 49), fakePubKey().subarray(0, 29));
  assert.deepEqual(parseLinkReply(bytes), reply);
});

Deno.test("an error link reply has no caps and parses", () => {
  const bytes = buildLinkReply({
    major: 2,
    minor: 2,
    error: 2,
    pubKey: new Uint8Array(162),
    commonCaps: [],
    channelCaps: [],
  });
  assert.equal(bytes.length, 194);
  const r = parseLinkReply(bytes);
  assert.equal(r.error, 2);
  assert.deepEqual([r.commonCaps, r.channelCaps], [[], []]);
});

Deno.test("hasCap() and capWords() agree on bit positions across words", () => {
  assert.ok(hasCap([0x0d], COMMON_CAP.MINI_HEADER));
  assert.ok(hasCap([0x0d], COMMON_CAP.AUTH_SELECTION));
  assert.ok(!hasCap([0x0d], COMMON_CAP.AUTH_SPICE));
  assert.ok(!hasCap([], 0));
  assert.ok(!hasCap([0xffffffff], 32));
  assert.deepEqual(capWords([0, 2, 3]), [0x0d]);
  assert.deepEqual(capWords([31, 33]), [0x80000000, 0x2]);
  assert.ok(hasCap(capWords([31, 33]), 31) && hasCap(capWords([31, 33]), 33));
});

Deno.test("setConnectionId() copies the link with only connection_id changed", () => {
  const out = setConnectionId(SPICY_MAIN_LINK, 0x1234abcd);
  assert.notEqual(out.buffer, SPICY_MAIN_LINK.buffer);
  assert.equal(parseLinkMessage(out).connectionId, 0x1234abcd);
  assert.deepEqual(out.subarray(20), SPICY_MAIN_LINK.subarray(20));
  assert.deepEqual(out.subarray(0, 16), SPICY_MAIN_LINK.subarray(0, 16));
  assert.equal(parseLinkMessage(SPICY_MAIN_LINK).connectionId, 0);
  assert.throws(() => setConnectionId(new Uint8Array(20), 1), SpiceFramingError);
});

Deno.test("buildMessage() and parseMessageHeader() round-trip both header formats", () => {
  const body = new Uint8Array([1, 2, 3]);
  const mini = buildMessage(104, body);
  assert.deepEqual(mini, new Uint8Array([104, 0, 3, 0, 0, 0, 1, 2, 3]));
  assert.deepEqual(parseMessageHeader(mini, true), { type: 104, size: 3 });
  const full = buildMessage(304, body, { miniHeader: false, serial: 7n, subList: 0 });
  assert.equal(full.length, FULL_HEADER_BYTES + 3);
  assert.deepEqual(parseMessageHeader(full, false), { serial: 7n, type: 304, size: 3, subList: 0 });
  const both = new Uint8Array([0xff, ...mini]);
  assert.deepEqual(parseMessageHeader(both, true, 1), { type: 104, size: 3 });
  assert.equal(MINI_HEADER_BYTES, 6);
});
