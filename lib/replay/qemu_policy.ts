/**
 * What replay lets a recorded QEMU command line do (docs/replay_policy.md). A session
 * directory may come from anyone, so its `server.commandLine` is vetted before it runs: the
 * binary must be a `qemu-system-*`, and every option must be in {@link QEMU_OPTION_RULES}
 * with a value its rule accepts. Options that write, delete or listen on host resources, reach
 * the network, pass host devices through or load other code are refused unless the user
 * passes `--trust`. Pure: no file is touched here.
 */
import { type PolicyContext, Refusal, refuse, ruleOf } from "./qemu_rules.ts";
import { baseName, formatCommandLine } from "./qemu_options.ts";

export { type OptionRule, type PolicyContext, QEMU_OPTION_RULES } from "./qemu_rules.ts";

/** Binaries replay runs: `qemu-system-<target>`, matched on the base name. */
export const QEMU_BINARY_PATTERN = /^qemu-system-[A-Za-z0-9_]+$/;

/** A command line replay will not run; the message names the option and shows the line. */
export class QemuPolicyError extends Error {
  /** Always "QemuPolicyError". */
  override name = "QemuPolicyError";
  /** The offending argument (binary or option, with its value). */
  readonly option: string;
  /** Why it is refused. */
  readonly reason: string;
  /** The whole command line as recorded. */
  readonly commandLine: readonly string[];

  /**
   * Builds the error.
   *
   * @param commandLine the whole command line, shown in the message
   * @param problem the offending argument, why, and whether `--trust` would run it
   */
  constructor(
    commandLine: readonly string[],
    problem: { option: string; reason: string; trustable: boolean },
  ) {
    const hint = problem.trustable
      ? " (run it anyway with --trust; see docs/replay_policy.md)"
      : "";
    super(
      `refusing to run the QEMU command line: ${problem.option}: ${problem.reason}${hint}\n` +
        `  command: ${formatCommandLine(commandLine)}`,
    );
    this.option = problem.option;
    this.reason = problem.reason;
    this.commandLine = commandLine;
  }
}

/** What {@link vetQemuCommandLine} returns. */
export interface VettedCommandLine {
  /** The line to run: binary resolved, host output paths moved into the output directory. */
  commandLine: string[];
  /** One note per value rewritten (`-serial file:x → out/qemu-x`). */
  rewrites: string[];
}

/** Options of {@link vetQemuCommandLine}. */
export interface VetOptions {
  /** Run every option as recorded (the binary must still be a `qemu-system-*`). */
  trust?: boolean;
  /** Binary to run instead of the recorded one (`--qemu`); must be named `qemu-system-*`. */
  qemu?: string;
  /** The replay's output directory, for host output files. */
  outDir: string;
  /** The session directory replayed, for a secret's `file=`. */
  sessionDir?: string;
}

/**
 * Vets a recorded QEMU command line against {@link QEMU_OPTION_RULES}.
 *
 * @param recorded argv from the manifest, binary first
 * @param options trust, replacement binary, output and session directories
 * @returns the line to run and what was rewritten
 * @throws {QemuPolicyError} naming the first argument refused
 */
export function vetQemuCommandLine(
  recorded: readonly string[],
  options: VetOptions,
): VettedCommandLine {
  const binary = vetBinary(recorded, options);
  const tokens = tokenize(recorded, options.trust === true);
  const ctx: PolicyContext = {
    outDir: options.outDir,
    sessionDir: options.sessionDir,
    snapshot: tokens.some((t) => t.option === "-snapshot"),
    used: new Set(),
    trusted: options.trust === true,
  };
  const out = [binary];
  const rewrites: string[] = [];
  for (const t of tokens) {
    const rule = ruleOf(t.option);
    const shown = t.value === undefined ? t.arg : `${t.arg} ${t.value}`;
    let value = t.value;
    try {
      if (!options.trust) {
        if (!rule) refuse("not an option replay knows to be harmless");
        if (rule.refused) refuse(rule.refused);
      }
      // Output files move into the replay's directory even when trusted.
      if (rule?.check && value !== undefined && (!options.trust || rule.evenTrusted)) {
        value = rule.check(value, ctx);
      }
    } catch (e) {
      if (!(e instanceof Refusal)) throw e;
      throw new QemuPolicyError(recorded, { option: shown, reason: e.message, trustable: true });
    }
    if (value !== t.value) rewrites.push(`${shown} → ${t.arg} ${value}`);
    out.push(t.arg, ...(value === undefined ? [] : [value]));
  }
  return { commandLine: out, rewrites };
}

/** The binary to run: `--qemu`, or the recorded one (by base name unless trusted). */
function vetBinary(recorded: readonly string[], options: VetOptions): string {
  const refuseBinary = (binary: string, source: string) => {
    throw new QemuPolicyError(recorded, {
      option: binary,
      reason: `${source} is not a qemu-system-* binary; replay runs nothing else`,
      trustable: false,
    });
  };
  const first = recorded[0] ?? "";
  if (!QEMU_BINARY_PATTERN.test(baseName(first))) refuseBinary(first, "the recorded binary");
  if (options.qemu !== undefined) {
    if (!QEMU_BINARY_PATTERN.test(baseName(options.qemu))) refuseBinary(options.qemu, "--qemu");
    return options.qemu;
  }
  // A recording does not choose which file on this host runs: look the name up on PATH.
  return options.trust ? first : baseName(first);
}

interface Token {
  /** The option as written (`-drive`, `--drive`). */
  arg: string;
  /** The option, one leading dash. */
  option: string;
  value?: string;
}

/** Splits argv (after the binary) into options and their values. */
function tokenize(recorded: readonly string[], trust: boolean): Token[] {
  const tokens: Token[] = [];
  for (let i = 1; i < recorded.length; i++) {
    const arg = recorded[i];
    if (!arg.startsWith("-") || arg === "-") {
      if (trust) {
        tokens.push({ arg, option: arg });
        continue;
      }
      throw new QemuPolicyError(recorded, {
        option: arg,
        reason: "a bare argument is a disk image QEMU opens writable",
        trustable: true,
      });
    }
    const option = arg.startsWith("--") ? arg.slice(1) : arg;
    const rule = ruleOf(option);
    // An unknown option (refused below unless trusted) takes a value unless the next argument
    // is an option.
    const takesValue = rule
      ? rule.takesValue
      : i + 1 < recorded.length && !recorded[i + 1].startsWith("-");
    if (takesValue && i + 1 >= recorded.length) {
      throw new QemuPolicyError(recorded, {
        option: arg,
        reason: "its value is missing",
        trustable: false,
      });
    }
    tokens.push({ arg, option, value: takesValue ? recorded[++i] : undefined });
  }
  return tokens;
}
