/** `deno task inspect PATH`: one line per packet or per SPICE message, tcpdump-like. */
import { numberFlag, parseCommandArgs } from "../args.ts";
import { channelFlag, messageNameFlag } from "../names.ts";
import { decodePacket } from "../../lib/net/decode.ts";
import { FilterSyntaxError, type Matcher, parseFilter } from "../../lib/net/filter.ts";
import { formatTextLine } from "../../lib/net/text_line.ts";
import type { DecodedPacket } from "../../lib/net/types.ts";
import { readCaptureFileBatches } from "../../lib/pcap/reader.ts";
import type { CaptureRecord } from "../../lib/pcap/types.ts";
import { mergeByTime } from "../../lib/session/merge.ts";
import {
  channelLabel,
  formatMessageLine,
  messageJson,
  unitName,
} from "../../lib/session/message_text.ts";
import { SpiceStreamReader } from "../../lib/session/messages.ts";
import { describeDisplayEvent } from "../../lib/display/message_summary.ts";
import type { ConnectionInfo, MessageEvent } from "../../lib/session/types.ts";
import { channelName } from "../../lib/spice/tables.ts";
import { openSession, type SessionFile } from "../../lib/session/session_files.ts";
import { UsageError } from "../errors.ts";
import { describeInputsEvent, TypedTextCollector } from "../../lib/session/input_text.ts";
import { readSessionMessages } from "../../lib/session/session_files.ts";
import type { Io } from "../io.ts";

const HELP = `Usage: deno task inspect [options] PATH
Print one line per packet (tcpdump-like) or, with --messages, one line per SPICE unit:
time, channel, direction (→ client to server, ← server to client), name, size, key fields.
PATH is a capture file or a session directory (its channel files merged in time order).

Options:
  --messages           one line per SPICE unit instead of per packet
  --filter <expr>      only packets matching the filter (host, src, dst, port, net, tcp, udp,
                       icmp, ip, ip6, proto N; and, or, not, parentheses)
  --channel <name>     only this channel: main, display, display-1, inputs, …
  --type <name>        only messages of this name (e.g. PING, DRAW_COPY); implies --messages
  --json               NDJSON, one {"type":"packet"|"message",...} object per line
  -c, --count <n>      stop after n lines
  --relative-time      times relative to the first packet
  -v, --verbose        more detail (IP header, packet numbers, endpoints)
  --ascii              add the payload (or message body) as printable ASCII
  --typed              print the text the recorded client typed (US layout, Shift and
                       Caps Lock followed), nothing else
  -h, --help           show this help

Exit status: 0 printed, 2 unreadable input or bad usage
Examples:
  deno task inspect --messages captures/demo | head
  deno task inspect --filter 'port 5930 and not port 10001' capture.pcap
`;

interface Options {
  /** `--typed`: only the typed text. */
  typed?: boolean;
  messages: boolean;
  json: boolean;
  verbose: boolean;
  ascii: boolean;
  relative: boolean;
  count: number;
  filter?: Matcher;
  channel?: string;
  type?: string;
}

/** Output batching: lines are written once 256 pile up or a batch of records is done. */
class LineSink {
  #lines: string[] = [];
  written = 0;
  constructor(readonly io: Io, readonly limit: number) {}
  get full(): boolean {
    return this.written >= this.limit;
  }
  /** Lines waiting; worth a write at 256 and more. */
  get pending(): number {
    return this.#lines.length;
  }
  add(line: string): void {
    this.#lines.push(line);
    this.written++;
  }
  async flush(): Promise<void> {
    if (this.#lines.length === 0) return;
    const text = this.#lines.join("\n") + "\n";
    this.#lines = [];
    await this.io.out(text);
  }
}

function parse(args: string[]): { options: Options; path?: string; help: boolean } {
  const { values, positionals } = parseCommandArgs(args, {
    command: "inspect",
    flags: {
      messages: { type: "boolean" },
      filter: { type: "string" },
      channel: { type: "string" },
      type: { type: "string" },
      json: { type: "boolean" },
      count: { type: "string", short: "c" },
      "relative-time": { type: "boolean" },
      verbose: { type: "boolean", short: "v" },
      ascii: { type: "boolean" },
      typed: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return { options: {} as Options, help: true };
  if (values.typed && positionals.length === 1) {
    return { options: { typed: true } as Options, path: positionals[0], help: false };
  }
  if (positionals.length !== 1) throw new UsageError("expected exactly one PATH (file or dir)");
  const count = numberFlag(values.count, { flag: "count", kind: "non-negative integer" }) ??
    Infinity;
  const options: Options = {
    messages: values.messages === true || values.type !== undefined,
    json: values.json === true,
    verbose: values.verbose === true,
    ascii: values.ascii === true,
    relative: values["relative-time"] === true,
    count,
    channel: values.channel === undefined ? undefined : channelFlag("channel", values.channel),
    type: messageNameFlag("type", values.type === undefined ? undefined : [values.type])?.[0],
  };
  if (values.filter !== undefined) options.filter = parseFilter(values.filter);
  return { options, path: positionals[0], help: false };
}

function filterError(e: FilterSyntaxError, expr: string): string {
  return `spicecap inspect: ${e.message}\n  ${expr}\n  ${" ".repeat(Math.max(0, e.column - 1))}^\n`;
}

function packetJson(r: CaptureRecord, p: DecodedPacket, file: string | undefined): string {
  return JSON.stringify({
    type: "packet",
    file,
    packetNumber: r.packetNumber,
    tsNs: r.tsNs.toString(),
    length: r.originalLength,
    src: p.srcIp,
    dst: p.dstIp,
    protocol: p.protocol,
    srcPort: p.srcPort,
    dstPort: p.dstPort,
    flags: p.tcp?.flags,
    seq: p.tcp?.seq,
    ack: p.tcp?.ack,
    payloadLength: p.payload.length,
    direction: r.direction,
    comment: r.comment,
    problems: p.problems.length > 0 ? p.problems : undefined,
  });
}

/** One channel file's records, one by one, for the merge. */
async function* fileRecords(f: SessionFile): AsyncGenerator<CaptureRecord> {
  for await (const batch of readCaptureFileBatches(f.path, { file: f.file })) yield* batch;
}

const MERGE_BATCH = 1024;
/** Lines collected before a write: batched for speed, never accumulated past this. */
const FLUSH_LINES = 256;

/**
 * Records of all files in time order, in batches with the source index of each record. One
 * file is read batch by batch as it comes (the fast path); several are merged by timestamp.
 */
async function* recordBatches(
  files: SessionFile[],
): AsyncGenerator<{ records: CaptureRecord[]; sources?: number[] }> {
  if (files.length === 1) {
    for await (const records of readCaptureFileBatches(files[0].path, { file: files[0].file })) {
      yield { records };
    }
    return;
  }
  let records: CaptureRecord[] = [];
  let sources: number[] = [];
  for await (const { item, source } of mergeByTime(files.map(fileRecords), (r) => r.tsNs)) {
    records.push(item);
    sources.push(source);
    if (records.length >= MERGE_BATCH) {
      yield { records, sources };
      records = [];
      sources = [];
    }
  }
  if (records.length > 0) yield { records, sources };
}

/** Runs `inspect`. */
export async function run(args: string[], io: Io): Promise<number> {
  let parsed;
  try {
    parsed = parse(args);
  } catch (e) {
    if (!(e instanceof FilterSyntaxError)) throw e;
    const expr = args[args.indexOf("--filter") + 1] ?? args.find((a) => a.startsWith("--filter="))
      ?.slice(9) ??
      "";
    await io.err(filterError(e, expr));
    return 2;
  }
  if (parsed.help) {
    await io.out(HELP);
    return 0;
  }
  const o = parsed.options;
  if (o.typed) return await printTyped(parsed.path!, io);
  const listing = await openSession(parsed.path!);
  const files = listing.files;
  const multi = files.length > 1;
  const sink = new LineSink(io, o.count);
  const unframed = new Map<string, string>();
  const readers = files.map((f) =>
    new SpiceStreamReader({
      file: f.file,
      onProblem: (p) => {
        const c = p.connection;
        if (c) unframed.set(`${f.file}\0${c.index}`, p.message);
      },
    })
  );
  const needReader = o.messages || o.channel !== undefined;
  let origin: bigint | undefined;
  for await (const batch of recordBatches(files)) {
    if (sink.full || io.signal.aborted) break;
    const { records, sources } = batch;
    for (let i = 0; i < records.length && !sink.full; i++) {
      const r = records[i];
      const source = sources ? sources[i] : 0;
      if (origin === undefined && o.relative) origin = r.tsNs;
      if (o.messages && !o.filter) {
        // Only the messages: the reader decodes into one reused packet object.
        addMessages(sink, readers[source].events(r), o, origin);
        if (sink.pending >= FLUSH_LINES) await sink.flush();
        continue;
      }
      let decoded: DecodedPacket;
      let events: MessageEvent[] = [];
      if (needReader) {
        const got = readers[source].push(r);
        decoded = got.decoded;
        events = got.events;
        if (!o.messages && o.channel !== undefined && !isChannel(got.connection?.info, o.channel)) {
          continue;
        }
      } else {
        decoded = decodePacket(r.data, r.linkType, { originalLength: r.originalLength });
      }
      if (o.filter && !o.filter.match(decoded)) continue;
      if (o.messages) addMessages(sink, events, o, origin);
      else {
        const line = o.json
          ? packetJson(r, decoded, multi ? files[source].file : undefined)
          : formatTextLine(r, decoded, {
            verbose: o.verbose,
            ascii: o.ascii,
            relativeToNs: origin,
          });
        sink.add(!o.json && multi ? `${files[source].file}: ${line}` : line);
      }
      if (sink.pending >= FLUSH_LINES) await sink.flush();
    }
    await sink.flush();
  }
  if (o.messages && !sink.full && !io.signal.aborted) {
    for (const reader of readers) addMessages(sink, reader.finish(), o, origin);
  }
  await sink.flush();
  if (o.messages) await reportUnframed(io, { files, readers, unframed });
  return 0;
}

/**
 * Names on stderr each connection `--messages` could not frame (a capture that starts
 * mid-session, a framing error), so that its messages do not vanish silently.
 */
async function reportUnframed(
  io: Io,
  o: { files: SessionFile[]; readers: SpiceStreamReader[]; unframed: Map<string, string> },
): Promise<void> {
  for (let i = 0; i < o.readers.length; i++) {
    const file = o.files[i].file;
    for (const conn of o.readers[i].connections) {
      if (!conn.dead) continue;
      const c = conn.info;
      const why = o.unframed.get(`${file}\0${c.index}`) ?? "no SPICE link phase";
      await io.err(
        `spicecap inspect: ${file}: connection ${c.index} (${conn.endpoints.join(" ↔ ")}): ` +
          `not framed, its messages are not shown: ${why}\n`,
      );
    }
  }
}

function addMessages(
  sink: LineSink,
  events: readonly MessageEvent[],
  o: Options,
  origin: bigint | undefined,
): void {
  for (const ev of events) {
    if (sink.full) return;
    if (o.channel !== undefined && !isChannel(ev.connection, o.channel)) continue;
    if (o.type !== undefined && unitName(ev.unit) !== o.type) continue;
    sink.add(
      o.json ? messageJson(ev) : formatMessageLine(ev, {
        relativeToNs: origin,
        verbose: o.verbose,
        ascii: o.ascii,
        describe: (ev) => describeInputsEvent(ev) ?? describeDisplayEvent(ev),
      }),
    );
  }
}

/** Whether a connection is the wanted channel: "display" matches every display, "display-1" one. */
function isChannel(info: ConnectionInfo | undefined, wanted: string): boolean {
  if (info?.channelType === undefined) return false;
  return channelLabel(info) === wanted || channelName(info.channelType) === wanted;
}

/** `--typed`: the text the session's inputs channel typed, as one block. */
async function printTyped(path: string, io: Io): Promise<number> {
  const typed = new TypedTextCollector();
  for await (const ev of readSessionMessages(path)) typed.push(ev);
  await io.out(typed.text.endsWith("\n") || typed.text === "" ? typed.text : `${typed.text}\n`);
  return 0;
}
