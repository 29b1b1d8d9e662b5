/**
 * Extra diff rules from a JSON file (`--rules FILE`): a list of objects
 *
 * ```json
 * [
 *   { "channel": "display", "direction": "toClient", "message": "DRAW_COPY", "range": [20, 64], "action": "mask" },
 *   { "channel": "main", "message": "INIT", "field": "ramHint", "action": "mask" },
 *   { "channel": "inputs", "message": "KEY_MODIFIERS", "action": "ignore" }
 * ]
 * ```
 *
 * `channel`: name or number (absent = all); `direction`: "toServer" (client → server),
 * "toClient" (server → client) or absent (both); `message`: table name, optionally with the
 * channel prefix, or a link-phase name ("LINK", "LINK_REPLY" or "linkReply", "TICKET", …); `range`: [start, end)
 * of the body (messages) or of the unit (link phase), end optional; `field`: a field name from
 * the layout table instead of a range; `action`: "mask" (ignore those bytes; the whole unit when
 * neither range nor field is given) or "ignore" (drop the unit). Rules with `"kind": "screen"`
 * mask screen areas instead (lib/display/masks.ts; replay's screen gate reads them) and are
 * skipped here.
 */
import { channelName, channelType, messageType } from "../spice/tables.ts";
import { SPICE_LINK_KINDS } from "../spice/types.ts";
import { fieldLayout, fieldRange } from "./fields.ts";
import { isScreenRule } from "../display/masks.ts";
import type { DiffRule } from "./types.ts";

/** A rules file that is not a valid rule list; the message names the file and the rule. */
export class RulesError extends Error {
  /** Always "RulesError". */
  override name = "RulesError";
}

const KEYS = new Set(["channel", "direction", "message", "range", "field", "action", "comment"]);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Parses and validates a rules file.
 *
 * @param text the file's contents
 * @param file name used in errors
 * @returns the rules, in file order
 * @throws {RulesError} naming the rule index and the problem
 */
export function parseRules(text: string, file: string): DiffRule[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new RulesError(`${file}: not valid JSON: ${(e as SyntaxError).message}`);
  }
  if (!Array.isArray(value)) throw new RulesError(`${file}: expected a JSON list of rules`);
  return value.flatMap((raw, i): DiffRule[] => {
    if (isScreenRule(raw)) return [];
    const fail = (what: string): never => {
      throw new RulesError(`${file}: rule ${i}: ${what}`);
    };
    if (!isObject(raw)) return fail("expected an object");
    for (const k of Object.keys(raw)) if (!KEYS.has(k)) fail(`unknown key '${k}'`);
    const rule: DiffRule = { start: 0, action: "mask" };
    if (raw.action !== "mask" && raw.action !== "ignore") {
      fail(`'action' must be "mask" or "ignore", got ${JSON.stringify(raw.action)}`);
    }
    rule.action = raw.action as "mask" | "ignore";
    if (raw.channel !== undefined) {
      const t = typeof raw.channel === "number" ? raw.channel : channelType(String(raw.channel));
      if (t === undefined || !Number.isInteger(t)) {
        fail(`unknown channel ${JSON.stringify(raw.channel)}`);
      }
      rule.channel = t;
    }
    if (raw.direction !== undefined) {
      if (raw.direction !== "toServer" && raw.direction !== "toClient") {
        fail(`'direction' must be "toServer" or "toClient"`);
      }
      rule.fromClient = raw.direction === "toServer";
    }
    if (raw.message !== undefined) {
      if (typeof raw.message !== "string" || raw.message === "") fail("'message' must be a name");
      rule.message = raw.message as string;
    }
    if (raw.range !== undefined) {
      const r = raw.range;
      const ok = Array.isArray(r) && (r.length === 1 || r.length === 2) &&
        r.every((n) => Number.isInteger(n) && n >= 0) && (r.length === 1 || r[1] > r[0]);
      if (!ok) fail("'range' must be [start] or [start, end] with 0 ≤ start < end");
      rule.start = (r as number[])[0];
      rule.end = (r as number[])[1];
    }
    if (raw.field !== undefined) {
      if (raw.range !== undefined) fail("give 'range' or 'field', not both");
      const range = resolveField(rule, String(raw.field));
      if (!range) {
        fail(
          `field ${JSON.stringify(raw.field)} is not known for ${
            rule.message ?? "(no message)"
          }; give 'channel', 'message' and a field from the layout table, or a 'range'`,
        );
      }
      rule.field = String(raw.field);
      rule.start = range!.start;
      rule.end = range!.end;
    }
    return [rule];
  });
}

function resolveField(rule: DiffRule, field: string): { start: number; end?: number } | undefined {
  if (rule.message === undefined) return undefined;
  const directions = rule.fromClient === undefined ? [true, false] : [rule.fromClient];
  for (const fromClient of directions) {
    const given = rule.message.toLowerCase().replaceAll("_", "");
    const kind = SPICE_LINK_KINDS.find((k) => k.toLowerCase() === given);
    if (kind) {
      const r = fieldRange(
        fieldLayout({ channelType: rule.channel ?? 0, fromClient, kind, type: undefined }),
        field,
      );
      if (r) return r;
      continue;
    }
    const ch = rule.channel ?? 0;
    const upper = rule.message.toUpperCase();
    const prefix = `${channelName(ch).toUpperCase()}_`;
    const candidates = upper.startsWith(prefix) ? [upper, upper.slice(prefix.length)] : [upper];
    for (const name of candidates) {
      const type = messageType(ch, { fromClient, name });
      if (type === undefined) continue;
      const r = fieldRange(
        fieldLayout({ channelType: ch, fromClient, kind: "message", type }),
        field,
      );
      if (r) return r;
    }
  }
  return undefined;
}
