/** Channel file names and synthetic addressing (contract: docs/architecture.md "Addressing"). */
import type { CaptureFormat } from "../pcap/types.ts";
import { channelName } from "../spice/tables.ts";

/** Synthetic client address, 10.0.0.1. */
export const CLIENT_IP = 0x0a000001;
/** Synthetic server address, 10.0.0.2. */
export const SERVER_IP = 0x0a000002;
/** Synthetic MACs: 02:00:00:00:00:01 (client) and 02:00:00:00:00:02 (server). */
export { CLIENT_MAC, SERVER_MAC } from "../net/frame.ts";
/** Default synthetic server port: outside Wireshark's VNC ports, so its SPICE heuristic fires. */
export const DEFAULT_SERVER_PORT = 5930;
/** Client ports of first connections: 10000 + channel type (+ 16 × channel id). */
export const CLIENT_PORT_BASE = 10000;
/** Client ports of reconnections are handed out from here, in the order they open. */
export const RECONNECT_PORT_BASE = 20000;
const CHANNEL_ID_STRIDE = 16;

/**
 * File name of a channel's capture: `main.pcap`, `display.pcap`, `display-1.pcap`, …
 *
 * @param channel SPICE channel type number and id
 * @param format capture format, which decides the extension
 * @returns the file name (no directory)
 */
export function channelFileName(
  channel: { type: number; id: number },
  format: CaptureFormat,
): string {
  const { type, id } = channel;
  const base = id === 0 ? channelName(type) : `${channelName(type)}-${id}`;
  return `${base}.${format}`;
}

/**
 * Client port of a channel's first connection: 10000 + type for id 0 (main 10001, display
 * 10002, …, webdav 10011), 10000 + 16 × id + type for other ids (display 1 → 10018).
 *
 * @param channelType SPICE channel type number (1–15)
 * @param channelId SPICE channel id (0–255)
 */
export function firstClientPort(channelType: number, channelId: number): number {
  return CLIENT_PORT_BASE + CHANNEL_ID_STRIDE * channelId + channelType;
}
