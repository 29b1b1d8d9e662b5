/**
 * SPICE protocol tables as data: channel types, message names per channel and direction, link
 * error codes and capability bits. Numbers are those of the SPICE protocol headers (see
 * docs/protocol.md "Message numbers"). Message numbers below 101 are common to every
 * channel; each channel has one table per direction for 101 and up, like Wireshark's SPICE
 * dissector. Every table is frozen; `messageName` is the one lookup.
 */

/** Channel type numbers, by lower-case channel name. */
export const CHANNEL_TYPES: Readonly<{
  main: 1;
  display: 2;
  inputs: 3;
  cursor: 4;
  playback: 5;
  record: 6;
  tunnel: 7;
  smartcard: 8;
  usbredir: 9;
  port: 10;
  webdav: 11;
}> = Object.freeze(
  {
    main: 1,
    display: 2,
    inputs: 3,
    cursor: 4,
    playback: 5,
    record: 6,
    tunnel: 7,
    smartcard: 8,
    usbredir: 9,
    port: 10,
    webdav: 11,
  } as const,
);

/** A channel name known to the tables ("main", "display", …). */
export type ChannelName = keyof typeof CHANNEL_TYPES;

/** A read-only number → name table. */
export type NameTable = ReadonlyMap<number, string>;

/** First message number that belongs to a channel rather than to the common set. */
export const FIRST_CHANNEL_MESSAGE = 101;

const CHANNEL_NAMES: NameTable = freezeMap(
  Object.entries(CHANNEL_TYPES).map(([name, type]) => [type, name]),
);

/** A frozen Map (set/delete/clear throw) built from [number, name] pairs. */
function freezeMap(entries: Iterable<readonly [number, string]>): NameTable {
  const map = new Map<number, string>();
  for (const [n, name] of entries) {
    if (map.has(n)) throw new Error(`table defines ${n} twice`);
    map.set(n, name);
  }
  const refuse = () => {
    throw new TypeError("SPICE tables are read-only");
  };
  Object.defineProperties(map, {
    set: { value: refuse },
    delete: { value: refuse },
    clear: { value: refuse },
  });
  return Object.freeze(map);
}

/** Consecutive enum members starting at `first`, as in enums.h; "" skips a number. */
function run(first: number, names: string[]): [number, string][] {
  return names.flatMap((name, i) => name ? [[first + i, name] as [number, string]] : []);
}

/** Table for message names: `run`s merged into one frozen map. */
function table(...runs: [number, string][][]): NameTable {
  return freezeMap(runs.flat());
}

/** Common server → client messages (SPICE_MSG_*), numbers 1–8. */
export const COMMON_SERVER_MESSAGES: NameTable = table(run(1, [
  "MIGRATE",
  "MIGRATE_DATA",
  "SET_ACK",
  "PING",
  "WAIT_FOR_CHANNELS",
  "DISCONNECTING",
  "NOTIFY",
  "LIST",
]));

/** Common client → server messages (SPICE_MSGC_*), numbers 1–6. */
export const COMMON_CLIENT_MESSAGES: NameTable = table(run(1, [
  "ACK_SYNC",
  "ACK",
  "PONG",
  "MIGRATE_FLUSH_MARK",
  "MIGRATE_DATA",
  "DISCONNECTING",
]));

const EMPTY: NameTable = table();

const SPICEVMC_SERVER = run(101, ["DATA", "COMPRESSED_DATA"]);
const SPICEVMC_CLIENT = run(101, ["DATA", "COMPRESSED_DATA"]);

/** Channel-specific message tables (numbers ≥ 101): channel type → [server→client, client→server]. */
export const CHANNEL_MESSAGES: ReadonlyMap<number, readonly [NameTable, NameTable]> = Object
  .freeze(
    new Map<number, readonly [NameTable, NameTable]>([
      [CHANNEL_TYPES.main, [
        table(run(101, [
          "MIGRATE_BEGIN",
          "MIGRATE_CANCEL",
          "INIT",
          "CHANNELS_LIST",
          "MOUSE_MODE",
          "MULTI_MEDIA_TIME",
          "AGENT_CONNECTED",
          "AGENT_DISCONNECTED",
          "AGENT_DATA",
          "AGENT_TOKEN",
          "MIGRATE_SWITCH_HOST",
          "MIGRATE_END",
          "NAME",
          "UUID",
          "AGENT_CONNECTED_TOKENS",
          "MIGRATE_BEGIN_SEAMLESS",
          "MIGRATE_DST_SEAMLESS_ACK",
          "MIGRATE_DST_SEAMLESS_NACK",
        ])),
        table(run(101, [
          "CLIENT_INFO",
          "MIGRATE_CONNECTED",
          "MIGRATE_CONNECT_ERROR",
          "ATTACH_CHANNELS",
          "MOUSE_MODE_REQUEST",
          "AGENT_START",
          "AGENT_DATA",
          "AGENT_TOKEN",
          "MIGRATE_END",
          "MIGRATE_DST_DO_SEAMLESS",
          "MIGRATE_CONNECTED_SEAMLESS",
        ])),
      ]],
      [CHANNEL_TYPES.display, [
        table(
          run(101, [
            "MODE",
            "MARK",
            "RESET",
            "COPY_BITS",
            "INVAL_LIST",
            "INVAL_ALL_PIXMAPS",
            "INVAL_PALETTE",
            "INVAL_ALL_PALETTES",
          ]),
          run(122, [
            "STREAM_CREATE",
            "STREAM_DATA",
            "STREAM_CLIP",
            "STREAM_DESTROY",
            "STREAM_DESTROY_ALL",
          ]),
          run(302, [
            "DRAW_FILL",
            "DRAW_OPAQUE",
            "DRAW_COPY",
            "DRAW_BLEND",
            "DRAW_BLACKNESS",
            "DRAW_WHITENESS",
            "DRAW_INVERS",
            "DRAW_ROP3",
            "DRAW_STROKE",
            "DRAW_TEXT",
            "DRAW_TRANSPARENT",
            "DRAW_ALPHA_BLEND",
            "SURFACE_CREATE",
            "SURFACE_DESTROY",
            "STREAM_DATA_SIZED",
            "MONITORS_CONFIG",
            "DRAW_COMPOSITE",
            "STREAM_ACTIVATE_REPORT",
            "GL_SCANOUT_UNIX",
            "GL_DRAW",
          ]),
        ),
        table(run(101, [
          "INIT",
          "STREAM_REPORT",
          "PREFERRED_COMPRESSION",
          "GL_DRAW_DONE",
          "PREFERRED_VIDEO_CODEC_TYPE",
        ])),
      ]],
      [CHANNEL_TYPES.inputs, [
        table(run(101, ["INIT", "KEY_MODIFIERS"]), run(111, ["MOUSE_MOTION_ACK"])),
        table(
          run(101, ["KEY_DOWN", "KEY_UP", "KEY_MODIFIERS", "KEY_SCANCODE"]),
          run(111, ["MOUSE_MOTION", "MOUSE_POSITION", "MOUSE_PRESS", "MOUSE_RELEASE"]),
        ),
      ]],
      [CHANNEL_TYPES.cursor, [
        table(run(101, [
          "INIT",
          "RESET",
          "SET",
          "MOVE",
          "HIDE",
          "TRAIL",
          "INVAL_ONE",
          "INVAL_ALL",
        ])),
        EMPTY,
      ]],
      [CHANNEL_TYPES.playback, [
        table(run(101, ["DATA", "MODE", "START", "STOP", "VOLUME", "MUTE", "LATENCY"])),
        EMPTY,
      ]],
      [CHANNEL_TYPES.record, [
        table(run(101, ["START", "STOP", "VOLUME", "MUTE"])),
        table(run(101, ["DATA", "MODE", "START_MARK"])),
      ]],
      [CHANNEL_TYPES.tunnel, [
        table(run(101, [
          "INIT",
          "SERVICE_IP_MAP",
          "SOCKET_OPEN",
          "SOCKET_FIN",
          "SOCKET_CLOSE",
          "SOCKET_DATA",
          "SOCKET_CLOSED_ACK",
          "SOCKET_TOKEN",
        ])),
        table(run(101, [
          "SERVICE_ADD",
          "SERVICE_REMOVE",
          "SOCKET_OPEN_ACK",
          "SOCKET_OPEN_NACK",
          "SOCKET_FIN",
          "SOCKET_CLOSED",
          "SOCKET_CLOSED_ACK",
          "SOCKET_DATA",
          "SOCKET_TOKEN",
        ])),
      ]],
      // enums.h gives every smartcard client name the value 101; only DATA is a real message.
      [CHANNEL_TYPES.smartcard, [table(run(101, ["DATA"])), table(run(101, ["DATA"]))]],
      [CHANNEL_TYPES.usbredir, [table(SPICEVMC_SERVER), table(SPICEVMC_CLIENT)]],
      [CHANNEL_TYPES.port, [
        table(SPICEVMC_SERVER, run(201, ["PORT_INIT", "PORT_EVENT"])),
        table(SPICEVMC_CLIENT, run(201, ["PORT_EVENT"])),
      ]],
      [CHANNEL_TYPES.webdav, [
        table(SPICEVMC_SERVER, run(201, ["PORT_INIT", "PORT_EVENT"])),
        table(SPICEVMC_CLIENT, run(201, ["PORT_EVENT"])),
      ]],
    ]),
  );

/** Link error / link result codes (SPICE_LINK_ERR_*). */
export const LINK_ERRORS: NameTable = table(run(0, [
  "OK",
  "ERROR",
  "INVALID_MAGIC",
  "INVALID_DATA",
  "VERSION_MISMATCH",
  "NEED_SECURED",
  "NEED_UNSECURED",
  "PERMISSION_DENIED",
  "BAD_CONNECTION_ID",
  "CHANNEL_NOT_AVAILABLE",
]));

/** Common capability bits (SPICE_COMMON_CAP_*). */
export const COMMON_CAPS: NameTable = table(run(0, [
  "PROTOCOL_AUTH_SELECTION",
  "AUTH_SPICE",
  "AUTH_SASL",
  "MINI_HEADER",
]));

const SPICEVMC_CAPS: NameTable = table(run(0, ["DATA_COMPRESS_LZ4"]));

/** Channel capability bits: channel type → bit → name (channels without caps map to an empty table). */
export const CHANNEL_CAPS: ReadonlyMap<number, NameTable> = Object.freeze(
  new Map<number, NameTable>([
    [
      CHANNEL_TYPES.main,
      table(run(0, [
        "SEMI_SEAMLESS_MIGRATE",
        "NAME_AND_UUID",
        "AGENT_CONNECTED_TOKENS",
        "SEAMLESS_MIGRATE",
      ])),
    ],
    [
      CHANNEL_TYPES.display,
      table(run(0, [
        "SIZED_STREAM",
        "MONITORS_CONFIG",
        "COMPOSITE",
        "A8_SURFACE",
        "STREAM_REPORT",
        "LZ4_COMPRESSION",
        "PREF_COMPRESSION",
        "GL_SCANOUT",
        "MULTI_CODEC",
        "CODEC_MJPEG",
        "CODEC_VP8",
        "CODEC_H264",
        "PREF_VIDEO_CODEC_TYPE",
        "CODEC_VP9",
        "CODEC_H265",
      ])),
    ],
    [CHANNEL_TYPES.inputs, table(run(0, ["KEY_SCANCODE"]))],
    [CHANNEL_TYPES.cursor, EMPTY],
    [CHANNEL_TYPES.playback, table(run(0, ["CELT_0_5_1", "VOLUME", "LATENCY", "OPUS"]))],
    [CHANNEL_TYPES.record, table(run(0, ["CELT_0_5_1", "VOLUME", "OPUS"]))],
    [CHANNEL_TYPES.tunnel, EMPTY],
    [CHANNEL_TYPES.smartcard, EMPTY],
    [CHANNEL_TYPES.usbredir, SPICEVMC_CAPS],
    [CHANNEL_TYPES.port, SPICEVMC_CAPS],
    [CHANNEL_TYPES.webdav, SPICEVMC_CAPS],
  ]),
);

/** Placeholder name for a number no table knows: `unknown(n)`. */
export function unknownName(n: number): string {
  return `unknown(${n})`;
}

/**
 * Lower-case name of a channel type.
 *
 * @param type channel type number
 * @returns "main", "display", … or `unknown(n)`
 */
export function channelName(type: number): string {
  return CHANNEL_NAMES.get(type) ?? unknownName(type);
}

/**
 * Channel type number for a lower-case channel name.
 *
 * @param name "main", "display", …
 * @returns the type, or undefined for an unknown name
 */
export function channelType(name: string): number | undefined {
  return Object.hasOwn(CHANNEL_TYPES, name) ? CHANNEL_TYPES[name as ChannelName] : undefined;
}

/**
 * One message number in one direction: `fromClient` true for client → server (MSGC), false for
 * server → client (MSG), and the `type` from the header. A message unit is one.
 */
export interface MessageKey {
  /** True for client → server (MSGC), false for server → client (MSG). */
  readonly fromClient: boolean;
  /** Message type from the header. */
  readonly type: number;
}

/**
 * The name table that holds `type` for this channel and direction: the common table below 101,
 * the channel's own table from 101 on (empty for an unknown channel).
 */
export function messageTable(channelType: number, message: MessageKey): NameTable {
  const { fromClient, type } = message;
  if (type < FIRST_CHANNEL_MESSAGE) {
    return fromClient ? COMMON_CLIENT_MESSAGES : COMMON_SERVER_MESSAGES;
  }
  const pair = CHANNEL_MESSAGES.get(channelType);
  return pair ? pair[fromClient ? 1 : 0] : EMPTY;
}

/**
 * Name of a message type, upper snake case without prefix ("INIT", "SET_ACK", "DRAW_COPY").
 *
 * @param channelType channel type number (1 main … 11 webdav)
 * @param message direction and message type from the header (a message unit will do)
 * @returns the name, or `unknown(n)`
 * @example messageName(1, { fromClient: false, type: 103 }) // "INIT"
 */
export function messageName(channelType: number, message: MessageKey): string {
  return messageTable(channelType, message).get(message.type) ?? unknownName(message.type);
}

/**
 * Message type number for a name, searching the common table and then the channel's table.
 *
 * @returns the number, or undefined when neither table has the name
 */
export function messageType(
  channelType: number,
  message: { readonly fromClient: boolean; readonly name: string },
): number | undefined {
  const { fromClient, name } = message;
  const common = fromClient ? COMMON_CLIENT_MESSAGES : COMMON_SERVER_MESSAGES;
  const own = CHANNEL_MESSAGES.get(channelType)?.[fromClient ? 1 : 0] ?? EMPTY;
  for (const t of [common, own]) {
    for (const [n, candidate] of t) if (candidate === name) return n;
  }
  return undefined;
}

/**
 * Name of a link error / link result code ("OK", "PERMISSION_DENIED", …) or `unknown(n)`.
 */
export function linkErrorName(code: number): string {
  return LINK_ERRORS.get(code) ?? unknownName(code);
}

/**
 * Names of the capability bits set in `words` (bit n in word n/32, bit n%32).
 *
 * @param channel a channel type number for channel caps, or "common"
 * @param words the capability words from a link message or reply
 * @returns names in bit order; bits the table does not know become `unknown(n)`
 * @example capNames("common", [0x0b]) // ["PROTOCOL_AUTH_SELECTION", "AUTH_SPICE", "MINI_HEADER"]
 */
export function capNames(channel: number | "common", words: readonly number[]): string[] {
  const names = channel === "common" ? COMMON_CAPS : CHANNEL_CAPS.get(channel) ?? EMPTY;
  const out: string[] = [];
  words.forEach((word, w) => {
    for (let bit = 0; bit < 32; bit++) {
      if (((word >>> bit) & 1) === 0) continue;
      const n = w * 32 + bit;
      out.push(names.get(n) ?? unknownName(n));
    }
  });
  return out;
}
