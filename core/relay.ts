// The relay: admits connections, turns each request into a decision by one of
// its parts (users, rooms, messages), and ties them to the engine that shares
// state with other nodes. Transports only move bytes.

import { then } from "./_maybe.ts";
import { Admission, Ticket } from "./admission.ts";
import { Authentication } from "./authentication.ts";
import { Entrance } from "./entrance.ts";
import { measure, type RelayGauges } from "./gauges.ts";
import { bump, RelayCounters } from "./counters.ts";
import type { ClusterCounts, Engine, EngineHost, EngineStatus, MaybePromise } from "./engine.ts";
import { CloseCode, RelayError } from "./errors.ts";
import { type RelayLimits, type RelayOptions, resolveLimits } from "./limits.ts";
import { MemoryEngine } from "./memory_engine.ts";
import { Messages } from "./messages.ts";
import { Moderation } from "./moderation.ts";
import { validateRoom } from "./names.ts";
import { Outgoing } from "./outgoing.ts";
import { PauseClock } from "./pause_clock.ts";
import { Permissions } from "./permissions.ts";
import {
  type ClientRequest,
  type HelloEvent,
  PROTOCOL_VERSION,
  type ServerEvent,
  type WelcomeEvent,
} from "./protocol.ts";
import { MAX_REPLAY, Replays } from "./replay.ts";
import { Reply } from "./reply.ts";
import { ServerApi } from "./server_api.ts";
import type { RestoreHost } from "./restore.ts";
import { newResumeToken, Resumption } from "./resume.ts";
import { Rooms } from "./rooms.ts";
import { type Departure, type Port, Session, type SessionHost } from "./session.ts";
import { readLine } from "./text_dialogue.ts";
import { TEXT_HELP } from "./text_render.ts";
import { Users } from "./users.ts";

export type { RelayLimits, RelayOptions } from "./limits.ts";
export type { RelayGauges } from "./gauges.ts";

export { LOBBY } from "./rooms.ts";

/** Rooms listed in one `rooms` reply, at most. */
const MAX_ROOMS_LISTED = 100;

/**
 * Counts for health checks, on this node.
 *
 * @example A connection counts as a user only after login
 * ```ts
 * import { type Port, Relay, type RelayStats } from "@crosswire/relay";
 * const port: Port = { framing: "frames", wake: () => {}, close: () => {} };
 * const relay = new Relay();
 * const session = relay.connect(port);
 * const before: RelayStats = relay.stats();
 * session.receiveText('{"type":"login","name":"ann"}');
 * const after: RelayStats = relay.stats();
 * if (before.sessions !== 1 || before.users !== 0 || after.users !== 1 || after.rooms !== 1) {
 *   throw new Error("unexpected counts");
 * }
 * ```
 */
export interface RelayStats {
  /** Open connections, logged in or not. */
  sessions: number;
  /** Logged-in users with a live connection. */
  users: number;
  /** Sessions whose connection dropped, kept for their client to resume. */
  parked: number;
  /** Rooms with at least one member. */
  rooms: number;
}

/**
 * What `/healthz` reports: this node, its backplane, and the cluster.
 *
 * @example A single node in memory is healthy
 * ```ts
 * import { Relay, type HealthReport } from "@crosswire/relay";
 * const report: HealthReport = await new Relay().health();
 * if (report.status !== "ok" || report.backplane !== "memory") throw new Error("unhealthy");
 * ```
 */
export interface HealthReport {
  /** `ok`, or `degraded` while the backplane is unreachable. */
  status: "ok" | "degraded";
  /** The engine: `memory` or `redis`. */
  backplane: string;
  /** The engine's state. */
  state: EngineStatus["state"];
  /** Why it is degraded, when it is. */
  detail?: string;
  /** This node's id. */
  nodeId: string;
  /** This node's counts. */
  node: RelayStats;
  /** Counts across the cluster; absent when the backplane cannot say. */
  cluster?: ClusterCounts;
}

/**
 * The runtime-agnostic relay: sessions, names, rooms, presence, broadcast and
 * private messages. Transports hand it a {@link Port} per connection.
 *
 * @example Two sessions in the lobby
 * ```ts
 * import { type Port, Relay } from "@crosswire/relay";
 * const relay = new Relay();
 * const port: Port = { framing: "frames", wake: () => {}, close: () => {} };
 * const ann = relay.connect(port);
 * const bob = relay.connect(port);
 * ann.receiveText('{"type":"login","name":"ann"}');
 * bob.receiveText('{"type":"login","name":"bob"}');
 * if (relay.stats().users !== 2) throw new Error("both should be online");
 * ```
 */
export class Relay {
  /** The limits in force. */
  readonly limits: RelayLimits;
  /** The engine holding names and presence, shared with other nodes. */
  readonly engine: Engine;
  /** Running totals since the relay was made, for metrics. */
  readonly counters: RelayCounters = new RelayCounters();
  /** What a backend may do (the server API's routes call it): publish, direct, moderate. */
  readonly api: ServerApi;
  #options: RelayOptions;
  #now: () => number;
  #clock: PauseClock;
  #admission: Admission;
  #sessions = new Set<Session>();
  #users: Users;
  #rooms: Rooms;
  #messages: Messages;
  #replays: Replays;
  #resumption: Resumption;
  #authentication: Authentication;
  #permissions: Permissions;
  #moderation: Moderation;
  #entrance: Entrance;
  #closing = false;
  #onError: (error: unknown) => void;
  #sessionHost: SessionHost;
  #engineHost: EngineHost;

  /**
   * Creates a relay with no sessions; it needs no timers of its own.
   *
   * @param options Limits, message of the day, engine and clock.
   */
  constructor(options: RelayOptions = {}) {
    this.#options = options;
    const limits = this.limits = resolveLimits(options);
    const now = this.#now = options.now ?? Date.now;
    this.#clock = new PauseClock(options.detectPauses ?? true);
    const history = {
      size: limits.historySize,
      ttlMs: limits.historyTtlMs,
      bytes: limits.historyBytes,
      totalBytes: limits.historyTotalBytes,
    };
    const engine = this.engine = options.engine ?? new MemoryEngine({ now, history });
    const onError = this.#onError = options.onError ?? ((error: unknown) => console.error(error));
    this.#admission = new Admission(limits);
    // An address may have as many names kept as it may have connections.
    this.#users = new Users(engine, limits.nameGraceMs, limits.maxConnectionsPerAddress, now);
    const permissions = this.#permissions = new Permissions({
      policies: options.rooms ?? {},
      now,
      mutedUntil: (session) => this.#moderation.mutedUntil(session),
    });
    const rooms = this.#rooms = new Rooms({
      limits,
      engine,
      now,
      closing: () => this.#closing,
      maxMembers: (room) => permissions.policy(room)?.maxMembers,
    });
    this.#moderation = new Moderation({
      engine,
      now,
      counters: this.counters,
      users: this.#users,
      rooms,
      sessions: () => this.#sessions,
    });
    this.#authentication = new Authentication({
      authenticate: options.authenticate,
      requireAuth: options.requireAuth === true,
      graceMs: limits.tokenGraceMs,
      adminPassword: options.adminPassword,
      counters: this.counters,
      now,
    });
    this.#messages = new Messages({
      limits,
      engine,
      now,
      counters: this.counters,
      rooms: this.#rooms,
      users: this.#users,
    });
    // A replay is at most what its asker may be charged at once (its byte burst), and
    // never fills half its queue: a crowd of askers cannot make the server send in bulk.
    const byteBurst = Math.max(limits.rateBytesPerSecond, limits.maxFrameBytes);
    this.#replays = new Replays({
      engine,
      rooms: this.#rooms,
      size: limits.historySize,
      onJoin: limits.historyOnJoin,
      budget: Math.min(limits.maxQueuedBytes / 2, byteBurst),
      counters: this.counters,
    });
    this.#entrance = new Entrance({
      rooms,
      replays: this.#replays,
      permissions,
      moderation: this.#moderation,
    });
    this.#resumption = new Resumption({
      engine,
      counters: this.counters,
      users: this.#users,
      rooms: this.#rooms,
      replays: this.#replays,
      windowMs: limits.resumeWindowMs,
      // Kept sessions cost no connection, but each holds a name and places in rooms.
      maxParked: limits.maxConnections,
      now,
      welcome: (reply) => this.#welcome(reply, true),
      end: (session) => this.#end(session),
    });
    this.api = new ServerApi({
      engine,
      messages: this.#messages,
      moderation: this.#moderation,
      maxPresenceMembers: limits.maxPresenceMembers,
    });
    this.#sessionHost = {
      limits,
      rateLimits: {
        messagesPerSecond: limits.rateMessagesPerSecond,
        messageBurst: limits.rateMessageBurst,
        bytesPerSecond: limits.rateBytesPerSecond,
        // One largest message must always fit.
        byteBurst,
      },
      clock: this.#clock,
      counters: this.counters,
      now,
      hello: () => this.#hello(),
      handle: (session, request) => this.#handle(session, request),
      handleLine: (session, line) => this.#handleLine(session, line, undefined),
      reportError: onError,
      disconnected: (session, how) => this.#remove(session, how),
      findName: (name) => this.#users.find(name),
      authenticates: options.authenticate !== undefined,
    };
    this.#engineHost = {
      history,
      deliver: (envelope) => {
        switch (envelope.to) {
          case "room":
            return this.#rooms.deliver(envelope.room, envelope.event, envelope.except);
          case "user":
            this.#users.local(envelope.key)?.send(envelope.event);
            return;
          case "all":
            return this.#tellEveryone(new Outgoing(envelope.event));
        }
      },
      changed: (_status, notice) => {
        if (notice !== undefined) this.#tellEveryone(new Outgoing(this.#notice(notice)));
      },
      resumedElsewhere: (id) => this.#resumption.resumedElsewhere(id),
      ruled: (ruling) => this.#moderation.ruled(ruling),
      historySize: (room) => permissions.policy(room)?.history,
      published: (seconds) => this.counters.publishLatency.observe(seconds),
      nameLost: (id) => {
        for (const session of this.#sessions) {
          if (session.id === id && session.state === "ready") void this.#renameAway(session);
        }
      },
    };
  }

  /**
   * Starts the engine (connecting to the backplane, when there is one). A
   * server calls it before accepting connections, then {@link sweep} every
   * second; a relay on the default in-memory engine works without it.
   */
  start(): Promise<void> {
    // A server sweeps from now on: a pause from this moment on is noticed.
    this.#clock.tick(this.#now());
    return this.engine.start(this.#engineHost).then(async () => {
      // Bans, mutes and topics decided before this node started hold here too.
      this.#moderation.load(await this.engine.rulings());
    });
  }

  /**
   * A place for a new connection from `remoteAddress`, or undefined when a
   * connection limit is reached. Transports call it as soon as a socket is
   * accepted (before any handshake), hand the ticket to {@link connect} if the
   * socket becomes a session, and release it when the socket closes.
   */
  admit(remoteAddress?: string): Ticket | undefined {
    if (this.#closing) return undefined;
    return this.#admission.admit(remoteAddress, this.#now());
  }

  /**
   * Registers a new connection. A frame transport is greeted with `hello`;
   * a line transport is asked for a name. Without a `ticket`, the connection
   * is admitted here (and refused with `server_busy` over a limit).
   */
  connect(
    port: Port,
    info: { remoteAddress?: string; ticket?: Ticket; token?: string } = {},
  ): Session {
    const address = info.ticket?.address ?? info.remoteAddress;
    const ticket = info.ticket ?? this.admit(address);
    const session = new Session(
      this.#sessionHost,
      port,
      ticket ?? Ticket.refused(address),
    );
    if (this.#closing) {
      session.close(
        CloseCode.goingAway,
        "server shutting down",
        this.#notice("The server is shutting down."),
      );
      return session;
    }
    if (ticket === undefined || ticket.released) {
      session.close(CloseCode.tryAgainLater, "server busy", {
        type: "error",
        code: "server_busy",
        message: "server busy, try again later",
      });
      return session;
    }
    this.counters.connections[session.transport]++;
    const banned = this.#moderation.addressBan(address);
    if (banned !== undefined) {
      session.fail(banned);
      return session;
    }
    if (info.token !== undefined) session.presentedToken = info.token;
    this.#sessions.add(session);
    if (session.json) session.send(this.#hello());
    else if (!session.irc) session.send(this.#notice("Welcome to crosswire. What's your name?"));
    return session;
  }

  /**
   * Closes sessions that stayed idle, unnamed or behind for too long, and
   * notices when the relay itself was paused. Call it about once a second from
   * one timer for the whole relay (the Deno server does), never one per connection.
   */
  sweep(): void {
    const now = this.#now();
    this.#clock.tick(now);
    for (const session of this.#sessions) {
      try {
        session.sweep(now);
        this.#authentication.sweep(session, now);
      } catch (error) {
        this.#onError(error); // a bug in one session's sweep must not stop the others'
      }
    }
    this.#messages.sweep(now);
    this.#users.sweep(now);
    this.#resumption.sweep(now);
    this.#moderation.sweep(now);
    this.#authentication.sweepFailures(now);
    this.engine.sweep(now);
  }

  /** @internal The parts `restoreSession` (core/restore.ts) puts a session back into. */
  restoreHost(): RestoreHost {
    return {
      session: this.#sessionHost,
      sessions: this.#sessions,
      users: this.#users,
      rooms: this.#rooms,
    };
  }

  /** Connection, user and room counts on this node. */
  stats(): RelayStats {
    return {
      sessions: this.#sessions.size,
      users: this.#users.size - this.#resumption.size,
      parked: this.#resumption.size,
      rooms: this.#rooms.size,
    };
  }

  /** What this node holds right now: connections by transport and state, queues. */
  gauges(): RelayGauges {
    return measure(this.#sessions, this.#resumption.size, this.#rooms.size);
  }

  /** This node's counts, the backplane's state, and the cluster's counts. */
  async health(): Promise<HealthReport> {
    const status = this.engine.status();
    let cluster: ClusterCounts | undefined;
    try {
      cluster = await this.engine.counts();
    } catch { /* the backplane is away; its state says so */ }
    return {
      status: status.state === "up" ? "ok" : "degraded",
      backplane: status.backplane,
      state: status.state,
      ...(status.detail === undefined ? {} : { detail: status.detail }),
      nodeId: this.engine.node,
      node: this.stats(),
      ...(cluster === undefined ? {} : { cluster }),
    };
  }

  /** This node's rooms and their member counts, sorted by name. */
  roomList(): { name: string; members: number }[] {
    return this.#rooms.list();
  }

  /** Sends a server notice to every logged-in user on every node, encoded once here. */
  announce(text: string): void {
    const event = this.#notice(text);
    this.#tellEveryone(new Outgoing(event));
    this.engine.publish({ to: "all", event });
  }

  /**
   * Tells every client the server is going away and asks each transport to
   * close (WebSocket code 1001). New connections are refused from then on.
   */
  close(reason = "The server is shutting down."): void {
    this.#closing = true;
    const notice = new Outgoing(this.#notice(reason));
    for (const session of [...this.#sessions]) {
      session.close(CloseCode.goingAway, "server shutting down", notice);
    }
    // Nobody can resume here any more: kept sessions end, and the others see them leave.
    this.#resumption.endAll();
  }

  #tellEveryone(message: Outgoing): void {
    for (const session of this.#users.sessions()) session.deliver(message);
  }

  #hello(): HelloEvent {
    const { maxLineBytes, maxFrameBytes, maxTextBytes, maxFileBytes, idleTimeoutMs } = this.limits;
    return {
      type: "hello",
      protocol: PROTOCOL_VERSION,
      server: this.#options.serverName ?? "crosswire",
      limits: { maxLineBytes, maxFrameBytes, maxTextBytes, maxFileBytes, idleTimeoutMs },
    };
  }

  #notice(text: string): ServerEvent {
    return { type: "notice", ts: this.#now(), text };
  }

  // A text-mode line, or a JSON `input` request: the name before login, then commands.
  #handleLine(session: Session, line: string, ref: string | undefined): MaybePromise<void> {
    const intent = readLine(session, line);
    if (intent === undefined) return;
    if ("login" in intent) {
      return this.#login(new Reply(session, ref), intent.login, undefined, true, intent.token);
    }
    const request = intent.request;
    return this.#handle(session, ref === undefined ? request : { ...request, ref });
  }

  #handle(session: Session, request: ClientRequest): void | Promise<void> {
    const reply = new Reply(session, request.ref);
    try {
      const result = this.#dispatch(reply, request);
      if (result instanceof Promise) return result.catch((error) => reply.fail(error));
    } catch (error) {
      reply.fail(error);
    }
  }

  #dispatch(reply: Reply, request: ClientRequest): MaybePromise<void> {
    const session = reply.session;
    switch (request.type) {
      case "hello":
        if (request.batch !== undefined) session.outbound.batchText = request.batch;
        return reply.send(this.#hello());
      case "ping":
        return reply.send({ type: "pong", ts: this.#now() });
      case "help":
        return reply.send(this.#notice(TEXT_HELP.join("\n")));
      case "quit":
        return session.close(CloseCode.normal, "bye", this.#notice("Bye!"), "quit");
      case "login":
        if (request.echo !== undefined) session.echo = request.echo;
        return this.#login(reply, request.name, request.reclaim, false, request.token);
      case "input":
        return this.#handleLine(session, request.line, request.ref);
      case "resume":
        return this.#resumption.resume(reply, request);
    }
    if (session.state !== "ready") throw new RelayError("not_logged_in", "log in first");
    this.#permissions.check(session, request);
    const rooms = this.#rooms;
    switch (request.type) {
      case "refresh":
        return this.#authentication.refresh(reply, request.token);
      case "oper":
        return this.#authentication.oper(reply, request.password);
      case "kick":
      case "ban":
      case "unban":
      case "mute":
      case "unmute":
      case "topic":
        return this.#moderation.request(reply, request);
      case "nick":
        return this.#rename(session, request.name);
      case "join":
        return this.#entrance.join(
          reply,
          validateRoom(request.room),
          request.since,
          request.history,
        );
      case "history": {
        const room = request.room === undefined
          ? undefined
          : rooms.memberRoom(session, validateRoom(request.room));
        return this.#replays.send(reply, room, request.since, request.limit ?? MAX_REPLAY);
      }
      case "leave":
        return rooms.leave(session, rooms.memberRoom(session, validateRoom(request.room)), "leave");
      case "publish": {
        const room = rooms.memberRoom(session, validateRoom(request.room));
        return this.#messages.publish(session, room, request.content);
      }
      case "direct":
        return this.#messages.direct(session, request.to, request.content);
      case "presence":
        return rooms.presence(reply, validateRoom(request.room));
      case "rooms": {
        const limit = Math.min(Math.max(request.limit ?? MAX_ROOMS_LISTED, 1), MAX_ROOMS_LISTED);
        return then(this.engine.rooms(limit, request.after), (page) => {
          // Rooms one may not enter are not listed to them.
          const shown = page.rooms.filter((room) =>
            this.#permissions.may(session, room.name, "join")
          );
          const total = page.total - (page.rooms.length - shown.length);
          reply.sendCharged({ type: "rooms", rooms: shown, total });
        });
      }
      case "echo":
        session.echo = request.on;
        return reply.send(this.#notice(`Echo is ${request.on ? "on" : "off"}.`));
    }
  }

  #login(
    reply: Reply,
    rawName: string,
    reclaim: string | undefined,
    textMode: boolean,
    token?: string,
  ): MaybePromise<void> {
    const session = reply.session;
    // A refused name in text mode asks again, as a prompt would.
    const askAgain = (error: unknown) => {
      if (!textMode || !(error instanceof RelayError)) throw error;
      reply.fail(error);
      session.send(this.#notice("What's your name?"));
    };
    try {
      if (session.state !== "new") {
        throw new RelayError("already_logged_in", "you are already logged in; use /nick to rename");
      }
      const result = then(this.#authentication.identify(session, token), (identity) => {
        // A token names its user; without one, the name is the one asked for.
        const name = identity?.name ?? rawName;
        const banned = this.#moderation.nameBan(name);
        if (banned !== undefined) throw banned;
        return then(this.#users.login(session, name, reclaim), (loggedIn) => {
          if (!loggedIn) return;
          session.identity = identity;
          this.#authentication.loggedIn(identity);
          return this.#welcome(reply);
        });
      });
      return result instanceof Promise ? result.catch(askAgain) : result;
    } catch (error) {
      return askAgain(error);
    }
  }

  #welcome(reply: Reply, resumed = false): MaybePromise<void> {
    const session = reply.session;
    // A session banned while it waited for its client is not given back.
    const banned = resumed ? this.#moderation.nameBan(session.name!) : undefined;
    if (banned !== undefined) return session.fail(banned);
    if (session.json && this.limits.resumeWindowMs > 0) session.resume ??= newResumeToken();
    // Findable by name from now on: a private message waits until the welcome is out.
    if (!resumed) session.hold("");
    // Both asked at once: on a cluster, one round trip's wait.
    const counts = this.engine.counts();
    const direct = session.json
      ? this.engine.history({ session: session.id }, undefined, 0)
      : undefined;
    const first = resumed
      ? [...session.rooms]
      : this.#permissions.firstRooms(session, this.limits.maxRoomsPerSession);
    const welcomed = then(counts, (counts) =>
      then(direct, (read) => {
        const motd = this.#options.motd;
        const welcome: WelcomeEvent = {
          type: "welcome",
          session: session.id,
          name: session.name!,
          others: Math.max(counts.users - 1, 0),
          rooms: first,
          reclaim: session.reclaim!,
          ...(motd === undefined ? {} : { motd }),
          ...(session.resume === undefined ? {} : { resume: session.resume }),
          ...(read === undefined ? {} : { direct: read.latest }),
          ...(resumed ? { resumed: true as const } : {}),
        };
        reply.send(welcome);
        if (resumed) return;
        session.replay("", [], undefined);
        return this.#entrance.joinAll(session, first);
      }));
    if (!(welcomed instanceof Promise)) return welcomed;
    return welcomed.catch((error) => {
      session.replay("", [], undefined); // nothing stays held back for a welcome that failed
      throw error;
    });
  }

  #rename(session: Session, rawName: string): MaybePromise<void> {
    return then(this.#users.rename(session, rawName), (from) => {
      const to = session.name!;
      const ts = this.#now();
      if (session.rooms.size === 0) return void session.send({ type: "renamed", ts, from, to });
      for (const room of session.rooms) {
        this.engine.rename(room, session.id, to);
        const renamed: ServerEvent = { type: "renamed", ts, room, from, to };
        // A crowd hears of it only in presence, as of joins and leaves.
        if (this.#rooms.quiet(room)) session.send(renamed);
        else this.#rooms.publish(room, renamed);
      }
    });
  }

  // Another node's user has this session's name: move it to a free variant.
  async #renameAway(session: Session): Promise<void> {
    const base = [...session.name!].slice(0, 29).join("");
    for (let n = 2; n <= 9; n++) {
      try {
        await this.#rename(session, `${base}-${n}`);
        session.send(this.#notice(
          `Someone on another server took the name ${base} at the same time ` +
            `(or while this server could not reach the others); you are now ${session.name}.`,
        ));
        return;
      } catch (error) {
        if (!(error instanceof RelayError) || error.code !== "name_taken") break;
      }
    }
    session.close(CloseCode.policyViolation, "name taken", {
      type: "error",
      code: "name_taken",
      message: "someone on another server took your name at the same time " +
        "(or while this server could not reach the others)",
    }, "quit");
  }

  #remove(session: Session, how: Departure): void {
    session.ticket.release();
    if (!this.#sessions.delete(session)) return;
    bump(this.counters.disconnects, session.endedBy ?? how);
    // A dropped connection's session is kept a while for its client to resume.
    if (how === "drop" && !this.#closing && this.#resumption.park(session)) return;
    this.#rooms.leaveAll(session);
    this.#users.release(session, how);
    if (session.name !== undefined) this.engine.dropStream(session.id);
  }

  // A kept session's window ran out: it ends as a dropped one would have.
  #end(session: Session): void {
    this.#rooms.leaveAll(session);
    this.#users.release(session, "quit");
    this.engine.dropStream(session.id);
  }
}
