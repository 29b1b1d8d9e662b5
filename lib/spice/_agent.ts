/**
 * The VD agent message inside a main-channel AGENT_DATA body (private to lib/spice): its header
 * (protocol, type, opaque, size) and the main fields of each type, names from value_names.ts.
 * A VD agent message longer than one AGENT_DATA continues in the next ones; a body that does not
 * start with a VD agent header is such a continuation and is not decoded.
 *
 * The clipboard messages start with a 4-byte selection when both agents announced
 * CLIPBOARD_SELECTION; a decoder sees one message, so it takes the selection to be there when
 * the length says so (REQUEST of 8 bytes, RELEASE of 4) or the first word is a selection and the
 * second a clipboard type.
 */
import {
  type BodyReader,
  type Decoder,
  type MessageFields,
  ShortBody,
  text,
} from "./_body_reader.ts";
import {
  maskNames,
  valueName,
  VD_AGENT_BUTTON_BITS,
  VD_AGENT_CAPS,
  VD_AGENT_CLIPBOARD_TYPES,
  VD_AGENT_DISPLAY_FLAGS,
  VD_AGENT_MESSAGES,
  VD_AGENT_MONITORS_FLAGS,
  VD_AGENT_PROTOCOL,
  VD_AGENT_REPLY_ERRORS,
  VD_AGENT_SELECTIONS,
  VD_AGENT_XFER_STATUS,
} from "./value_names.ts";

/** Bytes of a VDAgentMessage header. */
const HEADER_BYTES = 20;

function capList(words: number[]): string[] {
  const out: string[] = [];
  words.forEach((word, w) => {
    for (let bit = 0; bit < 32; bit++) {
      if ((word >>> bit) & 1) out.push(valueName(VD_AGENT_CAPS, w * 32 + bit));
    }
  });
  return out;
}

/** Reads the selection prefix of a clipboard message when it is there (see the module doc). */
function selection(r: BodyReader, out: MessageFields, type: string): void {
  const b = r.body;
  const at = r.pos;
  const len = r.left;
  const word = (i: number) => b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24);
  const present = type === "CLIPBOARD_REQUEST"
    ? len === 8
    : type === "CLIPBOARD_RELEASE"
    ? len === 4
    : len >= 8 && word(at) <= 2 && word(at + 4) >= 1 && VD_AGENT_CLIPBOARD_TYPES.has(word(at + 4));
  if (!present) return;
  out.selection = r.u8();
  out.selectionName = valueName(VD_AGENT_SELECTIONS, out.selection as number);
  r.bytes(3);
}

function clipboardType(r: BodyReader, out: MessageFields): void {
  out.clipboardType = r.u32();
  out.clipboardTypeName = valueName(VD_AGENT_CLIPBOARD_TYPES, out.clipboardType as number);
}

/** The main fields of each VD agent message type, by name. */
const AGENT_DECODERS: Readonly<Record<string, Decoder>> = Object.freeze({
  MOUSE_STATE: (r, out) => {
    Object.assign(out, { x: r.u32(), y: r.u32(), buttons: r.u32() });
    out.buttonNames = maskNames(VD_AGENT_BUTTON_BITS, out.buttons as number);
    out.displayId = r.u8();
  },
  MONITORS_CONFIG: (r, out) => {
    const n = r.u32();
    out.count = n;
    out.flags = r.u32();
    out.flagNames = maskNames(VD_AGENT_MONITORS_FLAGS, out.flags as number);
    out.monitors = Array.from({ length: Math.min(n, Math.floor(r.left / 20)) }, () => ({
      height: r.u32(),
      width: r.u32(),
      depth: r.u32(),
      x: r.i32(),
      y: r.i32(),
    }));
  },
  REPLY: (r, out) => {
    out.replyTo = r.u32();
    out.replyToName = valueName(VD_AGENT_MESSAGES, out.replyTo as number);
    out.error = r.u32();
    out.errorName = valueName(VD_AGENT_REPLY_ERRORS, out.error as number);
  },
  CLIPBOARD: (r, out) => {
    selection(r, out, "CLIPBOARD");
    clipboardType(r, out);
    out.dataBytes = r.left;
  },
  DISPLAY_CONFIG: (r, out) => {
    out.flags = r.u32();
    out.flagNames = maskNames(VD_AGENT_DISPLAY_FLAGS, out.flags as number);
    out.depth = r.u32();
  },
  ANNOUNCE_CAPABILITIES: (r, out) => {
    out.request = r.u32();
    out.caps = capList(Array.from({ length: Math.floor(r.left / 4) }, () => r.u32()));
  },
  CLIPBOARD_GRAB: (r, out) => {
    selection(r, out, "CLIPBOARD_GRAB");
    const types = Array.from({ length: Math.floor(r.left / 4) }, () => r.u32());
    out.clipboardTypes = types.map((t) => valueName(VD_AGENT_CLIPBOARD_TYPES, t));
  },
  CLIPBOARD_REQUEST: (r, out) => {
    selection(r, out, "CLIPBOARD_REQUEST");
    clipboardType(r, out);
  },
  CLIPBOARD_RELEASE: (r, out) => selection(r, out, "CLIPBOARD_RELEASE"),
  FILE_XFER_START: (r, out) => {
    out.id = r.u32();
    // The data is a key file: [vdagent-file-xfer] name=… size=…
    const keys = text(r.bytes(r.left));
    const name = /^name=(.*)$/m.exec(keys)?.[1];
    const size = /^size=(\d+)$/m.exec(keys)?.[1];
    if (name !== undefined) out.name = name;
    if (size !== undefined) out.size = Number(size);
  },
  FILE_XFER_STATUS: (r, out) => {
    out.id = r.u32();
    out.result = r.u32();
    out.resultName = valueName(VD_AGENT_XFER_STATUS, out.result as number);
  },
  FILE_XFER_DATA: (r, out) => {
    out.id = r.u32();
    out.size = r.u64();
    out.dataBytes = r.left;
  },
  MAX_CLIPBOARD: (r, out) => (out.max = r.i32()),
  AUDIO_VOLUME_SYNC: (r, out) => {
    Object.assign(out, { isPlayback: r.u8(), mute: r.u8() });
    const n = r.u8();
    out.count = n;
    out.volumes = Array.from({ length: n }, () => r.u16());
  },
  GRAPHICS_DEVICE_INFO: (r, out) => {
    const n = r.u32();
    out.count = n;
    out.displays = [];
    for (let i = 0; i < n && r.left >= 16; i++) {
      const d = { channelId: r.u32(), monitorId: r.u32(), deviceDisplayId: r.u32() };
      const len = r.u32();
      (out.displays as unknown[]).push({ ...d, deviceAddress: text(r.bytes(len)) });
    }
  },
});

/**
 * AGENT_DATA: the byte count, then `agent` with the VD agent message's type name and fields
 * when the body starts with a VD agent header.
 */
export const agentData: Decoder = (r, out) => {
  out.dataBytes = r.left;
  const b = r.body;
  if (r.left < HEADER_BYTES || b[0] !== VD_AGENT_PROTOCOL || b[1] | b[2] | b[3]) return;
  r.u32(); // protocol
  const type = r.u32();
  if (!VD_AGENT_MESSAGES.has(type)) return;
  const agent: MessageFields = { type, name: VD_AGENT_MESSAGES.get(type) };
  out.agent = agent;
  r.u64(); // opaque
  agent.size = r.u32();
  if ((agent.size as number) > r.left) agent.continued = true;
  try {
    AGENT_DECODERS[agent.name as string]?.(r, agent);
  } catch (e) {
    // The rest of a continued message is in the next AGENT_DATA: what is here is decoded.
    if (!(e instanceof ShortBody)) throw e;
    agent.continued = true;
  }
};
