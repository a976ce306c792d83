// The --config file: JSON with comments and trailing commas, holding the room
// rules. Every field is checked, unknown ones included (a typo must not pass
// for a rule that silently does nothing), and the first mistake stops the CLI
// with one line naming the file and the field.

import { type Node, type ParseError, parseTree, printParseErrorCode } from "jsonc-parser";
import { validateRoom } from "../core/names.ts";
import type { RoomPolicies, RoomPolicy } from "../core/policies.ts";
import { fail } from "./errors.ts";
import { readFlagFile } from "./files.ts";

/** What a config file sets. */
export interface ConfigFile {
  /** Room rules by name or pattern, in the file's order (patterns match first to last). */
  readonly rooms: RoomPolicies;
}

/** The most messages a room may keep by its rule (the relay keeps them in memory). */
export const MAX_ROOM_HISTORY = 10_000;

const TOP_LEVEL = ["rooms", "$schema"];
const RULES = ["readOnly", "private", "maxMembers", "history"] as const;

/** Reads and checks the config file at `path`; a CliError says what is wrong with it. */
export function readConfig(path: string, readTextFile: (path: string) => string): ConfigFile {
  return parseConfig(readFlagFile("config", path, readTextFile), path);
}

/**
 * Checks `text`, the config file called `file` (for messages), and returns
 * what it sets; a CliError at the first mistake.
 */
export function parseConfig(text: string, file: string): ConfigFile {
  const root = parseJson(text, file);
  const wrong = (field: string, why: string): never => fail(`${file}: ${field} ${why}`);
  if (root.type !== "object") {
    wrong("the top level", `must be an object ({ "rooms": ... }), not ${shown(text, root)}`);
  }
  let rooms: RoomPolicies = {};
  for (const [key, value] of properties(root, "the top level", wrong)) {
    if (key === "$schema") {
      if (value.type !== "string") {
        wrong('"$schema"', `must be a string, not ${shown(text, value)}`);
      }
    } else if (key === "rooms") {
      rooms = roomPolicies(text, value, wrong);
    } else {
      wrong(JSON.stringify(key), `is not a setting (the settings are ${TOP_LEVEL.join(", ")})`);
    }
  }
  return { rooms };
}

type Wrong = (field: string, why: string) => never;

/** The room rules, each key a room name or pattern. */
function roomPolicies(text: string, node: Node, wrong: Wrong): RoomPolicies {
  if (node.type !== "object") {
    wrong("rooms", `must be an object of room names to rules, not ${shown(text, node)}`);
  }
  const entries: [string, RoomPolicy][] = [];
  const written = new Map<string, string>();
  for (const [key, value] of properties(node, "rooms", wrong)) {
    const field = `rooms[${JSON.stringify(key)}]`;
    let room: string;
    try {
      // `*` is a visible character, so a pattern passes as a room name.
      room = validateRoom(key);
    } catch (error) {
      return wrong(field, `is not a room name or pattern: ${(error as Error).message}`);
    }
    const earlier = written.get(room);
    if (earlier !== undefined) {
      wrong(field, `names the same rooms as rooms[${JSON.stringify(earlier)}]`);
    }
    written.set(room, key);
    entries.push([room, roomPolicy(text, value, field, wrong)]);
  }
  // fromEntries defines own properties: a room called "__proto__" stays a room.
  return Object.fromEntries(entries);
}

/** One room's rules. */
function roomPolicy(text: string, node: Node, field: string, wrong: Wrong): RoomPolicy {
  if (node.type !== "object") {
    wrong(field, `must be an object of rules (${RULES.join(", ")}), not ${shown(text, node)}`);
  }
  const policy: RoomPolicy = {};
  for (const [key, value] of properties(node, field, wrong)) {
    const rule = `${field}.${key}`;
    const not = `not ${shown(text, value)}`;
    switch (key) {
      case "readOnly":
      case "private":
        if (value.type !== "boolean") wrong(rule, `must be true or false, ${not}`);
        policy[key] = value.value as boolean;
        break;
      case "maxMembers":
        if (!wholeNumber(value, 1, Number.MAX_SAFE_INTEGER)) {
          wrong(rule, `must be a whole number of 1 or more, ${not}`);
        }
        policy.maxMembers = value.value as number;
        break;
      case "history":
        if (!wholeNumber(value, 0, MAX_ROOM_HISTORY)) {
          wrong(rule, `must be a whole number from 0 to ${MAX_ROOM_HISTORY}, ${not}`);
        }
        policy.history = value.value as number;
        break;
      default: {
        const meant = RULES.find((known) => known.toLowerCase() === key.toLowerCase());
        wrong(
          /^[A-Za-z_$][\w$]*$/.test(key) ? rule : `${field}[${JSON.stringify(key)}]`,
          meant === undefined
            ? `is not a room rule (the rules are ${RULES.join(", ")})`
            : `is not a room rule; did you mean ${meant}?`,
        );
      }
    }
  }
  return policy;
}

function wholeNumber(node: Node, min: number, max: number): boolean {
  const value = node.value;
  return node.type === "number" && Number.isInteger(value) && value >= min && value <= max;
}

/** An object's properties in order; a key written twice is a mistake (the last would win). */
function properties(node: Node, field: string, wrong: Wrong): [string, Node][] {
  const seen = new Set<string>();
  const result: [string, Node][] = [];
  for (const property of node.children ?? []) {
    const [keyNode, value] = property.children ?? [];
    // The parser reported any property without a value, so both are here.
    const key = keyNode!.value as string;
    if (seen.has(key)) wrong(field, `has ${JSON.stringify(key)} twice`);
    seen.add(key);
    result.push([key, value!]);
  }
  return result;
}

/** A value as the file wrote it, for messages; a long one by its kind. */
function shown(text: string, node: Node): string {
  const written = text.slice(node.offset, node.offset + node.length);
  if (written.length <= 40 && !written.includes("\n")) return written;
  return node.type === "object" ? "an object" : node.type === "array" ? "an array" : "that";
}

// Friendlier words than the parser's codes, where they help.
const PARSE_ERRORS: Record<string, string> = {
  InvalidSymbol: "unexpected character; property names and strings need double quotes",
  ValueExpected: "value expected",
  EndOfFileExpected: "end of file expected: one object only",
};

/** The JSON tree of `text`; a CliError with the line and column of the first syntax error. */
function parseJson(text: string, file: string): Node {
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, { allowTrailingComma: true, allowEmptyContent: false });
  const first = errors[0];
  if (first === undefined && root !== undefined) return root;
  if (text.trim() === "") fail(`${file}: the file is empty; it should hold { "rooms": { ... } }`);
  const offset = first?.offset ?? 0;
  const code = first === undefined ? "ValueExpected" : printParseErrorCode(first.error);
  const why = PARSE_ERRORS[code] ?? code.replace(/(?!^)([A-Z])/g, " $1").toLowerCase();
  return fail(`${file}:${lineAndColumn(text, offset)}: the JSON is malformed (${why})`);
}

/** "line:column" of `offset`, both from 1, the column in characters. */
function lineAndColumn(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const lineStart = before.lastIndexOf("\n") + 1;
  const line = before.split("\n").length;
  const column = [...before.slice(lineStart)].length + 1;
  return `${line}:${column}`;
}
