// A crosswire node's engine on Redis: names are cluster-wide leases, presence
// is shared and expires with its node, and events cross to the other nodes over
// pub/sub, batched into one round trip per event-loop turn. This node's own
// names and presence are mirrored in memory, so it keeps serving its clients
// while Redis is away and can put everything back when Redis returns.

import {
  type ClusterCounts,
  type Engine,
  type EngineHost,
  type EngineStatus,
  type Envelope,
  type HistoryLimits,
  type HistoryRead,
  type MaybePromise,
  type Member,
  MemoryEngine,
  type NameClaim,
  type Parked,
  type Position,
  type Presence,
  type Recorded,
  type RoomPage,
  type Ruling,
  rulingKey,
  type StreamName,
  type Unparked,
} from "../core/mod.ts";
import { roomHistorySize } from "../core/memory_history.ts";
import { isKept, type KeptRuling, readRuling } from "../core/_rulings.ts";
import { decodeEnvelope, ruledFields } from "./codec.ts";
import { RedisLink } from "./link.ts";
import type { ScriptName } from "./scripts.ts";
import { Traffic } from "./traffic.ts";

/**
 * Options for {@link RedisEngine}.
 *
 * @example A node on a local Redis, with its own key prefix
 * ```ts ignore
 * import { Relay } from "@crosswire/relay";
 * import { RedisEngine, type RedisEngineOptions } from "@crosswire/relay/redis";
 * const options: RedisEngineOptions = { url: "redis://127.0.0.1:6379", prefix: "chat:" };
 * const relay = new Relay({ engine: new RedisEngine(options) });
 * await relay.start();
 * ```
 */
export interface RedisEngineOptions {
  /** `redis://` or `rediss://` URL, with user and password when needed. */
  url: string;
  /** Prefix of every key and channel, so several relays can share one Redis. @default "crosswire:" */
  prefix?: string;
  /**
   * A node that stops renewing its lease is declared dead within this long:
   * its users leave every room on the other nodes and their names are free.
   * @default 15000
   */
  nodeTimeoutMs?: number;
  /** How long {@link RedisEngine.start} retries before it gives up. @default 10000 */
  connectTimeoutMs?: number;
  /** A Redis command with no answer for this long counts as a lost link. @default 2000 */
  commandTimeoutMs?: number;
  /** Rooms larger than this hear no `left` for a dead node's users (as the relay's own). @default 500 */
  maxAnnouncedRoomSize?: number;
  /**
   * TLS settings for a `rediss://` URL whose certificate a private CA signed
   * (or run Deno with `DENO_CERT=ca.pem`). @default undefined
   */
  tls?: { ca?: string | string[] };
  /** Where state changes are logged, one line each. @default console.error */
  log?: (line: string) => void;
  /**
   * What each room's stream (and each session's private one) keeps, in Redis
   * Streams; `totalBytes` is not counted there (Redis's own `maxmemory` is).
   * @default the relay's history options (`historySize`, `historyTtlMs`, `historyBytes`)
   */
  history?: HistoryLimits;
}

type Script = (...args: (string | number)[]) => Promise<unknown>;

const DEFAULT_HISTORY: HistoryLimits = {
  size: 100,
  ttlMs: 600_000,
  bytes: 2 * 1024 * 1024,
  totalBytes: 256 * 1024 * 1024,
};

/** How often the node's timer runs: heartbeat when due, and one reaping step. */
const TICK_MS = 1000;
/** Scripts per pipeline when a node writes its state again (each has the command timeout). */
const REASSERT_BATCH = 2000;
/** Entries one reaping step removes at most (keeps each Lua call short). */
const REAP_BUDGET = 1000;

/**
 * An {@link Engine} on Redis: several relay processes sharing one Redis act
 * as one relay. Keys and Lua scripts are described in `redis/scripts.ts`.
 *
 * @example Starting a relay on Redis
 * ```ts ignore
 * import { Relay } from "@crosswire/relay";
 * import { RedisEngine } from "@crosswire/relay/redis";
 * const relay = new Relay({ engine: new RedisEngine({ url: "redis://127.0.0.1:6379" }) });
 * await relay.start(); // rejects when Redis cannot be reached within 10 s
 * ```
 */
export class RedisEngine implements Engine {
  /** This node's id: random, unique in the cluster. */
  readonly node: string = crypto.randomUUID().replaceAll("-", "").slice(0, 12);
  #options: Required<Omit<RedisEngineOptions, "tls">> & { tls?: { ca?: string | string[] } };
  #ownHistory: boolean;
  // Sessions this node parked, by token, to tidy its mirror when another node takes one.
  #parked = new Map<string, Parked>();
  #link: RedisLink;
  #local = new MemoryEngine();
  #host: EngineHost | undefined;
  #up = false;
  #detail: string | undefined;
  #downSince = 0;
  #timer: ReturnType<typeof setInterval> | undefined;
  #lastBeat = 0;
  #beating = false;
  #counts: ClusterCounts = { nodes: 1, users: 0, rooms: 0 };
  #channels = new Set<string>();
  #inFlight = new Set<Promise<unknown>>();
  #traffic: Traffic;
  // Subscriptions on their way, by channel: a join waits for its room's.
  #subscribing = new Map<string, Promise<unknown>>();
  // Changes to this node's state while it was away; recovery repeats until none came in.
  #changes = 0;
  #recovering: Promise<void> | undefined;
  // Bans, mutes and topics ruled here while Redis was away, by key: kept there once it is back.
  #pending = new Map<string, KeptRuling>();
  // The rulings hash's generation when last read: another one means Redis lost the hash.
  #generation: string | undefined;
  // While a catch-up read is on its way: keys another node ruled on meanwhile (newer than it).
  #touched: Set<string> | undefined;

  /** Creates an engine; nothing connects until {@link start}. */
  constructor(options: RedisEngineOptions) {
    this.#traffic = new Traffic({
      node: this.node,
      prefix: options.prefix ?? "crosswire:",
      history: () => this.#options.history,
      historySize: (stream) => this.#historySize(stream),
      connection: () => this.#up ? this.#link.cmd : undefined,
      unkept: (envelopes) => {
        for (const envelope of envelopes) this.#deliver(envelope);
      },
      resumedElsewhere: (session) => this.#resumedElsewhere(session),
      listening: (channel) => this.#channels.has(channel),
      deliver: (envelope) => this.#deliver(envelope),
      ruled: (ruling) => {
        if (isKept(ruling)) this.#touched?.add(rulingKey(ruling));
        this.#ruled(ruling);
      },
      unruled: (rulings) => this.#unruled(rulings),
      published: (seconds) => {
        try {
          this.#host?.published?.(seconds);
        } catch (error) {
          this.#options.log(`crosswire: failed to count a publish: ${error}`);
        }
      },
      missed: (count) =>
        this.#host?.changed(
          this.status(),
          `${count} message${count === 1 ? "" : "s"} from another node did not arrive here ` +
            `(the link between the nodes was interrupted).`,
        ),
      failed: (error) => this.#trouble(error),
    });
    this.#options = {
      prefix: "crosswire:",
      nodeTimeoutMs: 15_000,
      connectTimeoutMs: 10_000,
      commandTimeoutMs: 2000,
      maxAnnouncedRoomSize: 500,
      log: (line: string) => console.error(line),
      ...options,
      history: options.history ?? DEFAULT_HISTORY,
    };
    this.#ownHistory = options.history !== undefined;
    this.#link = new RedisLink({
      url: options.url,
      name: `crosswire:${this.node}`,
      commandTimeoutMs: this.#options.commandTimeoutMs,
      ...(options.tls ? { redis: { tls: options.tls } } : {}),
      message: (channel, payload) => this.#traffic.receive(channel, payload),
      lost: (reason) => this.#down(reason),
      ready: () => void this.#recover(),
    });
  }

  /** Connects (retrying for `connectTimeoutMs`), registers this node and subscribes. */
  async start(host: EngineHost): Promise<void> {
    this.#host = host;
    if (!this.#ownHistory && host.history) this.#options.history = host.history;
    await this.#link.start(this.#options.connectTimeoutMs);
    this.#channels.add(this.#channel("all"));
    this.#channels.add(this.#channel(`node:${this.node}`));
    await this.#link.sub.subscribe(...this.#channels);
    await this.#beat();
    this.#up = true;
    this.#timer = setInterval(() => this.#tick(), TICK_MS);
    // Learns the rulings' generation (and mirrors them), so a later loss of the hash shows.
    await this.rulings();
  }

  /**
   * Leaves the cluster: answers still on their way are awaited (so the leaves
   * they announce reach the other nodes), then whatever this node still holds
   * is removed, quietly.
   */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#up) {
      // What the relay does with the last answers (announcing leaves) publishes more.
      for (let round = 0; round < 10 && this.#inFlight.size > 0; round++) {
        await Promise.allSettled([...this.#inFlight]);
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
      this.#traffic.flush();
      try {
        await this.#call("cwReap", 1e9, this.node, 0, 1);
      } catch { /* Redis went away; the lease runs out instead */ }
    }
    this.#up = false;
    await this.#link.close();
  }

  /** `up` while Redis answers; `degraded` while this node is on its own. */
  status(): EngineStatus {
    return this.#up
      ? { backplane: "redis", state: "up" }
      : { backplane: "redis", state: "degraded", detail: this.#detail ?? "connecting" };
  }

  /** Cluster counts (this node's own while degraded). */
  counts(): MaybePromise<ClusterCounts> {
    if (!this.#up) return this.#local.counts();
    return this.#call("cwCounts").then((answer) => {
      const [nodes, users, rooms] = answer as number[];
      return this.#counts = { nodes: nodes!, users: users!, rooms: rooms! };
    }, () => this.#counts);
  }

  /** Receives this room's events from the other nodes. */
  subscribe(room: string): void {
    const channel = this.#channel(`room:${room}`);
    this.#channels.add(channel);
    this.#changes++;
    if (!this.#up) return;
    const done = this.#link.sub.subscribe(channel).catch((error) => this.#trouble(error))
      .finally(() => this.#subscribing.delete(channel));
    this.#subscribing.set(channel, done);
  }

  /** Stops receiving this room's events. */
  unsubscribe(room: string): void {
    const channel = this.#channel(`room:${room}`);
    this.#channels.delete(channel);
    this.#traffic.forget(channel);
    this.#changes++;
    if (this.#up) this.#link.sub.unsubscribe(channel).catch((error) => this.#trouble(error));
  }

  /** Sends `envelope` to the other nodes; everything sent in one turn goes in one round trip. */
  publish(envelope: Envelope): void {
    const channel = envelope.to === "room"
      ? this.#channel(`room:${envelope.room}`)
      : envelope.to === "user"
      ? this.#channel(`node:${envelope.node}`)
      : this.#channel("all");
    this.#traffic.send(channel, envelope);
  }

  /** Claims the name cluster-wide (this node alone while degraded). */
  claimName(key: string, member: Member, reclaim: string): MaybePromise<NameClaim> {
    const local = this.#local.claimName(key, member, reclaim);
    this.#changes++;
    if (!local.ok || !this.#up) return local;
    return this.#call("cwClaim", key, member.node, member.session, member.name, reclaim).then(
      (answer) => {
        const [ok, holder, held] = answer as [number, string?, number?];
        if (ok === 1) return { ok: true } as const;
        this.#local.releaseName(key, member.session);
        if (ok === -1) {
          this.#trouble(new Error("this node's lease ran out"));
          return this.#local.claimName(key, member, reclaim);
        }
        return { ok: false, holder: holder!, held: held === 1 } as const;
      },
      (error) => {
        this.#trouble(error);
        return { ok: true } as const; // claimed here; put back cluster-wide on recovery
      },
    );
  }

  /** Frees the name (or holds it for its reclaim token for `hold.ms`). */
  releaseName(key: string, session: string, hold?: { ms: number }): void {
    this.#local.releaseName(key, session);
    this.#changes++;
    if (this.#up) this.#fire("cwRelease", key, session, hold?.ms ?? 0);
  }

  /** The live holder of a name, on any node. */
  findName(key: string): MaybePromise<Member | undefined> {
    const local = this.#local.findName(key);
    if (local || !this.#up) return local;
    return this.#call("cwFind", key).then(
      (answer) => {
        const [node, session, name] = answer as string[];
        return node === undefined ? undefined : { node, session: session!, name: name! };
      },
      (error) => {
        this.#trouble(error);
        return undefined;
      },
    );
  }

  /** Adds the member to the room's shared presence; answers with the presence after it. */
  join(room: string, member: Member, limit: number): MaybePromise<Presence> {
    const local = this.#local.join(room, member, limit);
    this.#changes++;
    if (!this.#up) return local;
    // Present only once this node hears the room: nothing said after the join is missed.
    const subscribed = this.#subscribing.get(this.#channel(`room:${room}`));
    const join = () => this.#call("cwJoin", room, member.node, member.session, member.name, limit);
    return this.#presenceOf(subscribed ? subscribed.then(join) : join(), local);
  }

  /** Removes the session from the room's shared presence; answers with how many remain. */
  leave(room: string, session: string): MaybePromise<number> {
    const local = this.#local.leave(room, session);
    this.#changes++;
    if (!this.#up) return local;
    return this.#call("cwLeave", room, this.node, session).then(Number, (error) => {
      this.#trouble(error);
      return local;
    });
  }

  /** Shows the member under its new name in the room's presence. */
  rename(room: string, session: string, name: string): void {
    this.#local.rename(room, session, name);
    this.#changes++;
    if (this.#up) this.#fire("cwRename", room, this.node, session, name);
  }

  /** Who is in the room, across the cluster. */
  presence(room: string, limit: number): MaybePromise<Presence> {
    const local = this.#local.presence(room, limit);
    if (!this.#up) return local;
    return this.#presenceOf(this.#call("cwPresence", room, limit), local);
  }

  /** One page of the cluster's rooms, sorted by name. */
  rooms(limit: number, after?: string): MaybePromise<RoomPage> {
    const local = this.#local.rooms(limit, after);
    if (!this.#up) return local;
    return this.#call("cwRooms", limit, after ?? "").then((answer) => {
      const [total, ...rest] = answer as (string | number)[];
      const rooms: RoomPage["rooms"] = [];
      for (let i = 0; i < rest.length; i += 2) {
        rooms.push({ name: String(rest[i]), members: Number(rest[i + 1]) });
      }
      return { rooms, total: Number(total) };
    }, (error) => {
      this.#trouble(error);
      return local;
    });
  }

  /**
   * Keeps the message in its Redis stream and publishes it, in one script;
   * every node (this one too) delivers it when it comes back positioned.
   * While Redis is away, this node's users get it at once, unpositioned and not kept.
   */
  record(envelope: Recorded): Recorded | undefined {
    if (!this.#up) {
      this.#traffic.lose();
      return envelope;
    }
    if (envelope.to === "room") {
      this.#traffic.record("r:" + envelope.room, this.#channel(`room:${envelope.room}`), envelope);
    } else {
      this.#traffic.record(
        "u:" + envelope.session,
        this.#channel(`node:${envelope.node}`),
        envelope,
      );
    }
    return undefined;
  }

  /** Reads a stream from Redis (once this node hears the room, so the seam is exact). */
  history(
    stream: StreamName,
    since: Position | undefined,
    limit: number,
  ): MaybePromise<HistoryRead> {
    const unknown: HistoryRead = { recovered: false, latest: { offset: 0, epoch: "" }, events: [] };
    if (!this.#up) return unknown;
    const name = "room" in stream ? "r:" + stream.room : "u:" + stream.session;
    const read = () =>
      this.#call(
        "cwHistory",
        name,
        since?.offset ?? -1,
        since?.epoch ?? "",
        limit,
        this.#options.history.ttlMs,
        this.#historySize(name),
      );
    const subscribed = "room" in stream
      ? this.#subscribing.get(this.#channel(`room:${stream.room}`))
      : undefined;
    return (subscribed ? subscribed.then(read) : read()).then((answer) => {
      const [epoch, latest, recovered, , ...entries] = answer as (string | number)[];
      const events: HistoryRead["events"] = [];
      for (let i = 0; i < entries.length; i += 2) {
        const event = decodeEnvelope(String(entries[i + 1])).event as HistoryRead["events"][number];
        event.offset = Number(entries[i]);
        event.epoch = String(epoch);
        events.push(event);
      }
      return {
        recovered: recovered === 1,
        latest: { offset: Number(latest), epoch: String(epoch) },
        events,
      };
    }, (error) => {
      this.#trouble(error);
      return unknown;
    });
  }

  /** Forgets a session's private stream. */
  dropStream(session: string): void {
    if (this.#up) this.#fire("cwDropStream", "u:" + session);
  }

  /** Redis expires what it keeps by itself. */
  sweep(_now: number): void {}

  /** Keeps the parked session in Redis for `ms`, for any node to resume. */
  park(token: string, parked: Parked, ms: number): void {
    this.#parked.set(token, parked);
    this.#local.park(token, parked, ms);
    if (this.#up) this.#fire("cwPark", token, JSON.stringify(parked), ms);
  }

  /** Takes a parked session, moving its name and rooms to this node. */
  unpark(token: string): MaybePromise<Unparked | undefined> {
    if (!this.#up) {
      this.#parked.delete(token);
      return this.#local.unpark(token);
    }
    return this.#call("cwUnpark", token, this.node).then((answer) => {
      const [json, ...kept] = answer as (string | number)[];
      if (typeof json !== "string") {
        if (json === -1) this.#trouble(new Error("this node's lease ran out"));
        // Parked here while Redis lost it (flushed, or away when it was parked): still here.
        if (json === undefined && this.#parked.delete(token)) return this.#local.unpark(token);
        return undefined;
      }
      const parked = JSON.parse(json) as Parked;
      this.#local.unpark(token);
      this.#parked.delete(token);
      const rooms = kept.map(String);
      if (parked.node !== this.node) {
        // The mirror learns what moved here, as if claimed and joined here.
        const member = { node: this.node, session: parked.session, name: parked.name };
        this.#local.claimName(parked.key, member, parked.reclaim);
        for (const room of rooms) this.#local.join(room, member, 0);
        this.#changes++;
      }
      return { parked, kept: rooms };
    }, (error) => {
      this.#trouble(error);
      return undefined;
    });
  }

  /**
   * Keeps a ban, mute or topic in Redis (a kick is not kept) and sends it to
   * the other nodes, in one script, batched with the rulings of the same turn.
   * While Redis is away a kept one waits here and goes once it is back; a kick
   * cannot reach the other nodes then.
   */
  rule(ruling: Ruling): void {
    this.#local.rule(ruling);
    if (this.#up) return this.#traffic.rule(this.#channel("all"), ruling);
    if (isKept(ruling)) this.#pending.set(rulingKey(ruling), ruling);
    else this.#traffic.lose();
  }

  /**
   * The bans and mutes not yet over, and the topics, as Redis keeps them
   * (those over are removed as they are read); this node's own while degraded.
   */
  rulings(): MaybePromise<Ruling[]> {
    if (!this.#up) return this.#local.rulings();
    return this.#readRulings().then((rulings) => {
      for (const ruling of rulings) this.#local.rule(ruling);
      return rulings;
    }, (error) => {
      this.#trouble(error);
      return this.#local.rulings();
    });
  }

  /** True when the session was still parked; when another node took it, tidies this mirror. */
  expire(token: string): MaybePromise<boolean> {
    const parked = this.#parked.get(token);
    this.#parked.delete(token);
    const local = this.#local.expire(token);
    if (!this.#up) return local;
    return this.#call("cwExpire", token).then((answer) => {
      if (Number(answer) === 1) return true;
      if (parked) this.#forget(parked);
      return false;
    }, (error) => {
      this.#trouble(error);
      return local;
    });
  }

  #resumedElsewhere(session: string): void {
    for (const [token, parked] of this.#parked) {
      if (parked.session !== session) continue;
      this.#parked.delete(token);
      this.#local.expire(token);
      this.#forget(parked);
    }
    this.#host?.resumedElsewhere(session);
  }

  // A session now held by another node leaves this node's mirror, quietly.
  #forget(parked: Parked): void {
    this.#local.releaseName(parked.key, parked.session);
    for (const room of parked.rooms) this.#local.leave(room, parked.session);
    this.#changes++;
  }

  #historySize(stream: string): number {
    return roomHistorySize(this.#host, stream) ?? this.#options.history.size;
  }

  async #readRulings(): Promise<KeptRuling[]> {
    const [generation, ...entries] = await this.#call("cwRulings", Date.now()) as string[];
    this.#generation = String(generation);
    const rulings: KeptRuling[] = [];
    for (const json of entries) {
      let ruling;
      try {
        ruling = readRuling(JSON.parse(json));
      } catch { /* not a ruling's JSON: skipped */ }
      if (ruling && isKept(ruling)) rulings.push(ruling);
    }
    return rulings;
  }

  // A ruling from another node (or one read again after an outage): mirrored, then applied here.
  #ruled(ruling: Ruling): void {
    this.#local.rule(ruling);
    try {
      this.#host?.ruled(ruling);
    } catch (error) {
      this.#options.log(`crosswire: failed to apply a ruling from another node: ${error}`);
    }
  }

  // Rulings of this node's that Redis may not have kept: kept ones wait for the link to return.
  #unruled(rulings: Ruling[]): void {
    for (const ruling of rulings) {
      if (!isKept(ruling)) continue;
      const key = rulingKey(ruling);
      // Unless a newer one for its key waits already.
      if (!this.#pending.has(key)) this.#pending.set(key, ruling);
    }
  }

  // Back from an outage: keeps what was ruled here meanwhile, then reads the
  // rulings again and applies every one (they are idempotent), so what was
  // ruled or lifted elsewhere while this node was cut off holds here too. When
  // Redis lost the hash (it restarted empty), this node's rulings in force are
  // kept again instead: every node does so, and the cluster has them back.
  async #catchUp(): Promise<void> {
    const channel = this.#channel("all");
    const write = async (rulings: KeptRuling[]) => {
      if (rulings.length === 0) return;
      const payload = JSON.stringify({ o: this.node, e: [], u: rulings });
      await this.#call("cwRule", channel, payload, ...ruledFields(rulings, Date.now()));
    };
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    const before = new Map<string, string>();
    for (const ruling of this.#local.rulings()) {
      if (isKept(ruling)) before.set(rulingKey(ruling), JSON.stringify(ruling));
    }
    const known = this.#generation;
    this.#touched = new Set();
    try {
      await write(pending);
      const read = await this.#readRulings();
      const touched = this.#touched;
      const found = new Map(read.map((ruling) => [rulingKey(ruling), ruling]));
      if (known !== undefined && this.#generation !== known) {
        // Redis lost the hash: what this node holds (and did not just read) goes back.
        const held = this.#local.rulings().filter((ruling): ruling is KeptRuling =>
          isKept(ruling) && !found.has(rulingKey(ruling)) && !touched.has(rulingKey(ruling))
        );
        await write(held);
      } else {
        // Lifted (or cleared) elsewhere while this node was away: lift it here too.
        for (const [key, json] of before) {
          if (found.has(key) || touched.has(key)) continue;
          const ruling = JSON.parse(json) as KeptRuling;
          this.#ruled(ruling.kind === "topic" ? { ...ruling, text: "" } : { ...ruling, until: 0 });
        }
      }
      // This node's own rulings it just kept are applied here already.
      const own = new Set(pending.map((ruling) => JSON.stringify(ruling)));
      for (const [key, ruling] of found) {
        if (!touched.has(key) && !own.has(JSON.stringify(ruling))) this.#ruled(ruling);
      }
    } catch (error) {
      for (const ruling of pending) {
        const key = rulingKey(ruling);
        if (!this.#pending.has(key)) this.#pending.set(key, ruling);
      }
      this.#trouble(error);
    } finally {
      this.#touched = undefined;
    }
  }

  #deliver(envelope: Envelope): void {
    try {
      this.#host?.deliver(envelope);
    } catch (error) {
      this.#options.log(`crosswire: failed to deliver a message from another node: ${error}`);
    }
  }

  #presenceOf(answer: Promise<unknown>, local: Presence): Promise<Presence> {
    return answer.then((result) => {
      const [count, ...members] = result as (string | number)[];
      if (Number(count) < 0) {
        this.#trouble(new Error("this node's lease ran out"));
        return local;
      }
      return { members: members.map(String), count: Number(count) };
    }, (error) => {
      this.#trouble(error);
      return local;
    });
  }

  #channel(name: string): string {
    return this.#options.prefix + name;
  }

  #call(script: ScriptName, ...args: (string | number)[]): Promise<unknown> {
    const run = (this.#link.cmd as unknown as Record<ScriptName, Script>)[script];
    const answer = run.call(this.#link.cmd, this.#options.prefix, ...args);
    this.#inFlight.add(answer);
    const done = () => void this.#inFlight.delete(answer);
    answer.then(done, done);
    return answer;
  }

  // A change whose answer nobody waits for; a failure still tells on the link.
  #fire(script: ScriptName, ...args: (string | number)[]): void {
    this.#call(script, ...args).catch((error) => this.#trouble(error));
  }

  #trouble(error: unknown): void {
    if (!this.#up) return;
    this.#link.reset(`a Redis command failed: ${(error as Error)?.message ?? error}`);
  }

  #down(reason: string): void {
    if (!this.#up) return;
    this.#up = false;
    this.#detail = reason;
    this.#downSince = Date.now();
    this.#options.log(`crosswire: cluster degraded: ${reason}; serving this node's clients alone`);
    this.#host?.changed(
      this.status(),
      "The link to the other crosswire nodes is down: you can still talk to the users " +
        "connected here, but messages to and from other nodes cannot be delivered until it is back.",
    );
  }

  // Both connections are back: subscribe again, renew the lease, and put this
  // node's names and presence back (Redis may have lost them, or they lapsed).
  // One recovery at a time; what changes here meanwhile makes it go round again.
  #recover(): Promise<void> {
    return this.#recovering ??= this.#recoverOnce().finally(() => this.#recovering = undefined);
  }

  async #recoverOnce(): Promise<void> {
    if (this.#up || this.#link.state !== "ready") return;
    try {
      for (let round = 0;; round++) {
        const changes = this.#changes;
        await this.#link.sub.subscribe(...this.#channels);
        await this.#reassert();
        if (this.#changes === changes) break;
        if (round === 10) throw new Error("this node's state kept changing");
      }
    } catch (error) {
      this.#detail = `recovering: ${(error as Error).message}`;
      return; // the next tick tries again
    }
    const seconds = Math.round((Date.now() - this.#downSince) / 1000);
    const dropped = this.#traffic.takeDropped();
    this.#up = true;
    this.#detail = undefined;
    void this.#catchUp();
    this.#options.log(
      `crosswire: cluster link back after ${seconds} s; messages that could not be sent meanwhile: ${dropped}`,
    );
    this.#host?.changed(
      this.status(),
      `The link to the other crosswire nodes is back after ${seconds} s. ` +
        (dropped === 0
          ? "Nothing said here was lost on the way to them."
          : `${dropped} message${
            dropped === 1 ? "" : "s"
          } said here could not reach them meanwhile.`) +
        " What was said on other nodes meanwhile did not reach you.",
    );
  }

  // Wipes what Redis has of this node and writes it again from the mirror, in
  // pipelines of a bounded size (each command has the command timeout).
  async #reassert(): Promise<void> {
    const prefix = this.#options.prefix;
    const { names, presence } = this.#local.entries();
    type Call = [ScriptName, ...(string | number)[]];
    const calls: Call[] = [
      ["cwReap", 1e9, this.node, 0, 1],
      ["cwHeartbeat", this.node, this.#lease()],
      ...names.map((
        { key, member, token },
      ): Call => ["cwClaim", key, member.node, member.session, member.name, token]),
      ...presence.map((
        { room, member },
      ): Call => ["cwJoin", room, member.node, member.session, member.name, 0]),
    ];
    const results: unknown[] = [];
    for (let start = 0; start < calls.length; start += REASSERT_BATCH) {
      const pipeline = this.#link.cmd.pipeline() as unknown as Record<ScriptName, Script> & {
        exec(): Promise<[Error | null, unknown][] | null>;
      };
      for (const [script, ...args] of calls.slice(start, start + REASSERT_BATCH)) {
        pipeline[script](prefix, ...args);
      }
      for (const [error, result] of (await pipeline.exec()) ?? []) {
        if (error) throw error;
        results.push(result);
      }
    }
    this.#lastBeat = Date.now();
    // A name someone else took while this node was away: its user must pick another.
    names.forEach(({ member }, i) => {
      const [ok] = results[2 + i] as [number];
      if (ok !== 1) this.#host?.nameLost(member.session);
    });
  }

  #lease(): number {
    // Dead within nodeTimeoutMs: the lease, plus at most one tick until a reaper sees it.
    return Math.max(this.#options.nodeTimeoutMs - 2 * TICK_MS, 3 * TICK_MS);
  }

  async #beat(): Promise<void> {
    const [status, nodes, users, rooms] = await this.#call(
      "cwHeartbeat",
      this.node,
      this.#lease(),
    ) as number[];
    this.#lastBeat = Date.now();
    this.#counts = { nodes: nodes!, users: users!, rooms: rooms! };
    if (status !== 0) await this.#reassert(); // Redis lost this node's state, or its lease lapsed
  }

  #tick(): void {
    if (!this.#up) {
      if (this.#link.state === "ready") void this.#recover();
      return;
    }
    if (this.#beating) return;
    this.#beating = true;
    const due = Date.now() - this.#lastBeat >= this.#lease() / 3;
    (async () => {
      if (due) await this.#beat();
      await this.#call("cwReap", REAP_BUDGET, "", this.#options.maxAnnouncedRoomSize, 0);
    })().catch((error) => this.#trouble(error)).finally(() => this.#beating = false);
  }
}
