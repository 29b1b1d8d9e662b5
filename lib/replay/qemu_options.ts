/** Reading QEMU command-line option values (`key=value,…` with `,,` for a comma), pure. */

/** One `key=value` of an option value, in order. */
export interface QemuOptPart {
  /** The key; the implied key for a leading bare value (`-device intel-hda` → `driver`). */
  key: string;
  /** The value, `,,` unescaped; `"on"` for a bare flag after the first part. */
  value: string;
}

/**
 * Splits an option value the way QEMU's option parser does.
 *
 * @param text the value, e.g. `file=a,,b.img,snapshot=on`
 * @param impliedKey key of a leading part without `=` (`driver`, `backend`, `type`, …)
 * @returns the parts in order; a later part with the same key wins in QEMU
 */
export function parseQemuOpts(text: string, impliedKey?: string): QemuOptPart[] {
  const parts: string[] = [];
  let current = "";
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== ",") current += text[i];
    else if (text[i + 1] === ",") current += text[i++];
    else {
      parts.push(current);
      current = "";
    }
  }
  parts.push(current);
  return parts.map((p, i) => {
    const eq = p.indexOf("=");
    if (eq >= 0) return { key: p.slice(0, eq), value: p.slice(eq + 1) };
    if (i === 0 && impliedKey !== undefined) return { key: impliedKey, value: p };
    return { key: p, value: "on" };
  });
}

/** The value QEMU uses for `key`: the last one given. */
export function optValue(parts: readonly QemuOptPart[], key: string): string | undefined {
  return parts.findLast((p) => p.key === key)?.value;
}

/** Whether QEMU reads `value` as true (`on`, `yes`, `true`, `y`). */
export function isOn(value: string | undefined): boolean {
  return value !== undefined && ["on", "yes", "true", "y"].includes(value);
}

/** Joins parts back into an option value, escaping commas. */
export function formatQemuOpts(parts: readonly QemuOptPart[], impliedKey?: string): string {
  return parts.map((p, i) => {
    const value = p.value.replaceAll(",", ",,");
    return i === 0 && p.key === impliedKey ? value : `${p.key}=${value}`;
  }).join(",");
}

const PLAIN_ARG = /^[A-Za-z0-9_@%+=:,./-]+$/;

/**
 * A command line as a shell would need it typed, for messages (quoted where needed).
 *
 * @param argv the command line
 * @returns one line
 */
export function formatCommandLine(argv: readonly string[]): string {
  return argv.map((a) => {
    if (PLAIN_ARG.test(a)) return a;
    // deno-lint-ignore no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(a)) return JSON.stringify(a);
    return `'${a.replaceAll("'", `'\\''`)}'`;
  }).join(" ");
}

/** The last path component of `path`. */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}
