/**
 * The addressing of our own captures (docs/architecture.md "Addressing"): every connection
 * starts with the client's SYN, from the synthetic client address and a port at or above the
 * first one, to the synthetic server address and port.
 */
import { TCP_FLAGS } from "../net/types.ts";
import type { CaptureRecord } from "../pcap/types.ts";
import type { PushResult } from "../session/types.ts";
import { channelName } from "../spice/tables.ts";
import type { Finding } from "./findings.ts";

/** Synthetic client address of our own captures (docs/architecture.md "Addressing"). */
export const OUR_CLIENT_IP = "10.0.0.1";
/** Synthetic server address of our own captures. */
export const OUR_SERVER_IP = "10.0.0.2";
/** Lowest synthetic client port. */
export const OUR_MIN_CLIENT_PORT = 10000;
/** Default synthetic server port. */
export const OUR_DEFAULT_SERVER_PORT = 5930;

/**
 * The finding when the first segment of one of our connections is not the client's SYN.
 *
 * @param result the reader's result for the segment (a TCP connection and side)
 * @param packetNumber the segment's packet number
 */
export function ourHandshakeProblem(
  result: PushResult,
  packetNumber: number,
): Omit<Finding, "file"> | undefined {
  const conn = result.connection!;
  const flags = result.decoded.tcp!.flags;
  const pureSyn = (flags & (TCP_FLAGS.SYN | TCP_FLAGS.ACK)) === TCP_FLAGS.SYN;
  const client = conn.endpoints[0].startsWith(`${OUR_CLIENT_IP}:`);
  if (pureSyn && client) return undefined;
  return {
    severity: "error",
    code: "handshake",
    packetNumber,
    flow: `${conn.endpoints[0]} → ${conn.endpoints[1]}`,
    message: "a connection of our capture must start with the client's SYN",
    expected: `SYN from ${OUR_CLIENT_IP}`,
    actual: `flags 0x${flags.toString(16)} from ${conn.endpoints[0]}`,
  };
}

/**
 * The finding when a segment of one of our captures is not between the synthetic client and
 * server endpoints, its pcapng direction flag disagrees, or the link came from the server end.
 *
 * @param result the reader's result for the segment (a TCP connection and side)
 * @param at the record and the session's synthetic server port
 */
export function ourAddressingProblem(
  result: PushResult,
  at: { record: CaptureRecord; serverPort: number },
): Omit<Finding, "file"> | undefined {
  const { record, serverPort } = at;
  const conn = result.connection!;
  const side = result.side!;
  const info = conn.info;
  const fromOurClient = result.decoded.srcIp === OUR_CLIENT_IP;
  const src = conn.endpoints[side];
  const dst = conn.endpoints[1 - side];
  const clientEnd = fromOurClient ? src : dst;
  const serverEnd = fromOurClient ? dst : src;
  const clientPort = Number(clientEnd.slice(clientEnd.lastIndexOf(":") + 1));
  const okClient = clientEnd.startsWith(`${OUR_CLIENT_IP}:`) && clientPort >= OUR_MIN_CLIENT_PORT;
  const okServer = serverEnd === `${OUR_SERVER_IP}:${serverPort}`;
  const flagOk = record.direction === undefined ||
    (record.direction === "outbound") === fromOurClient;
  const linkOk = conn.clientSide === undefined ||
    conn.endpoints[conn.clientSide].startsWith(`${OUR_CLIENT_IP}:`);
  if (okClient && okServer && flagOk && linkOk) return undefined;
  const problems = [
    okClient ? "" : `client endpoint ${clientEnd}`,
    okServer ? "" : `server endpoint ${serverEnd}`,
    flagOk ? "" : `pcapng direction flag "${record.direction}" on a packet from ${src}`,
    linkOk ? "" : `link message sent by ${conn.endpoints[conn.clientSide!]}`,
  ].filter((s) => s);
  return {
    severity: "error",
    code: "direction",
    packetNumber: record.packetNumber,
    flow: `${src} → ${dst}`,
    channel: info.channelType !== undefined ? channelName(info.channelType) : undefined,
    message: `not our client/server addressing: ${problems.join("; ")}`,
    expected: `client ${OUR_CLIENT_IP}:≥${OUR_MIN_CLIENT_PORT} (outbound), server ` +
      `${OUR_SERVER_IP}:${serverPort} (inbound)`,
    actual: `${src} → ${dst}${record.direction ? ` (${record.direction})` : ""}`,
  };
}
