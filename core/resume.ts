// Sessions kept after a dropped connection: parked with their name and rooms
// (nobody sees them leave) for the resume window, taken back by a new
// connection that brings the token, on this node or any other, and ended
// (the others see them leave) when the window runs out.

import type { RelayCounters } from "./counters.ts";
import { then } from "./_maybe.ts";
import type { Engine, MaybePromise, Parked, Unparked } from "./engine.ts";
import { RelayError } from "./errors.ts";
import { nameKey, validateRoom } from "./names.ts";
import type { ClientRequest, Position } from "./protocol.ts";
import { MAX_REPLAY, type Replays } from "./replay.ts";
import type { Reply } from "./reply.ts";
import type { Rooms } from "./rooms.ts";
import type { Session } from "./session.ts";
import type { Users } from "./users.ts";

type ResumeRequest = Extract<ClientRequest, { type: "resume" }>;

/** What {@link Resumption} needs from the relay. */
export interface ResumptionHost {
  readonly engine: Engine;
  readonly counters: RelayCounters;
  readonly users: Users;
  readonly rooms: Rooms;
  readonly replays: Replays;
  /** How long a dropped session is kept, in ms (0: never). */
  readonly windowMs: number;
  /** Sessions kept at once on this node, at most. */
  readonly maxParked: number;
  now(): number;
  /** Sends `welcome` to a resumed session (with `resumed: true`). */
  welcome(reply: Reply): MaybePromise<void>;
  /** Ends a session for good: the others see it leave, its name is free. */
  end(session: Session): void;
}

/** A new secret for resuming a session. */
export function newResumeToken(): string {
  return crypto.randomUUID().replaceAll("-", "") + crypto.randomUUID().replaceAll("-", "");
}

/** This node's parked sessions. */
export class Resumption {
  #host: ResumptionHost;
  #parked = new Map<string, { session: Session; until: number }>();
  #tokens = new Map<string, string>();

  constructor(host: ResumptionHost) {
    this.#host = host;
  }

  /** Parked sessions on this node. */
  get size(): number {
    return this.#parked.size;
  }

  /**
   * Keeps a session whose connection dropped, when it can be resumed (it has
   * a token, and its address has not too many kept already). True when kept.
   */
  park(session: Session): boolean {
    const { windowMs, users, engine, now } = this.#host;
    const token = session.resume;
    if (windowMs <= 0 || token === undefined || session.name === undefined) return false;
    if (this.#parked.size >= this.#host.maxParked) return false;
    if (!users.mayKeep(session.remoteAddress, windowMs)) return false;
    // What it had not read yet is gone with its connection (the history has it), once
    // a transport closing it has written its last notice.
    queueMicrotask(() => session.outbound.drop());
    const parked: Parked = {
      node: engine.node,
      session: session.id,
      name: session.name,
      key: nameKey(session.name),
      reclaim: session.reclaim!,
      rooms: [...session.rooms],
      echo: session.echo,
      ...(session.identity === undefined ? {} : { identity: session.identity }),
      ...(session.oper ? { oper: true } : {}),
    };
    engine.park(token, parked, windowMs);
    this.#parked.set(token, { session, until: now() + windowMs });
    this.#tokens.set(session.id, token);
    return true;
  }

  /** Ends the sessions whose window ran out without a resume. */
  sweep(now: number): void {
    for (const [token, { session, until }] of this.#parked) {
      if (until > now) continue;
      this.#take(token);
      const host = this.#host;
      // Still parked in the cluster: nobody took it, so it ends here.
      void Promise.resolve(host.engine.expire(token)).then(
        (parked) => parked ? host.end(session) : this.#forget(session),
        () => host.end(session),
      );
    }
  }

  /** A session parked here was resumed on another node: forget it, quietly. */
  resumedElsewhere(id: string): void {
    const token = this.#tokens.get(id);
    const entry = token === undefined ? undefined : this.#take(token);
    if (entry) this.#forget(entry.session);
  }

  #forget(session: Session): void {
    this.#host.rooms.detach(session);
    this.#host.users.forget(session);
  }

  /** Ends every parked session now (the server is shutting down). */
  endAll(): void {
    for (const token of [...this.#parked.keys()]) {
      const entry = this.#take(token)!;
      this.#host.engine.expire(token);
      this.#host.end(entry.session);
    }
  }

  /**
   * A new connection brings a token: it takes the parked session back, with
   * its name and rooms, then gets what it missed in the rooms it names.
   */
  resume(reply: Reply, request: ResumeRequest): MaybePromise<void> {
    const session = reply.session;
    if (session.state !== "new") {
      throw new RelayError("already_logged_in", "you are already logged in");
    }
    if (this.#host.windowMs <= 0) {
      this.#host.counters.resumeFailures++;
      throw new RelayError("resume_failed", "this server does not keep sessions; log in");
    }
    return then(this.#host.engine.unpark(request.token), (unparked) => {
      if (unparked === undefined) {
        this.#host.counters.resumeFailures++;
        throw new RelayError(
          "resume_failed",
          "that session has ended or the token is wrong; log in again",
        );
      }
      return this.#takeBack(reply, request, unparked);
    });
  }

  #takeBack(reply: Reply, request: ResumeRequest, unparked: Unparked): MaybePromise<void> {
    const { users, rooms, replays } = this.#host;
    const session = reply.session;
    const { parked, kept } = unparked;
    const local = this.#take(request.token);
    if (local) {
      session.adopt(local.session);
      users.replace(local.session, session);
      rooms.replace(local.session, session);
    } else {
      session.adopt({ ...parked, id: parked.session, rooms: kept });
      users.adopt(session);
      for (const room of kept) rooms.attach(session, room);
    }
    session.echo = request.echo ?? parked.echo;
    if (session.state === "closed") {
      // Dropped again while the engine answered: kept again under the token its client has.
      session.resume = request.token;
      if (!this.park(session)) this.#host.end(session);
      return;
    }
    session.resume = newResumeToken();
    session.markReady();
    this.#host.counters.resumes++;
    // Live messages wait from now on: nothing comes before the welcome, and each
    // replay joins the live messages exactly.
    const positions = positionsByRoom(request.rooms);
    const streams = [...session.rooms, ""];
    for (const stream of streams) session.hold(stream);
    const replayed = [...session.rooms].filter((room) => positions.has(room));
    const direct = request.direct;
    const steps: (() => MaybePromise<void>)[] = [
      () => this.#host.welcome(reply),
      () => {
        for (const stream of streams) {
          const later = stream === "" ? direct !== undefined : positions.has(stream);
          if (!later) session.replay(stream, [], undefined);
        }
      },
    ];
    // Rooms whose membership lapsed meanwhile (their node died) are joined again.
    for (const room of parked.rooms) {
      if (!kept.includes(room)) {
        steps.push(() => rooms.join(reply, room));
      }
    }
    for (const room of replayed) {
      steps.push(() => replays.send(reply, room, positions.get(room), MAX_REPLAY));
    }
    if (direct !== undefined) steps.push(() => replays.send(reply, undefined, direct, MAX_REPLAY));
    const unhold = (error: unknown) => {
      // Whatever was not replayed is not held back either.
      for (const stream of streams) session.replay(stream, [], undefined);
      throw error;
    };
    try {
      const done = sequence(steps);
      return done instanceof Promise ? done.catch(unhold) : done;
    } catch (error) {
      return unhold(error);
    }
  }

  #take(token: string): { session: Session; until: number } | undefined {
    const entry = this.#parked.get(token);
    if (!entry) return undefined;
    this.#parked.delete(token);
    this.#tokens.delete(entry.session.id);
    return entry;
  }
}

// The positions a resume names, by room name as the relay spells it (`#lobby` is `lobby`);
// names that are no room are ignored.
function positionsByRoom(rooms: Record<string, Position> | undefined): Map<string, Position> {
  const positions = new Map<string, Position>();
  for (const [name, position] of Object.entries(rooms ?? {})) {
    try {
      positions.set(validateRoom(name), position);
    } catch { /* not a room name: nothing to replay */ }
  }
  return positions;
}

// Runs each step after the one before, waiting only when a step must.
function sequence(steps: (() => MaybePromise<void>)[], from = 0): MaybePromise<void> {
  for (let i = from; i < steps.length; i++) {
    const result = steps[i]!();
    if (result instanceof Promise) return result.then(() => sequence(steps, i + 1));
  }
}
