// Replays: what a room (or a user's private stream) said, sent to one session
// as a `history` header and the messages, joined to the live messages with no
// gap and no duplicate: live ones are held while the history is read.

import { then } from "./_maybe.ts";
import { utf8Length } from "./_utf8.ts";
import type { RelayCounters } from "./counters.ts";
import type { Engine, HistoryRead, MaybePromise } from "./engine.ts";
import { Outgoing } from "./outgoing.ts";
import type { HistoryEvent, Position } from "./protocol.ts";
import type { Reply } from "./reply.ts";
import type { Rooms } from "./rooms.ts";

/** Messages one replay sends at most. */
export const MAX_REPLAY = 100;

/** What {@link Replays} needs from the relay. */
export interface ReplaysHost {
  readonly engine: Engine;
  readonly rooms: Rooms;
  /** How many messages each stream keeps (a replay never asks for more). */
  readonly size: number;
  /** Messages a text-mode user is shown on a join. */
  readonly onJoin: number;
  /**
   * Bytes a session's queue may hold once a replay is in it: what does not fit
   * is not recovered (the latest messages that fit are sent).
   */
  readonly budget: number;
  readonly counters: RelayCounters;
}

/** Sends replays of history to sessions. */
export class Replays {
  #host: ReplaysHost;
  // A kept message replayed to many is encoded once per wire format, while it is kept.
  #encoded = new WeakMap<object, Outgoing>();

  constructor(host: ReplaysHost) {
    this.#host = host;
  }

  /**
   * Joins `room`, then replays what it said when asked (`since`, `history`;
   * `history: 0` is the header alone), or its last few lines to a text-mode user.
   */
  join(
    reply: Reply,
    room: string,
    since: Position | undefined,
    history: number | undefined,
  ): MaybePromise<void> {
    const session = reply.session;
    const { rooms, size, onJoin } = this.#host;
    const asked = since !== undefined || history !== undefined;
    const count = since !== undefined ? MAX_REPLAY : history ?? (session.json ? 0 : onJoin);
    if (!asked && (count <= 0 || size <= 0)) return rooms.join(reply, room);
    // Held from before the join, so nothing said meanwhile is lost or shown twice.
    session.hold(room);
    const unhold = (error: unknown) => {
      session.replay(room, [], undefined);
      throw error;
    };
    try {
      // A text-mode user joining a room where nothing was said yet is not told so.
      const joined = then(
        rooms.join(reply, room),
        () => this.send(reply, room, since, count, !asked),
      );
      return joined instanceof Promise ? joined.catch(unhold) : joined;
    } catch (error) {
      return unhold(error);
    }
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
    const count = Math.min(Math.max(limit, 0), MAX_REPLAY, Math.max(this.#host.size, 0));
    session.hold(stream);
    const release = (read: HistoryRead | undefined): void => {
      if (read === undefined) return void session.replay(stream, [], undefined);
      const events = this.#fitting(read.events, this.#host.budget - session.outbound.bytes);
      this.#host.counters.historyReads++;
      this.#host.counters.historyMessages += events.length;
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
      read = this.#host.engine.history(
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
