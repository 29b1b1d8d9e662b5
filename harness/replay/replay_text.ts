/** How a replay names its connections and prints its units (`--verbose`). */
import { unitName } from "../../lib/session/message_text.ts";
import { decodeMessage, summarizeFields } from "../../lib/spice/messages.ts";
import { channelName } from "../../lib/spice/tables.ts";
import type { SpiceUnit } from "../../lib/spice/types.ts";

/** `display`, `display-1`: a connection's channel as the replay names it. */
export function connLabel(c: { channelType: number; channelId: number }): string {
  return c.channelId === 0
    ? channelName(c.channelType)
    : `${channelName(c.channelType)}-${c.channelId}`;
}

/**
 * One line per unit, as `inspect --messages` prints it: time, channel, direction (→ client to
 * server, ← server to client), `#N` index, the name as inspect spells it (`LINK_REPLY`), the
 * size on the wire with the header, the fields.
 */
export function verboseLine(
  u: SpiceUnit,
  at: { relNs: bigint; label: string; channelType: number },
): string {
  const { relNs, label, channelType } = at;
  const t = (Number(relNs) / 1e9).toFixed(6);
  const dir = u.fromClient ? "→" : "←";
  if (u.kind !== "message") return `${t} ${label} ${dir} ${unitName(u)} ${u.bytes.length}\n`;
  const body = u.bytes.subarray(u.headerSize);
  const fields = decodeMessage(channelType, { fromClient: u.fromClient, type: u.type, body });
  const summary = fields ? ` ${summarizeFields(fields)}` : "";
  return `${t} ${label} ${dir} #${u.index} ${u.name} ${u.bytes.length}${summary}\n`;
}
