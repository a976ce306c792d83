// What the server sends, once it reaches the client: the limits from `hello`,
// the name and rooms kept up to date, messages handed to the streams (which
// check their order), replies matched to requests, and everything else
// delivered to listeners. Holes in a stream, and rooms without a position,
// are asked for here.

import type { AnnouncedLimits, ErrorEvent, Position, ServerEvent } from "../core/protocol.ts";
import { CrosswireClientError } from "./errors.ts";
import type { GapEvent } from "./events.ts";
import { refOf } from "./_decode.ts";
import type { Emitter } from "./_emitter.ts";
import { requestReplay } from "./_replays.ts";
import type { SessionState } from "./_restore.ts";
import type { Sender } from "./_sender.ts";
import type { Chat, ReplayResult, Streams, StreamsHost } from "./_streams.ts";

const DEFAULT_LIMITS: AnnouncedLimits = {
  maxLineBytes: 8192,
  maxFrameBytes: Math.ceil(1024 * 1024 / 3) * 4 + 4096,
  maxTextBytes: 8192,
  maxFileBytes: 1024 * 1024,
  idleTimeoutMs: 300_000,
};
/** Messages one resync asks for: as many as a replay may bring. */
const REPLAY_LIMIT = 100;

/** What receiving needs from the client. */
export interface InboundHost {
  readonly state: SessionState;
  readonly streams: Streams;
  readonly sender: Sender;
  readonly emitter: Emitter;
  /** Logged in on a live connection. */
  open(): boolean;
  /** The ref of the login or resume still waiting for its welcome, if any. */
  awaitingWelcome(): string | undefined;
  /**
   * The relay says the token ran out (`event`): true when the client gets a
   * new one and sends it by itself, so listeners need not hear of it.
   */
  renewToken(event: ErrorEvent): boolean;
}

/** Handles the events the current connection receives. */
export class Inbound implements StreamsHost {
  /** The limits the server announced in `hello`. */
  limits: AnnouncedLimits = DEFAULT_LIMITS;
  /** The code of an error without ref, when it is the last thing the server sent. */
  lastError: string | undefined;
  /** Whether the caller sees its own room messages. */
  echo: boolean;
  #host: InboundHost;
  #sawHello = false;

  /**
   * @param host The client's parts this works with.
   * @param echo Whether the caller sees its own room messages at first.
   */
  constructor(host: InboundHost, echo: boolean) {
    this.#host = host;
    this.echo = echo;
  }

  /** Handles one event from the current connection (undefined: one that could not be read). */
  receive(event: ServerEvent | undefined): void {
    if (!event) return;
    if (event.type === "hello") {
      this.limits = { ...DEFAULT_LIMITS, ...event.limits };
      // The relay greets on connect and answers our batching hello: show one, once.
      if (this.#sawHello) return;
      this.#sawHello = true;
    }
    const host = this.#host;
    const ref = refOf(event);
    this.lastError = event.type === "error" && ref === undefined ? event.code : undefined;
    if (event.type === "message" || event.type === "direct") return host.streams.message(event);
    if (event.type === "history" && host.streams.header(event)) return;
    this.#track(event);
    const hidden = host.sender.received(event);
    // An error without a ref before welcome still ends the login.
    if (event.type === "error" && ref === undefined) {
      const handshake = host.awaitingWelcome();
      if (handshake !== undefined) {
        host.sender.settle(handshake, new CrosswireClientError(event.code, event.message));
      } else if (event.code === "token_expired" && host.open() && host.renewToken(event)) {
        return;
      }
    }
    if (!hidden) host.emitter.emit(event);
  }

  /** Delivers a message or a gap; false when it is hidden (one's own, with echo off). */
  deliver(event: Chat | GapEvent, raw: boolean): boolean {
    // The relay always echoes (so no offset goes unseen); the client hides its own.
    if (!raw && !this.echo && event.type === "message" && event.from === this.#host.state.name) {
      return false;
    }
    this.#host.emitter.emit(event);
    return true;
  }

  /** A hole in a stream: asks for what followed the last position seen. */
  resync(room: string | undefined, since: Position): boolean {
    if (!this.#host.open()) return false;
    void requestReplay(
      this.#host,
      { type: "history", ...(room === undefined ? {} : { room }), since, limit: REPLAY_LIMIT },
      room,
      { kind: "recover", since, gap: "skipped", hold: true },
      true,
    ).catch(() => {}); // a failed resync is a gap, already delivered
    return true;
  }

  /** Asks for what a room said after `since`, delivered in order (getting a session back). */
  recover(room: string, since: Position): Promise<ReplayResult> {
    return requestReplay(
      this.#host,
      { type: "history", room, since, limit: REPLAY_LIMIT },
      room,
      { kind: "recover", since },
      true,
    );
  }

  /**
   * A room the client is in but has no position for: learns the position, so
   * a later resume or resync knows where to start.
   */
  probe(room: string): void {
    const streams = this.#host.streams;
    if (streams.position(room) || streams.awaiting(room)) return;
    void requestReplay(
      this.#host,
      { type: "history", room, limit: 0 },
      room,
      { kind: "baseline" },
      true,
    ).catch(() => {}); // without a position, the room just cannot be resumed
  }

  // Keeps the name and the list of rooms up to date.
  #track(event: ServerEvent): void {
    const state = this.#host.state;
    if (event.type === "renamed" && event.from === state.name) state.name = event.to;
    if (event.type === "joined" && event.name === state.name) {
      state.rooms = [...state.rooms.filter((room) => room !== event.room), event.room];
      if (this.#host.open()) this.probe(event.room);
    }
    if (event.type === "left" && event.name === state.name && event.reason === "leave") {
      state.rooms = state.rooms.filter((room) => room !== event.room);
      this.#host.streams.forget(event.room);
    }
  }
}
