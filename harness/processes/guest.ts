/**
 * A guest whose screen never changes: a 512-byte floppy boot sector that hides the text
 * cursor, prints one line and halts. Without a disk, SeaBIOS leaves a blinking cursor on the
 * screen, so two runs' DRAW_COPY images differ by the blink phase at connect time; with this
 * guest they are byte-identical, which golden sessions need.
 */
import { writeNewFile } from "../../lib/capture/file_sink.ts";

/** Marker in the image's file name, so a recorded command line can be given a fresh copy. */
export const STATIC_GUEST_MARKER = "spicecap-static-guest";

const LOAD_ADDRESS = 0x7c00;
const MESSAGE = "spicecap static guest";
/** One instruction per row (real mode, loaded at 0x7c00). */
const INSTRUCTIONS: readonly (readonly number[])[] = [
  [0xfa], // cli                no interrupts, so hlt stays halted
  [0xb4, 0x01], // mov ah, 1    set cursor shape
  [0xb9, 0x00, 0x20], // mov cx, 0x2000: bit 5 of ch hides the cursor
  [0xcd, 0x10], // int 0x10
  [0x31, 0xc0], // xor ax, ax
  [0x8e, 0xd8], // mov ds, ax   the message is addressed from segment 0
  [0xbe, 0x00, 0x00], // mov si, MESSAGE (address patched in below)
  [0xb4, 0x0e], // mov ah, 0x0e teletype output
  [0xac], // print: lodsb
  [0x08, 0xc0], // or al, al
  [0x74, 0x04], // jz halt
  [0xcd, 0x10], // int 0x10
  [0xeb, 0xf7], // jmp print
  [0xf4], // halt: hlt
  [0xeb, 0xfd], // jmp halt
];
const CODE = INSTRUCTIONS.flat();
const MESSAGE_POINTER_AT = 13;
const SECTOR_BYTES = 512;
const BOOT_SIGNATURE = [0x55, 0xaa];

/**
 * The boot sector's bytes.
 *
 * @returns 512 bytes ending in the 0x55 0xAA boot signature
 */
export function staticGuestImage(): Uint8Array {
  const image = new Uint8Array(SECTOR_BYTES);
  image.set(CODE);
  const messageAddress = LOAD_ADDRESS + CODE.length;
  image[MESSAGE_POINTER_AT] = messageAddress & 0xff;
  image[MESSAGE_POINTER_AT + 1] = messageAddress >> 8;
  image.set(new TextEncoder().encode(MESSAGE + "\0"), CODE.length);
  image.set(BOOT_SIGNATURE, SECTOR_BYTES - BOOT_SIGNATURE.length);
  return image;
}

/**
 * Writes the image to a new file (0600) in `dir`, a private directory the caller removes.
 *
 * @param dir where to write it
 * @returns the file's path, whose name contains {@link STATIC_GUEST_MARKER}
 */
export async function writeStaticGuest(dir: string): Promise<string> {
  const path = `${dir}/${STATIC_GUEST_MARKER}.img`;
  await writeNewFile(path, staticGuestImage());
  return path;
}

/**
 * QEMU arguments that boot the image at `path` from a floppy (writes go to a snapshot).
 *
 * @param path image file
 */
export function staticGuestArgs(path: string): string[] {
  return ["-boot", "a", "-drive", `file=${path},format=raw,if=floppy,snapshot=on`];
}

/**
 * A recorded command line with its static guest image path replaced by `path`.
 *
 * @param commandLine argv that may hold a `-drive file=…spicecap-static-guest….img`
 * @param path the fresh image
 * @returns the new argv, or the same contents when there is no static guest
 */
export function withStaticGuest(commandLine: readonly string[], path: string): string[] {
  return commandLine.map((arg, i) =>
    commandLine[i - 1] === "-drive" && arg.includes(STATIC_GUEST_MARKER)
      ? arg.replace(/file=[^,]*/, `file=${path}`)
      : arg
  );
}

/**
 * Whether a command line boots the static guest.
 *
 * @param commandLine argv
 */
export function usesStaticGuest(commandLine: readonly string[]): boolean {
  return commandLine.some((arg, i) =>
    commandLine[i - 1] === "-drive" && arg.includes(STATIC_GUEST_MARKER)
  );
}
