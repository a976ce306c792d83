// Rooms on this node: who is in which room here, the rules for joining and
// creating rooms, joins and leaves told to the room, and fan-out to this
// node's members (encoded once per wire format) and to the other nodes.

import { then } from "./_maybe.ts";
import type { Engine, MaybePromise, Presence } from "./engine.ts";
import { RelayError } from "./errors.ts";
import type { RelayLimits } from "./limits.ts";
import { Outgoing } from "./outgoing.ts";
import type { ServerEvent } from "./protocol.ts";
import { RateLimiter, type RateLimits } from "./rate_limiter.ts";
import type { Reply } from "./reply.ts";
import type { Session } from "./session.ts";

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

interface LocalRoom {
  /** This node's members, in join order. */
  readonly members: Set<Session>;
  /** The address of whoever created it here, counted against its room limit. */
  readonly creator: string | undefined;
  /** Bytes said in the room, by everyone together. */
  readonly bytes: RateLimiter;
}

/** What {@link Rooms} needs from the relay. */
export interface RoomsHost {
  readonly limits: RelayLimits;
  readonly engine: Engine;
  now(): number;
  /** True while the relay shuts down: members are leaving all at once. */
  closing(): boolean;
  /** Members `room` may have at most, across the cluster, when its rules say. */
  maxMembers(room: string): number | undefined;
}

/** This node's rooms. */
export class Rooms {
  #rooms = new Map<string, LocalRoom>();
  #createdFrom = new Map<string, number>();
  #host: RoomsHost;
  #byteLimits: RateLimits;

  constructor(host: RoomsHost) {
    this.#host = host;
    const limits = host.limits;
    this.#byteLimits = {
      messagesPerSecond: Infinity,
      messageBurst: Infinity,
      bytesPerSecond: limits.roomBytesPerSecond,
      byteBurst: Math.max(limits.roomBytesPerSecond, 2 * limits.maxFileBytes),
    };
  }

  /** Rooms with a member on this node. */
  get size(): number {
    return this.#rooms.size;
  }

  /** This node's rooms and member counts, sorted by name. */
  list(): { name: string; members: number }[] {
    return [...this.#rooms].map(([name, room]) => ({ name, members: room.members.size }))
      .sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  }

  /** True when the room has more members here than are told of every join and leave. */
  quiet(room: string): boolean {
    const size = this.#rooms.get(room)?.members.size ?? 0;
    return size > this.#host.limits.maxAnnouncedRoomSize;
  }

  /** The room, when `session` is in it; else `not_in_room`. */
  memberRoom(session: Session, room: string): string {
    if (!session.rooms.has(room)) {
      throw new RelayError("not_in_room", `you are not in ${room}; /join it first`);
    }
    return room;
  }

  /** Joins `session` to `room` (creating it here), tells the room, replies with presence. */
  join(reply: Reply, room: string): MaybePromise<void> {
    const session = reply.session;
    const { limits, engine } = this.#host;
    if (session.rooms.has(room)) {
      session.currentRoom = room;
      return this.presence(reply, room);
    }
    if (session.rooms.size >= limits.maxRoomsPerSession) {
      throw new RelayError(
        "too_many_rooms",
        `you can be in at most ${limits.maxRoomsPerSession} rooms`,
      );
    }
    const local = this.#rooms.get(room) ?? this.#create(room, session.remoteAddress);
    local.members.add(session);
    session.rooms.add(room);
    session.currentRoom = room;
    const member = { node: engine.node, session: session.id, name: session.name! };
    return then(engine.join(room, member, limits.maxPresenceMembers), (presence) => {
      if (!session.rooms.has(room)) return; // left or closed while the engine answered
      const max = this.#host.maxMembers(room);
      if (max !== undefined && presence.count > max) {
        // The last to arrive is the one turned away; nobody heard of the join.
        this.#forget(session, room);
        void engine.leave(room, session.id);
        throw new RelayError("room_full", `${room} is full: it has room for ${max} members`);
      }
      const joined: ServerEvent = {
        type: "joined",
        ts: this.#host.now(),
        room,
        name: session.name!,
      };
      // In a crowd a join would cost every member a message (n squared in all):
      // only the joiner hears of it, and presence stays exact.
      if (presence.count <= limits.maxAnnouncedRoomSize) this.publish(room, joined);
      else session.send(joined);
      reply.sendCharged(presenceEvent(room, presence));
    });
  }

  /** Takes `session` out of `room` and tells the room (`reason` says why). */
  leave(session: Session, room: string, reason: "leave" | "disconnect"): MaybePromise<void> {
    this.#forget(session, room);
    const { engine, limits } = this.#host;
    const name = session.name!;
    return then(engine.leave(room, session.id), (remaining) => {
      const left: ServerEvent = { type: "left", ts: this.#host.now(), room, name, reason };
      if (reason === "leave") session.send(left);
      if (remaining === 0 || remaining + 1 > limits.maxAnnouncedRoomSize) return;
      // At shutdown this node's members are leaving too: only the others need to hear.
      if (this.#host.closing()) engine.publish({ to: "room", room, event: left });
      else this.publish(room, left);
    });
  }

  /** `to` (a resumed session) takes the place of `from` among this node's members. */
  replace(from: Session, to: Session): void {
    for (const room of to.rooms) {
      const local = this.#rooms.get(room);
      if (!local?.members.delete(from)) continue;
      local.members.add(to);
    }
  }

  /**
   * Puts a session resumed from another node among this node's members of
   * `room`; its membership in the cluster moved with it, so nobody is told.
   */
  attach(session: Session, room: string): void {
    const local = this.#rooms.get(room) ?? this.#create(room, undefined);
    local.members.add(session);
  }

  /** Takes a session resumed on another node out of this node's rooms, quietly. */
  detach(session: Session): void {
    for (const room of session.rooms) {
      const local = this.#rooms.get(room);
      if (!local?.members.delete(session)) continue;
      if (local.members.size === 0) this.#remove(room, local);
    }
  }

  /** Takes `session` out of every room it is in (its connection ended). */
  leaveAll(session: Session): void {
    for (const room of [...session.rooms]) void this.leave(session, room, "disconnect");
  }

  /** Replies with who is in `room`, across the cluster. */
  presence(reply: Reply, room: string): MaybePromise<void> {
    const { engine, limits } = this.#host;
    return then(engine.presence(room, limits.maxPresenceMembers), (presence) => {
      reply.sendCharged(presenceEvent(room, presence));
    });
  }

  /**
   * Counts `bytes` said in `room` against its byte rate; `rate_limited` when
   * the room has had too much (a crowd sharing files drowns every member).
   */
  admitBytes(room: string, bytes: number): void {
    const local = this.#rooms.get(room);
    if (local && !local.bytes.take(bytes, this.#host.now())) {
      throw new RelayError(
        "rate_limited",
        `${room} is busy: too much is being shared there right now; try again shortly`,
      );
    }
  }

  /** Sends `event` to every member of `room`, on this node and the others. */
  publish(room: string, event: ServerEvent, except?: string): void {
    this.deliver(room, event, except);
    this.#host.engine.publish(
      except === undefined ? { to: "room", room, event } : { to: "room", room, event, except },
    );
  }

  /** Sends `event` to this node's members of `room`, encoded once per wire format. */
  deliver(room: string, event: ServerEvent, except?: string): void {
    const local = this.#rooms.get(room);
    if (!local) return;
    const message = new Outgoing(event);
    for (const member of local.members) {
      if (member.id !== except) member.deliver(message);
    }
  }

  // Takes `session` out of `room` on this node only.
  #forget(session: Session, room: string): void {
    const local = this.#rooms.get(room);
    session.rooms.delete(room);
    if (session.currentRoom === room) session.currentRoom = [...session.rooms].at(-1);
    if (local) {
      local.members.delete(session);
      if (local.members.size === 0) this.#remove(room, local);
    }
  }

  #create(room: string, address: string | undefined): LocalRoom {
    const limits = this.#host.limits;
    // Everyone logs in to the lobby: it never counts against a room limit.
    if (room !== LOBBY && this.#rooms.size >= limits.maxRooms) {
      throw new RelayError("room_limit", "the server has too many rooms; join an existing one");
    }
    // The lobby belongs to everyone, whoever happened to arrive first.
    const creator = room === LOBBY ? undefined : address;
    const created = creator === undefined ? 0 : this.#createdFrom.get(creator) ?? 0;
    if (created >= limits.maxRoomsPerAddress) {
      throw new RelayError(
        "room_limit",
        `your address has created ${created} rooms, the most it may; join an existing one`,
      );
    }
    if (creator !== undefined) this.#createdFrom.set(creator, created + 1);
    const local: LocalRoom = {
      members: new Set(),
      creator,
      bytes: new RateLimiter(this.#byteLimits, this.#host.now()),
    };
    this.#rooms.set(room, local);
    this.#host.engine.subscribe(room);
    return local;
  }

  #remove(room: string, local: LocalRoom): void {
    this.#rooms.delete(room);
    this.#host.engine.unsubscribe(room);
    const address = local.creator;
    if (address === undefined) return;
    const created = (this.#createdFrom.get(address) ?? 1) - 1;
    if (created > 0) this.#createdFrom.set(address, created);
    else this.#createdFrom.delete(address);
  }
}

function presenceEvent(room: string, presence: Presence): ServerEvent {
  return { type: "presence", room, members: presence.members, count: presence.count };
}
