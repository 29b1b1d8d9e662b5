/**
 * Inputs-channel messages in words, for `inspect`: key names beside scancodes, modifiers and
 * mouse buttons by name (`KEY_SCANCODE scancodes=[0x12 e↓, 0x92 e↑]`), and the text a recorded
 * session typed (`inspect --typed`). The tables are lib/spice/scancodes.ts.
 *
 * @module
 */
import { decodeMessage, messageBody } from "../spice/messages.ts";
import {
  bitNames,
  BUTTON_BITS,
  BUTTONS,
  keyCodeEvents,
  type KeyEvent,
  keyEventText,
  MODIFIER_BITS,
  scancodeEvents,
  TypedText,
} from "../spice/scancodes.ts";
import { CHANNEL_TYPES } from "../spice/tables.ts";
import type { MessageEvent } from "./types.ts";

/** The key events of an inputs-channel client message (KEY_DOWN, KEY_UP, KEY_SCANCODE). */
function keyEvents(type: number, fields: Record<string, unknown>): KeyEvent[] | undefined {
  if (type === 104 && Array.isArray(fields.scancodes)) {
    return scancodeEvents(fields.scancodes as number[]);
  }
  if ((type === 101 || type === 102) && typeof fields.scancode === "number") {
    return keyCodeEvents(fields.scancode);
  }
  return undefined;
}

function fieldsOf(ev: MessageEvent): Record<string, unknown> | undefined {
  const u = ev.unit;
  if (ev.connection.channelType !== CHANNEL_TYPES.inputs || u.kind !== "message") return undefined;
  if (u.type === undefined) return undefined;
  return decodeMessage(CHANNEL_TYPES.inputs, {
    fromClient: u.fromClient,
    type: u.type,
    body: messageBody(u),
  });
}

/** Fields of the decoder that name a number this text already names. */
const NAME_FIELDS: ReadonlySet<string> = new Set(["modifierNames", "buttonNames", "buttonName"]);

/**
 * An inputs-channel message's fields in words, or undefined for any other unit.
 *
 * @param ev the unit
 * @returns e.g. `scancodes=[0x12 e↓, 0x92 e↑]`, `modifiers=NumLock|CapsLock`,
 *   `dx=3 dy=0 buttons=left`
 */
export function describeInputsEvent(ev: MessageEvent): string | undefined {
  const fields = fieldsOf(ev);
  if (!fields) return undefined;
  const u = ev.unit;
  const keys = u.fromClient && u.kind === "message" ? keyEvents(u.type!, fields) : undefined;
  // The names the decoder puts beside buttons and modifiers (for JSON) are said here in place.
  const shown = Object.entries(fields).filter(([k]) => !NAME_FIELDS.has(k));
  return shown.map(([k, v]) => {
    if (keys && (k === "scancodes" || k === "scancode")) {
      const text = keys.map(keyEventText);
      return k === "scancodes" ? `${k}=[${text.join(", ")}]` : `${k}=${text.join(" ")}`;
    }
    if (k === "modifiers" && typeof v === "number") return `${k}=${bitNames(v, MODIFIER_BITS)}`;
    if (k === "buttons" && typeof v === "number") return `${k}=${bitNames(v, BUTTON_BITS)}`;
    if (k === "button" && typeof v === "number") return `${k}=${BUTTONS.get(v) ?? v}`;
    return `${k}=${v}`;
  }).join(" ");
}

/** Collects the text typed by a session's inputs-channel client messages, in order. */
export class TypedTextCollector {
  readonly #typed = new TypedText();

  /** Feeds one unit (anything but an inputs-channel client key message is skipped). */
  push(ev: MessageEvent): void {
    const fields = fieldsOf(ev);
    const u = ev.unit;
    if (!fields || !u.fromClient || u.kind !== "message") return;
    for (const k of keyEvents(u.type!, fields) ?? []) this.#typed.push(k);
  }

  /** The text so far (Enter as a newline, Backspace removes). */
  get text(): string {
    return this.#typed.text;
  }
}
