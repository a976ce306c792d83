// The relay: who is connected, under which name, in which rooms, and what
// each request does. Transports only move bytes; every decision is made here.

import { overUtf8Limit } from "./_utf8.ts";
import { CloseCode, RelayError } from "./errors.ts";
import { MAX_NAME_LENGTH, nameKey, validateName, validateRoom } from "./names.ts";
import { Outgoing } from "./outgoing.ts";
import {
  type ClientRequest,
  type Content,
  type DirectEvent,
  type HelloEvent,
  type MessageEvent,
  PROTOCOL_VERSION,
  type ServerEvent,
  type WelcomeEvent,
} from "./protocol.ts";
import { MemoryPubSub, type PubSub } from "./pubsub.ts";
import { cleanText } from "./sanitize.ts";
import { type Port, Session, type SessionHost } from "./session.ts";
import { parseTextLine } from "./text_commands.ts";
import { TEXT_HELP } from "./text_render.ts";

/**
 * The room every user is in after login.
 *
 * @example A new user lands in the lobby
 * ```ts
 * import { LOBBY, type Port, Relay } from "@crosswire/relay";
 * const port: Port = { framing: "frames", wake: () => {}, close: () => {} };
 * const relay = new Relay();
 * relay.connect(port).receiveText('{"type":"login","name":"ann"}');
 * if (relay.roomList()[0]?.name !== LOBBY) throw new Error("not in the lobby");
 * ```
 */
export const LOBBY = "lobby";

/**
 * Options for {@link Relay}. Every limit is finite by default.
 *
 * @example Tightening one limit, keeping the other defaults
 * ```ts
 * import { Relay, type RelayOptions } from "@crosswire/relay";
 * const options: RelayOptions = { maxTextBytes: 280, motd: "Welcome!" };
 * const relay = new Relay(options);
 * if (relay.limits.maxTextBytes !== 280 || relay.limits.maxRoomsPerSession !== 32) {
 *   throw new Error("unexpected limits");
 * }
 * ```
 */
export interface RelayOptions {
  /** Shown to every user at login. @default undefined */
  motd?: string;
  /** Server name announced in `hello`. @default "crosswire" */
  serverName?: string;
  /** Longest line a text-mode TCP client may send, in bytes. @default 8192 */
  maxLineBytes?: number;
  /** Largest chat text, in bytes of UTF-8. @default 8192 */
  maxTextBytes?: number;
  /** Largest shared file, in bytes. @default 1048576 (1 MiB) */
  maxFileBytes?: number;
  /**
   * Largest JSON message (WebSocket text frame, TCP JSON line), in bytes.
   * @default room for a base64 file of `maxFileBytes` plus 4 KiB
   */
  maxFrameBytes?: number;
  /**
   * Bytes queued for one session before it is closed as a slow consumer.
   * @default 8388608 (8 MiB)
   */
  maxQueuedBytes?: number;
  /** Rooms one session may be in at once. @default 32 */
  maxRoomsPerSession?: number;
  /** Names listed in one presence reply (the count is always complete). @default 200 */
  maxPresenceMembers?: number;
  /**
   * Rooms larger than this stop announcing joins and leaves to every member
   * (the user concerned still hears of it; presence stays exact). @default 500
   */
  maxAnnouncedRoomSize?: number;
  /** Rooms that may exist at once. @default 10000 */
  maxRooms?: number;
  /** Open connections, logged in or not. @default 10000 */
  maxConnections?: number;
  /** Open connections from one remote address. @default 100 */
  maxConnectionsPerAddress?: number;
  /**
   * A client that sends nothing for this long is told and closed; 0 turns it
   * off. Checked by {@link Relay.sweep}. @default 300000 (5 minutes)
   */
  idleTimeoutMs?: number;
  /** Messages per second one session may send, sustained. @default 20 */
  rateMessagesPerSecond?: number;
  /** Messages one session may send in a burst. @default 50 */
  rateMessageBurst?: number;
  /** Bytes per second one session may send, sustained. @default 1048576 (1 MiB) */
  rateBytesPerSecond?: number;
  /**
   * Messages dropped for rate within 10 seconds before the session is
   * disconnected (close 4029). @default 100
   */
  rateAbuseLimit?: number;
  /** Room fan-out backplane. @default new MemoryPubSub() */
  pubsub?: PubSub;
  /** Clock, in milliseconds since the epoch. @default Date.now */
  now?: () => number;
  /** Called with unexpected errors (bugs), never with client mistakes. @default console.error */
  onError?: (error: unknown) => void;
}

/**
 * The limits in force, every field resolved.
 *
 * @example `maxFrameBytes` follows `maxFileBytes` unless set
 * ```ts
 * import { Relay, type RelayLimits } from "@crosswire/relay";
 * const limits: RelayLimits = new Relay({ maxFileBytes: 3000 }).limits;
 * // A base64 file of 3000 bytes (4000 characters) plus 4 KiB for the JSON around it.
 * if (limits.maxFrameBytes !== 4000 + 4096) throw new Error("unexpected frame limit");
 * ```
 */
export type RelayLimits = Readonly<
  Required<
    Pick<
      RelayOptions,
      | "maxLineBytes"
      | "maxTextBytes"
      | "maxFileBytes"
      | "maxFrameBytes"
      | "maxQueuedBytes"
      | "maxRoomsPerSession"
      | "maxPresenceMembers"
      | "maxRooms"
      | "maxAnnouncedRoomSize"
      | "maxConnections"
      | "maxConnectionsPerAddress"
      | "idleTimeoutMs"
      | "rateMessagesPerSecond"
      | "rateMessageBurst"
      | "rateBytesPerSecond"
      | "rateAbuseLimit"
    >
  >
>;

/**
 * Counts for health checks.
 *
 * @example A connection counts as a user only after login
 * ```ts
 * import { type Port, Relay, type RelayStats } from "@crosswire/relay";
 * const port: Port = { framing: "frames", wake: () => {}, close: () => {} };
 * const relay = new Relay();
 * const session = relay.connect(port);
 * const before: RelayStats = relay.stats();
 * session.receiveText('{"type":"login","name":"ann"}');
 * const after: RelayStats = relay.stats();
 * if (before.sessions !== 1 || before.users !== 0 || after.users !== 1 || after.rooms !== 1) {
 *   throw new Error("unexpected counts");
 * }
 * ```
 */
export interface RelayStats {
  /** Open connections, logged in or not. */
  sessions: number;
  /** Logged-in users. */
  users: number;
  /** Rooms with at least one member. */
  rooms: number;
}

function resolveLimits(options: RelayOptions): RelayLimits {
  const maxFileBytes = options.maxFileBytes ?? 1024 * 1024;
  return {
    maxLineBytes: options.maxLineBytes ?? 8192,
    maxTextBytes: options.maxTextBytes ?? 8192,
    maxFileBytes,
    maxFrameBytes: options.maxFrameBytes ?? Math.ceil(maxFileBytes / 3) * 4 + 4096,
    maxQueuedBytes: options.maxQueuedBytes ?? 8 * 1024 * 1024,
    maxRoomsPerSession: options.maxRoomsPerSession ?? 32,
    maxPresenceMembers: options.maxPresenceMembers ?? 200,
    maxRooms: options.maxRooms ?? 10_000,
    maxAnnouncedRoomSize: options.maxAnnouncedRoomSize ?? 500,
    maxConnections: options.maxConnections ?? 10_000,
    maxConnectionsPerAddress: options.maxConnectionsPerAddress ?? 100,
    idleTimeoutMs: options.idleTimeoutMs ?? 300_000,
    rateMessagesPerSecond: options.rateMessagesPerSecond ?? 20,
    rateMessageBurst: options.rateMessageBurst ?? 50,
    rateBytesPerSecond: options.rateBytesPerSecond ?? 1024 * 1024,
    rateAbuseLimit: options.rateAbuseLimit ?? 100,
  };
}

// Commands a text-mode user may type before choosing a name.
const PRE_LOGIN_COMMANDS = new Set(["nick", "name", "help", "?", "quit", "exit"]);
const MEDIA_TYPE = /^[\w.+-]{1,64}\/[\w.+-]{1,64}$/;

/**
 * The runtime-agnostic relay: sessions, names, rooms, presence, broadcast and
 * private messages. Transports hand it a {@link Port} per connection.
 *
 * @example Two sessions in the lobby
 * ```ts
 * import { type Port, Relay } from "@crosswire/relay";
 * const relay = new Relay();
 * const port: Port = { framing: "frames", wake: () => {}, close: () => {} };
 * const ann = relay.connect(port);
 * const bob = relay.connect(port);
 * ann.receiveText('{"type":"login","name":"ann"}');
 * bob.receiveText('{"type":"login","name":"bob"}');
 * if (relay.stats().users !== 2) throw new Error("both should be online");
 * ```
 */
export class Relay {
  /** The limits in force. */
  readonly limits: RelayLimits;
  #options: RelayOptions;
  #pubsub: PubSub;
  #now: () => number;
  #sessions = new Set<Session>();
  #perAddress = new Map<string, number>();
  #names = new Map<string, Session>();
  #rooms = new Map<string, Set<Session>>();
  #idPrefix = Math.random().toString(36).slice(2, 8) + "-";
  #sequence = 0;
  #closing = false;
  #host: SessionHost;

  /**
   * Creates a relay with no sessions; it needs no timers of its own.
   *
   * @param options Limits, message of the day, backplane and clock.
   */
  constructor(options: RelayOptions = {}) {
    this.#options = options;
    this.limits = resolveLimits(options);
    this.#pubsub = options.pubsub ?? new MemoryPubSub();
    this.#now = options.now ?? Date.now;
    const onError = options.onError ?? ((error: unknown) => console.error(error));
    const limits = this.limits;
    this.#host = {
      limits,
      rateLimits: {
        messagesPerSecond: limits.rateMessagesPerSecond,
        messageBurst: limits.rateMessageBurst,
        bytesPerSecond: limits.rateBytesPerSecond,
        // One largest message must always fit.
        byteBurst: Math.max(limits.rateBytesPerSecond, limits.maxFrameBytes),
      },
      now: this.#now,
      hello: () => this.#hello(),
      handle: (session, request) => this.#handle(session, request),
      handleLine: (session, line) => this.#handleLine(session, line, undefined),
      reportError: onError,
      disconnected: (session) => this.#remove(session),
    };
  }

  /**
   * Registers a new connection. A frame transport is greeted with `hello`;
   * a line transport is asked for a name.
   */
  connect(port: Port, info: { remoteAddress?: string } = {}): Session {
    const address = info.remoteAddress;
    const session = new Session(this.#host, port, address);
    if (this.#closing) {
      session.close(
        CloseCode.goingAway,
        "server shutting down",
        this.#notice("The server is shutting down."),
      );
      return session;
    }
    const fromAddress = address === undefined ? 0 : this.#perAddress.get(address) ?? 0;
    if (
      this.#sessions.size >= this.limits.maxConnections ||
      fromAddress >= this.limits.maxConnectionsPerAddress
    ) {
      session.close(CloseCode.tryAgainLater, "server busy", {
        type: "error",
        code: "server_busy",
        message: "server busy, try again later",
      });
      return session;
    }
    if (address !== undefined) this.#perAddress.set(address, fromAddress + 1);
    this.#sessions.add(session);
    if (session.json) session.send(this.#hello());
    else session.send(this.#notice("Welcome to crosswire. What's your name?"));
    return session;
  }

  /**
   * Closes sessions idle longer than `idleTimeoutMs`. Call it on one timer for
   * the whole relay (the Deno server does, every second), never one per connection.
   */
  sweep(): void {
    const timeout = this.limits.idleTimeoutMs;
    if (timeout <= 0) return;
    const now = this.#now();
    for (const session of this.#sessions) {
      if (now - session.lastActive < timeout) continue;
      session.close(CloseCode.idleTimeout, "idle timeout", {
        type: "error",
        code: "idle_timeout",
        message: `closed after ${Math.round(timeout / 1000)} seconds without activity`,
      });
    }
  }

  /** Connection, user and room counts. */
  stats(): RelayStats {
    return { sessions: this.#sessions.size, users: this.#names.size, rooms: this.#rooms.size };
  }

  /** Rooms and their member counts, sorted by name. */
  roomList(): { name: string; members: number }[] {
    return [...this.#rooms].map(([name, members]) => ({ name, members: members.size }))
      .sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  }

  /** Sends a server notice to every logged-in user, encoded once. */
  announce(text: string): void {
    const message = new Outgoing(this.#notice(text));
    for (const session of this.#names.values()) session.deliver(message);
  }

  /**
   * Tells every client the server is going away and asks each transport to
   * close (WebSocket code 1001). New connections are refused from then on.
   */
  close(reason = "The server is shutting down."): void {
    this.#closing = true;
    const notice = new Outgoing(this.#notice(reason));
    for (const session of [...this.#sessions]) {
      session.close(CloseCode.goingAway, "server shutting down", notice);
    }
  }

  #hello(): HelloEvent {
    const { maxLineBytes, maxFrameBytes, maxTextBytes, maxFileBytes, idleTimeoutMs } = this.limits;
    return {
      type: "hello",
      protocol: PROTOCOL_VERSION,
      server: this.#options.serverName ?? "crosswire",
      limits: { maxLineBytes, maxFrameBytes, maxTextBytes, maxFileBytes, idleTimeoutMs },
    };
  }

  #notice(text: string): ServerEvent {
    return { type: "notice", ts: this.#now(), text };
  }

  #nextId(): string {
    return this.#idPrefix + (++this.#sequence).toString(36);
  }

  // A text-mode line, or a JSON `input` request: the name before login, then commands.
  #handleLine(session: Session, line: string, ref: string | undefined): void {
    if (session.state === "new") {
      const trimmed = line.trim();
      if (trimmed === "") return;
      if (!trimmed.startsWith("/")) return this.#login(session, trimmed, ref, true);
      const command = /^\/(\S*)/.exec(trimmed)![1]!.toLowerCase();
      if (!PRE_LOGIN_COMMANDS.has(command)) {
        throw new RelayError("not_logged_in", "log in first: type your name");
      }
      const request = parseTextLine(trimmed, undefined)!;
      if (request.type === "nick") return this.#login(session, request.name, ref, true);
      return this.#handle(session, requestWithRef(request, ref));
    }
    const request = parseTextLine(line, session.currentRoom);
    if (request) this.#handle(session, requestWithRef(request, ref));
  }

  #handle(session: Session, request: ClientRequest): void {
    const ref = request.ref;
    try {
      this.#dispatch(session, request);
    } catch (error) {
      if (error instanceof RelayError && error.ref === undefined && ref !== undefined) {
        throw new RelayError(error.code, error.message, { ref, cause: error });
      }
      throw error;
    }
  }

  #dispatch(session: Session, request: ClientRequest): void {
    switch (request.type) {
      case "hello":
        if (request.batch !== undefined) session.outbound.batchText = request.batch;
        return session.send(withRef(this.#hello(), request.ref));
      case "ping":
        return session.send(withRef({ type: "pong", ts: this.#now() }, request.ref));
      case "help":
        return session.send(this.#notice(TEXT_HELP.join("\n")));
      case "quit":
        return session.close(CloseCode.normal, "bye", this.#notice("Bye!"));
      case "login":
        if (request.echo !== undefined) session.echo = request.echo;
        return this.#login(session, request.name, request.ref, false);
      case "input":
        return this.#handleLine(session, request.line, request.ref);
    }
    const name = session.name;
    if (session.state !== "ready" || name === undefined) {
      throw new RelayError("not_logged_in", "log in first");
    }
    switch (request.type) {
      case "nick":
        return this.#rename(session, name, request.name);
      case "join":
        return this.#join(session, validateRoom(request.room), request.ref);
      case "leave":
        return this.#leave(session, this.#memberRoom(session, request.room), "leave");
      case "publish":
        return this.#publish(
          session,
          name,
          this.#memberRoom(session, request.room),
          request.content,
        );
      case "direct":
        return this.#direct(session, name, request.to, request.content);
      case "presence":
        return this.#presence(session, validateRoom(request.room), request.ref);
      case "rooms":
        return session.send(withRef({ type: "rooms", rooms: this.roomList() }, request.ref));
      case "echo":
        session.echo = request.on;
        return session.send(this.#notice(`Echo is ${request.on ? "on" : "off"}.`));
    }
  }

  #login(session: Session, rawName: string, ref: string | undefined, textMode: boolean): void {
    if (session.state !== "new") {
      throw new RelayError("already_logged_in", "you are already logged in; use /nick to rename");
    }
    try {
      const name = this.#claimName(session, rawName);
      session.name = name;
      session.markReady();
      const others = this.#names.size - 1;
      const welcome: WelcomeEvent = {
        type: "welcome",
        session: session.id,
        name,
        others,
        rooms: [LOBBY],
      };
      const motd = this.#options.motd;
      session.send(withRef(motd === undefined ? welcome : { ...welcome, motd }, ref));
      this.#join(session, LOBBY, undefined);
    } catch (error) {
      if (!textMode || !(error instanceof RelayError)) throw error;
      session.fail(error);
      session.send(this.#notice("What's your name?"));
    }
  }

  #claimName(session: Session, rawName: string): string {
    const name = validateName(rawName);
    const key = nameKey(name);
    const holder = this.#names.get(key);
    if (holder !== undefined && holder !== session) {
      throw new RelayError("name_taken", `the name "${name}" is taken; try another`);
    }
    if (session.name !== undefined) this.#names.delete(nameKey(session.name));
    this.#names.set(key, session);
    return name;
  }

  #rename(session: Session, from: string, rawName: string): void {
    const to = this.#claimName(session, rawName);
    session.name = to;
    if (session.rooms.size === 0) {
      return session.send({ type: "renamed", ts: this.#now(), from, to });
    }
    for (const room of session.rooms) {
      this.#pubsub.publish(room, { type: "renamed", ts: this.#now(), room, from, to });
    }
  }

  #memberRoom(session: Session, rawRoom: string): string {
    const room = validateRoom(rawRoom);
    if (!session.rooms.has(room)) {
      throw new RelayError("not_in_room", `you are not in ${room}; /join it first`);
    }
    return room;
  }

  #join(session: Session, room: string, ref: string | undefined): void {
    if (!session.rooms.has(room)) {
      if (session.rooms.size >= this.limits.maxRoomsPerSession) {
        throw new RelayError(
          "too_many_rooms",
          `you can be in at most ${this.limits.maxRoomsPerSession} rooms`,
        );
      }
      let members = this.#rooms.get(room);
      if (!members) {
        if (this.#rooms.size >= this.limits.maxRooms) {
          throw new RelayError("room_limit", "the server has too many rooms; join an existing one");
        }
        this.#rooms.set(room, members = new Set());
      }
      members.add(session);
      session.rooms.add(room);
      this.#pubsub.subscribe(room, session);
      this.#announce(room, members, {
        type: "joined",
        ts: this.#now(),
        room,
        name: session.name!,
      }, session);
    }
    session.currentRoom = room;
    this.#presence(session, room, ref);
  }

  #leave(session: Session, room: string, reason: "leave" | "disconnect"): void {
    const members = this.#rooms.get(room);
    if (reason === "leave" && members) {
      this.#announce(room, members, {
        type: "left",
        ts: this.#now(),
        room,
        name: session.name!,
        reason,
      }, session);
    }
    this.#pubsub.unsubscribe(room, session);
    session.rooms.delete(room);
    members?.delete(session);
    if (members?.size === 0) this.#rooms.delete(room);
    else if (reason === "disconnect" && !this.#closing && members) {
      this.#announce(room, members, {
        type: "left",
        ts: this.#now(),
        room,
        name: session.name!,
        reason,
      }, undefined);
    }
    if (session.currentRoom === room) session.currentRoom = [...session.rooms].at(-1);
  }

  // Joins and leaves go to the whole room while it is small enough; in a crowd
  // they would cost every member a message per arrival (n squared in all), so
  // only the user concerned hears of it, and presence stays exact.
  #announce(
    room: string,
    members: Set<Session>,
    event: ServerEvent,
    self: Session | undefined,
  ): void {
    if (members.size <= this.limits.maxAnnouncedRoomSize) this.#pubsub.publish(room, event);
    else self?.send(event);
  }

  #presence(session: Session, room: string, ref: string | undefined): void {
    const members = this.#rooms.get(room) ?? new Set<Session>();
    const names: string[] = [];
    for (const member of members) {
      if (names.length >= this.limits.maxPresenceMembers) break;
      names.push(member.name!);
    }
    session.send(withRef({ type: "presence", room, members: names, count: members.size }, ref));
  }

  #checkedContent(content: Content): Pick<MessageEvent, "text" | "action" | "file" | "data"> {
    if (content.kind === "text") {
      const text = cleanText(content.text, true);
      if (text.trim() === "") throw new RelayError("empty_message", "there is nothing to send");
      if (overUtf8Limit(text, this.limits.maxTextBytes)) {
        throw new RelayError(
          "too_large",
          `a message may be at most ${this.limits.maxTextBytes} bytes`,
        );
      }
      return content.action ? { text, action: true } : { text };
    }
    if (content.data.length > this.limits.maxFileBytes) {
      throw new RelayError("too_large", `a file may be at most ${this.limits.maxFileBytes} bytes`);
    }
    const baseName = content.name.split(/[\\/]/).at(-1) ?? "";
    const name = cleanText(baseName).replace(/^\.+/, "").slice(0, 128) || "file";
    const type = MEDIA_TYPE.test(content.type) ? content.type : "application/octet-stream";
    return { file: { name, type, size: content.data.length }, data: content.data };
  }

  #publish(session: Session, from: string, room: string, content: Content): void {
    const event: MessageEvent = {
      type: "message",
      id: this.#nextId(),
      ts: this.#now(),
      room,
      from,
      ...this.#checkedContent(content),
    };
    this.#pubsub.publish(room, event, session.echo ? {} : { except: session.id });
  }

  #direct(session: Session, from: string, rawTo: string, content: Content): void {
    if ([...rawTo].length > MAX_NAME_LENGTH) {
      throw new RelayError("no_such_user", "no user has that name");
    }
    const target = this.#names.get(nameKey(rawTo.normalize("NFC")));
    if (!target?.name) {
      throw new RelayError("no_such_user", `nobody called "${cleanText(rawTo)}" is online`);
    }
    const event: DirectEvent = {
      type: "direct",
      id: this.#nextId(),
      ts: this.#now(),
      from,
      to: target.name,
      ...this.#checkedContent(content),
    };
    const message = new Outgoing(event);
    target.deliver(message);
    if (target !== session) session.deliver(message);
  }

  #remove(session: Session): void {
    if (!this.#sessions.delete(session)) return;
    const address = session.remoteAddress;
    if (address !== undefined) {
      const left = (this.#perAddress.get(address) ?? 1) - 1;
      if (left > 0) this.#perAddress.set(address, left);
      else this.#perAddress.delete(address);
    }
    for (const room of [...session.rooms]) this.#leave(session, room, "disconnect");
    if (session.name !== undefined && this.#names.get(nameKey(session.name)) === session) {
      this.#names.delete(nameKey(session.name));
    }
  }
}

function withRef<T extends ServerEvent>(event: T, ref: string | undefined): T {
  return ref === undefined ? event : { ...event, ref };
}

function requestWithRef(request: ClientRequest, ref: string | undefined): ClientRequest {
  return ref === undefined ? request : { ...request, ref };
}
