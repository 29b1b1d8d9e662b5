import assert from "node:assert/strict";
import { NONDETERMINISTIC_FIELDS } from "../spice/messages.ts";
import { BindingMap, compareUnits } from "./compare.ts";
import { createNormalise } from "./normalise.ts";
import { UnknownNormaliserError } from "./normalise_plan.ts";
import { NORMALISERS, selectorMatches } from "./normalisers.ts";
import { clientLink, linkUnit, mainInit, message, u32le } from "../../testing/diff_units.ts";
import type { DiffInput, NormalisedUnit } from "./types.ts";

function cmp(a: DiffInput, g: DiffInput, options = {}, bindings = new BindingMap()) {
  const n = createNormalise(options);
  const na = n(a) as NormalisedUnit;
  const ng = n(g) as NormalisedUnit;
  assert.ok(na && ng, "both units kept");
  return compareUnits(na, ng, { bindings });
}

Deno.test("MAIN_INIT differing only in session id and mm_time compares equal", () => {
  assert.equal(cmp(mainInit(0x11111111, 1000), mainInit(0x22222222, 5000)), undefined);
});

Deno.test("MAIN_INIT with another ram hint differs at offset 28 in field ramHint", () => {
  const d = cmp(mainInit(1, 1000, 1), mainInit(1, 1000, 2));
  assert.equal(d?.kind, "bytes");
  assert.equal(d?.offset, 28);
  assert.equal(d?.field, "ramHint");
});

Deno.test("--keep mm-time makes a different mm_time a difference", () => {
  const d = cmp(mainInit(1, 1000), mainInit(1, 5000), { keep: ["mm-time"] });
  assert.equal(d?.offset, 24);
  assert.equal(d?.field, "multiMediaTime");
});

Deno.test("--keep session-id compares the session id bytes", () => {
  const d = cmp(mainInit(1, 0), mainInit(2, 0), { keep: ["session-id"] });
  assert.equal(d?.offset, 0);
  assert.equal(d?.field, "sessionId");
});

Deno.test("session ids map one-to-one across channels: the display link must carry main's id", () => {
  const b = new BindingMap();
  assert.equal(cmp(mainInit(0xaaaa, 0), mainInit(0xbbbb, 0), {}, b), undefined);
  assert.equal(cmp(clientLink(2, 0xaaaa), clientLink(2, 0xbbbb), {}, b), undefined);
  const d = cmp(clientLink(4, 0xcccc), clientLink(4, 0xbbbb), {}, b);
  assert.equal(d?.kind, "binding");
  assert.equal(d?.field, "connectionId");
  assert.match(d!.detail, /0x0000bbbb was mapped from 0x0000aaaa/);
});

Deno.test("the link reply's public key and the ticket are masked", () => {
  const reply = (fill: number) => {
    const b = new Uint8Array(202).fill(7);
    b.set([0x52, 0x45, 0x44, 0x51, ...u32le(2, 2, 186, 0)], 0);
    b.fill(fill, 20, 182);
    return linkUnit(1, "linkReply", b);
  };
  assert.equal(cmp(reply(1), reply(2)), undefined);
  assert.equal(
    cmp(
      linkUnit(1, "ticket", new Uint8Array(128).fill(1)),
      linkUnit(1, "ticket", new Uint8Array(128)),
    ),
    undefined,
  );
  const d = cmp(reply(1), reply(2), { keep: ["pubkey"] });
  assert.equal(d?.offset, 20);
  assert.equal(d?.field, "pubKey");
});

Deno.test("PING, PONG, ACK_SYNC and ACK are dropped by default and kept on request", () => {
  const n = createNormalise();
  assert.equal(n(message(2, false, 4, u32le(1, 2, 3))), undefined, "PING");
  assert.equal(n(message(2, true, 3, u32le(1, 2, 3))), undefined, "PONG");
  assert.equal(n(message(2, true, 1, u32le(1))), undefined, "ACK_SYNC");
  assert.equal(n(message(2, true, 2, [])), undefined, "ACK");
  assert.ok(n(message(2, false, 3, u32le(1, 20))), "SET_ACK is compared");
  const keep = createNormalise({ keep: ["ping", "ack"] });
  assert.ok(keep(message(2, false, 4, u32le(1, 2, 3))));
  assert.ok(keep(message(2, true, 2, [])));
});

Deno.test("--ignore-type drops a message type by name, with or without the channel prefix", () => {
  const n = createNormalise({ ignoreTypes: ["MAIN_NAME", "uuid"] });
  assert.equal(n(message(1, false, 113, u32le(0))), undefined);
  assert.equal(n(message(1, false, 114, new Array(16).fill(0))), undefined);
  assert.ok(n(message(1, false, 104, u32le(0))));
});

Deno.test("NOTIFY timestamps are masked but the text is compared", () => {
  const notify = (ts: number, text: number) =>
    message(1, false, 7, [...u32le(ts, 0, 1, 2, 0, 1), text, 0]);
  assert.equal(cmp(notify(1, 65), notify(2, 65)), undefined);
  assert.equal(cmp(notify(1, 65), notify(1, 66))?.offset, 24);
});

Deno.test("full-header serials are ignored unless --keep serial", () => {
  const a = message(3, true, 101, u32le(30), { serial: 5n });
  const g = message(3, true, 101, u32le(30), { serial: 7n });
  assert.equal(cmp(a, g), undefined);
  assert.equal(cmp(a, g, { keep: ["serial"] })?.kind, "serial");
});

Deno.test("draw-images (off by default) ignores DRAW_* bytes after the box", () => {
  const draw = (img: number, top = 0) =>
    message(2, false, 304, [...u32le(0, top, 0, 400, 720), 0, img]);
  assert.equal(cmp(draw(1), draw(2))?.field, "drawData");
  assert.equal(cmp(draw(1), draw(2), { enable: ["draw-images"] }), undefined);
  assert.equal(cmp(draw(1, 1), draw(1, 2), { enable: ["draw-images"] })?.field, "box.top");
});

Deno.test("an unknown normaliser name is rejected with the list of known names", () => {
  assert.throws(() => createNormalise({ keep: ["nope"] }), (e: unknown) => {
    assert.ok(e instanceof UnknownNormaliserError);
    assert.match(e.message, /unknown normaliser 'nope'; known: session-id, pubkey/);
    return true;
  });
});

Deno.test("a length difference reports the lengths and the first offset past the common part", () => {
  const d = cmp(message(1, false, 104, u32le(1, 2)), message(1, false, 104, u32le(1)));
  assert.equal(d?.kind, "length");
  assert.equal(d?.offset, 4);
  assert.equal(d?.detail, "length 8, expected 4");
});

Deno.test("every nondeterministic field of lib/spice is covered by a default normaliser", () => {
  for (const f of NONDETERMINISTIC_FIELDS) {
    const channels = f.channel === "common" ? [1, 2, 3, 4, 5, 6, 9] : [f.channel];
    for (const ch of channels) {
      const unit = {
        channelType: ch,
        fromClient: f.fromClient,
        kind: "message",
        type: f.type,
      } as const;
      const covered = NORMALISERS.filter((n) => n.defaultOn).some((n) =>
        n.drop?.some((s) => selectorMatches(s, unit)) ||
        [...(n.mask ?? []), ...(n.bind ?? [])].some((r) =>
          selectorMatches(r, unit) && r.start <= f.byteRange[0] &&
          (r.end === undefined || r.end >= f.byteRange[1])
        )
      );
      assert.ok(covered, `${f.field} of type ${f.type} on channel ${ch} is not normalised`);
    }
  }
});
