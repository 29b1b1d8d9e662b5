/**
 * Unpacking a message's sub-message list (a full header's sub_list, or the body of a LIST)
 * into sub-messages (private to lib/spice).
 */
import { u16le, u32le } from "../bytes.ts";
import { messageName } from "./tables.ts";
import { SpiceFramingError, type SpiceMessage, type SpiceSubMessage } from "./types.ts";

const SUB_LIST_COUNT_BYTES = 2;
const SUB_LIST_ENTRY_BYTES = 4;
/** Sub-message header: u16 type, u32 size. */
const SUB_HEADER_BYTES = 6;
const SUB_SIZE_FIELD = 2;

/**
 * Unpacks `{u16 count; u32 offsets[count]}` at `listAt` of a message's body; each offset, from
 * the body start, points at a `{u16 type; u32 size}` header and its body.
 *
 * @param unit the message
 * @param where the channel (for names) and the list's offset in the body
 * @returns the sub-messages, bodies as views into the message
 * @throws {SpiceFramingError} a count, offset or size outside the body, at its stream offset
 */
export function unpackSubMessages(
  unit: SpiceMessage,
  where: { channel: number; listAt: number },
): SpiceSubMessage[] {
  const { channel, listAt } = where;
  const body = unit.bytes.subarray(unit.headerSize);
  const bodyAt = unit.offset + unit.headerSize;
  const bad = (at: number, what: string): never => {
    throw new SpiceFramingError(what, { offset: bodyAt + at, fromClient: unit.fromClient });
  };
  if (listAt + SUB_LIST_COUNT_BYTES > body.length) {
    bad(listAt, `sub-message list inside the ${body.length}-byte body`);
  }
  const count = u16le(body, listAt);
  const entries = listAt + SUB_LIST_COUNT_BYTES;
  if (entries + count * SUB_LIST_ENTRY_BYTES > body.length) {
    bad(listAt, `${count} sub-message offsets inside the ${body.length}-byte body`);
  }
  const subs: SpiceSubMessage[] = [];
  for (let k = 0; k < count; k++) {
    const at = u32le(body, entries + k * SUB_LIST_ENTRY_BYTES);
    if (at + SUB_HEADER_BYTES > body.length) bad(at, `sub-message ${k} header inside the body`);
    const type = u16le(body, at);
    const size = u32le(body, at + SUB_SIZE_FIELD);
    const start = at + SUB_HEADER_BYTES;
    if (start + size > body.length) {
      bad(at, `sub-message ${k} body of ${size} bytes inside the body`);
    }
    subs.push({
      type,
      name: messageName(channel, { fromClient: unit.fromClient, type }),
      body: body.subarray(start, start + size),
    });
  }
  return subs;
}
