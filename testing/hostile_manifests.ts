/**
 * A valid manifest and a table of hostile edits of it, each naming the field the validator
 * must blame. Shared by the validator's unit test and the CLI test of every reading command.
 */

// deno-lint-ignore no-explicit-any
type Json = any;

/** A well-formed manifest with one main channel (`main.pcap`) and a recorded server. */
export function validManifest(): Json {
  return {
    format: "spicecap-session",
    version: 1,
    tool: { name: "spicecap", version: "0.1.0" },
    started: "2026-01-01T00:00:00.000Z",
    stopped: "2026-01-01T00:00:01.000Z",
    complete: true,
    target: null,
    server: {
      commandLine: ["qemu-system-x86_64", "-spice", "port=5930,addr=127.0.0.1"],
      firstConnectionDelayMs: 500,
    },
    tsResolution: "ns",
    captureFormat: "pcap",
    serverPort: 5930,
    relativeTime: false,
    channels: [{
      type: 1,
      typeName: "main",
      id: 0,
      file: "main.pcap",
      clientPort: 10001,
      serverPort: 5930,
      connections: [{ clientPort: 10001, openedNs: "1", closedNs: "2" }],
      packets: { sent: 0, received: 0 },
      bytes: { sent: 0, received: 0 },
      dropped: 0,
      errors: 0,
    }],
    skipped: [],
    dropped: 0,
    errors: [],
    sessionId: 1,
    stoppedBy: "duration",
  };
}

/** One hostile manifest: what it is, how to make it from a valid one, the field to blame. */
export interface HostileCase {
  /** What is wrong, for the test name. */
  name: string;
  /** Edits a valid manifest in place (or returns a whole replacement). */
  edit: (m: Json) => Json | void;
  /** The field the error must name ("" for the file as a whole). */
  field: string;
}

const second = (m: Json) => ({ ...m.channels[0], type: 2, typeName: "display", file: "d.pcap" });

/** Hostile manifests; each must be refused with a ManifestError naming `field`. */
export const HOSTILE_MANIFESTS: readonly HostileCase[] = [
  { name: "a list instead of an object", edit: () => [], field: "" },
  { name: "null", edit: () => null, field: "" },
  { name: "a string", edit: () => "spicecap-session", field: "" },
  { name: "another format", edit: (m) => void (m.format = "pcap"), field: "format" },
  { name: "format missing", edit: (m) => void delete m.format, field: "format" },
  { name: "version 0", edit: (m) => void (m.version = 0), field: "version" },
  { name: "version -1", edit: (m) => void (m.version = -1), field: "version" },
  { name: "version 2.5", edit: (m) => void (m.version = 2.5), field: "version" },
  { name: 'version "1"', edit: (m) => void (m.version = "1"), field: "version" },
  { name: "version 2 (newer)", edit: (m) => void (m.version = 2), field: "version" },
  { name: "version 1e308", edit: (m) => void (m.version = 1e308), field: "version" },
  { name: "tool a string", edit: (m) => void (m.tool = "spicecap"), field: "tool" },
  { name: "started not a time", edit: (m) => void (m.started = "yesterday"), field: "started" },
  { name: "started missing", edit: (m) => void delete m.started, field: "started" },
  { name: "complete a string", edit: (m) => void (m.complete = "yes"), field: "complete" },
  { name: "target a number", edit: (m) => void (m.target = 5930), field: "target" },
  {
    name: "commandLine a string",
    edit: (m) => void (m.server.commandLine = "qemu-system-x86_64 -spice port=1"),
    field: "server.commandLine",
  },
  {
    name: "commandLine empty",
    edit: (m) => void (m.server.commandLine = []),
    field: "server.commandLine",
  },
  {
    name: "commandLine with a number",
    edit: (m) => void m.server.commandLine.push(7),
    field: "server.commandLine[3]",
  },
  {
    name: "commandLine with NUL",
    edit: (m) => void m.server.commandLine.push("-name\u0000x"),
    field: "server.commandLine[3]",
  },
  {
    name: "delay 1e9",
    edit: (m) => void (m.server.firstConnectionDelayMs = 1e9),
    field: "server.firstConnectionDelayMs",
  },
  {
    name: "delay 3e9",
    edit: (m) => void (m.server.firstConnectionDelayMs = 3e9),
    field: "server.firstConnectionDelayMs",
  },
  {
    name: "delay -1",
    edit: (m) => void (m.server.firstConnectionDelayMs = -1),
    field: "server.firstConnectionDelayMs",
  },
  {
    name: "delay 1e999 (Infinity in JSON)",
    edit: () => undefined,
    field: "server.firstConnectionDelayMs",
  },
  {
    name: 'delay "NaN"',
    edit: (m) => void (m.server.firstConnectionDelayMs = "NaN"),
    field: "server.firstConnectionDelayMs",
  },
  {
    name: "delay null",
    edit: (m) => void (m.server.firstConnectionDelayMs = null),
    field: "server.firstConnectionDelayMs",
  },
  { name: "server a list", edit: (m) => void (m.server = []), field: "server" },
  {
    name: "tsResolution ms",
    edit: (m) => void (m.tsResolution = "ms"),
    field: "tsResolution",
  },
  {
    name: "captureFormat missing",
    edit: (m) => void delete m.captureFormat,
    field: "captureFormat",
  },
  { name: "serverPort 0", edit: (m) => void (m.serverPort = 0), field: "serverPort" },
  { name: "serverPort 65536", edit: (m) => void (m.serverPort = 65536), field: "serverPort" },
  { name: "channels an object", edit: (m) => void (m.channels = {}), field: "channels" },
  { name: "channel null", edit: (m) => void (m.channels = [null]), field: "channels[0]" },
  {
    name: "channel type 1e308",
    edit: (m) => void (m.channels[0].type = 1e308),
    field: "channels[0].type",
  },
  { name: "channel type 0", edit: (m) => void (m.channels[0].type = 0), field: "channels[0].type" },
  {
    name: "channel type 256",
    edit: (m) => void (m.channels[0].type = 256),
    field: "channels[0].type",
  },
  { name: "channel id 256", edit: (m) => void (m.channels[0].id = 256), field: "channels[0].id" },
  {
    name: "NUL in a file name",
    edit: (m) => void (m.channels[0].file = "main\u0000.pcap"),
    field: "channels[0].file",
  },
  {
    name: "a path as file name",
    edit: (m) => void (m.channels[0].file = "../../etc/passwd"),
    field: "channels[0].file",
  },
  {
    name: "an absolute file name",
    edit: (m) => void (m.channels[0].file = "/etc/passwd"),
    field: "channels[0].file",
  },
  {
    name: "file name ..",
    edit: (m) => void (m.channels[0].file = ".."),
    field: "channels[0].file",
  },
  {
    name: "the manifest as channel file",
    edit: (m) => void (m.channels[0].file = "session.json"),
    field: "channels[0].file",
  },
  {
    name: "a channel listed twice",
    edit: (m) => void m.channels.push({ ...m.channels[0], file: "other.pcap" }),
    field: "channels[1].id",
  },
  {
    name: "two channels in one file",
    edit: (m) => void m.channels.push({ ...second(m), file: "main.pcap" }),
    field: "channels[1].file",
  },
  {
    name: "a negative count",
    edit: (m) => void (m.channels[0].packets.sent = -1),
    field: "channels[0].packets.sent",
  },
  {
    name: "a count above 2^53",
    edit: (m) => void (m.channels[0].bytes.received = 2 ** 60),
    field: "channels[0].bytes.received",
  },
  {
    name: "a fractional count",
    edit: (m) => void (m.dropped = 0.5),
    field: "dropped",
  },
  {
    name: "client port 70000",
    edit: (m) => void (m.channels[0].connections[0].clientPort = 70000),
    field: "channels[0].connections[0].clientPort",
  },
  {
    name: "openedNs a number",
    edit: (m) => void (m.channels[0].connections[0].openedNs = 1),
    field: "channels[0].connections[0].openedNs",
  },
  {
    name: "channel fields only in __proto__",
    edit: (m) =>
      void (m.channels = [JSON.parse(`{"__proto__": ${JSON.stringify(m.channels[0])}}`)]),
    field: "channels[0].type",
  },
  {
    name: "top-level fields only in __proto__",
    edit: (m) => JSON.parse(`{"__proto__": ${JSON.stringify(m)}}`),
    field: "format",
  },
  {
    name: "a __proto__ key among dropped messages",
    edit: (m) => void (m.droppedFromReplay = JSON.parse(`{"PONG": 1, "__proto__": 2}`)),
    field: "droppedFromReplay.__proto__",
  },
  { name: "errors a string", edit: (m) => void (m.errors = "disk full"), field: "errors" },
  {
    name: "skipped type 300",
    edit: (m) => void (m.skipped = [{ type: 300, connections: 1 }]),
    field: "skipped[0].type",
  },
  { name: "sessionId 2^32", edit: (m) => void (m.sessionId = 2 ** 32), field: "sessionId" },
  { name: "stoppedBy unknown", edit: (m) => void (m.stoppedBy = "magic"), field: "stoppedBy" },
  { name: "replay a list", edit: (m) => void (m.replay = []), field: "replay" },
  {
    name: "an unknown image compression",
    edit: (m) => void (m.displayCompression = { imageCompression: "jpeg" }),
    field: "displayCompression.imageCompression",
  },
];

/**
 * The JSON text of a hostile case (the one case JSON.stringify cannot make, a delay of 1e999,
 * is written by hand).
 *
 * @param c the case
 * @returns text for `session.json`
 */
export function hostileText(c: HostileCase): string {
  const m = validManifest();
  if (c.name.startsWith("delay 1e999")) {
    return JSON.stringify(m).replace(
      '"firstConnectionDelayMs":500',
      '"firstConnectionDelayMs":1e999',
    );
  }
  const replaced = c.edit(m);
  return JSON.stringify(replaced === undefined ? m : replaced);
}
