/**
 * A synthetic but well-formed SPICE session written through CaptureSession: main and display
 * channels with a complete link phase, then a display stream of any length. For tests and
 * benchmarks that need many packets without a live server.
 */
import type { Manifest } from "../lib/capture/manifest.ts";
import { CaptureSession, type CaptureSessionOptions } from "../lib/capture/session.ts";
import { buildLinkMessage, buildLinkReply, buildMessage, buildU32 } from "../lib/spice/link.ts";

/** Options of {@link writeSyntheticSession}. */
export interface SyntheticSessionOptions {
  /** Server → client display messages after the link phase. @default 100 */
  displayMessages?: number;
  /** Body bytes of each display message. @default 64 */
  bodyBytes?: number;
  /** Close the display connection half way and reconnect it. @default false */
  reconnectDisplay?: boolean;
  /** Put a pcapng comment on the main link packets. @default false */
  comments?: boolean;
  /** Extra CaptureSession options (format, clock, server port, …). */
  session?: CaptureSessionOptions;
}

const MAIN = 1;
const DISPLAY = 2;
const SESSION_ID = 0x1234_5678;
/** spice-gtk's caps: common AUTH_SELECTION | AUTH_SASL | MINI_HEADER (0x0D). */
const CLIENT_COMMON_CAPS = [0x0d];
const SERVER_COMMON_CAPS = [0x0b];
const ACK_WINDOW = 20;
/** Messages between yields to the event loop. */
const YIELD_EVERY = 256;

function u32s(...values: number[]): Uint8Array {
  const b = new Uint8Array(values.length * 4);
  const dv = new DataView(b.buffer);
  values.forEach((v, i) => dv.setUint32(i * 4, v >>> 0, true));
  return b;
}

/** Link phase of one connection, as (fromClient, bytes) units in wire order. */
function linkPhase(channelType: number, connectionId: number): [boolean, Uint8Array][] {
  const link = buildLinkMessage({
    major: 2,
    minor: 2,
    connectionId,
    channelType,
    channelId: 0,
    commonCaps: CLIENT_COMMON_CAPS,
    channelCaps: [channelType === MAIN ? 0x0f : 0x03bf],
  });
  const reply = buildLinkReply({
    major: 2,
    minor: 2,
    error: 0,
    pubKey: new Uint8Array(162),
    commonCaps: SERVER_COMMON_CAPS,
    channelCaps: [channelType === MAIN ? 0x0f : 0x1052],
  });
  return [
    [true, link],
    [false, reply],
    [true, buildU32(1)], // auth mechanism: SPICE ticket
    [true, new Uint8Array(128)], // ticket
    [false, buildU32(0)], // link result OK
  ];
}

/**
 * Writes a synthetic session into a new directory.
 *
 * @param dir session directory to create
 * @param options sizes, reconnection, CaptureSession options
 * @returns the manifest written
 */
export async function writeSyntheticSession(
  dir: string,
  options: SyntheticSessionOptions = {},
): Promise<Manifest> {
  const session = await CaptureSession.create(dir, { flushIntervalMs: 0, ...options.session });
  const count = options.displayMessages ?? 100;
  const body = new Uint8Array(options.bodyBytes ?? 64).fill(0);
  const main = session.openConnection(MAIN, 0)!;
  for (const [fromClient, bytes] of linkPhase(MAIN, 0)) {
    const comment = options.comments ? `main link ${fromClient ? "client" : "server"}` : undefined;
    if (fromClient) main.sent(bytes, comment);
    else main.received(bytes, comment);
  }
  main.received(buildMessage(103, u32s(SESSION_ID, 1, 1, 1, 0, 10, 397474, 50323456))); // INIT
  main.received(buildMessage(4, u32s(1, 397874710, 0))); // PING id 1
  main.sent(buildMessage(104, new Uint8Array(0))); // ATTACH_CHANNELS
  main.sent(buildMessage(3, u32s(1, 397874710, 0))); // PONG id 1
  main.received(buildMessage(104, new Uint8Array([1, 0, 0, 0, DISPLAY, 0]))); // CHANNELS_LIST
  const connections = options.reconnectDisplay ? 2 : 1;
  let sent = 0;
  for (let c = 0; c < connections; c++) {
    const display = session.openConnection(DISPLAY, 0)!;
    for (const [fromClient, bytes] of linkPhase(DISPLAY, SESSION_ID)) {
      if (fromClient) display.sent(bytes);
      else display.received(bytes);
    }
    display.sent(buildMessage(101, new Uint8Array(14))); // DISPLAY_INIT
    display.received(buildMessage(3, u32s(1, ACK_WINDOW))); // SET_ACK
    display.sent(buildMessage(1, u32s(1))); // ACK_SYNC
    const share = c === connections - 1 ? count - sent : Math.floor(count / connections);
    for (let i = 0; i < share; i++) {
      display.received(buildMessage(304, body)); // DRAW_COPY
      if ((i + 1) % ACK_WINDOW === 0) display.sent(buildMessage(2, new Uint8Array(0))); // ACK
      // Let the session's file writes complete, as socket reads would in a live capture.
      if (i % YIELD_EVERY === YIELD_EVERY - 1) await new Promise((r) => setTimeout(r, 0));
    }
    sent += share;
    display.close();
  }
  return await session.close();
}
