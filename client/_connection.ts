// The connection's life: attaching a transport, logging in (or getting the
// session back) on it, keeping it alive, noticing when it drops, reconnecting
// with backoff, giving up, and ending for good. What arrives goes to the
// inbound side; requests go through the sender.

import type { ServerEvent, WelcomeEvent } from "../core/protocol.ts";
import { CrosswireClientError } from "./errors.ts";
import type { ConnectionCloseEvent } from "./events.ts";
import type { ConnectOptions } from "./options.ts";
import type { Transport } from "./transport.ts";
import { parseBinary, parseText } from "./_decode.ts";
import type { Emitter } from "./_emitter.ts";
import type { Inbound } from "./_inbound.ts";
import { Keepalive } from "./_keepalive.ts";
import { type Backoff, backoffFor, delayFor, shouldReconnect } from "./_reconnect_policy.ts";
import { requestJoin } from "./_replays.ts";
import { restore, type RestoreHost, type SessionState } from "./_restore.ts";
import type { Sender } from "./_sender.ts";
import type { Streams } from "./_streams.ts";
import type { Tokens } from "./_tokens.ts";

// Failures of a reconnect attempt that another attempt may not meet.
const TRANSIENT = new Set(["timeout", "internal_error", "server_busy", "rate_limited"]);
/**
 * How long after a drop a `name_taken` on logging in again counts as passing: the
 * relay may still keep our own session under a token we never received (its
 * `welcome` was lost with a connection), and frees the name when its resume
 * window (120 s by default) runs out.
 */
const OWN_NAME_KEPT_MS = 150_000;

/**
 * Where the client is: logging in for the first time, logged in, waiting to
 * reconnect, getting its session back on a new connection, or closed.
 */
export type Phase = "handshake" | "open" | "waiting" | "restoring" | "closed";

/** What the connection needs from the client. */
export interface ConnectionHost {
  readonly state: SessionState;
  readonly streams: Streams;
  readonly sender: Sender;
  readonly emitter: Emitter;
  readonly inbound: Inbound;
  /** The token the client logs in with. */
  readonly tokens: Tokens;
  /** Leaves a room on the connection being set up. */
  leave(room: string): Promise<void>;
  /** Reports an error nobody else can catch. */
  report(error: unknown): void;
}

/** One client's connections, one after another, until it ends for good. */
export class Connection {
  /** Resolves with the close event once the client has ended for good. */
  readonly closed: Promise<ConnectionCloseEvent>;
  #host: ConnectionHost;
  #options: ConnectOptions;
  #backoff: Backoff | undefined;
  #open: (() => Promise<Transport>) | undefined;
  #transport: Transport | undefined;
  /** Counts connections; what an older one still delivers is ignored. */
  #id = 0;
  #phase: Phase = "handshake";
  /** Logged in on the current connection. */
  #loggedIn = false;
  #binaryFrames = false;
  #keepalive = new Keepalive();
  #handshakeRef: string | undefined;
  #welcome: WelcomeEvent | undefined;
  /** close() was called, or the user typed /quit: a close now is final. */
  #leaving = false;
  #attempt = 0;
  // When the last session was lost (for OWN_NAME_KEPT_MS), or 0.
  #lostAt = 0;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #drop = { code: 1006, reason: "" };
  #resolveClosed!: (event: ConnectionCloseEvent) => void;

  /**
   * @param host The client's parts this works with.
   * @param options Timeouts, keepalive, reconnecting, and the saved session.
   */
  constructor(host: ConnectionHost, options: ConnectOptions) {
    this.#host = host;
    this.#options = options;
    this.#backoff = backoffFor(options.reconnect);
    this.closed = new Promise((resolve) => this.#resolveClosed = resolve);
  }

  /** Where the client is. */
  get phase(): Phase {
    return this.#phase;
  }

  /** The current connection's transport; undefined between connections. */
  get transport(): Transport | undefined {
    return this.#transport;
  }

  /** The current connection's number. */
  get id(): number {
    return this.#id;
  }

  /** Whether the last transport sends files as binary frames. */
  get binaryFrames(): boolean {
    return this.#binaryFrames;
  }

  /** The server's last `welcome`. */
  get welcome(): WelcomeEvent | undefined {
    return this.#welcome;
  }

  /** The ref of the login or resume still waiting for its welcome, if any. */
  get awaitingWelcome(): string | undefined {
    return this.#loggedIn ? undefined : this.#handshakeRef;
  }

  /** A new connection may follow one that fails. */
  get mayReconnect(): boolean {
    return this.#canReconnect && !this.#leaving;
  }

  get #canReconnect(): boolean {
    return this.#backoff !== undefined && this.#open !== undefined;
  }

  get #requestTimeoutMs(): number {
    return this.#options.requestTimeoutMs ?? 30_000;
  }

  /** Lets the client reconnect, opening each new connection with `open`. */
  reconnectWith(open: () => Promise<Transport>): void {
    this.#open = open;
  }

  /** The caller is leaving (`/quit`): a close from now on is final. */
  leaving(): void {
    this.#leaving = true;
  }

  /**
   * Logs in on the first connection; resolves once the session is ready, or
   * rejects (after the client has closed) when it could not log in.
   */
  start(transport: Transport): Promise<void> {
    return this.#connected(transport, true);
  }

  /** Says `quit` when logged in and closes; with no connection, ends at once. */
  close(): void {
    if (this.#phase === "closed") return;
    this.#leaving = true;
    const transport = this.#transport;
    if (transport) {
      try {
        if (this.#loggedIn) transport.send(JSON.stringify({ type: "quit" }));
      } catch { /* the connection is already going */ }
      transport.close();
    } else this.#finish(1000, "closed by the client");
  }

  // Logs in (or gets the session back) on a new connection, then lets
  // everything through that waited for it.
  async #connected(transport: Transport, first: boolean): Promise<void> {
    const connection = this.#attach(transport);
    const host = this.#host;
    try {
      const restoring = !first || this.#options.resume !== undefined;
      const resumed = await restore(this.#restorer(first), connection, restoring);
      this.#check(connection);
      this.#phase = "open";
      this.#attempt = 0;
      if (resumed) host.emitter.emit(resumed);
      host.streams.unpause();
      host.sender.flush();
      for (const room of host.state.rooms) host.inbound.probe(room);
      if (first) host.emitter.ready();
    } catch (error) {
      if (first) {
        if (this.#phase !== "closed") this.#transport?.close();
        await this.closed;
        throw error;
      }
      if (connection !== this.#id || this.#phase === "closed") return; // handled already
      const code = error instanceof CrosswireClientError ? error.code : "internal_error";
      const message = (error as Error).message;
      if (TRANSIENT.has(code)) return this.#abandon(connection, 4000, message);
      // Our own session may still hold the name: wait until the relay lets it go.
      if (code === "name_taken" && Date.now() - this.#lostAt < OWN_NAME_KEPT_MS) {
        return this.#abandon(connection, 4000, message);
      }
      this.#giveUp(`could not log in again: ${message}`);
    }
  }

  #attach(transport: Transport): number {
    const connection = ++this.#id;
    this.#transport = transport;
    this.#binaryFrames = transport.binaryFrames;
    this.#loggedIn = false;
    this.#host.inbound.lastError = undefined;
    transport.start({
      text: (data) => this.#received(connection, data, parseText),
      binary: (data) => this.#received(connection, data, parseBinary),
      closed: (code, reason) => {
        try {
          this.#dropped(connection, code, reason);
        } catch (error) {
          this.#host.report(error);
        }
      },
    });
    return connection;
  }

  // What connection `connection` received, unless a newer one replaced it.
  #received<D>(
    connection: number,
    data: D,
    parse: (data: D) => ServerEvent | undefined,
  ): void {
    if (connection !== this.#id) return;
    try {
      this.#host.inbound.receive(parse(data));
    } catch (error) {
      this.#host.report(error);
    }
  }

  #restorer(first: boolean): RestoreHost {
    const host = this.#host;
    return {
      state: host.state,
      streams: host.streams,
      requestTimeoutMs: this.#requestTimeoutMs,
      newRef: () => host.sender.newRef(),
      token: () => host.tokens.next(),
      handshake: (ref, message) => this.#handshake(first, ref, message),
      join: (room, options) => requestJoin(host, room, options, true),
      leave: (room) => host.leave(room),
      recover: (room, since) => host.inbound.recover(room, since),
      gap: (event) => void host.inbound.deliver(event, false),
      check: (connection) => this.#check(connection),
    };
  }

  // Sends `login` or `resume` and waits for `welcome`. A reconnect's welcome
  // is the client's business (listeners get `resumed`); the first one is
  // delivered, as always.
  #handshake(first: boolean, ref: string, message: Record<string, unknown>): Promise<WelcomeEvent> {
    this.#handshakeRef = ref;
    const reply = this.#host.sender.request<WelcomeEvent>(ref, message, {
      accept: (event) => {
        if (event.type !== "welcome") return undefined;
        this.#welcomed(event);
        return event;
      },
      quiet: (event) => !first || event.type === "error",
    });
    return reply.finally(() => {
      if (this.#handshakeRef === ref) this.#handshakeRef = undefined;
    });
  }

  #welcomed(welcome: WelcomeEvent): void {
    const { state, sender, inbound } = this.#host;
    this.#welcome = welcome;
    this.#loggedIn = true;
    state.name = welcome.name;
    state.reclaim = welcome.reclaim;
    state.token = welcome.resume ?? "";
    const server = welcome.rooms;
    state.rooms = [
      ...state.rooms.filter((room) => server.includes(room)),
      ...server.filter((room) => !state.rooms.includes(room)),
    ];
    const idle = inbound.limits.idleTimeoutMs;
    const every = this.#options.keepaliveMs ?? (idle > 0 ? Math.min(30_000, idle / 3) : 30_000);
    const connection = this.#id;
    this.#keepalive.start(
      every,
      () =>
        sender.request(sender.newRef(), { type: "ping" }, {
          accept: (event) => event.type === "pong" || undefined,
          quiet: () => true,
        }),
      () => this.#abandon(connection, 4000, "server not responding"),
    );
  }

  #check(connection: number): void {
    if (connection !== this.#id || this.#phase === "closed") {
      throw new CrosswireClientError("connection_lost", "the connection dropped meanwhile");
    }
  }

  // The connection `connection` ended: reconnect, or end for good.
  #dropped(connection: number, code: number, reason: string): void {
    if (connection !== this.#id || this.#phase === "closed") return;
    this.#id++; // whatever the old transport still delivers is ignored
    this.#transport = undefined;
    if (this.#loggedIn) this.#lostAt = Date.now();
    this.#loggedIn = false;
    this.#keepalive.stop();
    this.#host.streams.disconnected();
    if (
      this.#phase === "handshake" || this.#leaving || !this.#canReconnect ||
      !shouldReconnect(code, this.#host.inbound.lastError, this.#host.tokens.renewable)
    ) {
      return this.#finish(code, reason);
    }
    const why = `${code}${reason ? `: ${reason}` : ""}`;
    this.#host.sender.dropped(
      connection,
      new CrosswireClientError(
        "connection_lost",
        `the connection dropped (${why}) before the reply came; the client is reconnecting`,
      ),
    );
    this.#drop = { code, reason };
    this.#schedule();
  }

  // Drops a connection that is up but no use (a dead server, no welcome).
  #abandon(connection: number, code: number, reason: string): void {
    const transport = this.#transport;
    this.#dropped(connection, code, reason);
    transport?.close();
  }

  #giveUp(reason: string): void {
    const transport = this.#transport;
    this.#finish(this.#drop.code, reason);
    transport?.close();
  }

  #schedule(): void {
    const backoff = this.#backoff!;
    this.#attempt++;
    if (this.#attempt > backoff.maxAttempts) {
      return this.#finish(this.#drop.code, this.#drop.reason);
    }
    const delayMs = delayFor(this.#attempt, backoff);
    this.#phase = "waiting";
    this.#retryTimer = setTimeout(() => void this.#retry(), delayMs);
    this.#host.emitter.emit({
      type: "reconnecting",
      attempt: this.#attempt,
      delayMs,
      ...this.#drop,
    });
  }

  async #retry(): Promise<void> {
    this.#retryTimer = undefined;
    if (this.#phase !== "waiting") return;
    this.#phase = "restoring";
    let transport: Transport;
    try {
      transport = await this.#open!();
    } catch (error) {
      if (this.#phase !== "restoring") return;
      this.#drop = { code: 1006, reason: (error as Error).message };
      return this.#schedule();
    }
    if (this.#phase !== "restoring") return transport.close(); // closed meanwhile
    await this.#connected(transport, false);
  }

  #finish(code: number, reason: string): void {
    if (this.#phase === "closed") return;
    const handshake = this.#phase === "handshake";
    this.#phase = "closed";
    clearTimeout(this.#retryTimer);
    this.#keepalive.stop();
    this.#host.streams.disconnected();
    this.#host.sender.close(
      new CrosswireClientError(
        "connection_closed",
        `the connection closed (${code}${reason ? `: ${reason}` : ""})`,
      ),
    );
    const event: ConnectionCloseEvent = { type: "close", code, reason };
    const emitter = this.#host.emitter;
    if (handshake) emitter.discard();
    else emitter.release();
    emitter.emit(event);
    this.#resolveClosed(event);
  }
}
