/**
 * The wire protocol's message shapes (see docs/PROTOCOL.md) and the decoder for
 * what clients send in JSON mode.
 *
 * @module
 */
import { RelayError } from "./errors.ts";
import type { ErrorCode } from "./errors.ts";
import { tooStructured } from "./_structure.ts";
import {
  type AdminRequest,
  decodeAdminRequest,
  type ModeratedEvent,
  type TopicEvent,
} from "./protocol_admin.ts";

export type { AdminRequest, ModeratedEvent, TopicEvent } from "./protocol_admin.ts";

/**
 * Protocol version spoken by this relay, announced in every `hello` so a
 * client can refuse a relay it does not understand.
 *
 * @example Checking the version a relay announces
 * ```ts
 * import { type HelloEvent, type Port, PROTOCOL_VERSION, Relay } from "@crosswire/relay";
 * const port: Port = { framing: "frames", wake: () => {}, close: () => {} };
 * const session = new Relay().connect(port);
 * const hello: HelloEvent = JSON.parse(session.outbound.take()[0]!.data as string);
 * if (hello.protocol !== PROTOCOL_VERSION) throw new Error("unexpected protocol");
 * ```
 */
export const PROTOCOL_VERSION = 1;

/**
 * Describes a shared file.
 *
 * @example The relay strips the path from a shared file's name
 * ```ts
 * import { decodeBinaryFrame, encodeBinaryFrame, Relay } from "@crosswire/relay";
 * import type { FileInfo, Port } from "@crosswire/relay";
 * const port: Port = { framing: "frames", wake: () => {}, close: () => {} };
 * const session = new Relay().connect(port);
 * session.receiveText('{"type":"login","name":"ann","echo":true}');
 * const file = { name: "../cat.png", type: "image/png" };
 * session.receiveBinary(encodeBinaryFrame({ room: "lobby", file }, new Uint8Array(3)));
 * const frame = session.outbound.take().at(-1)!.data as Uint8Array;
 * const info = decodeBinaryFrame(frame).header.file as FileInfo;
 * if (info.name !== "cat.png" || info.size !== 3) throw new Error("unexpected file info");
 * ```
 */
export interface FileInfo {
  /** File name as the sender gave it (sanitised, no path). */
  name: string;
  /** Media type, for example `image/png`; `application/octet-stream` when unknown. */
  type: string;
  /** Size in bytes. */
  size: number;
}

/**
 * Limits a client should respect before sending, announced in `hello`.
 *
 * @example Reading the limits from `hello`
 * ```ts
 * import type { AnnouncedLimits, HelloEvent, Port } from "@crosswire/relay";
 * import { Relay } from "@crosswire/relay";
 * const port: Port = { framing: "frames", wake: () => {}, close: () => {} };
 * const session = new Relay({ maxFileBytes: 1024 }).connect(port);
 * const hello: HelloEvent = JSON.parse(session.outbound.take()[0]!.data as string);
 * const limits: AnnouncedLimits = hello.limits;
 * if (limits.maxFileBytes !== 1024) throw new Error("limit not announced");
 * ```
 */
export interface AnnouncedLimits {
  /** Longest line a text-mode TCP client may send, in bytes. */
  maxLineBytes: number;
  /** Largest JSON message (WebSocket text frame or TCP JSON line), in bytes. */
  maxFrameBytes: number;
  /** Largest chat text, in bytes of UTF-8. */
  maxTextBytes: number;
  /** Largest shared file, in bytes. */
  maxFileBytes: number;
  /** A client silent this long is closed (0: never); send `ping` more often than this. */
  idleTimeoutMs: number;
}

/**
 * The relay greets a JSON-mode client with its protocol version and limits.
 *
 * @example The first event on a WebSocket
 * ```ts
 * import { type Port, Relay, type ServerEvent } from "@crosswire/relay";
 * const port: Port = { framing: "frames", wake: () => {}, close: () => {} };
 * const session = new Relay({ serverName: "test" }).connect(port);
 * const event: ServerEvent = JSON.parse(session.outbound.take()[0]!.data as string);
 * if (event.type !== "hello" || event.server !== "test") throw new Error("no hello");
 * ```
 */
export interface HelloEvent {
  /** Discriminant: always `"hello"`. */
  type: "hello";
  /** The relay's {@link PROTOCOL_VERSION}. */
  protocol: number;
  /** The server's name, from the relay's `serverName` option. */
  server: string;
  /** What the client may send, in bytes, and how long it may stay silent. */
  limits: AnnouncedLimits;
  /** The `ref` of the `hello` request this answers, echoed back. */
  ref?: string;
}

/**
 * Sent to a client once it is logged in.
 *
 * @example Logging in
 * ```ts
 * import { type Port, Relay, type ServerEvent } from "@crosswire/relay";
 * const port: Port = { framing: "frames", wake: () => {}, close: () => {} };
 * const session = new Relay({ motd: "be kind" }).connect(port);
 * session.receiveText('{"type":"login","name":"ann","ref":"r1"}');
 * const events: ServerEvent[] = session.outbound.take().map((f) => JSON.parse(f.data as string));
 * const welcome = events.find((event) => event.type === "welcome");
 * if (welcome?.name !== "ann" || welcome.motd !== "be kind" || welcome.ref !== "r1") {
 *   throw new Error("no welcome");
 * }
 * ```
 */
export interface WelcomeEvent {
  /** Discriminant: always `"welcome"`. */
  type: "welcome";
  /** This connection's id, unique on the relay. */
  session: string;
  /** The name the user is logged in under, as the relay accepted it. */
  name: string;
  /** How many other users are online. */
  others: number;
  /** Rooms the user starts in (the lobby). */
  rooms: string[];
  /** Message of the day, when the relay has one. */
  motd?: string;
  /**
   * A secret for taking this name back after the connection drops: the name
   * is kept for this user for a while, and a `login` with this `reclaim` gets it.
   */
  reclaim: string;
  /**
   * A secret for `resume`: after a dropped connection, a new one that sends it
   * within the resume window gets this session back. Absent when the relay
   * keeps no sessions (its resume window is 0) and in text mode.
   */
  resume?: string;
  /** The position of your private stream when this welcome was sent. */
  direct?: Position;
  /** Set when this welcome answers `resume`: the same session, back. */
  resumed?: true;
  /** The `ref` of the `login` request this answers, echoed back. */
  ref?: string;
}

/**
 * A place in a room's history or a private stream: the offset of a message
 * and the epoch it belongs to.
 *
 * @example Two positions in the same epoch, with one message missed between them
 * ```ts
 * import type { Position } from "@crosswire/relay";
 * const seen: Position = { offset: 41, epoch: "k3x" };
 * const next: Position = { offset: 43, epoch: "k3x" };
 * if (next.epoch !== seen.epoch || next.offset - seen.offset - 1 !== 1) {
 *   throw new Error("one message was missed");
 * }
 * ```
 */
export interface Position {
  /** The message's number in its stream: 1 for the first, one more for each. */
  offset: number;
  /** Names the history behind the offsets; a new epoch means older positions are gone. */
  epoch: string;
}

/**
 * Opens a replay: `count` messages (or private messages) follow, oldest first.
 *
 * @example Recovering what was missed in a room
 * ```ts
 * import { type HistoryEvent, type Port, Relay } from "@crosswire/relay";
 * const port: Port = { framing: "frames", wake: () => {}, close: () => {} };
 * const relay = new Relay();
 * const ann = relay.connect(port);
 * ann.receiveText('{"type":"login","name":"ann"}');
 * ann.receiveText('{"type":"publish","room":"lobby","text":"one"}');
 * ann.receiveText('{"type":"publish","room":"lobby","text":"two"}');
 * ann.outbound.take();
 * ann.receiveText('{"type":"history","room":"lobby","limit":1}');
 * const [header, last] = ann.outbound.take().map((f) => JSON.parse(f.data as string));
 * const history: HistoryEvent = header;
 * if (history.count !== 1 || history.recovered || last.text !== "two") {
 *   throw new Error("unexpected replay");
 * }
 * ```
 */
export interface HistoryEvent {
  /** Discriminant: always `"history"`. */
  type: "history";
  /** The room replayed; absent for your private stream. */
  room?: string;
  /**
   * True when the messages that follow are exactly those after the `since`
   * asked for; false when they are only the latest (something may be missing).
   */
  recovered: boolean;
  /** The stream's epoch. */
  epoch: string;
  /** The stream's latest offset when it was read (0: no message yet). */
  offset: number;
  /** How many `message` or `direct` events follow. */
  count: number;
  /** The `ref` of the request this answers, echoed back. */
  ref?: string;
}

/**
 * A message said in a room; text or a shared file.
 *
 * @example Bob hears what Ann says in the lobby
 * ```ts
 * import { type MessageEvent, type Port, Relay } from "@crosswire/relay";
 * const port: Port = { framing: "frames", wake: () => {}, close: () => {} };
 * const relay = new Relay();
 * const ann = relay.connect(port);
 * const bob = relay.connect(port);
 * ann.receiveText('{"type":"login","name":"ann"}');
 * bob.receiveText('{"type":"login","name":"bob"}');
 * bob.outbound.take();
 * ann.receiveText('{"type":"publish","room":"lobby","text":"hi"}');
 * const message: MessageEvent = JSON.parse(bob.outbound.take()[0]!.data as string);
 * if (message.from !== "ann" || message.room !== "lobby" || message.text !== "hi") {
 *   throw new Error("unexpected message");
 * }
 * ```
 */
export interface MessageEvent {
  /** Discriminant: always `"message"`. */
  type: "message";
  /** Id the relay gave the message, unique on this relay. */
  id: string;
  /** When the relay accepted it, in milliseconds since the epoch. */
  ts: number;
  /** The room it was said in. */
  room: string;
  /** The sender's name. */
  from: string;
  /** The chat text; absent when a file was shared. */
  text?: string;
  /** Set for `/me` actions. */
  action?: boolean;
  /** The shared file's name, type and size; absent for text. */
  file?: FileInfo;
  /** File bytes; base64 in JSON, the frame payload in binary frames. */
  data?: Uint8Array;
  /**
   * The message's position in the room's history, counting up by one. Absent
   * only on a cluster node that cannot reach the others (the message is not kept).
   */
  offset?: number;
  /** Names the history behind `offset`; a new epoch means older positions are gone. */
  epoch?: string;
}

/**
 * A private message between two users. Both the recipient and the sender receive it.
 *
 * @example Ann whispers to Bob
 * ```ts
 * import { type DirectEvent, type Port, Relay } from "@crosswire/relay";
 * const port: Port = { framing: "frames", wake: () => {}, close: () => {} };
 * const relay = new Relay();
 * const ann = relay.connect(port);
 * const bob = relay.connect(port);
 * ann.receiveText('{"type":"login","name":"ann"}');
 * bob.receiveText('{"type":"login","name":"bob"}');
 * ann.outbound.take();
 * bob.outbound.take();
 * ann.receiveText('{"type":"direct","to":"bob","text":"psst"}');
 * const received: DirectEvent = JSON.parse(bob.outbound.take()[0]!.data as string);
 * const copy: DirectEvent = JSON.parse(ann.outbound.take()[0]!.data as string);
 * if (received.to !== "bob" || received.text !== "psst" || copy.id !== received.id) {
 *   throw new Error("unexpected direct message");
 * }
 * ```
 */
export interface DirectEvent {
  /** Discriminant: always `"direct"`. */
  type: "direct";
  /** Id the relay gave the message; the sender's copy has the same one. */
  id: string;
  /** When the relay accepted it, in milliseconds since the epoch. */
  ts: number;
  /** The sender's name. */
  from: string;
  /** The recipient's name. */
  to: string;
  /** The chat text; absent when a file was shared. */
  text?: string;
  /** Set for `/me` actions. */
  action?: boolean;
  /** The shared file's name, type and size; absent for text. */
  file?: FileInfo;
  /** File bytes; base64 in JSON, the frame payload in binary frames. */
  data?: Uint8Array;
  /** The position in the receiver's private stream (the sender's copy: the sender's). */
  offset?: number;
  /** The epoch of that private stream. */
  epoch?: string;
}

/**
 * Someone joined a room (also sent to the joiner as confirmation).
 *
 * @example Joining a second room
 * ```ts
 * import { type JoinedEvent, type Port, Relay } from "@crosswire/relay";
 * const port: Port = { framing: "frames", wake: () => {}, close: () => {} };
 * const session = new Relay().connect(port);
 * session.receiveText('{"type":"login","name":"ann"}');
 * session.outbound.take();
 * session.receiveText('{"type":"join","room":"dev"}');
 * const joined: JoinedEvent = JSON.parse(session.outbound.take()[0]!.data as string);
 * if (joined.type !== "joined" || joined.room !== "dev" || joined.name !== "ann") {
 *   throw new Error("unexpected event");
 * }
 * ```
 */
export interface JoinedEvent {
  /** Discriminant: always `"joined"`. */
  type: "joined";
  /** When it happened, in milliseconds since the epoch. */
  ts: number;
  /** The room joined. */
  room: string;
  /** Who joined. */
  name: string;
}

/**
 * Someone left a room, or disconnected while in it.
 *
 * @example Ann sees Bob disconnect (on a relay that keeps no sessions for a resume)
 * ```ts
 * import { type LeftEvent, type Port, Relay } from "@crosswire/relay";
 * const port: Port = { framing: "frames", wake: () => {}, close: () => {} };
 * const relay = new Relay({ resumeWindowMs: 0 });
 * const ann = relay.connect(port);
 * const bob = relay.connect(port);
 * ann.receiveText('{"type":"login","name":"ann"}');
 * bob.receiveText('{"type":"login","name":"bob"}');
 * ann.outbound.take();
 * bob.disconnect();
 * const left: LeftEvent = JSON.parse(ann.outbound.take()[0]!.data as string);
 * if (left.name !== "bob" || left.reason !== "disconnect") throw new Error("unexpected event");
 * ```
 */
export interface LeftEvent {
  /** Discriminant: always `"left"`. */
  type: "left";
  /** When it happened, in milliseconds since the epoch. */
  ts: number;
  /** The room left. */
  room: string;
  /** Who left. */
  name: string;
  /** `"leave"` when the user asked to, `"disconnect"` when the connection ended. */
  reason: "leave" | "disconnect";
}

/**
 * A member of `room` changed name. `room` is absent when the user is in no room.
 *
 * @example Renaming with `nick`
 * ```ts
 * import { type Port, Relay, type RenamedEvent } from "@crosswire/relay";
 * const port: Port = { framing: "frames", wake: () => {}, close: () => {} };
 * const session = new Relay().connect(port);
 * session.receiveText('{"type":"login","name":"ann"}');
 * session.outbound.take();
 * session.receiveText('{"type":"nick","name":"anna"}');
 * const renamed: RenamedEvent = JSON.parse(session.outbound.take()[0]!.data as string);
 * if (renamed.from !== "ann" || renamed.to !== "anna" || renamed.room !== "lobby") {
 *   throw new Error("unexpected event");
 * }
 * ```
 */
export interface RenamedEvent {
  /** Discriminant: always `"renamed"`. */
  type: "renamed";
  /** When it happened, in milliseconds since the epoch. */
  ts: number;
  /** The room told about it; one event is sent per room the user is in. */
  room?: string;
  /** The old name. */
  from: string;
  /** The new name. */
  to: string;
}

/**
 * Who is in a room. `members` may be cut short; `count` is the full number.
 *
 * @example Asking who is in the lobby
 * ```ts
 * import { type Port, type PresenceEvent, Relay } from "@crosswire/relay";
 * const port: Port = { framing: "frames", wake: () => {}, close: () => {} };
 * const session = new Relay().connect(port);
 * session.receiveText('{"type":"login","name":"ann"}');
 * session.outbound.take();
 * session.receiveText('{"type":"presence","room":"lobby","ref":"p1"}');
 * const presence: PresenceEvent = JSON.parse(session.outbound.take()[0]!.data as string);
 * if (presence.count !== 1 || presence.members[0] !== "ann" || presence.ref !== "p1") {
 *   throw new Error("unexpected presence");
 * }
 * ```
 */
export interface PresenceEvent {
  /** Discriminant: always `"presence"`. */
  type: "presence";
  /** The room described. */
  room: string;
  /** Members' names in join order, at most the relay's `maxPresenceMembers`. */
  members: string[];
  /** How many members the room has, even when `members` is cut short. */
  count: number;
  /** The `ref` of the request this answers, echoed back. */
  ref?: string;
}

/**
 * The rooms that exist and how many members each has.
 *
 * @example Listing rooms
 * ```ts
 * import { type Port, Relay, type RoomsEvent } from "@crosswire/relay";
 * const port: Port = { framing: "frames", wake: () => {}, close: () => {} };
 * const session = new Relay().connect(port);
 * session.receiveText('{"type":"login","name":"ann"}');
 * session.outbound.take();
 * session.receiveText('{"type":"rooms"}');
 * const list: RoomsEvent = JSON.parse(session.outbound.take()[0]!.data as string);
 * if (list.rooms[0]?.name !== "lobby" || list.rooms[0].members !== 1) {
 *   throw new Error("unexpected rooms");
 * }
 * ```
 */
export interface RoomsEvent {
  /** Discriminant: always `"rooms"`. */
  type: "rooms";
  /**
   * Rooms and their member counts, sorted by name: one page, after the
   * request's `after`, at most its `limit` (100 by default and at most).
   */
  rooms: { name: string; members: number }[];
  /** Rooms in all; more than listed means there is a next page (ask with `after`). */
  total: number;
  /** The `ref` of the request this answers, echoed back. */
  ref?: string;
}

/**
 * The answer to `ping`.
 *
 * @example Measuring a round trip with `ref`
 * ```ts
 * import { type PongEvent, type Port, Relay } from "@crosswire/relay";
 * const port: Port = { framing: "frames", wake: () => {}, close: () => {} };
 * const session = new Relay({ now: () => 42 }).connect(port);
 * session.outbound.take();
 * session.receiveText('{"type":"ping","ref":"t1"}');
 * const pong: PongEvent = JSON.parse(session.outbound.take()[0]!.data as string);
 * if (pong.ts !== 42 || pong.ref !== "t1") throw new Error("unexpected pong");
 * ```
 */
export interface PongEvent {
  /** Discriminant: always `"pong"`. */
  type: "pong";
  /** The relay's clock when it answered, in milliseconds since the epoch. */
  ts: number;
  /** The `ref` of the `ping` this answers, echoed back. */
  ref?: string;
}

/**
 * A line from the server itself: message of the day, announcements, shutdown.
 *
 * @example An announcement reaches every logged-in user
 * ```ts
 * import { type NoticeEvent, type Port, Relay } from "@crosswire/relay";
 * const port: Port = { framing: "frames", wake: () => {}, close: () => {} };
 * const relay = new Relay();
 * const session = relay.connect(port);
 * session.receiveText('{"type":"login","name":"ann"}');
 * session.outbound.take();
 * relay.announce("restarting at noon");
 * const notice: NoticeEvent = JSON.parse(session.outbound.take()[0]!.data as string);
 * if (notice.text !== "restarting at noon") throw new Error("unexpected notice");
 * ```
 */
export interface NoticeEvent {
  /** Discriminant: always `"notice"`. */
  type: "notice";
  /** When it was sent, in milliseconds since the epoch. */
  ts: number;
  /** Human-readable text; may span several lines. */
  text: string;
}

/**
 * Something went wrong; `code` is stable (see docs/PROTOCOL.md).
 *
 * @example Publishing before logging in
 * ```ts
 * import { type ErrorEvent, type Port, Relay } from "@crosswire/relay";
 * const port: Port = { framing: "frames", wake: () => {}, close: () => {} };
 * const session = new Relay().connect(port);
 * session.outbound.take();
 * session.receiveText('{"type":"publish","room":"lobby","text":"hi","ref":"m1"}');
 * const error: ErrorEvent = JSON.parse(session.outbound.take()[0]!.data as string);
 * if (error.code !== "not_logged_in" || error.ref !== "m1") throw new Error("unexpected error");
 * ```
 */
export interface ErrorEvent {
  /** Discriminant: always `"error"`. */
  type: "error";
  /** What went wrong, for programs; stable across versions. */
  code: ErrorCode;
  /** What went wrong, for people; may change between versions. */
  message: string;
  /** The `ref` of the request that failed, echoed back. */
  ref?: string;
}

/**
 * Every event the relay sends, a union discriminated on `type`.
 *
 * @example Narrowing on `type`
 * ```ts
 * import type { ServerEvent } from "@crosswire/relay";
 * function describe(event: ServerEvent): string {
 *   switch (event.type) {
 *     case "message":
 *       return `${event.from} in ${event.room}: ${event.text ?? event.file?.name}`;
 *     case "error":
 *       return `error ${event.code}`;
 *     default:
 *       return event.type;
 *   }
 * }
 * const event: ServerEvent = { type: "error", code: "name_taken", message: "taken" };
 * if (describe(event) !== "error name_taken") throw new Error("unexpected description");
 * ```
 */
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
  | HistoryEvent
  | PongEvent
  | NoticeEvent
  | ModeratedEvent
  | TopicEvent
  | ErrorEvent;

/** What to say: text, or a file. */
export type Content =
  | { kind: "text"; text: string; action: boolean }
  | { kind: "file"; data: Uint8Array; name: string; type: string };

/** A decoded, validated client request. */
export type ClientRequest =
  | { type: "hello"; batch?: boolean; ref?: string }
  | {
    type: "login";
    /** The name asked for; ignored when a token names the user. */
    name: string;
    /** A token proving who the user is (the name then comes from it). */
    token?: string;
    echo?: boolean;
    reclaim?: string;
    ref?: string;
  }
  | { type: "nick"; name: string; ref?: string }
  | { type: "join"; room: string; since?: Position; history?: number; ref?: string }
  | { type: "history"; room?: string; since?: Position; limit?: number; ref?: string }
  | {
    type: "resume";
    token: string;
    rooms?: Record<string, Position>;
    direct?: Position;
    echo?: boolean;
    ref?: string;
  }
  | { type: "leave"; room: string; ref?: string }
  | { type: "publish"; room: string; content: Content; ref?: string }
  | { type: "direct"; to: string; content: Content; ref?: string }
  | { type: "presence"; room: string; ref?: string }
  | { type: "rooms"; limit?: number; after?: string; ref?: string }
  | { type: "ping"; ref?: string }
  | { type: "echo"; on: boolean; ref?: string }
  | { type: "input"; line: string; ref?: string }
  | { type: "help"; ref?: string }
  | { type: "quit"; ref?: string }
  | AdminRequest;

type Fields = Record<string, unknown>;

// A request's `ref`, when it is a string of at most 64 characters.
function refOf(fields: Fields): string | undefined {
  const ref = Object.hasOwn(fields, "ref") ? fields.ref : undefined;
  return typeof ref === "string" && ref.length <= 64 ? ref : undefined;
}

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

function optionalInteger(fields: Fields, key: string, ref: string | undefined) {
  const value = Object.hasOwn(fields, key) ? fields[key] : undefined;
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isSafeInteger(value)) {
    fail(`"${key}" must be a whole number`, "bad_message", ref);
  }
  return value;
}

function optionalBoolean(fields: Fields, key: string, ref: string | undefined) {
  const value = Object.hasOwn(fields, key) ? fields[key] : undefined;
  if (value === undefined) return undefined;
  if (typeof value !== "boolean") fail(`"${key}" must be true or false`, "bad_message", ref);
  return value;
}

/** Rooms one `resume` may name: as many as a session may be in, and some. */
const MAX_RESUME_ROOMS = 64;

function asPosition(value: unknown, key: string, ref: string | undefined): Position {
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    const fields = value as Fields;
    const offset = Object.hasOwn(fields, "offset") ? fields.offset : undefined;
    const epoch = Object.hasOwn(fields, "epoch") ? fields.epoch : undefined;
    if (
      typeof offset === "number" && Number.isSafeInteger(offset) && offset >= 0 &&
      typeof epoch === "string" && epoch.length <= 64
    ) {
      return { offset, epoch };
    }
  }
  fail(
    `"${key}" must be a position: {"offset": a whole number, "epoch": a string}`,
    "bad_message",
    ref,
  );
}

function optionalPosition(fields: Fields, key: string, ref: string | undefined) {
  const value = Object.hasOwn(fields, key) ? fields[key] : undefined;
  return value === undefined ? undefined : asPosition(value, key, ref);
}

function optionalPositions(fields: Fields, key: string, ref: string | undefined) {
  const value = Object.hasOwn(fields, key) ? fields[key] : undefined;
  if (value === undefined) return undefined;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    fail(`"${key}" must map rooms to positions`, "bad_message", ref);
  }
  const entries = Object.entries(value as Fields);
  if (entries.length > MAX_RESUME_ROOMS) {
    fail(`"${key}" may name at most ${MAX_RESUME_ROOMS} rooms`, "bad_message", ref);
  }
  const positions: Record<string, Position> = Object.create(null);
  for (const [room, position] of entries) positions[room] = asPosition(position, key, ref);
  return positions;
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
  if (tooStructured(json)) {
    fail("a message this large must be a file: publish or direct with data");
  }
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
  const ref = refOf(fields);
  const type = Object.hasOwn(fields, "type") ? fields.type : undefined;
  if (typeof type !== "string") fail('"type" must be a string', "bad_message", ref);
  const withRef = <T extends object>(request: T): T & { ref?: string } =>
    ref === undefined ? request : { ...request, ref };
  switch (type) {
    case "hello": {
      const batch = optionalBoolean(fields, "batch", ref);
      return withRef(batch === undefined ? { type } : { type, batch });
    }
    case "ping":
    case "help":
    case "quit":
      return withRef({ type });
    case "rooms": {
      const limit = optionalInteger(fields, "limit", ref);
      const after = optionalString(fields, "after", ref);
      return withRef({
        type,
        ...(limit === undefined ? {} : { limit }),
        ...(after === undefined ? {} : { after }),
      });
    }
    case "login": {
      const token = optionalString(fields, "token", ref);
      if (token !== undefined && token.length > 8192) {
        fail('"token" may be at most 8192 characters', "bad_message", ref);
      }
      // With a token the name comes from it: "name" may be left out.
      const name = token === undefined
        ? stringField(fields, "name", ref)
        : optionalString(fields, "name", ref) ?? "";
      const echo = optionalBoolean(fields, "echo", ref);
      const reclaim = optionalString(fields, "reclaim", ref);
      return withRef({
        type,
        name,
        ...(token === undefined ? {} : { token }),
        ...(echo === undefined ? {} : { echo }),
        ...(reclaim === undefined ? {} : { reclaim }),
      });
    }
    case "nick":
      return withRef({ type, name: stringField(fields, "name", ref) });
    case "join": {
      const room = stringField(fields, "room", ref);
      const since = optionalPosition(fields, "since", ref);
      const history = optionalInteger(fields, "history", ref);
      return withRef({
        type,
        room,
        ...(since === undefined ? {} : { since }),
        ...(history === undefined ? {} : { history }),
      });
    }
    case "history": {
      const room = optionalString(fields, "room", ref);
      const since = optionalPosition(fields, "since", ref);
      const limit = optionalInteger(fields, "limit", ref);
      return withRef({
        type,
        ...(room === undefined ? {} : { room }),
        ...(since === undefined ? {} : { since }),
        ...(limit === undefined ? {} : { limit }),
      });
    }
    case "resume": {
      const token = stringField(fields, "token", ref);
      const rooms = optionalPositions(fields, "rooms", ref);
      const direct = optionalPosition(fields, "direct", ref);
      const echo = optionalBoolean(fields, "echo", ref);
      return withRef({
        type,
        token,
        ...(rooms === undefined ? {} : { rooms }),
        ...(direct === undefined ? {} : { direct }),
        ...(echo === undefined ? {} : { echo }),
      });
    }
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
      return decodeAdminRequest(type, fields, ref) ??
        fail(`unknown message type "${type.slice(0, 32)}"`, "unknown_type", ref);
  }
}

/**
 * Turns a decoded binary frame (see binary_frame.ts) into a publish or direct
 * request. Header fields of the wrong type fall back to defaults; a header
 * without "room" or "to" throws `bad_frame`.
 */
export function binaryRequest(header: Fields, payload: Uint8Array): ClientRequest {
  const text = (fields: Fields, key: string) =>
    Object.hasOwn(fields, key) && typeof fields[key] === "string"
      ? fields[key] as string
      : undefined;
  const ref = refOf(header);
  const file = typeof header.file === "object" && header.file !== null ? header.file as Fields : {};
  const content: Content = {
    kind: "file",
    data: payload,
    name: text(file, "name") ?? "file",
    type: text(file, "type") ?? "application/octet-stream",
  };
  const to = text(header, "to");
  const room = text(header, "room");
  const request: ClientRequest = to !== undefined
    ? { type: "direct", to, content }
    : room !== undefined
    ? { type: "publish", room, content }
    : fail('a binary frame header needs "room" or "to"', "bad_frame", ref);
  return ref === undefined ? request : { ...request, ref };
}
