/**
 * The wire protocol's message shapes (see docs/PROTOCOL.md) and the decoder for
 * what clients send in JSON mode.
 *
 * @module
 */
import { RelayError } from "./errors.ts";
import type { ErrorCode } from "./errors.ts";

/** Protocol version spoken by this relay. */
export const PROTOCOL_VERSION = 1;

/** Describes a shared file. */
export interface FileInfo {
  /** File name as the sender gave it (sanitised, no path). */
  name: string;
  /** Media type, for example `image/png`; `application/octet-stream` when unknown. */
  type: string;
  /** Size in bytes. */
  size: number;
}

/** Limits a client should respect before sending, announced in `hello`. */
export interface AnnouncedLimits {
  /** Longest line a text-mode TCP client may send, in bytes. */
  maxLineBytes: number;
  /** Largest JSON message (WebSocket text frame or TCP JSON line), in bytes. */
  maxFrameBytes: number;
  /** Largest chat text, in bytes of UTF-8. */
  maxTextBytes: number;
  /** Largest shared file, in bytes. */
  maxFileBytes: number;
}

/** The relay greets a JSON-mode client with its protocol version and limits. */
export interface HelloEvent {
  type: "hello";
  protocol: number;
  server: string;
  limits: AnnouncedLimits;
}

/** Sent to a client once it is logged in. */
export interface WelcomeEvent {
  type: "welcome";
  session: string;
  name: string;
  /** How many other users are online. */
  others: number;
  rooms: string[];
  motd?: string;
}

/** A message said in a room; text or a shared file. */
export interface MessageEvent {
  type: "message";
  id: string;
  ts: number;
  room: string;
  from: string;
  text?: string;
  /** Set for `/me` actions. */
  action?: boolean;
  file?: FileInfo;
  /** File bytes; base64 in JSON, the frame payload in binary frames. */
  data?: Uint8Array;
}

/** A private message between two users. Both the recipient and the sender receive it. */
export interface DirectEvent {
  type: "direct";
  id: string;
  ts: number;
  from: string;
  to: string;
  text?: string;
  action?: boolean;
  file?: FileInfo;
  data?: Uint8Array;
}

/** Someone joined a room (also sent to the joiner as confirmation). */
export interface JoinedEvent {
  type: "joined";
  ts: number;
  room: string;
  name: string;
}

/** Someone left a room, or disconnected while in it. */
export interface LeftEvent {
  type: "left";
  ts: number;
  room: string;
  name: string;
  reason: "leave" | "disconnect";
}

/** A member of `room` changed name. `room` is absent when the user is in no room. */
export interface RenamedEvent {
  type: "renamed";
  ts: number;
  room?: string;
  from: string;
  to: string;
}

/** Who is in a room. `members` may be cut short; `count` is the full number. */
export interface PresenceEvent {
  type: "presence";
  room: string;
  members: string[];
  count: number;
  ref?: string;
}

/** The rooms that exist and how many members each has. */
export interface RoomsEvent {
  type: "rooms";
  rooms: { name: string; members: number }[];
  ref?: string;
}

/** The answer to `ping`. */
export interface PongEvent {
  type: "pong";
  ts: number;
  ref?: string;
}

/** A line from the server itself: message of the day, announcements, shutdown. */
export interface NoticeEvent {
  type: "notice";
  ts: number;
  text: string;
}

/** Something went wrong; `code` is stable (see docs/PROTOCOL.md). */
export interface ErrorEvent {
  type: "error";
  code: ErrorCode;
  message: string;
  ref?: string;
}

/** Every event the relay sends, a union discriminated on `type`. */
export type ServerEvent =
  | HelloEvent
  | WelcomeEvent
  | MessageEvent
  | DirectEvent
  | JoinedEvent
  | LeftEvent
  | RenamedEvent
  | PresenceEvent
  | RoomsEvent
  | PongEvent
  | NoticeEvent
  | ErrorEvent;

/** What to say: text, or a file. */
export type Content =
  | { kind: "text"; text: string; action: boolean }
  | { kind: "file"; data: Uint8Array; name: string; type: string };

/** A decoded, validated client request. */
export type ClientRequest =
  | { type: "hello"; batch?: boolean; ref?: string }
  | { type: "login"; name: string; echo?: boolean; ref?: string }
  | { type: "nick"; name: string; ref?: string }
  | { type: "join"; room: string; ref?: string }
  | { type: "leave"; room: string; ref?: string }
  | { type: "publish"; room: string; content: Content; ref?: string }
  | { type: "direct"; to: string; content: Content; ref?: string }
  | { type: "presence"; room: string; ref?: string }
  | { type: "rooms"; ref?: string }
  | { type: "ping"; ref?: string }
  | { type: "echo"; on: boolean; ref?: string }
  | { type: "input"; line: string; ref?: string }
  | { type: "help"; ref?: string }
  | { type: "quit"; ref?: string };

type Fields = Record<string, unknown>;

function fail(message: string, code: ErrorCode = "bad_message", ref?: string): never {
  throw new RelayError(code, message, { ref });
}

function stringField(fields: Fields, key: string, ref: string | undefined): string {
  const value = Object.hasOwn(fields, key) ? fields[key] : undefined;
  if (typeof value !== "string") fail(`"${key}" must be a string`, "bad_message", ref);
  return value;
}

function optionalString(fields: Fields, key: string, ref: string | undefined): string | undefined {
  if (!Object.hasOwn(fields, key) || fields[key] === undefined) return undefined;
  return stringField(fields, key, ref);
}

function optionalBoolean(fields: Fields, key: string, ref: string | undefined) {
  const value = Object.hasOwn(fields, key) ? fields[key] : undefined;
  if (value === undefined) return undefined;
  if (typeof value !== "boolean") fail(`"${key}" must be true or false`, "bad_message", ref);
  return value;
}

/** Reads `text`/`action` or `data`/`file` from a publish or direct request. */
function content(fields: Fields, ref: string | undefined): Content {
  const data = optionalString(fields, "data", ref);
  if (data === undefined) {
    const text = stringField(fields, "text", ref);
    return { kind: "text", text, action: optionalBoolean(fields, "action", ref) ?? false };
  }
  let bytes: Uint8Array;
  try {
    bytes = Uint8Array.fromBase64(data);
  } catch {
    fail('"data" must be base64', "bad_message", ref);
  }
  const file = Object.hasOwn(fields, "file") ? fields.file : undefined;
  const info: Fields = typeof file === "object" && file !== null && !Array.isArray(file)
    ? file as Fields
    : {};
  return {
    kind: "file",
    data: bytes,
    name: optionalString(info, "name", ref) ?? "file",
    type: optionalString(info, "type", ref) ?? "application/octet-stream",
  };
}

/**
 * Decodes one JSON-mode message. Throws a {@link RelayError} with `bad_json`,
 * `bad_message` or `unknown_type`; the request's `ref`, when readable, is kept
 * on the error so the reply can carry it.
 */
export function decodeRequest(json: string): ClientRequest {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    fail("not valid JSON", "bad_json");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    fail("a message must be a JSON object");
  }
  const fields = parsed as Fields;
  const rawRef = Object.hasOwn(fields, "ref") ? fields.ref : undefined;
  const ref = typeof rawRef === "string" && rawRef.length <= 64 ? rawRef : undefined;
  const type = Object.hasOwn(fields, "type") ? fields.type : undefined;
  if (typeof type !== "string") fail('"type" must be a string', "bad_message", ref);
  const withRef = <T extends object>(request: T): T & { ref?: string } =>
    ref === undefined ? request : { ...request, ref };
  switch (type) {
    case "hello": {
      const batch = optionalBoolean(fields, "batch", ref);
      return withRef(batch === undefined ? { type } : { type, batch });
    }
    case "rooms":
    case "ping":
    case "help":
    case "quit":
      return withRef({ type });
    case "login": {
      const name = stringField(fields, "name", ref);
      const echo = optionalBoolean(fields, "echo", ref);
      return withRef(echo === undefined ? { type, name } : { type, name, echo });
    }
    case "nick":
      return withRef({ type, name: stringField(fields, "name", ref) });
    case "join":
    case "leave":
    case "presence":
      return withRef({ type, room: stringField(fields, "room", ref) });
    case "publish":
      return withRef({
        type,
        room: stringField(fields, "room", ref),
        content: content(fields, ref),
      });
    case "direct":
      return withRef({ type, to: stringField(fields, "to", ref), content: content(fields, ref) });
    case "echo":
      return withRef({ type, on: optionalBoolean(fields, "on", ref) ?? true });
    case "input":
      return withRef({ type, line: stringField(fields, "line", ref) });
    default:
      fail(`unknown message type "${type.slice(0, 32)}"`, "unknown_type", ref);
  }
}
