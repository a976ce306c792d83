// The client's own check of order, per room and for the private stream. It
// keeps the last position seen in each; a live message that skips ahead in the
// same epoch makes it hold that stream's later messages and ask for what was
// missed; replays (after a resync, a join with `since`, a resume) are merged
// in, and every message reaches the caller once, in order, or after a `gap`.
// Plain logic: the client sends the requests and feeds back what arrives.

import type { DirectEvent, HistoryEvent, MessageEvent, Position } from "../core/protocol.ts";
import type { GapEvent } from "./events.ts";

/** A room message or a private message. */
export type Chat = MessageEvent | DirectEvent;

/** What the client does with a replay it asked for. */
export interface Expectation {
  /**
   * `"recover"`: its messages are delivered in order after what was already
   * seen, and a reply that is not recovered means a gap. `"baseline"`: it
   * only learns the stream's position (its messages are delivered only when
   * they follow a position already known). `"query"`: its messages are
   * returned, neither delivered nor counted as seen.
   */
  kind: "recover" | "baseline" | "query";
  /** The position asked from: a reply that is not recovered is a gap. */
  since?: Position;
  /** Why, when it is a gap in the same epoch. @default "too_old" */
  gap?: "too_old" | "skipped";
  /** Hold the stream's live messages until this replay is over. @default false */
  hold?: boolean;
  /** Called once: with the result, or undefined when the replay will not come. */
  done?: (result: ReplayResult | undefined) => void;
}

/** A finished replay. */
export interface ReplayResult {
  /** As the `history` header said. */
  recovered: boolean;
  /** The stream's latest offset when it was read. */
  offset: number;
  /** The stream's epoch. */
  epoch: string;
  /** Messages delivered from it (duplicates and hidden ones not counted). */
  count: number;
  /** For a query: its messages, oldest first. */
  messages: Chat[];
}

/** What the streams need from the client. */
export interface StreamsHost {
  /**
   * Delivers a message or a gap to the caller. `raw` marks a replay the client
   * did not ask for (a typed `/history`), delivered as it came. Returns false
   * when the message was not shown (one's own, with echo off).
   */
  deliver(event: Chat | GapEvent, raw: boolean): boolean;
  /**
   * Asks for what followed `since` in a stream, registering the request with
   * {@link Streams.expect} (holding the stream); false when it cannot now.
   */
  resync(room: string | undefined, since: Position): boolean;
}

interface Awaited {
  ref: string;
  expectation: Expectation;
}

interface Replay {
  /** Undefined when nobody here asked for it. */
  awaited: Awaited | undefined;
  header: HistoryEvent;
  remaining: number;
  /** A baseline for a stream with no position yet: its messages came before us. */
  quiet: boolean;
  result: ReplayResult;
}

interface Stream {
  room: string | undefined;
  position: Position | undefined;
  /** Replays asked for whose header has not come yet. */
  awaited: Awaited[];
  /** The replay whose messages are arriving now. */
  replay: Replay | undefined;
  /** Live messages held until the replays that hold the stream are over. */
  held: Chat[];
  /** A gap was delivered for a hole no message has passed yet: the next skip is that hole. */
  gapShown: boolean;
}

// No room is called "": the key of the private stream.
const DIRECT = "";

/** The position a message carries, if any. */
export function positionOf(event: Chat): Position | undefined {
  return typeof event.offset === "number" && typeof event.epoch === "string"
    ? { offset: event.offset, epoch: event.epoch }
    : undefined;
}

/** Positions, order and replays of every stream the client sees. */
export class Streams {
  #host: StreamsHost;
  #streams = new Map<string, Stream>();
  #paused: Chat[] | undefined;

  constructor(host: StreamsHost) {
    this.#host = host;
  }

  /** The last position seen in `room` (undefined: the private stream). */
  position(room: string | undefined): Position | undefined {
    const position = this.#streams.get(room ?? DIRECT)?.position;
    return position && { ...position };
  }

  /** Sets (or, with undefined, forgets) the position of a stream. */
  set(room: string | undefined, position: Position | undefined): void {
    this.#stream(room).position = position && { ...position };
  }

  /** Forgets a room the client left: its position and what was held. */
  forget(room: string): void {
    const stream = this.#streams.get(room);
    if (!stream) return;
    stream.position = undefined;
    stream.held = [];
    if (stream.awaited.length === 0 && !stream.replay) this.#streams.delete(room);
  }

  /** True while a replay of `room` is asked for or arriving. */
  awaiting(room: string | undefined): boolean {
    const stream = this.#streams.get(room ?? DIRECT);
    return stream !== undefined && (stream.awaited.length > 0 || stream.replay !== undefined);
  }

  /** Registers the request `ref`, whose `history` reply for `room` is handled as `expectation` says. */
  expect(ref: string, room: string | undefined, expectation: Expectation): void {
    this.#stream(room).awaited.push({ ref, expectation });
  }

  /**
   * The request `ref` will get no (more) replay, in every stream or in those
   * `only` accepts: it failed, timed out, or the room is not the session's.
   * With `lost`, a recovery from a known position becomes a gap.
   */
  cancel(ref: string, lost: boolean, only?: (room: string | undefined) => boolean): void {
    for (const stream of [...this.#streams.values()]) {
      if (only && !only(stream.room)) continue;
      const cancelled: Awaited[] = [];
      for (let index; (index = stream.awaited.findIndex((each) => each.ref === ref)) >= 0;) {
        cancelled.push(stream.awaited.splice(index, 1)[0]!);
      }
      if (stream.replay?.awaited?.ref === ref) {
        cancelled.push(stream.replay.awaited);
        stream.replay = undefined;
      }
      for (const { expectation } of cancelled) {
        if (lost && expectation.kind === "recover" && expectation.since) {
          this.#gap(stream, expectation.gap ?? "too_old");
        }
        expectation.done?.(undefined);
      }
      if (cancelled.length > 0) this.#releaseHeld(stream);
    }
  }

  /**
   * A `history` header: the replay it opens is collected. Returns false when
   * the client did not ask for it (a typed `/history`): the caller shows the
   * header, and its messages are delivered as they come.
   */
  header(event: HistoryEvent): boolean {
    const stream = this.#stream(event.room);
    if (stream.replay) this.#finish(stream, false); // a new header before the last replay ended
    const index = event.ref === undefined
      ? -1
      : stream.awaited.findIndex((each) => each.ref === event.ref);
    const awaited = index < 0 ? undefined : stream.awaited.splice(index, 1)[0];
    const replay: Replay = {
      awaited,
      header: event,
      remaining: Math.max(0, Math.trunc(event.count) || 0),
      quiet: false,
      result: {
        recovered: event.recovered,
        offset: event.offset,
        epoch: event.epoch,
        count: 0,
        messages: [],
      },
    };
    stream.replay = replay;
    const expectation = awaited?.expectation;
    if (expectation && expectation.kind !== "query") {
      const known = stream.position;
      const since = expectation.since;
      if (known && known.epoch !== event.epoch) {
        this.#gap(stream, "epoch");
        stream.position = undefined; // the history it belonged to is gone
      } else if (since && !event.recovered) {
        this.#gap(stream, since.epoch !== event.epoch ? "epoch" : expectation.gap ?? "too_old");
      }
      replay.quiet = expectation.kind === "baseline" && stream.position === undefined;
    }
    if (replay.remaining === 0) this.#finish(stream, true);
    return awaited !== undefined;
  }

  /** A `message` or `direct` event: part of a replay, held, or live. */
  message(event: Chat): void {
    const stream = this.#stream(event.type === "message" ? event.room : undefined);
    if (stream.replay) return this.#replayed(stream, event);
    if (this.#paused) return void this.#paused.push(event);
    if (this.#holding(stream)) return void stream.held.push(event);
    this.#live(stream, event, true);
  }

  /** Holds every live message (while the client restores its session) until {@link unpause}. */
  pause(): void {
    this.#paused ??= [];
  }

  /** Lets the held live messages through, in the order they came. */
  unpause(): void {
    const paused = this.#paused;
    this.#paused = undefined;
    for (const event of paused ?? []) this.message(event);
  }

  /**
   * The connection dropped: replays will not come, and what was held is
   * dropped (the resume replays it from the positions kept); messages without
   * a position, which no replay brings back, are delivered.
   */
  disconnected(): void {
    const paused = this.#paused ?? [];
    this.#paused = undefined;
    const done: Expectation[] = [];
    for (const stream of this.#streams.values()) {
      done.push(...stream.awaited.map((each) => each.expectation));
      if (stream.replay?.awaited) done.push(stream.replay.awaited.expectation);
      stream.awaited = [];
      stream.replay = undefined;
      paused.unshift(...stream.held);
      stream.held = [];
    }
    for (const event of paused) if (!positionOf(event)) this.#host.deliver(event, false);
    for (const expectation of done) expectation.done?.(undefined);
  }

  #stream(room: string | undefined): Stream {
    const key = room ?? DIRECT;
    let stream = this.#streams.get(key);
    if (!stream) {
      stream = {
        room,
        position: undefined,
        awaited: [],
        replay: undefined,
        held: [],
        gapShown: false,
      };
      this.#streams.set(key, stream);
    }
    return stream;
  }

  #holding(stream: Stream): boolean {
    return stream.awaited.some((each) => each.expectation.hold) ||
      stream.replay?.awaited?.expectation.hold === true;
  }

  #gap(stream: Stream, reason: GapEvent["reason"]): void {
    stream.gapShown = true;
    const gap: GapEvent = stream.room === undefined
      ? { type: "gap", reason }
      : { type: "gap", room: stream.room, reason };
    this.#host.deliver(gap, false);
  }

  // A live message: in order, a duplicate, after a new epoch, or after a hole
  // (which a resync fills when `resync` allows and the client can ask).
  #live(stream: Stream, event: Chat, resync: boolean): void {
    const position = positionOf(event);
    const known = stream.position;
    if (position && known) {
      if (position.epoch !== known.epoch) this.#gap(stream, "epoch");
      else if (position.offset <= known.offset) return;
      else if (position.offset > known.offset + 1) {
        if (resync && this.#host.resync(stream.room, known)) return void stream.held.push(event);
        if (!stream.gapShown) this.#gap(stream, "skipped");
      }
    }
    if (position) {
      stream.position = position;
      stream.gapShown = false;
    }
    this.#host.deliver(event, false);
  }

  #replayed(stream: Stream, event: Chat): void {
    const replay = stream.replay!;
    replay.remaining--;
    const kind = replay.awaited?.expectation.kind;
    if (kind === undefined) this.#host.deliver(event, true);
    else if (kind === "query") replay.result.messages.push(event);
    else if (!replay.quiet && this.#accept(stream, event)) replay.result.count++;
    if (replay.remaining <= 0) this.#finish(stream, true);
  }

  // A replayed message, unless it was seen already.
  #accept(stream: Stream, event: Chat): boolean {
    const position = positionOf(event);
    const known = stream.position;
    if (position && known && known.epoch === position.epoch && position.offset <= known.offset) {
      return false;
    }
    if (position) {
      stream.position = position;
      stream.gapShown = false;
    }
    return this.#host.deliver(event, false);
  }

  #finish(stream: Stream, complete: boolean): void {
    const replay = stream.replay!;
    stream.replay = undefined;
    const expectation = replay.awaited?.expectation;
    if (complete && (expectation?.kind === "recover" || expectation?.kind === "baseline")) {
      // Everything up to the header's position has been seen (or declared a gap).
      const { offset, epoch } = replay.header;
      const known = stream.position;
      if (!known || (known.epoch === epoch && offset > known.offset)) {
        stream.position = { offset, epoch };
      }
    }
    expectation?.done?.(complete ? replay.result : undefined);
    this.#releaseHeld(stream);
  }

  #releaseHeld(stream: Stream): void {
    if (stream.replay || this.#holding(stream) || stream.held.length === 0) return;
    const held = stream.held;
    stream.held = [];
    for (const [index, event] of held.entries()) {
      // A listener may have asked for another replay of this stream meanwhile.
      if (stream.replay || this.#holding(stream)) {
        stream.held.push(...held.slice(index));
        return;
      }
      this.#live(stream, event, false);
    }
  }
}
