// Entering rooms: a join with the replay the user may read and the room's
// topic after it, and the rooms a new user lands in, one after the other.

import { then } from "./_maybe.ts";
import type { MaybePromise } from "./engine.ts";
import type { Moderation } from "./moderation.ts";
import type { Permissions } from "./permissions.ts";
import type { Position } from "./protocol.ts";
import type { Replays } from "./replay.ts";
import { Reply } from "./reply.ts";
import type { Rooms } from "./rooms.ts";
import type { Session } from "./session.ts";

/** What {@link Entrance} needs from the relay. */
export interface EntranceHost {
  readonly rooms: Rooms;
  readonly replays: Replays;
  readonly permissions: Permissions;
  readonly moderation: Moderation;
}

/** Joins, with history and topic, as the user's rights allow. */
export class Entrance {
  #host: EntranceHost;

  constructor(host: EntranceHost) {
    this.#host = host;
  }

  /** Joins `room`, with a replay when the user may read its history, then tells them its topic. */
  join(
    reply: Reply,
    room: string,
    since: Position | undefined,
    history: number | undefined,
  ): MaybePromise<void> {
    const { permissions, replays, rooms, moderation } = this.#host;
    const joined = permissions.may(reply.session, room, "history")
      ? replays.join(reply, room, since, history)
      : rooms.join(reply, room);
    return then(joined, () => {
      const topic = moderation.topic(room);
      if (topic !== undefined && reply.session.rooms.has(room)) reply.send(topic);
    });
  }

  /** The rooms a new user lands in, in order; one that refuses them does not stop the rest. */
  joinAll(session: Session, rooms: string[]): MaybePromise<void> {
    const [room, ...rest] = rooms;
    if (room === undefined || session.state !== "ready") return;
    const reply = new Reply(session, undefined);
    let joined: MaybePromise<void> = undefined;
    try {
      joined = this.join(reply, room, undefined, undefined);
    } catch (error) {
      reply.fail(error);
    }
    if (!(joined instanceof Promise)) return this.joinAll(session, rest);
    return joined.catch((error) => reply.fail(error)).then(() => this.joinAll(session, rest));
  }
}
