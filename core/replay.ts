// Replays: what a room (or a user's private stream) said, sent to one session
// as a `history` header and the messages, joined to the live messages with no
// gap and no duplicate: live ones are held while the history is read.

import { utf8Length } from "./_utf8.ts";
import type { Engine, HistoryRead, MaybePromise } from "./engine.ts";
import { Outgoing } from "./outgoing.ts";
import type { HistoryEvent, Position } from "./protocol.ts";
import type { Reply } from "./reply.ts";

/** Messages one replay sends at most. */
export const MAX_REPLAY = 100;

/** Sends replays of history to sessions. */
export class Replays {
  #engine: Engine;
  #size: number;
  #budget: number;
  // A kept message replayed to many is encoded once per wire format, while it is kept.
  #encoded = new WeakMap<object, Outgoing>();

  /**
   * @param size How many messages each stream keeps (a replay never asks for more).
   * @param budget Bytes a session's queue may hold once a replay is in it: a
   * replay never makes a reader a slow consumer; what does not fit is not
   * recovered (the latest messages that fit are sent).
   */
  constructor(engine: Engine, size: number, budget: number) {
    this.#engine = engine;
    this.#size = size;
    this.#budget = budget;
  }

  /**
   * Replays `room` (undefined: the requester's private messages) to the
   * requester: the messages after `since` when all are still kept, else the
   * latest `limit`. Its size counts against the requester's byte rate. With
   * `quietIfEmpty`, an empty replay sends nothing at all.
   */
  send(
    reply: Reply,
    room: string | undefined,
    since: Position | undefined,
    limit: number,
    quietIfEmpty = false,
  ): MaybePromise<void> {
    const session = reply.session;
    const stream = room ?? "";
    const count = Math.min(Math.max(limit, 0), MAX_REPLAY, Math.max(this.#size, 0));
    session.hold(stream);
    const release = (read: HistoryRead | undefined): void => {
      if (read === undefined) return void session.replay(stream, [], undefined);
      const events = this.#fitting(read.events, this.#budget - session.outbound.bytes);
      const header: HistoryEvent = {
        type: "history",
        ...(room === undefined ? {} : { room }),
        recovered: read.recovered && events.length === read.events.length,
        epoch: read.latest.epoch,
        offset: read.latest.offset,
        count: events.length,
        ...(reply.ref === undefined ? {} : { ref: reply.ref }),
      };
      if (quietIfEmpty && events.length === 0) return void session.replay(stream, [], undefined);
      const replay: (HistoryEvent | Outgoing)[] = [header];
      for (const event of events) {
        let outgoing = this.#encoded.get(event);
        if (!outgoing) this.#encoded.set(event, outgoing = new Outgoing(event, true));
        replay.push(outgoing);
      }
      session.charge(session.replay(stream, replay, read.latest));
    };
    let read: MaybePromise<HistoryRead>;
    try {
      read = this.#engine.history(
        room === undefined ? { session: session.id } : { room },
        since,
        count,
      );
    } catch (error) {
      release(undefined);
      throw error;
    }
    if (!(read instanceof Promise)) return release(read);
    return read.then(release, (error) => {
      release(undefined);
      throw error;
    });
  }

  // The latest events whose bytes fit in `room` (roughly: the frames add a little).
  #fitting(events: HistoryRead["events"], room: number): HistoryRead["events"] {
    let start = events.length;
    let bytes = 0;
    while (start > 0) {
      const event = events[start - 1]!;
      const text = event.text === undefined ? 0 : utf8Length(event.text);
      bytes += 200 + (event.data?.length ?? 0) * 4 / 3 + text;
      if (bytes > room) break;
      start--;
    }
    return start === 0 ? events : events.slice(start);
  }
}
