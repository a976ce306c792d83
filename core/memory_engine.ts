// The default engine: a cluster of one node, in this process. Every answer is
// synchronous, so a single relay never waits on its own state.

import type {
  ClusterCounts,
  Engine,
  EngineHost,
  EngineStatus,
  HistoryLimits,
  HistoryRead,
  Member,
  NameClaim,
  Parked,
  Presence,
  Recorded,
  RoomPage,
  Ruling,
  StreamName,
  Unparked,
} from "./engine.ts";
import { rulingKey } from "./engine.ts";
import { inForce, isKept, type KeptRuling } from "./_rulings.ts";
import { MemoryHistory, roomHistorySize } from "./memory_history.ts";
import { compareNames, roomPage } from "./room_page.ts";
import type { Position } from "./protocol.ts";

interface NameEntry {
  member: Member;
  token: string;
  /** Set while the name is kept for a dropped session: until when. */
  heldUntil: number | undefined;
}

/**
 * Options for {@link MemoryEngine}.
 *
 * @example A clock the tests control
 * ```ts
 * import { MemoryEngine, type MemoryEngineOptions } from "@crosswire/relay";
 * let time = 0;
 * const options: MemoryEngineOptions = { now: () => time };
 * const engine = new MemoryEngine(options);
 * engine.claimName("ann", { node: engine.node, session: "s1", name: "ann" }, "t");
 * engine.releaseName("ann", "s1", { ms: 1000 });
 * time = 1000;
 * if (!engine.claimName("ann", { node: engine.node, session: "s2", name: "ann" }, "u").ok) {
 *   throw new Error("the hold should have run out");
 * }
 * ```
 */
export interface MemoryEngineOptions {
  /** Clock for name holds and history, in milliseconds since the epoch. @default Date.now */
  now?: () => number;
  /**
   * What each room's (and each session's private) history keeps.
   * @default { size: 100, ttlMs: 600000, bytes: 2097152, totalBytes: 268435456 }
   */
  history?: HistoryLimits;
}

/** The history a relay keeps unless told otherwise. */
const DEFAULT_HISTORY: HistoryLimits = {
  size: 100,
  ttlMs: 600_000,
  bytes: 2 * 1024 * 1024,
  totalBytes: 256 * 1024 * 1024,
};

/** The stream a room's messages are kept in. */
function roomStream(room: string): string {
  return "r:" + room;
}

/** The stream a session's private messages are kept in. */
function sessionStream(session: string): string {
  return "u:" + session;
}

/**
 * An {@link Engine} for one node in one process: names, presence and the room
 * list live in maps here, and there is no other node to publish to.
 *
 * @example A name is unique while held
 * ```ts
 * import { MemoryEngine } from "@crosswire/relay";
 * const engine = new MemoryEngine();
 * const ann = { node: engine.node, session: "s1", name: "ann" };
 * const bob = { node: engine.node, session: "s2", name: "ann" };
 * const first = engine.claimName("ann", ann, "t1");
 * const second = engine.claimName("ann", bob, "t2");
 * if (!first.ok || second.ok) throw new Error("the second claim should fail");
 * ```
 */
export class MemoryEngine implements Engine {
  /** This node's id: random, so message ids differ between runs. */
  readonly node: string = Math.random().toString(36).slice(2, 8);
  #now: () => number;
  #names = new Map<string, NameEntry>();
  // Held names in the order they expire (every hold lasts as long), for pruning.
  #holds: { key: string; entry: NameEntry }[] = [];
  #liveNames = 0;
  #rooms = new Map<string, Map<string, Member>>();
  #sorted: string[] | undefined;
  #history: MemoryHistory;
  #parked = new Map<string, { parked: Parked; until: number }>();
  // Bans, mutes and topics by rulingKey; a lifted or cleared one is removed.
  #rulings = new Map<string, KeptRuling>();
  #host: EngineHost | undefined;

  /** Creates an engine with no names, no rooms and no history. */
  constructor(options: MemoryEngineOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#history = new MemoryHistory(
      options.history ?? DEFAULT_HISTORY,
      this.#now,
      (stream) => roomHistorySize(this.#host, stream),
    );
  }

  /** Nothing to connect to; the host's rules say what each room's history keeps. */
  start(host: EngineHost): Promise<void> {
    this.#host = host;
    return Promise.resolve();
  }

  /** Nothing to leave. */
  close(): Promise<void> {
    return Promise.resolve();
  }

  /** Always up. */
  status(): EngineStatus {
    return { backplane: "memory", state: "up" };
  }

  /** One node; its users and rooms. */
  counts(): ClusterCounts {
    return { nodes: 1, users: this.#liveNames, rooms: this.#rooms.size };
  }

  /** No other node to hear from. */
  subscribe(_room: string): void {}

  /** No other node to hear from. */
  unsubscribe(_room: string): void {}

  /** No other node to tell. */
  publish(): void {}

  /** Gives the name to `member` unless someone else holds it (or it is kept for another token). */
  claimName(key: string, member: Member, token: string): NameClaim {
    this.#pruneHolds();
    const entry = this.#names.get(key);
    if (entry && entry.member.session !== member.session) {
      const held = entry.heldUntil !== undefined;
      if (!held || entry.token !== token) {
        return { ok: false, holder: entry.member.name, held };
      }
    }
    if (!entry || entry.heldUntil !== undefined) this.#liveNames++;
    this.#names.set(key, { member, token, heldUntil: undefined });
    return { ok: true };
  }

  /** Frees the name, or keeps it for `hold.ms` for the same token. */
  releaseName(key: string, session: string, hold?: { ms: number }): void {
    const entry = this.#names.get(key);
    if (!entry || entry.member.session !== session || entry.heldUntil !== undefined) return;
    this.#liveNames--;
    if (hold === undefined || hold.ms <= 0) {
      this.#names.delete(key);
      return;
    }
    entry.heldUntil = this.#now() + hold.ms;
    this.#holds.push({ key, entry });
  }

  /** The session holding the name, unless it is only kept for a dropped user. */
  findName(key: string): Member | undefined {
    const entry = this.#names.get(key);
    return entry && entry.heldUntil === undefined ? entry.member : undefined;
  }

  /** Adds the member; answers with the room's presence after it. */
  join(room: string, member: Member, limit: number): Presence {
    let members = this.#rooms.get(room);
    if (!members) {
      this.#rooms.set(room, members = new Map());
      this.#sorted = undefined;
    }
    members.set(member.session, member);
    return this.presence(room, limit);
  }

  /** Removes the session; answers with how many members remain. */
  leave(room: string, session: string): number {
    const members = this.#rooms.get(room);
    if (!members) return 0;
    members.delete(session);
    if (members.size > 0) return members.size;
    this.#rooms.delete(room);
    this.#sorted = undefined;
    return 0;
  }

  /** Shows the member under its new name from now on. */
  rename(room: string, session: string, name: string): void {
    const member = this.#rooms.get(room)?.get(session);
    if (member) member.name = name;
  }

  /** The first `limit` names in join order, and the count. */
  presence(room: string, limit: number): Presence {
    const members = this.#rooms.get(room);
    if (!members) return { members: [], count: 0 };
    const names: string[] = [];
    for (const member of members.values()) {
      if (names.length >= limit) break;
      names.push(member.name);
    }
    return { members: names, count: members.size };
  }

  /** Rooms after `after`, sorted by name, at most `limit`. */
  rooms(limit: number, after?: string): RoomPage {
    // Sorted once per change of the room set, not once per request.
    const sorted = this.#sorted ??= [...this.#rooms.keys()].sort(compareNames);
    return roomPage(sorted, limit, after, (room) => this.#rooms.get(room)!.size);
  }

  /** Positions the message in its stream and keeps it; the caller delivers it. */
  record(envelope: Recorded): Recorded {
    const stream = envelope.to === "room"
      ? roomStream(envelope.room)
      : sessionStream(envelope.session);
    this.#history.append(stream, envelope.event);
    return envelope;
  }

  /** Reads a room's or a session's stream. */
  history(stream: StreamName, since: Position | undefined, limit: number): HistoryRead {
    const name = "room" in stream ? roomStream(stream.room) : sessionStream(stream.session);
    return this.#history.read(name, since, limit);
  }

  /** Forgets a session's private stream. */
  dropStream(session: string): void {
    this.#history.drop(sessionStream(session));
  }

  /** Keeps the parked session for `ms`. */
  park(token: string, parked: Parked, ms: number): void {
    this.#parked.set(token, { parked, until: this.#now() + ms });
  }

  /** Takes the parked session; on one node its name and rooms never moved. */
  unpark(token: string): Unparked | undefined {
    const entry = this.#parked.get(token);
    // Past its window it is no longer to be had, though it stays until its node ends it.
    if (!entry || entry.until <= this.#now()) return undefined;
    this.#parked.delete(token);
    return { parked: entry.parked, kept: entry.parked.rooms };
  }

  /** True when the session was still parked (and is no longer). */
  expire(token: string): boolean {
    return this.#parked.delete(token);
  }

  /**
   * Keeps a ban, mute or topic under its key (replacing the one there; a ban
   * or mute already over, or a cleared topic, removes it). No other node to
   * tell, so a kick is nothing here: the caller applies it.
   */
  rule(ruling: Ruling): void {
    if (!isKept(ruling)) return;
    const key = rulingKey(ruling);
    if (inForce(ruling, this.#now())) this.#rulings.set(key, ruling);
    else this.#rulings.delete(key);
  }

  /** The bans and mutes not yet over (by this engine's clock), and the topics. */
  rulings(): Ruling[] {
    const now = this.#now();
    const rulings: Ruling[] = [];
    for (const [key, ruling] of this.#rulings) {
      if (inForce(ruling, now)) rulings.push(ruling);
      else this.#rulings.delete(key);
    }
    return rulings;
  }

  /** Drops history nobody can ask for any more, and bans and mutes that are over. */
  sweep(now: number): void {
    this.#history.sweep(now);
    for (const [key, ruling] of this.#rulings) {
      if (!inForce(ruling, now)) this.#rulings.delete(key);
    }
  }

  /**
   * The live names and the room memberships this engine holds, for an engine
   * that mirrors one node's state in memory and must write it elsewhere again.
   */
  entries(): {
    names: { key: string; member: Member; token: string }[];
    presence: { room: string; member: Member }[];
  } {
    const names = [];
    for (const [key, entry] of this.#names) {
      if (entry.heldUntil === undefined) {
        names.push({ key, member: entry.member, token: entry.token });
      }
    }
    const presence = [];
    for (const [room, members] of this.#rooms) {
      for (const member of members.values()) presence.push({ room, member });
    }
    return { names, presence };
  }

  #pruneHolds(): void {
    const now = this.#now();
    const holds = this.#holds;
    let expired = 0;
    while (expired < holds.length && holds[expired]!.entry.heldUntil! <= now) {
      const { key, entry } = holds[expired++]!;
      // A name reclaimed (or claimed again) since is no longer this hold's.
      if (this.#names.get(key) === entry) this.#names.delete(key);
    }
    if (expired > 0) holds.splice(0, expired);
  }
}
