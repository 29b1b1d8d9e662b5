/**
 * lib/spice against a real QEMU SPICE server on loopback: link main, authenticate with a fresh
 * ticket, read MAIN_INIT; a wrong password gets link result PERMISSION_DENIED.
 */
import assert from "node:assert/strict";
import { startQemu } from "../harness/processes/qemu.ts";
import { missingTools } from "../harness/processes/tools.ts";
import {
  AUTH_MECHANISM_SPICE,
  buildLinkMessage,
  buildU32,
  capWords,
  COMMON_CAP,
  decodeMessage,
  linkErrorName,
  makeTicket,
  messageBody,
  SpiceConnectionFramer,
  type SpiceUnit,
} from "../lib/spice/mod.ts";

const PASSWORD = "s3cret-pw";
const READ_TIMEOUT_MS = 10_000;
const skip = missingTools("qemu-system-x86_64");

/** Reads server bytes into the framer until `done` holds; fails naming what never arrived. */
async function readUntil(
  conn: Deno.Conn,
  framer: SpiceConnectionFramer,
  units: SpiceUnit[],
  done: () => boolean,
  what: string,
): Promise<void> {
  const buf = new Uint8Array(65536);
  const deadline = performance.now() + READ_TIMEOUT_MS;
  while (!done()) {
    const left = deadline - performance.now();
    if (left <= 0) throw new Error(`timed out after ${READ_TIMEOUT_MS} ms waiting for ${what}`);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const n = await Promise.race([
      conn.read(buf),
      new Promise<"timeout">((r) => timer = setTimeout(() => r("timeout"), left)),
    ]);
    clearTimeout(timer);
    if (n === "timeout") continue;
    if (n === null) throw new Error(`server closed the connection before ${what}`);
    units.push(...framer.pushServer(buf.slice(0, n)));
  }
}

/** Links a main channel as spice-gtk does (auth selection, mini header unless `full`). */
async function linkMain(port: number, password: string, full = false) {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const framer = new SpiceConnectionFramer();
  const units: SpiceUnit[] = [];
  try {
    const link = buildLinkMessage({
      major: 2,
      minor: 2,
      connectionId: 0,
      channelType: 1,
      channelId: 0,
      commonCaps: capWords(
        full ? [COMMON_CAP.AUTH_SELECTION] : [COMMON_CAP.AUTH_SELECTION, COMMON_CAP.MINI_HEADER],
      ),
      channelCaps: [0x0f],
    });
    assert.equal(framer.pushClient(link).length, 1);
    await conn.write(link);
    await readUntil(conn, framer, units, () => framer.reply !== undefined, "the link reply");
    assert.equal(framer.reply!.error, 0, "link reply error");
    const mechanism = buildU32(AUTH_MECHANISM_SPICE);
    const ticket = await makeTicket(framer.reply!.pubKey, password);
    assert.deepEqual(
      [...framer.pushClient(mechanism), ...framer.pushClient(ticket)].map((u) => u.kind),
      ["authMechanism", "ticket"],
    );
    await conn.write(mechanism);
    await conn.write(ticket);
    await readUntil(conn, framer, units, () => framer.linkResult !== undefined, "the link result");
    if (framer.linkResult === 0) {
      await readUntil(
        conn,
        framer,
        units,
        () => units.some((u) => u.kind === "message" && u.name === "INIT"),
        "MAIN_INIT",
      );
    }
    return { framer, units };
  } finally {
    conn.close();
  }
}

Deno.test({
  name: "a fresh ticket links main on a real QEMU and MAIN_INIT carries a session id",
  ignore: skip !== undefined,
  fn: async () => {
    const qemu = await startQemu({ password: PASSWORD });
    try {
      const { framer, units } = await linkMain(qemu.port, PASSWORD);
      assert.equal(framer.linkResult, 0);
      assert.equal(framer.miniHeader, true);
      assert.equal(framer.reply!.pubKey.length, 162);
      assert.deepEqual(
        Array.from(framer.reply!.pubKey.subarray(0, 4)),
        [0x30, 0x81, 0x9f, 0x30],
      );
      assert.deepEqual(units.slice(0, 2).map((u) => u.kind), ["linkReply", "linkResult"]);
      const init = units.filter((u) => u.kind === "message").find((u) => u.name === "INIT")!;
      assert.equal(init.headerSize, 6);
      const fields = decodeMessage(1, {
        fromClient: false,
        type: init.type,
        body: messageBody(init),
      })!;
      assert.notEqual(fields.sessionId, 0);
      assert.equal(fields.agentTokens, 10);
      assert.equal(fields.truncated, undefined);
    } finally {
      await qemu.stop();
    }
  },
});

Deno.test({
  name: "a wrong password gets link result 7 (PERMISSION_DENIED) from a real QEMU",
  ignore: skip !== undefined,
  fn: async () => {
    const qemu = await startQemu({ password: PASSWORD });
    try {
      const { framer, units } = await linkMain(qemu.port, "wrong");
      assert.equal(framer.linkResult, 7);
      assert.equal(linkErrorName(framer.linkResult!), "PERMISSION_DENIED");
      assert.equal(units.filter((u) => u.kind === "message").length, 0);
    } finally {
      await qemu.stop();
    }
  },
});

Deno.test({
  name: "without MINI_HEADER a real QEMU sends full headers with serials from 1",
  ignore: skip !== undefined,
  fn: async () => {
    const qemu = await startQemu({ password: PASSWORD });
    try {
      const { framer, units } = await linkMain(qemu.port, PASSWORD, true);
      assert.equal(framer.miniHeader, false);
      const messages = units.filter((u) => u.kind === "message");
      assert.equal(messages[0].name, "INIT");
      assert.equal(messages[0].headerSize, 18);
      assert.deepEqual(messages.map((u) => u.serial), messages.map((_, i) => BigInt(i + 1)));
      const fields = decodeMessage(1, {
        fromClient: false,
        type: messages[0].type,
        body: messageBody(messages[0]),
      })!;
      assert.notEqual(fields.sessionId, 0);
    } finally {
      await qemu.stop();
    }
  },
});
