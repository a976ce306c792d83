/**
 * The seam between one relay node and the state it shares with other nodes:
 * names, presence and fan-out. {@link MemoryEngine} is a cluster of one, in
 * this process; a Redis engine (`redis/`, `@crosswire/relay/redis`) makes several processes one
 * relay. Methods that may need a round trip return `T | Promise<T>`: the
 * in-memory engine answers synchronously, so a single node never waits.
 *
 * @module
 */
import type { Identity } from "./auth.ts";
import type { DirectEvent, MessageEvent, Position, ServerEvent } from "./protocol.ts";

/**
 * A value now, or later: the in-memory engine answers at once, a remote one later.
 *
 * @example
 * ```ts
 * import type { MaybePromise } from "@crosswire/relay";
 * const now: MaybePromise<number> = 1;
 * const later: MaybePromise<number> = Promise.resolve(2);
 * if ((await now) + (await later) !== 3) throw new Error("unexpected");
 * ```
 */
export type MaybePromise<T> = T | Promise<T>;

/**
 * A message for other nodes: room events, private messages, server notices.
 *
 * @example A room message as it crosses to another node
 * ```ts
 * import type { Envelope } from "@crosswire/relay";
 * const envelope: Envelope = {
 *   to: "room",
 *   room: "lobby",
 *   event: { type: "notice", ts: 0, text: "hi" },
 * };
 * if (envelope.to !== "room") throw new Error("unexpected route");
 * ```
 */
export type Envelope =
  | {
    /** Every member of `room`. */
    to: "room";
    /** The room. */
    room: string;
    /** What they receive. */
    event: ServerEvent;
    /** A session id that must not receive it (the sender without echo). */
    except?: string;
  }
  | {
    /** The user whose name has this key. */
    to: "user";
    /** The recipient's name key ({@link nameKey}). */
    key: string;
    /** The node the recipient is connected to, as {@link Engine.findName} said. */
    node: string;
    /** The recipient's session: its private stream keeps the message. */
    session: string;
    /** The private message. */
    event: DirectEvent;
  }
  | {
    /** Every logged-in user. */
    to: "all";
    /** The notice. */
    event: ServerEvent;
  };

/**
 * A moderation decision every node applies to its own sessions: a kick (now,
 * not kept), or a ban, mute or room topic (kept until `until`, by every node
 * and by whatever shared store the engine has, so a node that starts later
 * applies it too). A ban or mute with `until` in the past lifts it.
 *
 * @example A ten-minute mute
 * ```ts
 * import type { Ruling } from "@crosswire/relay";
 * const mute: Ruling = {
 *   kind: "mute",
 *   target: { name: "bob" },
 *   until: Date.now() + 600_000,
 *   by: "ann",
 * };
 * if (mute.kind !== "mute") throw new Error("unexpected ruling");
 * ```
 */
export type Ruling =
  | {
    /** Disconnect whoever has this name now. */
    kind: "kick";
    /** The name's key ({@link nameKey}). */
    target: { name: string };
    /** Who did it: a user's name, or `server`. */
    by: string;
    /** Why, as the moderator said. */
    reason?: string;
  }
  | {
    /** Disconnect and refuse a name (its key) or an address until `until`. */
    kind: "ban";
    /** A name's key, or an address as the relay sees it. */
    target: { name: string } | { address: string };
    /** When it ends, in milliseconds since the epoch; in the past: lifted. */
    until: number;
    /** Who did it. */
    by: string;
    /** Why. */
    reason?: string;
  }
  | {
    /** The name's user may not say anything (rooms or private) until `until`. */
    kind: "mute";
    /** The name's key. */
    target: { name: string };
    /** When it ends; in the past: lifted. */
    until: number;
    /** Who did it. */
    by: string;
    /** Why. */
    reason?: string;
  }
  | {
    /** A room's topic; empty text clears it. */
    kind: "topic";
    /** The room. */
    room: string;
    /** The topic. */
    text: string;
    /** Who set it. */
    by: string;
    /** When it was set, in milliseconds since the epoch. */
    ts: number;
  };

/**
 * The key under which a kept ruling is stored: a later ruling with the same
 * key replaces it (a second ban of a name, a new topic). Kicks are not kept.
 *
 * @param ruling A ban, mute or topic.
 * @returns Its key, such as `ban:name:bob` or `topic:lobby`.
 *
 * @example
 * ```ts
 * import { rulingKey } from "@crosswire/relay";
 * const key = rulingKey({ kind: "topic", room: "lobby", text: "hi", by: "ann", ts: 0 });
 * if (key !== "topic:lobby") throw new Error(key);
 * ```
 */
export function rulingKey(ruling: Exclude<Ruling, { kind: "kick" }>): string {
  if (ruling.kind === "topic") return `topic:${ruling.room}`;
  const target = ruling.target;
  return "name" in target
    ? `${ruling.kind}:name:${target.name}`
    : `${ruling.kind}:address:${target.address}`;
}

/**
 * An envelope whose message is kept in a stream and given a position there:
 * a room message (the room's stream), or a private message (the recipient
 * session's stream).
 *
 * @example
 * ```ts
 * import type { Recorded } from "@crosswire/relay";
 * const recorded: Recorded = {
 *   to: "room",
 *   room: "lobby",
 *   event: { type: "message", id: "n-1", ts: 0, room: "lobby", from: "ann", text: "hi" },
 * };
 * if (recorded.event.type !== "message") throw new Error("a room message");
 * ```
 */
export type Recorded =
  | (Extract<Envelope, { to: "room" }> & { event: MessageEvent })
  | Extract<Envelope, { to: "user" }>;

/**
 * Which stream a history read is about: a room's, or one session's private stream.
 *
 * @example
 * ```ts
 * import type { StreamName } from "@crosswire/relay";
 * const streams: StreamName[] = [{ room: "lobby" }, { session: "s1" }];
 * if (!("room" in streams[0]!)) throw new Error("a room stream");
 * ```
 */
export type StreamName = { room: string } | { session: string };

/**
 * What each stream of a history keeps, and all of them together.
 *
 * @example The relay's defaults
 * ```ts
 * import type { HistoryLimits } from "@crosswire/relay";
 * const limits: HistoryLimits = {
 *   size: 100,
 *   ttlMs: 600_000,
 *   bytes: 2 * 1024 * 1024,
 *   totalBytes: 256 * 1024 * 1024,
 * };
 * if (limits.size !== 100) throw new Error("unexpected size");
 * ```
 */
export interface HistoryLimits {
  /** Messages per stream (0: none kept; positions are still given). */
  size: number;
  /** Age after which a message is gone, in ms. */
  ttlMs: number;
  /** Bytes per stream, text and files counted. */
  bytes: number;
  /** Bytes in all streams together, where the engine can count them (in memory). */
  totalBytes: number;
}

/**
 * What a history read found: the stream's latest position and the messages,
 * oldest first.
 *
 * @example
 * ```ts
 * import type { HistoryRead } from "@crosswire/relay";
 * const read: HistoryRead = { recovered: true, latest: { offset: 0, epoch: "e" }, events: [] };
 * if (read.events.length !== read.latest.offset) throw new Error("an empty stream");
 * ```
 */
export interface HistoryRead {
  /** True when `events` are exactly those after the position asked for. */
  recovered: boolean;
  /** The stream's epoch and latest offset (0: no message yet). */
  latest: Position;
  /** The messages, oldest first, each with its position. */
  events: (MessageEvent | DirectEvent)[];
}

/**
 * A session kept after its connection dropped, waiting for its client to resume it.
 *
 * @example
 * ```ts
 * import type { Parked } from "@crosswire/relay";
 * const parked: Parked = {
 *   node: "n1",
 *   session: "s1",
 *   name: "ann",
 *   key: "ann",
 *   reclaim: "t",
 *   rooms: ["lobby"],
 *   echo: false,
 * };
 * if (parked.rooms[0] !== "lobby") throw new Error("unexpected rooms");
 * ```
 */
export interface Parked {
  /** The node that held the connection. */
  node: string;
  /** The session's id. */
  session: string;
  /** Its name, as shown. */
  name: string;
  /** Its name's key. */
  key: string;
  /** Its name's reclaim token. */
  reclaim: string;
  /** Its rooms, oldest first. */
  rooms: string[];
  /** Whether it receives its own room messages. */
  echo: boolean;
  /** Who its token said it is, when it logged in with one. */
  identity?: Identity;
  /** Whether it had become an admin with the operator password. */
  oper?: boolean;
}

/**
 * A parked session taken back by a new connection: what it was, and the
 * rooms where its membership moved to this node without anyone seeing it
 * leave (any other room it must join again, as anyone would).
 *
 * @example
 * ```ts
 * import type { Unparked } from "@crosswire/relay";
 * const unparked: Unparked = {
 *   parked: {
 *     node: "n1",
 *     session: "s1",
 *     name: "ann",
 *     key: "ann",
 *     reclaim: "t",
 *     rooms: ["lobby"],
 *     echo: false,
 *   },
 *   kept: ["lobby"],
 * };
 * if (unparked.kept.length !== 1) throw new Error("unexpected rooms");
 * ```
 */
export interface Unparked {
  /** The session as it was parked. */
  parked: Parked;
  /** Rooms it is still a member of, now through this node. */
  kept: string[];
}

/**
 * A logged-in session as the cluster knows it.
 *
 * @example
 * ```ts
 * import type { Member } from "@crosswire/relay";
 * const member: Member = { node: "n1", session: "s1", name: "ann" };
 * if (member.name !== "ann") throw new Error("unexpected member");
 * ```
 */
export interface Member {
  /** The node that holds the connection. */
  node: string;
  /** The session's id, unique in the cluster. */
  session: string;
  /** The user's name as shown. */
  name: string;
}

/**
 * Who is in a room: the first names in join order, and the full count.
 *
 * @example
 * ```ts
 * import type { Presence } from "@crosswire/relay";
 * const presence: Presence = { members: ["ann"], count: 3 };
 * if (presence.count < presence.members.length) throw new Error("count is the full number");
 * ```
 */
export interface Presence {
  /** Names, in join order, at most the limit asked for. */
  members: string[];
  /** Members in all. */
  count: number;
}

/**
 * One page of the room list, sorted by name.
 *
 * @example
 * ```ts
 * import type { RoomPage } from "@crosswire/relay";
 * const page: RoomPage = { rooms: [{ name: "lobby", members: 2 }], total: 1 };
 * if (page.total !== page.rooms.length) throw new Error("a single page");
 * ```
 */
export interface RoomPage {
  /** Rooms after the cursor, sorted by name, each with its member count. */
  rooms: { name: string; members: number }[];
  /** Rooms in all. */
  total: number;
}

/**
 * The answer to a name claim.
 *
 * @example
 * ```ts
 * import type { NameClaim } from "@crosswire/relay";
 * const claim: NameClaim = { ok: false, holder: "Ann", held: false };
 * if (claim.ok) throw new Error("taken");
 * ```
 */
export type NameClaim =
  | { ok: true }
  | {
    ok: false;
    /** The name as its holder shows it. */
    holder: string;
    /** True when the holder dropped and the name is kept for them a while. */
    held: boolean;
  };

/**
 * Where the engine is: `up`, or `degraded` (other nodes unreachable; this
 * node serves its own clients alone).
 *
 * @example
 * ```ts
 * import { MemoryEngine, type EngineStatus } from "@crosswire/relay";
 * const status: EngineStatus = new MemoryEngine().status();
 * if (status.backplane !== "memory" || status.state !== "up") throw new Error("unexpected");
 * ```
 */
export interface EngineStatus {
  /** Which engine: `memory`, `redis`, ... */
  backplane: string;
  /** `up`, or `degraded` while the shared store is unreachable. */
  state: "up" | "degraded";
  /** Human-readable detail, such as the last error. */
  detail?: string;
}

/**
 * Cluster-wide counts.
 *
 * @example
 * ```ts
 * import { MemoryEngine, type ClusterCounts } from "@crosswire/relay";
 * const counts: ClusterCounts = new MemoryEngine().counts() as ClusterCounts;
 * if (counts.nodes !== 1 || counts.users !== 0) throw new Error("unexpected counts");
 * ```
 */
export interface ClusterCounts {
  /** Live nodes. */
  nodes: number;
  /** Logged-in users on every node. */
  users: number;
  /** Rooms with at least one member. */
  rooms: number;
}

/**
 * What a relay gives its engine at start: where messages from other nodes go,
 * and whom to tell when the engine's state changes.
 *
 * @example
 * ```ts
 * import type { EngineHost } from "@crosswire/relay";
 * const delivered: string[] = [];
 * const host: EngineHost = {
 *   deliver: (envelope) => delivered.push(envelope.to),
 *   changed: () => {},
 *   nameLost: () => {},
 *   ruled: () => {},
 *   resumedElsewhere: () => {},
 * };
 * host.deliver({ to: "all", event: { type: "notice", ts: 0, text: "hi" } });
 * if (delivered[0] !== "all") throw new Error("not delivered");
 * ```
 */
export interface EngineHost {
  /**
   * What the relay's options say each stream keeps, for an engine not told
   * otherwise in its own options.
   */
  readonly history?: HistoryLimits;
  /** A message from another node, for this node's sessions. Must not throw. */
  deliver(envelope: Envelope): void;
  /** The engine's state changed; `notice` is what to tell users, if anything. */
  changed(status: EngineStatus, notice?: string): void;
  /**
   * A session parked on this node was resumed on another: forget it here,
   * quietly (its name and rooms moved with it).
   */
  resumedElsewhere(session: string): void;
  /**
   * Another node ruled (kicked, banned, muted, set a topic): apply it to this
   * node's sessions. Also called for kept rulings the engine learns late (after
   * an outage). Must not throw.
   */
  ruled(ruling: Ruling): void;
  /**
   * Messages a room's stream keeps, when the relay's rules for that room say
   * (else the engine's `history.size`).
   */
  historySize?(room: string): number | undefined;
  /**
   * A batch sent to the backplane was acknowledged after `seconds`, for
   * metrics. Engines that measure it call it once per batch, not per message.
   */
  published?(seconds: number): void;
  /**
   * A local session's name turned out to be held elsewhere (claimed on another
   * node while this one could not reach the others): it must take another.
   */
  nameLost(session: string): void;
}

/**
 * Shared state for one relay node. Implementations must keep each caller's
 * calls in order; the relay never has two calls in flight for one session.
 *
 * @example A relay on an explicit in-memory engine
 * ```ts
 * import { type Engine, MemoryEngine, Relay } from "@crosswire/relay";
 * const engine: Engine = new MemoryEngine();
 * const relay = new Relay({ engine });
 * if (relay.engine.status().backplane !== "memory") throw new Error("unexpected engine");
 * ```
 */
export interface Engine {
  /** This node's id, unique in the cluster; message ids start with it. */
  readonly node: string;
  /** Connects (or retries for a bounded time) and starts delivering to `host`. */
  start(host: EngineHost): Promise<void>;
  /** Leaves the cluster: this node's names and presence go at once. */
  close(): Promise<void>;
  /** The engine's state now. */
  status(): EngineStatus;
  /** Cluster-wide counts. */
  counts(): MaybePromise<ClusterCounts>;

  /** This node has a first local member in `room`: receive its envelopes. */
  subscribe(room: string): void;
  /** This node has no local member left in `room`. */
  unsubscribe(room: string): void;
  /** Sends `envelope` to the other nodes. Never waits; batched by the engine. */
  publish(envelope: Envelope): void;

  /**
   * Claims the name with `key` for `member`. A name held for a dropped user
   * goes to a claim that brings the same `reclaim` token.
   */
  claimName(key: string, member: Member, reclaim: string): MaybePromise<NameClaim>;
  /**
   * Frees a name `session` holds; with `hold`, keeps it for that session's
   * token for `hold.ms` first.
   */
  releaseName(key: string, session: string, hold?: { ms: number }): void;
  /** The live holder of a name, if any. */
  findName(key: string): MaybePromise<Member | undefined>;

  /** Adds `member` to `room`; answers with the presence after it, up to `limit` names. */
  join(room: string, member: Member, limit: number): MaybePromise<Presence>;
  /** Removes `session` from `room`; answers with how many members remain. */
  leave(room: string, session: string): MaybePromise<number>;
  /** A member changed name in `room`. */
  rename(room: string, session: string, name: string): void;
  /** Who is in `room`, up to `limit` names. */
  presence(room: string, limit: number): MaybePromise<Presence>;
  /** Rooms sorted by name, after `after`, at most `limit`. */
  rooms(limit: number, after?: string): MaybePromise<RoomPage>;

  /**
   * Keeps a message in its stream, gives it its position (`offset`, `epoch`
   * set on the event) and sends it to the other nodes, atomically. Returns the
   * envelope when the caller must deliver it on this node now; undefined when
   * the engine delivers it (to {@link EngineHost.deliver}) once positioned, so
   * that every node delivers a stream's messages in its order.
   */
  record(envelope: Recorded): Recorded | undefined;
  /**
   * Reads a stream: the messages after `since` when it still has all of them
   * (and at most `limit`), else its latest `limit`.
   */
  history(
    stream: StreamName,
    since: Position | undefined,
    limit: number,
  ): MaybePromise<HistoryRead>;
  /** A session's private stream is no longer needed (the session ended). */
  dropStream(session: string): void;
  /** Called about once a second by the relay: forgets what ran out. */
  sweep(now: number): void;

  /** Keeps `parked` for `ms` under the secret `token`, for a client that comes back. */
  park(token: string, parked: Parked, ms: number): void;
  /**
   * Takes the session parked under `token`, moving its name and rooms to this
   * node (and telling the node that parked it); undefined when there is none.
   */
  unpark(token: string): MaybePromise<Unparked | undefined>;
  /**
   * Keeps `ruling` (a ban, mute or topic, until it expires; a kick is not kept)
   * and sends it to the other nodes, whose hosts get {@link EngineHost.ruled}.
   * The caller applies it on this node.
   */
  rule(ruling: Ruling): void;
  /** The bans, mutes and topics in force, for a node that starts. */
  rulings(): MaybePromise<Ruling[]>;

  /**
   * The window of the session parked under `token` ended: true when it was
   * still parked (its node must now end it); false when it was resumed.
   */
  expire(token: string): MaybePromise<boolean>;
}
