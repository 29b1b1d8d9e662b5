/**
 * spicecap's single command-line entry: `spicecap <command> [args…]` once installed
 * (`./run install`, tools/install.ts), else `deno run -A harness/cli.ts <command> [args…]`;
 * `deno task <command>` and `./run <command>` map onto it.
 */
import denoJson from "../deno.json" with { type: "json" };
import { ManifestError } from "../lib/capture/manifest.ts";
import { QemuPolicyError } from "../lib/replay/qemu_policy.ts";
import { RulesError } from "../lib/diff/rules.ts";
import { UnknownNormaliserError } from "../lib/diff/normalise_plan.ts";
import { AddressSyntaxError } from "../lib/net/ipv4.ts";
import { FilterSyntaxError } from "../lib/net/filter.ts";
import { CaptureFormatError } from "../lib/pcap/types.ts";
import { SpiceTicketError } from "../lib/spice/ticket.ts";
import { SpiceFramingError } from "../lib/spice/types.ts";
import { killChildrenNow } from "./processes/children.ts";
import { interruptCounter } from "./interrupts.ts";
import { closestName, helpHint } from "./args.ts";
import { EnvironmentError, InputError, UsageError } from "./errors.ts";
import { type Command, type Io, processIo } from "./io.ts";

/** Command name → module exporting `run`. Loaded lazily so one command's imports never slow another. */
const COMMANDS: Readonly<Record<string, { summary: string; load: () => Promise<Command> }>> = {
  capture: {
    summary: "record a SPICE session through a proxy, one capture file per channel",
    load: async () => (await import("./commands/capture.ts")).run,
  },
  check: {
    summary: "verify TCP and SPICE invariants of captures or session directories",
    load: async () => (await import("./commands/check.ts")).run,
  },
  inspect: {
    summary: "print one line per packet or SPICE message",
    load: async () => (await import("./commands/inspect.ts")).run,
  },
  replay: {
    summary: "re-drive a recorded client side against a live server",
    load: async () => (await import("./commands/replay.ts")).run,
  },
  serve: {
    summary: "play the recorded server side of a session to a real SPICE client",
    load: async () => (await import("./commands/serve.ts")).run,
  },
  diff: {
    summary: "normalised message-level diff of two captures",
    load: async () => (await import("./commands/diff.ts")).run,
  },
  merge: {
    summary: "merge a session's channel files into one pcapng",
    load: async () => (await import("./commands/merge.ts")).run,
  },
  render: {
    summary: "draw the screen a recorded display channel showed, as PNG/PPM frames",
    load: async () => (await import("./commands/render.ts")).run,
  },
  report: {
    summary: "one self-contained HTML page showing a session (and its diff against a golden)",
    load: async () => (await import("./commands/report.ts")).run,
  },
  import: {
    summary: "turn a raw tcpdump/Wireshark capture of SPICE into a session directory",
    load: async () => (await import("./commands/import.ts")).run,
  },
  regress: {
    summary: "replay and diff every golden session against fresh QEMUs, for CI",
    load: async () => (await import("./commands/regress.ts")).run,
  },
  stats: {
    summary: "message counts and bytes, rate over time, round trips and link times",
    load: async () => (await import("./commands/stats.ts")).run,
  },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(9)} ${c.summary}`);
  return [
    "Usage: spicecap <command> [options]   (or: deno task <command>, ./run <command>)",
    "spicecap: record, check, replay and diff SPICE sessions as pcap files.",
    "Commands:",
    ...lines,
    "Run spicecap <command> --help for a command's options; spicecap --version for the version.",
    "",
  ].join("\n");
}

/** Errors whose message is for the user as it is: exit 2, no stack. */
const KNOWN_ERRORS = [
  UsageError,
  EnvironmentError,
  CaptureFormatError,
  SpiceFramingError,
  SpiceTicketError,
  ManifestError,
  QemuPolicyError,
  FilterSyntaxError,
  AddressSyntaxError,
  RulesError,
  UnknownNormaliserError,
  Deno.errors.NotFound,
  Deno.errors.PermissionDenied,
  Deno.errors.IsADirectory,
  Deno.errors.NotADirectory,
  Deno.errors.AlreadyExists,
] as const;

function isKnownError(e: unknown): e is Error {
  return KNOWN_ERRORS.some((type) => e instanceof type);
}

function isBrokenPipe(e: unknown): boolean {
  return e instanceof Deno.errors.BrokenPipe ||
    (e instanceof Error && /broken pipe|os error 32/i.test(e.message));
}

/**
 * Runs one command and returns its exit status; never throws.
 *
 * @param argv the command name followed by its arguments
 * @param io where output goes
 */
export async function main(argv: string[], io: Io): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === "-h" || name === "--help" || name === "help") {
    await io.out(usage());
    return name === undefined ? 2 : 0;
  }
  if (name === "--version" || name === "-V" || name === "version") {
    await io.out(`spicecap ${denoJson.version}\n`);
    return 0;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    const near = closestName(name, Object.keys(COMMANDS));
    await io.err(
      `spicecap: unknown command ${name}${near ? `; did you mean ${near}?` : ""}\n` +
        `Run spicecap --help for the commands.\n`,
    );
    return 2;
  }
  try {
    return await (await command.load())(args, io);
  } catch (e) {
    if (isBrokenPipe(e)) return 0;
    if (isKnownError(e)) {
      // A usage error says where the options are; a refused path is not about the options.
      const hint = e instanceof UsageError && !(e instanceof InputError) &&
          !e.message.includes("--help")
        ? `\n${helpHint(name)}`
        : "";
      await io.err(`spicecap ${name}: ${e.message}${hint}\n`).catch(() => {});
      return 2;
    }
    const stack = e instanceof Error ? e.stack ?? e.message : String(e);
    await io.err(`spicecap ${name}: internal error: ${stack}\n`).catch(() => {});
    return 2;
  }
}

if (import.meta.main) {
  const controller = new AbortController();
  // One Ctrl-C can arrive several times at once (the terminal signals the whole process group,
  // and `deno task` forwards it too): signals within SAME_INTERRUPT_MS count once.
  const onSignal = interruptCounter({
    onFirst: () => controller.abort(),
    onSecond: () => {
      // Second Ctrl-C: exit at once (files were flushed within the last second), but take
      // down the QEMU and clients we started rather than leave them running.
      killChildrenNow();
      Deno.exit(130);
    },
  });
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  const code = await main(Deno.args, processIo(controller.signal));
  Deno.exit(code);
}
