/**
 * Names given on the command line, checked against the protocol tables: message names
 * (`inspect --type`, `diff --ignore-type`) and channels (`inspect --channel`). A name the
 * tables do not know is a UsageError with the nearest known name.
 */
import { knownUnitNames } from "../lib/session/message_text.ts";
import { CHANNEL_MESSAGES, CHANNEL_TYPES, channelName } from "../lib/spice/tables.ts";
import { checkName } from "./args.ts";

/**
 * Message names as the flags take them: every name the tables print, and each channel's own
 * messages prefixed with the channel (`MAIN_NAME`), as `diff --ignore-type` matches them.
 */
function messageNames(options: { prefixed: boolean }): string[] {
  const names = knownUnitNames();
  if (!options.prefixed) return names;
  for (const [type, pair] of CHANNEL_MESSAGES) {
    const prefix = channelName(type).toUpperCase();
    for (const table of pair) for (const name of table.values()) names.push(`${prefix}_${name}`);
  }
  return names;
}

/**
 * Checks the values of a message-name flag.
 *
 * @param flag the flag without dashes, for the message
 * @param values what was given (undefined when the flag is absent)
 * @param options `prefixed`: also accept `CHANNEL_NAME` forms
 * @returns the names as the tables spell them, or undefined when absent
 * @throws {UsageError} `--ignore-type: unknown message name PINGG; did you mean PING?`
 */
export function messageNameFlag(
  flag: string,
  values: readonly string[] | undefined,
  options: { prefixed?: boolean } = {},
): string[] | undefined {
  if (values === undefined) return undefined;
  const names = messageNames({ prefixed: options.prefixed === true });
  return values.map((v) => checkName(flag, v, { names, what: "message name" }));
}

/**
 * Checks a channel flag: `NAME`, `NAME-ID` or `NAME:ID`, NAME from the channel table.
 *
 * @returns the channel label as inspect prints it: "display", "display-1"
 * @throws {UsageError} `--channel: unknown channel dispaly; did you mean display?`
 */
export function channelFlag(flag: string, text: string): string {
  const m = /^([^-:]*)(?:[-:](\d+))?$/.exec(text.toLowerCase());
  const base = checkName(flag, m ? m[1] : text, {
    names: Object.keys(CHANNEL_TYPES),
    what: "channel",
  });
  return m?.[2] !== undefined && Number(m[2]) !== 0 ? `${base}-${Number(m[2])}` : base;
}
