/**
 * The protocol of who may do what: tokens (`refresh`), operators (`oper`),
 * moderation (`kick`, `ban`, `unban`, `mute`, `unmute`, `topic`) and the
 * events everyone sees when a moderator acts.
 *
 * @module
 */
import { RelayError } from "./errors.ts";

/**
 * What a moderator did, as everyone in the target's rooms (and the moderator)
 * sees it. An address ban names the address.
 *
 * @example A kick, as a JSON client receives it
 * ```ts
 * import type { ModeratedEvent } from "@crosswire/relay";
 * const event: ModeratedEvent = {
 *   type: "moderated",
 *   ts: 0,
 *   action: "kick",
 *   name: "bob",
 *   by: "ann",
 *   reason: "spam",
 *   room: "lobby",
 * };
 * if (event.action !== "kick") throw new Error("unexpected action");
 * ```
 */
export interface ModeratedEvent {
  /** Discriminant: always `"moderated"`. */
  type: "moderated";
  /** When, in milliseconds since the epoch. */
  ts: number;
  /** What was done. */
  action: "kick" | "ban" | "unban" | "mute" | "unmute";
  /** Whom it was done to: a name, or an address for an address ban. */
  name: string;
  /** Who did it: a moderator's name, or `server` for the server API. */
  by: string;
  /** Why, as the moderator said. */
  reason?: string;
  /** When a ban or mute ends, in milliseconds since the epoch. */
  until?: number;
  /** The room this copy was sent to; absent when sent to one user. */
  room?: string;
}

/**
 * A room's topic: sent to the room when it changes and to each user who joins.
 *
 * @example
 * ```ts
 * import type { TopicEvent } from "@crosswire/relay";
 * const event: TopicEvent = { type: "topic", ts: 0, room: "lobby", text: "Welcome!", by: "ann" };
 * if (event.text === "") throw new Error("a topic");
 * ```
 */
export interface TopicEvent {
  /** Discriminant: always `"topic"`. */
  type: "topic";
  /** When it was set, in milliseconds since the epoch. */
  ts: number;
  /** The room. */
  room: string;
  /** The topic; empty when it was cleared. */
  text: string;
  /** Who set it. */
  by: string;
}

/** Requests about tokens, operators and moderation. */
export type AdminRequest =
  | { type: "refresh"; token: string; ref?: string }
  | { type: "oper"; password: string; ref?: string }
  | { type: "kick"; name: string; reason?: string; ref?: string }
  | { type: "ban"; target: string; minutes?: number; reason?: string; ref?: string }
  | { type: "unban"; target: string; ref?: string }
  | { type: "mute"; name: string; minutes?: number; reason?: string; ref?: string }
  | { type: "unmute"; name: string; ref?: string }
  | { type: "topic"; room: string; text?: string; ref?: string };

/** Longest reason or topic, in characters. */
export const MAX_REASON = 300;
/** Longest ban or mute, in minutes: a year. */
export const MAX_MINUTES = 525_600;

type Fields = Record<string, unknown>;

function field(fields: Fields, key: string): unknown {
  return Object.hasOwn(fields, key) ? fields[key] : undefined;
}

function bad(message: string, ref: string | undefined): never {
  throw new RelayError("bad_message", message, { ref });
}

function text(fields: Fields, key: string, ref: string | undefined, max = 256): string {
  const value = field(fields, key);
  if (typeof value !== "string") bad(`"${key}" must be a string`, ref);
  if (value.length > max) bad(`"${key}" may be at most ${max} characters`, ref);
  return value;
}

function optionalText(fields: Fields, key: string, ref: string | undefined, max: number) {
  return field(fields, key) === undefined ? undefined : text(fields, key, ref, max);
}

function minutes(fields: Fields, ref: string | undefined): number | undefined {
  const value = field(fields, "minutes");
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0 || value > MAX_MINUTES) {
    bad(`"minutes" must be a number above 0 and at most ${MAX_MINUTES}`, ref);
  }
  return value;
}

/**
 * Decodes one of the {@link AdminRequest} types from a JSON object's fields;
 * undefined when `type` is none of them.
 */
export function decodeAdminRequest(
  type: string,
  fields: Fields,
  ref: string | undefined,
): AdminRequest | undefined {
  const withRef = <T extends object>(request: T): T & { ref?: string } =>
    ref === undefined ? request : { ...request, ref };
  const reason = () => optionalText(fields, "reason", ref, MAX_REASON);
  const extra = (values: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined));
  switch (type) {
    case "refresh":
      return withRef({ type, token: text(fields, "token", ref, 8192) });
    case "oper":
      return withRef({ type, password: text(fields, "password", ref, 1024) });
    case "kick":
      return withRef({ type, name: text(fields, "name", ref), ...extra({ reason: reason() }) });
    case "ban":
      return withRef({
        type,
        target: text(fields, "target", ref),
        ...extra({ minutes: minutes(fields, ref), reason: reason() }),
      });
    case "mute":
      return withRef({
        type,
        name: text(fields, "name", ref),
        ...extra({ minutes: minutes(fields, ref), reason: reason() }),
      });
    case "unban":
      return withRef({ type, target: text(fields, "target", ref) });
    case "unmute":
      return withRef({ type, name: text(fields, "name", ref) });
    case "topic":
      return withRef({
        type,
        room: text(fields, "room", ref),
        ...extra({ text: optionalText(fields, "text", ref, MAX_REASON) }),
      });
    default:
      return undefined;
  }
}
