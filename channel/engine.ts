// A crosswire node's engine on BroadcastChannel, for runtimes with many
// isolates and no shared store (Deno Deploy). There is nothing to ask: each
// node is the authority for its own sessions, tells every change on the
// cluster channel, and answers from its replica of everyone's state at once.
// Room traffic goes on one channel per room, so a node hears only rooms it
// has members in; private messages go on the recipient node's own channel.

import type {
  ClusterCounts,
  Engine,
  EngineHost,
  EngineStatus,
  Envelope,
  HistoryLimits,
  HistoryRead,
  MaybePromise,
  Member,
  NameClaim,
  Parked,
  Position,
  Presence,
  Recorded,
  RoomPage,
  Ruling,
  StreamName,
  Unparked,
} from "../core/mod.ts";
import { MemoryHistory, roomHistorySize } from "../core/memory_history.ts";
import { isKept } from "../core/_rulings.ts";
import { type NameHolder, type NodeRecord, Replica } from "./_replica.ts";
import { RulingBook } from "./_rulings.ts";
import {
  type Batch,
  type ClusterItem,
  type Handover,
  MAX_BATCH,
  type NodeItem,
  type NodeState,
  readBatch,
  readClusterItem,
  readNodeItem,
  readRoomEnvelope,
  WIRE_VERSION,
} from "./_wire.ts";

/**
 * Options for {@link BroadcastChannelEngine}.
 *
 * @example Quicker failure detection than the defaults
 * ```ts
 * import { BroadcastChannelEngine, type BroadcastChannelEngineOptions } from "@crosswire/relay/broadcast-channel";
 * const options: BroadcastChannelEngineOptions = {
 *   prefix: "chat:",
 *   heartbeatMs: 500,
 *   nodeTimeoutMs: 2500,
 * };
 * const engine = new BroadcastChannelEngine(options);
 * if (engine.status().backplane !== "broadcast-channel") throw new Error("unexpected engine");
 * ```
 */
export interface BroadcastChannelEngineOptions {
  /** Prefix of every channel name, so several relays can share one deployment. @default "crosswire:" */
  prefix?: string;
  /** This node's id, unique among the nodes. @default 12 random hex digits */
  node?: string;
  /** How often this node tells the others it is alive. @default 2000 */
  heartbeatMs?: number;
  /**
   * A node not heard from for this long is declared gone: its users leave
   * every room here and their names are free. Must exceed twice `heartbeatMs`.
   * @default 10000
   */
  nodeTimeoutMs?: number;
  /** How long {@link BroadcastChannelEngine.start} waits for the other nodes' state. @default 250 */
  startWaitMs?: number;
  /** How long a resume waits for the node that holds the session to hand it over. @default 3000 */
  requestTimeoutMs?: number;
  /** Rooms larger than this hear no `left` for a gone node's users (as the relay's own). @default 500 */
  maxAnnouncedRoomSize?: number;
  /**
   * What each room's (and each session's private) history keeps, on this node.
   * @default the relay's history options (`historySize`, `historyTtlMs`, `historyBytes`)
   */
  history?: HistoryLimits;
  /** Where state changes are logged, one line each. @default console.error */
  log?: (line: string) => void;
}

const DEFAULT_HISTORY: HistoryLimits = {
  size: 100,
  ttlMs: 600_000,
  bytes: 2 * 1024 * 1024,
  totalBytes: 256 * 1024 * 1024,
};

/** How long {@link BroadcastChannelEngine.close} lets its last messages leave. */
const CLOSE_GRACE_MS = 20;

type Settled = Required<Omit<BroadcastChannelEngineOptions, "node" | "history">>;

/**
 * An {@link Engine} on BroadcastChannel: the isolates of one Deno Deploy
 * deployment (or the Workers of one Deno process) act as one relay. Names,
 * presence, the room list and counts are cluster-wide; history is kept per
 * node (see the module docs for what that means for a resume elsewhere).
 *
 * @example Two relays in one process share a room
 * ```ts
 * import { type Port, Relay } from "@crosswire/relay";
 * import { BroadcastChannelEngine } from "@crosswire/relay/broadcast-channel";
 * const prefix = `doc-${crypto.randomUUID()}:`;
 * const engine = (id: string) =>
 *   new BroadcastChannelEngine({ prefix, node: id, startWaitMs: 20, log: () => {} });
 * const a = new Relay({ engine: engine("a") });
 * const b = new Relay({ engine: engine("b") });
 * await a.start();
 * await b.start();
 * const port: Port = { framing: "frames", wake: () => {}, close: () => {} };
 * a.connect(port).receiveText('{"type":"login","name":"ann"}');
 * await new Promise((resolve) => setTimeout(resolve, 50));
 * const bob = b.connect(port);
 * bob.receiveText('{"type":"login","name":"ANN"}'); // taken, on the other node
 * const refused = bob.outbound.take().some((frame) => String(frame.data).includes("name_taken"));
 * a.close();
 * b.close();
 * await a.engine.close();
 * await b.engine.close();
 * if (!refused) throw new Error("the name should be taken cluster-wide");
 * ```
 */
export class BroadcastChannelEngine implements Engine {
  /** This node's id. */
  readonly node: string;
  #options: Settled;
  #ownHistory: boolean;
  #history: MemoryHistory;
  #replica = new Replica(Date.now);
  #self: NodeRecord;
  #host: EngineHost | undefined;
  #cluster: BroadcastChannel | undefined;
  #inbox: BroadcastChannel | undefined;
  // Open channels by name: the cluster's and the subscribed rooms' (posting reuses them).
  #open = new Map<string, BroadcastChannel>();
  // Channels kept open to post on (other nodes' own channels, rooms not heard here).
  #senders = new Map<string, { channel: BroadcastChannel; used: number }>();
  #outbox = new Map<string, unknown[]>();
  #flushing = false;
  #sequence = 0;
  #timer: ReturnType<typeof setInterval> | undefined;
  #lastTick = 0;
  #syncAsked = new Map<string, number>();
  // Nodes dropped lately, and how: a node that said bye stays gone.
  #departed = new Map<string, { how: "bye" | "timeout"; at: number }>();
  // Resumes waiting for a node to hand a session over, by request id, with the nodes asked.
  #requests = new Map<number, {
    asked: Set<string>;
    resolve: (handover: Handover | undefined) => void;
    timer: ReturnType<typeof setTimeout>;
  }>();
  #requestIds = 0;
  #lost: string[] = [];
  // Every kept ruling known here (the cluster's, not only this node's).
  #rulings: RulingBook;
  // Until start() is done, rulings learned from the others are only kept (rulings() tells them).
  #started = false;
  #closed = false;
  #closing: Promise<void> | undefined;

  /** Creates an engine; nothing is heard or sent until {@link start}. */
  constructor(options: BroadcastChannelEngineOptions = {}) {
    this.node = options.node ?? crypto.randomUUID().replaceAll("-", "").slice(0, 12);
    this.#options = {
      prefix: "crosswire:",
      heartbeatMs: 2000,
      nodeTimeoutMs: 10_000,
      startWaitMs: 250,
      requestTimeoutMs: 3000,
      maxAnnouncedRoomSize: 500,
      log: (line: string) => console.error(line),
      ...withoutUndefined(options),
    };
    const { heartbeatMs, nodeTimeoutMs } = this.#options;
    if (!(heartbeatMs > 0) || !(nodeTimeoutMs > 2 * heartbeatMs)) {
      throw new RangeError(
        `nodeTimeoutMs (${nodeTimeoutMs}) must exceed twice heartbeatMs (${heartbeatMs})`,
      );
    }
    this.#ownHistory = options.history !== undefined;
    this.#history = this.#newHistory(options.history ?? DEFAULT_HISTORY);
    this.#self = this.#replica.addNode(this.node);
    // A lift is remembered long past any node's silence, so no older state brings a ban back.
    this.#rulings = new RulingBook(Date.now, Math.max(10 * nodeTimeoutMs, 3_600_000));
  }

  /** Opens the channels, tells the others this node is here and waits briefly for their state. */
  async start(host: EngineHost): Promise<void> {
    if (this.#closed) throw new Error("this engine was closed");
    this.#host = host;
    if (!this.#ownHistory && host.history) this.#history = this.#newHistory(host.history);
    this.#cluster = this.#listen(this.#name("cluster"), (data) => this.#onCluster(data));
    this.#open.set(this.#cluster.name, this.#cluster);
    this.#inbox = this.#listen(this.#name(`node:${this.node}`), (data) => this.#onNode(data));
    this.#queue(
      this.#cluster.name,
      { t: "hello", state: this.#state() } satisfies ClusterItem,
    );
    this.#lastTick = Date.now();
    this.#timer = setInterval(() => this.#tick(), this.#options.heartbeatMs);
    // The others answer within a round trip: names they hold (and the rulings in force)
    // are known before the first claim.
    await new Promise((resolve) => setTimeout(resolve, this.#options.startWaitMs));
    this.#started = true;
  }

  /** Says goodbye (the others drop what this node still holds at once) and closes every channel. */
  async close(): Promise<void> {
    if (this.#closing) return await this.#closing;
    clearInterval(this.#timer);
    if (this.#cluster) this.#queue(this.#cluster.name, { t: "bye" } satisfies ClusterItem);
    this.#flush();
    this.#closed = true;
    for (const { resolve, timer } of this.#requests.values()) {
      clearTimeout(timer);
      resolve(undefined);
    }
    this.#requests.clear();
    this.#closing = (async () => {
      // What was just posted leaves before its channel closes (see #sender).
      if (this.#cluster) await new Promise((resolve) => setTimeout(resolve, CLOSE_GRACE_MS));
      for (const channel of this.#open.values()) channel.close();
      this.#open.clear();
      for (const { channel } of this.#senders.values()) channel.close();
      this.#senders.clear();
      this.#inbox?.close();
    })();
    await this.#closing;
  }

  /** Always `up` while open: there is no link to lose, only nodes that fall silent. */
  status(): EngineStatus {
    return this.#closed
      ? { backplane: "broadcast-channel", state: "degraded", detail: "closed" }
      : { backplane: "broadcast-channel", state: "up" };
  }

  /** Nodes heard from, and users and rooms on all of them. */
  counts(): ClusterCounts {
    let nodes = 0;
    for (const _ of this.#replica.nodes()) nodes++;
    return { nodes, users: this.#replica.liveNames, rooms: this.#replica.roomCount };
  }

  /** Hears the room's channel. */
  subscribe(room: string): void {
    const name = this.#name(`room:${room}`);
    if (this.#closed || this.#open.has(name)) return;
    const kept = this.#senders.get(name)?.channel;
    this.#senders.delete(name);
    this.#open.set(name, this.#listen(name, (data) => this.#onRoom(room, data), kept));
  }

  /**
   * Stops hearing the room. Its history here goes too: what is said while
   * nobody here listens is missed, so positions in it would no longer be honest.
   */
  unsubscribe(room: string): void {
    const name = this.#name(`room:${room}`);
    const channel = this.#open.get(name);
    if (channel) {
      // Deaf at once, but kept a moment to post on (what was just said may not have left).
      channel.onmessage = null;
      this.#open.delete(name);
      this.#senders.set(name, { channel, used: Date.now() });
    }
    this.#history.drop("r:" + room);
  }

  /** Sends `envelope` to the other nodes; everything sent in one turn goes in one message per channel. */
  publish(envelope: Envelope): void {
    switch (envelope.to) {
      case "room":
        return this.#queue(this.#name(`room:${envelope.room}`), envelope);
      case "user":
        if (envelope.node === this.node) return;
        return this.#queue(this.#name(`node:${envelope.node}`), { t: "dm", e: envelope });
      case "all":
        return this.#queue(this.#name("cluster"), { t: "all", event: envelope.event });
    }
  }

  /**
   * Claims the name from what this node knows of the cluster, at once. Two
   * nodes that grant one name at the same moment learn of it within a round
   * trip; the earlier claim keeps it and the other's relay is told
   * {@link EngineHost.nameLost}.
   */
  claimName(key: string, member: Member, reclaim: string): NameClaim {
    const holders = this.#replica.holders(key);
    for (const holder of holders) {
      if (holder.session !== member.session && holder.heldUntil === undefined) {
        return { ok: false, holder: (this.#replica.winner(key) ?? holder).name, held: false };
      }
    }
    for (const holder of holders) {
      if (holder.session !== member.session && holder.token !== reclaim) {
        return { ok: false, holder: holder.name, held: true };
      }
    }
    // The same session claiming again (a change of case) keeps its place in a race.
    const mine = this.#self.names.get(key);
    const at = mine?.session === member.session ? mine.at : stamp();
    const { session, name } = member;
    this.#replica.claim(key, {
      node: this.node,
      session,
      name,
      token: reclaim,
      at,
      heldUntil: undefined,
    });
    this.#tell({ t: "claim", key, session, name, token: reclaim, at });
    return { ok: true };
  }

  /** Frees the name (or keeps it for its reclaim token for `hold.ms`). */
  releaseName(key: string, session: string, hold?: { ms: number }): void {
    const holder = this.#self.names.get(key);
    if (holder?.session !== session || holder.heldUntil !== undefined) return;
    const ms = hold === undefined || hold.ms <= 0 ? 0 : hold.ms;
    this.#replica.release(this.node, key, session, ms);
    this.#tell({ t: "release", key, session, ms });
  }

  /** The live holder of a name, on any node. */
  findName(key: string): Member | undefined {
    return this.#replica.findName(key);
  }

  /** Adds the member to the room's presence everywhere; answers with the presence after it. */
  join(room: string, member: Member, limit: number): Presence {
    this.#replica.join(this.node, room, member.session, member.name, stamp());
    const { at } = this.#replica.member(room, member.session)!;
    this.#tell({ t: "join", room, session: member.session, name: member.name, at });
    return this.#replica.presence(room, limit);
  }

  /** Removes the session from the room everywhere; answers with how many remain. */
  leave(room: string, session: string): number {
    if (this.#replica.leave(this.node, room, session)) {
      this.#tell({ t: "leave", room, session });
    }
    return this.#replica.count(room);
  }

  /** Shows the member under its new name in the room's presence everywhere. */
  rename(room: string, session: string, name: string): void {
    this.#replica.rename(this.node, room, session, name);
    this.#tell({ t: "rename", room, session, name });
  }

  /** Who is in the room, across the cluster. */
  presence(room: string, limit: number): Presence {
    return this.#replica.presence(room, limit);
  }

  /** One page of the cluster's rooms, sorted by name. */
  rooms(limit: number, after?: string): RoomPage {
    return this.#replica.rooms(limit, after);
  }

  /**
   * Positions the message in this node's stream and sends it on. The caller
   * delivers a room message, and a private one for a session here, at once; a
   * private message for another node's session is positioned and delivered there.
   */
  record(envelope: Recorded): Recorded | undefined {
    const data = envelope.event.data;
    // A view into a larger buffer would be cloned whole onto the channel.
    if (data !== undefined && data.byteLength !== data.buffer.byteLength) {
      envelope.event.data = new Uint8Array(data);
    }
    if (envelope.to === "room") {
      this.#history.append("r:" + envelope.room, envelope.event);
      this.publish(envelope);
      return envelope;
    }
    if (envelope.node === this.node) {
      this.#history.append("u:" + envelope.session, envelope.event);
      return envelope;
    }
    this.publish(envelope);
    return undefined;
  }

  /** Reads this node's stream (another node's positions are never recovered here). */
  history(stream: StreamName, since: Position | undefined, limit: number): HistoryRead {
    const name = "room" in stream ? "r:" + stream.room : "u:" + stream.session;
    return this.#history.read(name, since, limit);
  }

  /** Forgets a session's private stream. */
  dropStream(session: string): void {
    this.#history.drop("u:" + session);
  }

  /** Forgets history, held names, other nodes' parked sessions and old lifts that ran out. */
  sweep(now: number): void {
    this.#history.sweep(now);
    this.#rulings.prune();
    this.#replica.pruneHolds(now);
    this.#replica.pruneParked(now, this.node);
  }

  /** Keeps the parked session for `ms`, and tells the others where it is. */
  park(token: string, parked: Parked, ms: number): void {
    this.#replica.park(this.node, token, parked, Date.now() + ms);
    this.#tell({ t: "park", token, parked, ms });
  }

  /**
   * Takes a parked session: at once when it is parked here, else by asking
   * its node to hand it over. A token not heard of yet (the client came back
   * faster than the news of its drop) is asked of every node. Undefined when
   * nobody has it, or nobody answers within `requestTimeoutMs`.
   */
  unpark(token: string): MaybePromise<Unparked | undefined> {
    const entry = this.#replica.parked(token);
    if (entry?.node === this.node) {
      if (entry.until <= Date.now()) return undefined;
      const { parked } = entry;
      this.#replica.unpark(token);
      this.#tell({ t: "unpark", token });
      const kept = parked.rooms.filter((room) =>
        this.#replica.member(room, parked.session)?.node === this.node
      );
      return { parked, kept };
    }
    if (this.#closed || this.#cluster === undefined) return undefined;
    if (entry && entry.until <= Date.now()) return undefined;
    const asked = new Set<string>();
    if (entry) asked.add(entry.node);
    else for (const { id } of this.#replica.nodes()) if (id !== this.node) asked.add(id);
    if (asked.size === 0) return undefined;
    const id = ++this.#requestIds;
    const answer = new Promise<Handover | undefined>((resolve) => {
      const timer = setTimeout(() => {
        this.#requests.delete(id);
        resolve(undefined);
      }, this.#options.requestTimeoutMs);
      this.#requests.set(id, { asked, resolve, timer });
    });
    this.#tell(entry ? { t: "take", to: entry.node, token, id } : { t: "take", token, id });
    return answer.then((handover) => handover && this.#adopt(handover));
  }

  /**
   * Sends `ruling` to the other nodes; a ban, mute or topic is also kept here
   * (and so in this node's state, for nodes that start later), stamped later
   * than any kept under its key, so it wins everywhere.
   */
  rule(ruling: Ruling): void {
    if (!isKept(ruling)) return this.#tell({ t: "rule", ruling });
    const at = Math.max(stamp(), this.#rulings.stampOf(ruling) + 0.001);
    this.#rulings.keep(ruling, at);
    this.#tell({ t: "rule", ruling, at });
  }

  /** The bans and mutes not yet over, and the topics, as this node knows them. */
  rulings(): Ruling[] {
    return this.#rulings.inForce();
  }

  /** True when the session was still parked here (and is no longer). */
  expire(token: string): boolean {
    if (this.#replica.parked(token)?.node !== this.node) return false;
    this.#replica.unpark(token);
    this.#tell({ t: "unpark", token });
    return true;
  }

  // ---- sending

  #newHistory(limits: HistoryLimits): MemoryHistory {
    return new MemoryHistory(limits, Date.now, (stream) => roomHistorySize(this.#host, stream));
  }

  // What this node tells in full: its own names, rooms and parked sessions, and every ruling.
  #state(): NodeState {
    return { ...this.#replica.stateOf(this.node), rulings: this.#rulings.stamped() };
  }

  #name(suffix: string): string {
    return this.#options.prefix + suffix;
  }

  #tell(item: ClusterItem): void {
    this.#queue(this.#name("cluster"), item);
  }

  #queue(channel: string, item: unknown): void {
    if (this.#closed || this.#cluster === undefined) return; // the hello carries it
    const items = this.#outbox.get(channel);
    if (items) items.push(item);
    else this.#outbox.set(channel, [item]);
    if (!this.#flushing) {
      this.#flushing = true;
      queueMicrotask(() => this.#flush());
    }
  }

  // One message per channel per turn (split past MAX_BATCH items).
  #flush(): void {
    this.#flushing = false;
    if (this.#closed || this.#outbox.size === 0) return;
    const outbox = this.#outbox;
    this.#outbox = new Map();
    const cluster = this.#cluster?.name;
    for (const [name, items] of outbox) {
      try {
        const channel = this.#sender(name);
        for (let start = 0; start < items.length; start += MAX_BATCH) {
          const m = items.slice(start, start + MAX_BATCH);
          const batch: Batch = { v: WIRE_VERSION, o: this.node, m };
          if (name === cluster) batch.q = ++this.#sequence;
          channel.postMessage(batch);
        }
      } catch (error) {
        this.#options.log(`crosswire: could not send to the other nodes: ${error}`);
      }
    }
  }

  // A channel to post on: an open one, or one kept for sending a little while
  // (a runtime may send to other isolates only after postMessage returns, and
  // not at all from a channel closed by then).
  #sender(name: string): BroadcastChannel {
    const open = this.#open.get(name);
    if (open) return open;
    let sender = this.#senders.get(name);
    if (!sender) this.#senders.set(name, sender = { channel: new BroadcastChannel(name), used: 0 });
    sender.used = Date.now();
    return sender.channel;
  }

  // ---- receiving

  #listen(
    name: string,
    receive: (data: unknown) => void,
    channel = new BroadcastChannel(name),
  ): BroadcastChannel {
    channel.onmessage = (event: MessageEvent) => {
      if (this.#closed) return;
      try {
        receive(event.data);
      } catch (error) {
        // A bug here must not become an uncaught error in the isolate.
        this.#options.log(`crosswire: ignored a message from another node: ${error}`);
      }
      this.#tellLost();
    };
    return channel;
  }

  #onCluster(data: unknown): void {
    const batch = readBatch(data, this.node);
    if (!batch || batch.q === undefined) return;
    const from = batch.o;
    const items: ClusterItem[] = [];
    for (const raw of batch.m) {
      const item = readClusterItem(raw);
      if (item) items.push(item);
    }
    const hello = items.some((item) => item.t === "hello");
    if (!hello && this.#departed.get(from)?.how === "bye") return;
    // A node's full state says where it stands, and starts its sequence afresh (it may
    // have restarted under its id, or a batch claiming to be its may have misled us).
    const full = hello || items.some((item) => item.t === "state" && item.to === this.node);
    let record = this.#replica.node(from);
    if (full) {
      record = this.#replica.addNode(from);
      record.q = batch.q - 1;
    } else if (record?.q === undefined) {
      return this.#askSync(from); // never heard in full: ask for its state
    }
    record.lastSeen = Date.now();
    if (batch.q <= record.q!) {
      // Seen already; or older, which one sender's ordered stream never is: it restarted,
      // or a batch claiming to be its misled us. Its state sets it straight.
      if (batch.q < record.q!) this.#askSync(from);
      return;
    }
    if (batch.q > record.q! + 1) this.#askSync(from); // some of its batches never came
    record.q = batch.q;
    for (const item of items) this.#apply(from, item);
  }

  #apply(from: string, item: ClusterItem): void {
    const replica = this.#replica;
    switch (item.t) {
      case "hello":
        this.#replace(from, item.state);
        this.#tell({ t: "state", to: from, state: this.#state() });
        return;
      case "state":
        if (item.to !== this.node) return;
        this.#syncAsked.delete(from);
        return this.#replace(from, item.state);
      case "beat":
        return;
      case "bye":
        return this.#drop(from, "bye");
      case "claim": {
        const { key, session, name, token, at } = item;
        replica.claim(key, { node: from, session, name, token, at, heldUntil: undefined });
        return this.#settle(key);
      }
      case "release":
        return replica.release(from, item.key, item.session, item.ms);
      case "join":
        return replica.join(from, item.room, item.session, item.name, item.at);
      case "leave":
        return void replica.leave(from, item.room, item.session);
      case "rename":
        return replica.rename(from, item.room, item.session, item.name);
      case "park":
        return replica.park(from, item.token, item.parked, Date.now() + item.ms);
      case "unpark":
        if (replica.parked(item.token)?.node === from) replica.unpark(item.token);
        return;
      case "moved":
        if (replica.parked(item.token)?.node === from) replica.unpark(item.token);
        return replica.forgetSession(from, item.session);
      case "all":
        return this.#deliver({ to: "all", event: item.event });
      case "take":
        if (item.to === undefined || item.to === this.node) {
          this.#handOver(from, item.token, item.id);
        }
        return;
      case "rule":
        return this.#learn(item.ruling, item.at);
    }
  }

  // A ruling from another node: a kick applies here now; a kept one when it is
  // newer than the one kept under its key (a state may tell what is known already).
  #learn(ruling: Ruling, at: number | undefined): void {
    if (isKept(ruling) && (at === undefined || !this.#rulings.keep(ruling, at))) return;
    if (!this.#started) return;
    try {
      this.#host?.ruled(ruling);
    } catch (error) {
      this.#options.log(`crosswire: failed to apply a ruling from another node: ${error}`);
    }
  }

  #onNode(data: unknown): void {
    const batch = readBatch(data, this.node);
    if (!batch) return;
    for (const raw of batch.m) {
      const item = readNodeItem(raw, this.node);
      if (!item) continue;
      switch (item.t) {
        case "dm": {
          const envelope = item.e;
          // Only for the session that holds the name here now, not a later one of the same name.
          const holder = this.#self.names.get(envelope.key);
          if (holder?.session !== envelope.session || holder.heldUntil !== undefined) continue;
          this.#history.append("u:" + envelope.session, envelope.event);
          this.#deliver(envelope);
          continue;
        }
        case "sync":
          this.#tell({ t: "state", to: batch.o, state: this.#state() });
          continue;
        case "taken": {
          const request = this.#requests.get(item.id);
          // Too late (the resume already failed), or not a node that was asked.
          if (!request || !request.asked.delete(batch.o)) continue;
          if (item.handover === undefined && request.asked.size > 0) continue;
          this.#requests.delete(item.id);
          clearTimeout(request.timer);
          request.resolve(item.handover);
        }
      }
    }
  }

  #onRoom(room: string, data: unknown): void {
    const batch = readBatch(data, this.node);
    if (!batch) return;
    for (const raw of batch.m) {
      const envelope = readRoomEnvelope(raw, room);
      if (!envelope) continue;
      // Positioned in this node's stream, in the order this node delivers.
      if (envelope.event.type === "message") this.#history.append("r:" + room, envelope.event);
      this.#deliver(envelope);
    }
  }

  #deliver(envelope: Envelope): void {
    try {
      this.#host?.deliver(envelope);
    } catch (error) {
      this.#options.log(`crosswire: failed to deliver a message from another node: ${error}`);
    }
  }

  // ---- nodes coming and going

  #replace(from: string, state: NodeState): void {
    const back = this.#departed.get(from)?.how === "timeout";
    this.#departed.delete(from);
    const { keys, added } = this.#replica.replaceNode(from, state);
    for (const key of keys) this.#settle(key);
    for (const { ruling, at } of state.rulings ?? []) this.#learn(ruling, at);
    if (!back) return;
    // Declared gone, yet alive (it was paused): the rooms hear its users come back.
    this.#options.log(`crosswire: node ${from} is back`);
    const ts = Date.now();
    for (const { room, name } of added) {
      if (this.#replica.count(room) > this.#options.maxAnnouncedRoomSize) continue;
      this.#deliver({ to: "room", room, event: { type: "joined", ts, room, name } });
    }
  }

  // A node gone: its users leave every room here (each node tells its own members).
  #drop(id: string, how: "bye" | "timeout"): void {
    const gone = this.#replica.dropNode(id);
    this.#syncAsked.delete(id);
    this.#departed.set(id, { how, at: Date.now() });
    const ts = Date.now();
    let users = 0;
    for (const { room, names } of gone) {
      const remaining = this.#replica.count(room);
      users += names.length;
      if (remaining === 0 || remaining + 1 > this.#options.maxAnnouncedRoomSize) continue;
      for (const name of names) {
        this.#deliver({
          to: "room",
          room,
          event: { type: "left", ts, room, name, reason: "disconnect" },
        });
      }
    }
    if (how === "timeout") {
      this.#options.log(
        `crosswire: node ${id} fell silent; its members left (${users} room memberships)`,
      );
    }
  }

  #askSync(node: string): void {
    const now = Date.now();
    const asked = this.#syncAsked.get(node);
    if (asked !== undefined && now - asked < this.#options.requestTimeoutMs) return;
    this.#syncAsked.set(node, now);
    this.#queue(this.#name(`node:${node}`), { t: "sync" } satisfies NodeItem);
  }

  // Two live claims on one name: when another node's is the earlier, this node's user gives way.
  #settle(key: string): void {
    const mine = this.#self.names.get(key);
    if (!mine || mine.heldUntil !== undefined || mine.lost) return;
    const winner = this.#replica.winner(key);
    if (winner === undefined || winner === mine) return;
    mine.lost = true;
    this.#lost.push(mine.session);
  }

  // After a whole message is applied: a relay renaming its user changes the replica.
  #tellLost(): void {
    for (const session of this.#lost.splice(0)) {
      try {
        this.#host?.nameLost(session);
      } catch (error) {
        this.#options.log(`crosswire: failed to rename a user whose name was lost: ${error}`);
      }
    }
  }

  #tick(): void {
    const now = Date.now();
    const { heartbeatMs, nodeTimeoutMs, requestTimeoutMs } = this.#options;
    const paused = now - this.#lastTick > Math.max(nodeTimeoutMs / 2, 3 * heartbeatMs);
    this.#lastTick = now;
    if (paused) {
      // This node stood still (a frozen isolate): the others were not silent, it was deaf.
      // Hear them afresh, and tell them its state in case they gave it up.
      this.#options.log("crosswire: this node was paused; asking the others for their state");
      for (const record of this.#replica.nodes()) record.lastSeen = now;
      this.#tell({ t: "hello", state: this.#state() });
    } else {
      for (const record of [...this.#replica.nodes()]) {
        if (record.id !== this.node && now - record.lastSeen > nodeTimeoutMs) {
          this.#drop(record.id, "timeout");
        }
      }
    }
    this.#tell({ t: "beat" });
    for (const [node, asked] of this.#syncAsked) {
      if (now - asked >= requestTimeoutMs) this.#syncAsked.delete(node);
    }
    for (const [node, { at }] of this.#departed) {
      if (now - at > 10 * nodeTimeoutMs) this.#departed.delete(node);
    }
    for (const [name, { channel, used }] of this.#senders) {
      if (now - used >= heartbeatMs) {
        channel.close();
        this.#senders.delete(name);
      }
    }
  }

  // ---- sessions moving between nodes

  // Another node resumes a session parked here: it goes there with its name and rooms.
  #handOver(to: string, token: string, id: number): void {
    const entry = this.#replica.parked(token);
    const reply = (handover?: Handover) =>
      this.#queue(
        this.#name(`node:${to}`),
        (handover ? { t: "taken", id, handover } : { t: "taken", id }) satisfies NodeItem,
      );
    if (!entry || entry.node !== this.node || entry.until <= Date.now()) return reply();
    const { parked } = entry;
    const session = parked.session;
    this.#replica.unpark(token);
    const holder: NameHolder | undefined = this.#self.names.get(parked.key);
    const at = holder?.session === session ? holder.at : stamp();
    const kept: Handover["kept"] = [];
    for (const room of parked.rooms) {
      const member = this.#replica.member(room, session);
      if (member?.node === this.node) kept.push({ room, at: member.at });
    }
    this.#replica.forgetSession(this.node, session);
    this.#history.drop("u:" + session);
    this.#tell({ t: "moved", session, token });
    reply({ parked, at, kept });
    try {
      this.#host?.resumedElsewhere(session);
    } catch (error) {
      this.#options.log(`crosswire: failed to forget a session resumed elsewhere: ${error}`);
    }
  }

  // A session handed over by its node: its name and rooms are this node's now.
  #adopt({ parked, at, kept }: Handover): Unparked | undefined {
    if (this.#closed) return undefined;
    const { key, session, name, reclaim: token } = parked;
    this.#replica.claim(key, { node: this.node, session, name, token, at, heldUntil: undefined });
    this.#tell({ t: "claim", key, session, name, token, at });
    for (const { room, at } of kept) {
      this.#replica.join(this.node, room, session, name, at);
      this.#tell({ t: "join", room, session, name, at });
    }
    return { parked, kept: kept.map(({ room }) => room) };
  }
}

// When a claim or a join happened, finer than Date.now(): of two a millisecond
// apart on two nodes, presence lists the first first.
function stamp(): number {
  return performance.timeOrigin + performance.now();
}

function withoutUndefined<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(options).filter(([, value]) => value !== undefined),
  ) as Partial<T>;
}
