/**
 * PC keyboard scancodes (set 1, what SPICE's inputs channel carries) by name, with the US
 * layout's characters, plus SPICE's modifier and mouse button bits: data for `inspect`'s key
 * names and `inspect --typed`. A key up is the key's code with 0x80 set; extended keys are
 * prefixed by 0xE0 (in KEY_DOWN/KEY_UP as the low byte: `0x1DE0`).
 *
 * @module
 */

/** One key: its name and, on a US layout, the character it types unshifted and shifted. */
export interface KeyInfo {
  /** Short name: "a", "1", "Enter", "LShift". */
  name: string;
  /** Character typed without Shift (absent: none). */
  plain?: string;
  /** Character typed with Shift. */
  shifted?: string;
}

/** Printable keys of the main block: code → [plain, shifted]. */
const PRINTABLE: ReadonlyArray<readonly [number, string, string]> = [
  [0x02, "1", "!"],
  [0x03, "2", "@"],
  [0x04, "3", "#"],
  [0x05, "4", "$"],
  [0x06, "5", "%"],
  [0x07, "6", "^"],
  [0x08, "7", "&"],
  [0x09, "8", "*"],
  [0x0a, "9", "("],
  [0x0b, "0", ")"],
  [0x0c, "-", "_"],
  [0x0d, "=", "+"],
  [0x10, "q", "Q"],
  [0x11, "w", "W"],
  [0x12, "e", "E"],
  [0x13, "r", "R"],
  [0x14, "t", "T"],
  [0x15, "y", "Y"],
  [0x16, "u", "U"],
  [0x17, "i", "I"],
  [0x18, "o", "O"],
  [0x19, "p", "P"],
  [0x1a, "[", "{"],
  [0x1b, "]", "}"],
  [0x1e, "a", "A"],
  [0x1f, "s", "S"],
  [0x20, "d", "D"],
  [0x21, "f", "F"],
  [0x22, "g", "G"],
  [0x23, "h", "H"],
  [0x24, "j", "J"],
  [0x25, "k", "K"],
  [0x26, "l", "L"],
  [0x27, ";", ":"],
  [0x28, "'", '"'],
  [0x29, "`", "~"],
  [0x2b, "\\", "|"],
  [0x2c, "z", "Z"],
  [0x2d, "x", "X"],
  [0x2e, "c", "C"],
  [0x2f, "v", "V"],
  [0x30, "b", "B"],
  [0x31, "n", "N"],
  [0x32, "m", "M"],
  [0x33, ",", "<"],
  [0x34, ".", ">"],
  [0x35, "/", "?"],
  [0x39, "Space", " "],
];

/** Other keys: code → name (and the character typed, for Enter and Tab). */
const OTHER: ReadonlyArray<readonly [number, string, string?]> = [
  [0x01, "Esc"],
  [0x0e, "Backspace", "\b"],
  [0x0f, "Tab", "\t"],
  [0x1c, "Enter", "\n"],
  [0x1d, "LCtrl"],
  [0x2a, "LShift"],
  [0x36, "RShift"],
  [0x37, "KP*", "*"],
  [0x38, "LAlt"],
  [0x3a, "CapsLock"],
  [0x3b, "F1"],
  [0x3c, "F2"],
  [0x3d, "F3"],
  [0x3e, "F4"],
  [0x3f, "F5"],
  [0x40, "F6"],
  [0x41, "F7"],
  [0x42, "F8"],
  [0x43, "F9"],
  [0x44, "F10"],
  [0x45, "NumLock"],
  [0x46, "ScrollLock"],
  [0x47, "KP7", "7"],
  [0x48, "KP8", "8"],
  [0x49, "KP9", "9"],
  [0x4a, "KP-", "-"],
  [0x4b, "KP4", "4"],
  [0x4c, "KP5", "5"],
  [0x4d, "KP6", "6"],
  [0x4e, "KP+", "+"],
  [0x4f, "KP1", "1"],
  [0x50, "KP2", "2"],
  [0x51, "KP3", "3"],
  [0x52, "KP0", "0"],
  [0x53, "KP.", "."],
  [0x56, "102nd"],
  [0x57, "F11"],
  [0x58, "F12"],
];

/** Keys after an 0xE0 prefix: code → name. */
const EXTENDED: ReadonlyArray<readonly [number, string, string?]> = [
  [0x1c, "KPEnter", "\n"],
  [0x1d, "RCtrl"],
  [0x35, "KP/", "/"],
  [0x37, "PrintScreen"],
  [0x38, "RAlt"],
  [0x47, "Home"],
  [0x48, "Up"],
  [0x49, "PageUp"],
  [0x4b, "Left"],
  [0x4d, "Right"],
  [0x4f, "End"],
  [0x50, "Down"],
  [0x51, "PageDown"],
  [0x52, "Insert"],
  [0x53, "Delete"],
  [0x5b, "LMeta"],
  [0x5c, "RMeta"],
  [0x5d, "Menu"],
];

/** Set-1 scancodes (without the 0x80 release bit) → key. */
export const SCANCODES: ReadonlyMap<number, KeyInfo> = new Map([
  ...PRINTABLE.map(([code, plain, shifted]): [number, KeyInfo] => [
    code,
    { name: plain === "Space" ? "Space" : plain, plain: plain === "Space" ? " " : plain, shifted },
  ]),
  ...OTHER.map(([code, name, ch]): [number, KeyInfo] => [code, { name, plain: ch, shifted: ch }]),
]);

/** Scancodes after an 0xE0 prefix → key. */
export const EXTENDED_SCANCODES: ReadonlyMap<number, KeyInfo> = new Map(
  EXTENDED.map(([code, name, ch]): [number, KeyInfo] => [code, { name, plain: ch, shifted: ch }]),
);

/** SPICE keyboard modifier bits (KEY_MODIFIERS). */
export const MODIFIER_BITS: ReadonlyArray<readonly [number, string]> = [
  [1, "ScrollLock"],
  [2, "NumLock"],
  [4, "CapsLock"],
];

/** SPICE mouse button mask bits (MOUSE_* `buttons`). */
export const BUTTON_BITS: ReadonlyArray<readonly [number, string]> = [
  [1, "left"],
  [2, "middle"],
  [4, "right"],
  [8, "up"],
  [16, "down"],
  [32, "side"],
  [64, "extra"],
];

/** SPICE mouse button numbers (MOUSE_PRESS/RELEASE `button`). */
export const BUTTONS: ReadonlyMap<number, string> = new Map([
  [1, "left"],
  [2, "middle"],
  [3, "right"],
  [4, "up"],
  [5, "down"],
  [6, "side"],
  [7, "extra"],
]);

/** `a|b` for the set bits of `mask`, "none" for 0, leftover bits in hex. */
export function bitNames(mask: number, bits: ReadonlyArray<readonly [number, string]>): string {
  const names = bits.filter(([bit]) => mask & bit).map(([, n]) => n);
  const rest = bits.reduce((m, [bit]) => m & ~bit, mask);
  if (rest) names.push(`0x${rest.toString(16)}`);
  return names.length === 0 ? "none" : names.join("|");
}

/** A scancode event: the key, whether pressed, and its wire form. */
export interface KeyEvent {
  /** The key, or undefined for a code the table does not name. */
  key?: KeyInfo;
  /** Set-1 code without the release bit. */
  code: number;
  /** True after an 0xE0 prefix. */
  extended: boolean;
  /** True for a press, false for a release. */
  down: boolean;
}

/**
 * Reads KEY_SCANCODE bytes (possibly several keys, 0xE0 prefixes included) into key events.
 *
 * @param bytes the message's scancode bytes
 */
export function scancodeEvents(bytes: readonly number[]): KeyEvent[] {
  const out: KeyEvent[] = [];
  for (let i = 0; i < bytes.length; i++) {
    const extended = bytes[i] === 0xe0 && i + 1 < bytes.length;
    const b = extended ? bytes[++i] : bytes[i];
    const code = b & 0x7f;
    const key = (extended ? EXTENDED_SCANCODES : SCANCODES).get(code);
    out.push({ key, code, extended, down: (b & 0x80) === 0 });
  }
  return out;
}

/**
 * KEY_DOWN / KEY_UP's u32 scancode as key events: the low byte, or 0xE0 then the next byte.
 *
 * @param scancode the field's value
 */
export function keyCodeEvents(scancode: number): KeyEvent[] {
  const bytes: number[] = [];
  for (let v = scancode >>> 0; v !== 0; v >>>= 8) bytes.push(v & 0xff);
  return scancodeEvents(bytes.length === 0 ? [0] : bytes);
}

/** `0x12 e↓`: a key event as inspect prints it. */
export function keyEventText(ev: KeyEvent): string {
  const wire = (ev.code | (ev.down ? 0 : 0x80)).toString(16).padStart(2, "0");
  const name = ev.key?.name ?? "?";
  return `${ev.extended ? "0xe0 " : ""}0x${wire} ${name}${ev.down ? "↓" : "↑"}`;
}

/** Follows key events and produces the text they type (US layout, Shift and Caps Lock). */
export class TypedText {
  #shift = new Set<string>();
  #caps = false;
  /** The text so far. */
  text = "";

  /** Applies one key event. */
  push(ev: KeyEvent): void {
    const name = ev.key?.name;
    if (name === "LShift" || name === "RShift") {
      if (ev.down) this.#shift.add(name);
      else this.#shift.delete(name);
      return;
    }
    if (!ev.down || !ev.key) return;
    if (name === "CapsLock") {
      this.#caps = !this.#caps;
      return;
    }
    let shifted = this.#shift.size > 0;
    if (this.#caps && /^[a-z]$/.test(ev.key.plain ?? "")) shifted = !shifted;
    const ch = shifted ? ev.key.shifted : ev.key.plain;
    if (ch === "\b") this.text = this.text.slice(0, -1);
    else if (ch !== undefined) this.text += ch;
  }
}
