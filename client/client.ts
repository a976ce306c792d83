/**
 * The crosswire client library. Web-standard only (WebSocket, TextEncoder,
 * timers), so it runs in Deno and in browsers; `tcp://` URLs load the Deno TCP
 * transport on demand.
 *
 * @module
 */
import { encodeBinaryFrame } from "../core/binary_frame.ts";
import type {
  AnnouncedLimits,
  Position,
  PresenceEvent,
  RenamedEvent,
  RoomsEvent,
  ServerEvent,
  WelcomeEvent,
} from "../core/protocol.ts";
import { CrosswireClientError } from "./errors.ts";
import type { ClientEventOf, ClientEventType, ConnectionCloseEvent, GapEvent } from "./events.ts";
import type {
  ConnectOptions,
  FileOptions,
  FileTarget,
  HistoryOptions,
  HistoryResult,
  JoinOptions,
  SavedSession,
  TextOptions,
} from "./options.ts";
import type { Transport } from "./transport.ts";
import { toBase64 } from "./_base64.ts";
import { parseBinary, parseText, refOf } from "./_decode.ts";
import { Emitter } from "./_emitter.ts";
import { Keepalive } from "./_keepalive.ts";
import { openerFor } from "./_open.ts";
import { type Backoff, backoffFor, delayFor, shouldReconnect } from "./_reconnect_policy.ts";
import { restore, type RestoreHost, type SessionState } from "./_restore.ts";
import { Sender } from "./_sender.ts";
import { requestJoin, requestReplay, roomKey } from "./_replays.ts";
import { type Chat, type ReplayResult, Streams } from "./_streams.ts";

const DEFAULT_LIMITS: AnnouncedLimits = {
  maxLineBytes: 8192,
  maxFrameBytes: Math.ceil(1024 * 1024 / 3) * 4 + 4096,
  maxTextBytes: 8192,
  maxFileBytes: 1024 * 1024,
  idleTimeoutMs: 300_000,
};
/** Messages one resync asks for: as many as a replay may bring. */
const REPLAY_LIMIT = 100;
// Failures of a reconnect attempt that another attempt may not meet.
const TRANSIENT = new Set(["timeout", "internal_error", "server_busy", "rate_limited"]);

/**
 * Where the client is: logging in for the first time, logged in, waiting to
 * reconnect, getting its session back on a new connection, or closed.
 */
type Phase = "handshake" | "open" | "waiting" | "restoring" | "closed";

// Readiness of each client, and the way connect() lets it reconnect, kept out
// of the public surface.
const handshakes = new WeakMap<CrosswireClient, Promise<void>>();
let allowReconnect: (client: CrosswireClient, open: () => Promise<Transport>) => void;

/**
 * Connects and logs in (or, with `resume`, gets a saved session back).
 * `ws://` and `wss://` use WebSocket; `tcp://host:port` uses the relay's TCP
 * JSON mode (Deno only; loaded on demand). Once connected, the client
 * reconnects by itself when the connection drops (see `reconnect`).
 *
 * @param url `ws://host:8080/ws`, `wss://...` or `tcp://host:4040`.
 * @param options The name to log in with, a saved session, and timeouts.
 * @returns The client, once the server's `welcome` arrived (and, with
 * `resume`, every replay of what was missed).
 * @throws {CrosswireClientError} `name_taken`, `name_invalid` (the server's codes),
 * `connect_failed`, `connection_closed` or `timeout`. The first connection is
 * not retried.
 * @throws {TypeError} For a URL scheme other than ws, wss, tcp or tls
 * (without `openTransport`).
 *
 * @example Log in, join a room and say hello
 * ```ts
 * import { startServer } from "@crosswire/relay";
 * import { connect } from "@crosswire/relay/client";
 * const server = await startServer({ hostname: "127.0.0.1", port: 0, tcpPort: 0 });
 * const client = await connect(`ws://127.0.0.1:${server.httpAddr.port}/ws`, { name: "ann" });
 * const presence = await client.join("games");
 * if (presence.members[0] !== "ann") throw new Error("not in the room");
 * client.send("games", "hello");
 * await client.close();
 * await server.shutdown();
 * ```
 */
export async function connect(
  url: string | URL,
  options: ConnectOptions,
): Promise<CrosswireClient> {
  const open = openerFor(new URL(url), options);
  const client = new CrosswireClient(await open(), options);
  allowReconnect(client, open);
  await handshakes.get(client);
  return client;
}

/**
 * A logged-in connection to a relay. Make one with {@link connect}. Every
 * event the server sends reaches listeners added with {@link CrosswireClient.on};
 * nothing the server sends can throw out of the client.
 *
 * When the connection drops, the client (made with {@link connect}) reconnects
 * by itself and stays the same object: listeners stay, `closed` waits. It
 * sends `resume` with the last position it saw in each room and in the private
 * stream, and delivers what was missed as ordinary `message` and `direct`
 * events, in order and without duplicates, then a `resumed` event; when the
 * relay no longer has the session, it logs in again (reclaiming the name) and
 * joins its rooms again from their positions. What could not be recovered is
 * marked by a `gap` event. Requests made while disconnected (and `send`,
 * `direct`, `input`, `sendFile`) wait for the new connection and go out once
 * the session is back (up to 1000 messages or 16 MiB; more throws
 * `connection_lost`); requests whose reply was lost with the old connection
 * reject with `connection_lost`.
 *
 * The client also checks the order itself: a message whose offset skips ahead
 * makes it ask the relay for the missing ones and deliver them first. To see
 * every offset it always asks the relay to echo its own room messages, and
 * hides them itself unless `echo` is on.
 *
 * @example Listen for messages in a room
 * ```ts
 * import { startServer } from "@crosswire/relay";
 * import { connect } from "@crosswire/relay/client";
 * const server = await startServer({ hostname: "127.0.0.1", port: 0, tcpPort: 0 });
 * const url = `ws://127.0.0.1:${server.httpAddr.port}/ws`;
 * const ann = await connect(url, { name: "ann" });
 * const bob = await connect(url, { name: "bob" });
 * const heard = new Promise<string>((resolve) => ann.on("message", (m) => resolve(m.text ?? "")));
 * bob.send("lobby", "hi ann");
 * if (await heard !== "hi ann") throw new Error("wrong text");
 * await Promise.all([ann.close(), bob.close()]);
 * await server.shutdown();
 * ```
 */
export class CrosswireClient {
  static {
    allowReconnect = (client, open) => void (client.#open = open);
  }

  /**
   * Resolves with the close event once the client has ended for good (it was
   * closed, gave up reconnecting, or the connection ended in a way a reconnect
   * cannot mend). Never rejects.
   */
  readonly closed: Promise<ConnectionCloseEvent>;
  #options: ConnectOptions;
  #backoff: Backoff | undefined;
  #open: (() => Promise<Transport>) | undefined;
  #transport: Transport | undefined;
  /** Counts connections; what an older one still delivers is ignored. */
  #connection = 0;
  #phase: Phase = "handshake";
  /** Logged in on the current connection. */
  #loggedIn = false;
  #binaryFrames: boolean;
  #emitter: Emitter;
  #sender: Sender;
  #keepalive = new Keepalive();
  #streams: Streams;
  #handshakeRef: string | undefined;
  #limits: AnnouncedLimits = DEFAULT_LIMITS;
  #welcome: WelcomeEvent | undefined;
  #state: SessionState;
  #echo: boolean;
  /** close() was called, or the user typed /quit: a close now is final. */
  #leaving = false;
  /** The code of an error without ref, when it is the last thing the server sent. */
  #lastError: string | undefined;
  #attempt = 0;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #drop = { code: 1006, reason: "" };
  #sawHello = false;
  #resolveClosed!: (event: ConnectionCloseEvent) => void;

  /**
   * Wraps an open transport and logs in. Prefer {@link connect}, which also
   * waits for `welcome`, and lets the client reconnect (a client made here has
   * no way to open a new connection, so it does not).
   *
   * @param transport An open, not yet started transport.
   * @param options The name to log in with, and timeouts.
   */
  constructor(transport: Transport, options: ConnectOptions) {
    this.#options = options;
    this.#backoff = backoffFor(options.reconnect);
    this.#binaryFrames = transport.binaryFrames;
    this.#emitter = new Emitter((error) => this.#report(error));
    this.#streams = new Streams({
      deliver: (event, raw) => this.#deliver(event, raw),
      resync: (room, since) => this.#resync(room, since),
    });
    this.#sender = new Sender({
      current: () => ({ transport: this.#transport, connection: this.#connection }),
      state: () => this.#phase === "open" || this.#phase === "closed" ? this.#phase : "away",
      mayReconnect: () => this.#mayReconnect && !this.#leaving,
      maxFrameBytes: () => this.#limits.maxFrameBytes,
      touched: () => this.#emitter.release(),
    }, this.#requestTimeoutMs);
    const saved = options.resume;
    this.#state = {
      name: saved?.name ?? options.name,
      reclaim: saved?.reclaim ?? options.reclaim ?? "",
      token: typeof saved?.token === "string" ? saved.token : "",
      rooms: [],
    };
    this.#echo = options.echo ?? false;
    if (saved) {
      for (const [room, position] of Object.entries(saved.rooms ?? {})) {
        if (!isPosition(position) || this.#state.rooms.includes(room)) continue;
        this.#state.rooms.push(room);
        this.#streams.set(room, position);
      }
      if (isPosition(saved.direct)) this.#streams.set(undefined, saved.direct);
    }
    this.closed = new Promise((resolve) => this.#resolveClosed = resolve);
    const handshake = this.#connected(transport, true);
    handshake.catch(() => {}); // connect() reports it; never an unhandled rejection
    handshakes.set(this, handshake);
  }

  /** Your current name (changes after {@link nick}). */
  get name(): string {
    return this.#state.name;
  }

  /** The session id from the last `welcome`. */
  get session(): string {
    return this.#welcome?.session ?? "";
  }

  /** The limits the server announced in `hello`. */
  get limits(): AnnouncedLimits {
    return this.#limits;
  }

  /** The server's last `welcome` event (after a reconnect, the new one). */
  get welcome(): WelcomeEvent {
    if (!this.#welcome) throw new CrosswireClientError("not_logged_in", "not logged in yet");
    return this.#welcome;
  }

  /** True once the client has ended for good. */
  get isClosed(): boolean {
    return this.#phase === "closed";
  }

  /** True while logged in on a live connection (false while reconnecting). */
  get connected(): boolean {
    return this.#phase === "open";
  }

  /**
   * Adds a listener for one event type, `"close"`, or `"*"` for all.
   *
   * @returns A function that removes the listener.
   *
   * @example Counting events until unsubscribed
   * ```ts ignore
   * const stop = client.on("*", (event) => console.log(event.type));
   * stop();
   * ```
   *
   * @example Following reconnects
   * ```ts ignore
   * client.on("reconnecting", (event) => console.log(`retrying in ${event.delayMs} ms`));
   * client.on("resumed", (event) => console.log(event.session ? "back" : "logged in again"));
   * client.on("gap", (event) => console.log(`messages lost in ${event.room ?? "private"}`));
   * ```
   */
  on<T extends ClientEventType>(type: T, listener: (event: ClientEventOf<T>) => void): () => void {
    return this.#emitter.on(type, listener);
  }

  /**
   * Joins (or creates) a room, which becomes your current room. With `since`,
   * what the room said after that position is delivered as `message` events
   * (after a `gap` event when the relay no longer has all of it) before the
   * promise resolves; with `history`, its last messages.
   *
   * @param room The room; a leading `#` is dropped.
   * @param options A position to catch up from, or a number of past messages.
   * @returns Who is in the room.
   * @throws {CrosswireClientError} `room_invalid`, `too_many_rooms`, `connection_closed`.
   *
   * @example
   * ```ts ignore
   * const presence = await client.join("games");
   * console.log(presence.members);
   * ```
   */
  join(room: string, options: JoinOptions = {}): Promise<PresenceEvent> {
    return this.#join(room, options, false).then((joined) => joined.presence);
  }

  /**
   * Leaves a room.
   *
   * @returns Resolves when the server confirms with your own `left` event.
   * @throws {CrosswireClientError} `not_in_room`, `room_invalid`, `connection_closed`.
   *
   * @example
   * ```ts ignore
   * await client.leave("games");
   * ```
   */
  leave(room: string): Promise<void> {
    return this.#leave(room, false);
  }

  /**
   * Says `text` in a room you are in. Failures arrive as `error` events.
   *
   * @example
   * ```ts ignore
   * client.send("lobby", "waves", { action: true });
   * ```
   */
  send(room: string, text: string, options: TextOptions = {}): void {
    this.#sender.submit({
      type: "publish",
      room,
      text,
      ...(options.action ? { action: true } : {}),
    });
  }

  /**
   * Sends a private message. Both you and the recipient receive a `direct` event.
   *
   * @example
   * ```ts ignore
   * client.direct("bob", "psst");
   * ```
   */
  direct(to: string, text: string, options: TextOptions = {}): void {
    this.#sender.submit({ type: "direct", to, text, ...(options.action ? { action: true } : {}) });
  }

  /**
   * Shares a file with a room or a user: a binary frame over WebSocket, base64
   * JSON over TCP. Recipients get a `message` or `direct` event with `file` and `data`.
   *
   * @throws {CrosswireClientError} `too_large` before sending when `bytes` is over
   * `limits.maxFileBytes`; `connection_closed` when closed.
   *
   * @example
   * ```ts ignore
   * client.sendFile({ room: "lobby" }, new Uint8Array([1, 2, 3]), { name: "a.bin" });
   * ```
   */
  sendFile(target: FileTarget, bytes: Uint8Array, file: FileOptions): void {
    const max = this.#limits.maxFileBytes;
    if (bytes.length > max) {
      throw new CrosswireClientError(
        "too_large",
        `the file is ${bytes.length} bytes; the server accepts at most ${max}`,
      );
    }
    const info = { name: file.name, type: file.type ?? "application/octet-stream" };
    if (this.#binaryFrames) {
      return this.#sender.send(encodeBinaryFrame({ ...target, file: info }, bytes));
    }
    const type = "room" in target ? "publish" : "direct";
    this.#sender.submit({ type, ...target, file: info, data: toBase64(bytes) });
  }

  /**
   * Sends a line exactly as a telnet user would type it: a slash command
   * (`/who`, `/join games`, `/msg bob hi`, `/history 20`) or text for your
   * current room. After `/quit` the client does not reconnect.
   *
   * @example
   * ```ts ignore
   * client.input("/rooms");
   * ```
   */
  input(line: string): void {
    if (/^\/(?:quit|exit)(?:\s|$)/i.test(line)) this.#leaving = true;
    this.#sender.submit({ type: "input", line });
    const echo = /^\/echo(?:\s+(\S+))?\s*$/i.exec(line);
    if (!echo) return;
    const setting = (echo[1] ?? "on").toLowerCase();
    if (setting === "on") this.#echo = true;
    if (setting !== "off") return;
    this.#echo = false;
    // The relay keeps echoing, so the client sees every offset: it only hides them.
    // Its notice is the client's business; after the line, in order, even when offline.
    const ref = this.#sender.newRef();
    void this.#sender.request(ref, { type: "echo", on: true }, {
      accept: (event) => event.type === "notice" || undefined,
      quiet: () => true,
    }).catch(() => {});
  }

  /**
   * Asks who is in a room.
   *
   * @throws {CrosswireClientError} `room_invalid`, `connection_closed`.
   *
   * @example
   * ```ts ignore
   * const { count } = await client.presence("lobby");
   * ```
   */
  presence(room: string): Promise<PresenceEvent> {
    return this.#request(
      { type: "presence", room },
      (event) => event.type === "presence" ? event : undefined,
    );
  }

  /**
   * Lists rooms and their member counts.
   *
   * @example
   * ```ts ignore
   * const { rooms } = await client.rooms();
   * ```
   */
  rooms(): Promise<RoomsEvent> {
    return this.#request({ type: "rooms" }, (event) => event.type === "rooms" ? event : undefined);
  }

  /**
   * Changes your name.
   *
   * @returns The `renamed` event confirming it.
   * @throws {CrosswireClientError} `name_taken`, `name_invalid`, `connection_closed`.
   *
   * @example
   * ```ts ignore
   * await client.nick("ann2");
   * ```
   */
  nick(name: string): Promise<RenamedEvent> {
    const from = this.#state.name;
    return this.#request(
      { type: "nick", name },
      (event) => event.type === "renamed" && event.from === from ? event : undefined,
      true,
    );
  }

  /**
   * Measures the round trip to the server.
   *
   * @returns Milliseconds from sending `ping` to receiving `pong`.
   *
   * @example
   * ```ts ignore
   * const ms = await client.ping();
   * ```
   */
  ping(): Promise<number> {
    const started = performance.now();
    return this.#request(
      { type: "ping" },
      (event) => event.type === "pong" ? performance.now() - started : undefined,
    );
  }

  /**
   * The last position the client saw in a room, or in your private stream:
   * what it resumes from after a reconnect.
   *
   * @param room The room; omitted, the private stream.
   * @returns The position, or undefined before the client knows one.
   *
   * @example
   * ```ts ignore
   * const seen = client.position("lobby"); // { offset: 44, epoch: "k3x" }
   * ```
   */
  position(room?: string): Position | undefined {
    return this.#streams.position(room === undefined ? undefined : roomKey(room));
  }

  /**
   * Reads a room's history (or, with `undefined`, your private stream's) without
   * delivering it to listeners and without changing the client's positions:
   * the messages after `since` when the relay still has them all
   * (`recovered: true`), else the latest `limit`.
   *
   * @param room A room you are in, or undefined for your private messages.
   * @param options `since` a position, at most `limit` messages.
   * @returns The messages, oldest first, and the stream's latest position.
   * @throws {CrosswireClientError} `not_in_room`, `room_invalid`, `connection_lost`,
   * `connection_closed`, `timeout`.
   *
   * @example The last ten messages of the lobby
   * ```ts ignore
   * const { messages, recovered } = await client.history("lobby", { limit: 10 });
   * ```
   */
  history(room: string | undefined, options: HistoryOptions = {}): Promise<HistoryResult> {
    const key = room === undefined ? undefined : roomKey(room);
    return requestReplay(
      { sender: this.#sender, streams: this.#streams },
      {
        type: "history",
        ...(room === undefined ? {} : { room }),
        ...(options.since ? { since: options.since } : {}),
        ...(options.limit === undefined ? {} : { limit: options.limit }),
      },
      key,
      { kind: "query" },
      false,
    ).then(({ recovered, offset, epoch, messages }) => ({ recovered, offset, epoch, messages }));
  }

  /**
   * What a page needs to get this session back after a reload: plain JSON to
   * keep (in `sessionStorage`, say) and pass to `connect()` as `resume`.
   *
   * @returns The name, the secrets, and the last position seen in each room
   * and in the private stream.
   * @throws {CrosswireClientError} `not_logged_in` before the first `welcome`.
   *
   * @example Saving the session before the page goes away
   * ```ts ignore
   * addEventListener("pagehide", () => {
   *   sessionStorage.setItem("chat", JSON.stringify(client.saved()));
   * });
   * ```
   */
  saved(): SavedSession {
    if (!this.#welcome) throw new CrosswireClientError("not_logged_in", "not logged in yet");
    const rooms: Record<string, Position> = Object.fromEntries(
      this.#state.rooms.flatMap((room) => {
        const position = this.#streams.position(room);
        return position ? [[room, position]] : [];
      }),
    );
    const direct = this.#streams.position(undefined);
    const { name, token, reclaim } = this.#state;
    return {
      name,
      token,
      reclaim,
      rooms,
      ...(direct ? { direct } : {}),
    };
  }

  /**
   * Says goodbye (`quit`, so the relay frees the name at once rather than
   * keeping the session for a reconnect) and closes the connection; a
   * reconnect waiting to happen is called off. Pending requests reject with
   * `connection_closed`.
   *
   * @returns Resolves once closed.
   *
   * @example
   * ```ts ignore
   * await client.close();
   * ```
   */
  async close(): Promise<void> {
    if (this.#phase !== "closed") {
      this.#leaving = true;
      const transport = this.#transport;
      if (transport) {
        try {
          if (this.#loggedIn) transport.send(JSON.stringify({ type: "quit" }));
        } catch { /* the connection is already going */ }
        transport.close();
      } else this.#finish(1000, "closed by the client");
    }
    await this.closed;
  }

  // ------------------------------------------------------------ connection

  get #requestTimeoutMs(): number {
    return this.#options.requestTimeoutMs ?? 30_000;
  }

  // Logs in (or gets the session back) on a new connection, then lets
  // everything through that waited for it.
  async #connected(transport: Transport, first: boolean): Promise<void> {
    const connection = this.#attach(transport);
    try {
      const restoring = !first || this.#options.resume !== undefined;
      const resumed = await restore(this.#restorer(first), connection, restoring);
      this.#check(connection);
      this.#phase = "open";
      this.#attempt = 0;
      if (resumed) this.#emitter.emit(resumed);
      this.#streams.unpause();
      this.#sender.flush();
      for (const room of this.#state.rooms) this.#probe(room);
      if (first) this.#emitter.ready();
    } catch (error) {
      if (first) {
        if (this.#phase !== "closed") this.#transport?.close();
        await this.closed;
        throw error;
      }
      if (connection !== this.#connection || this.#phase === "closed") return; // handled already
      const code = error instanceof CrosswireClientError ? error.code : "internal_error";
      const message = (error as Error).message;
      if (TRANSIENT.has(code)) return this.#abandon(connection, 4000, message);
      this.#giveUp(`could not log in again: ${message}`);
    }
  }

  #attach(transport: Transport): number {
    const connection = ++this.#connection;
    this.#transport = transport;
    this.#binaryFrames = transport.binaryFrames;
    this.#loggedIn = false;
    this.#lastError = undefined;
    const current = () => connection === this.#connection;
    transport.start({
      text: (data) => this.#guard(() => current() && this.#receive(parseText(data))),
      binary: (data) => this.#guard(() => current() && this.#receive(parseBinary(data))),
      closed: (code, reason) => this.#guard(() => this.#dropped(connection, code, reason)),
    });
    return connection;
  }

  #restorer(first: boolean): RestoreHost {
    return {
      state: this.#state,
      streams: this.#streams,
      requestTimeoutMs: this.#requestTimeoutMs,
      newRef: () => this.#sender.newRef(),
      handshake: (ref, message) => this.#handshake(first, ref, message),
      join: (room, options) => this.#join(room, options, true),
      leave: (room) => this.#leave(room, true),
      recover: (room, since) =>
        requestReplay(
          { sender: this.#sender, streams: this.#streams },
          { type: "history", room, since, limit: REPLAY_LIMIT },
          room,
          { kind: "recover", since },
          true,
        ),
      gap: (event) => void this.#deliver(event, false),
      check: (connection) => this.#check(connection),
    };
  }

  // Sends `login` or `resume` and waits for `welcome`. A reconnect's welcome
  // is the client's business (listeners get `resumed`); the first one is
  // delivered, as always.
  #handshake(first: boolean, ref: string, message: Record<string, unknown>): Promise<WelcomeEvent> {
    this.#handshakeRef = ref;
    const reply = this.#sender.request<WelcomeEvent>(ref, message, {
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
    const state = this.#state;
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
    const idle = this.#limits.idleTimeoutMs;
    const every = this.#options.keepaliveMs ?? (idle > 0 ? Math.min(30_000, idle / 3) : 30_000);
    const connection = this.#connection;
    this.#keepalive.start(
      every,
      () =>
        this.#sender.request(this.#sender.newRef(), { type: "ping" }, {
          accept: (event) => event.type === "pong" || undefined,
          quiet: () => true,
        }),
      () => this.#abandon(connection, 4000, "server not responding"),
    );
  }

  #check(connection: number): void {
    if (connection !== this.#connection || this.#phase === "closed") {
      throw new CrosswireClientError("connection_lost", "the connection dropped meanwhile");
    }
  }

  // The connection `connection` ended: reconnect, or end for good.
  #dropped(connection: number, code: number, reason: string): void {
    if (connection !== this.#connection || this.#phase === "closed") return;
    this.#connection++; // whatever the old transport still delivers is ignored
    this.#transport = undefined;
    this.#loggedIn = false;
    this.#keepalive.stop();
    this.#streams.disconnected();
    if (
      this.#phase === "handshake" || this.#leaving || !this.#mayReconnect ||
      !shouldReconnect(code, this.#lastError)
    ) {
      return this.#finish(code, reason);
    }
    const why = `${code}${reason ? `: ${reason}` : ""}`;
    this.#sender.dropped(
      connection,
      new CrosswireClientError(
        "connection_lost",
        `the connection dropped (${why}) before the reply came; the client is reconnecting`,
      ),
    );
    this.#drop = { code, reason };
    this.#schedule();
  }

  get #mayReconnect(): boolean {
    return this.#backoff !== undefined && this.#open !== undefined;
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
    this.#emitter.emit({ type: "reconnecting", attempt: this.#attempt, delayMs, ...this.#drop });
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
    this.#streams.disconnected();
    this.#sender.close(
      new CrosswireClientError(
        "connection_closed",
        `the connection closed (${code}${reason ? `: ${reason}` : ""})`,
      ),
    );
    const event: ConnectionCloseEvent = { type: "close", code, reason };
    if (handshake) this.#emitter.discard();
    else this.#emitter.release();
    this.#emitter.emit(event);
    this.#resolveClosed(event);
  }

  // ------------------------------------------------------------ receiving

  #receive(event: ServerEvent | undefined): void {
    if (!event) return;
    if (event.type === "hello") {
      this.#limits = { ...DEFAULT_LIMITS, ...event.limits };
      // The relay greets on connect and answers our batching hello: show one, once.
      if (this.#sawHello) return;
      this.#sawHello = true;
    }
    const ref = refOf(event);
    this.#lastError = event.type === "error" && ref === undefined ? event.code : undefined;
    if (event.type === "message" || event.type === "direct") return this.#streams.message(event);
    if (event.type === "history" && this.#streams.header(event)) return;
    this.#track(event);
    const hidden = this.#sender.received(event);
    // An error without a ref before welcome still ends the login.
    if (
      event.type === "error" && ref === undefined && !this.#loggedIn &&
      this.#handshakeRef !== undefined
    ) {
      this.#sender.settle(this.#handshakeRef, new CrosswireClientError(event.code, event.message));
    }
    if (!hidden) this.#emitter.emit(event);
  }

  // Keeps the name and the list of rooms up to date.
  #track(event: ServerEvent): void {
    const state = this.#state;
    if (event.type === "renamed" && event.from === state.name) state.name = event.to;
    if (event.type === "joined" && event.name === state.name) {
      state.rooms = [...state.rooms.filter((room) => room !== event.room), event.room];
      if (this.#phase === "open") this.#probe(event.room);
    }
    if (event.type === "left" && event.name === state.name && event.reason === "leave") {
      state.rooms = state.rooms.filter((room) => room !== event.room);
      this.#streams.forget(event.room);
    }
  }

  #deliver(event: Chat | GapEvent, raw: boolean): boolean {
    // The relay always echoes (so no offset goes unseen); the client hides its own.
    if (!raw && !this.#echo && event.type === "message" && event.from === this.#state.name) {
      return false;
    }
    this.#emitter.emit(event);
    return true;
  }

  // ------------------------------------------------------------ replays

  // A hole in a stream: ask for what followed the last position seen.
  #resync(room: string | undefined, since: Position): boolean {
    if (this.#phase !== "open") return false;
    void requestReplay(
      { sender: this.#sender, streams: this.#streams },
      { type: "history", ...(room === undefined ? {} : { room }), since, limit: REPLAY_LIMIT },
      room,
      { kind: "recover", since, gap: "skipped", hold: true },
      true,
    ).catch(() => {}); // a failed resync is a gap, already delivered
    return true;
  }

  // A room the client is in but has no position for: learn the position, so
  // a later resume or resync knows where to start.
  #probe(room: string): void {
    if (this.#streams.position(room) || this.#streams.awaiting(room)) return;
    void requestReplay(
      { sender: this.#sender, streams: this.#streams },
      { type: "history", room, limit: 0 },
      room,
      { kind: "baseline" },
      true,
    ).catch(() => {}); // without a position, the room just cannot be resumed
  }

  #join(
    room: string,
    options: JoinOptions,
    internal: boolean,
  ): Promise<{ presence: PresenceEvent; replay: ReplayResult | undefined }> {
    return requestJoin({ sender: this.#sender, streams: this.#streams }, room, options, internal);
  }

  #leave(room: string, internal: boolean): Promise<void> {
    const wanted = roomKey(room);
    return this.#request(
      { type: "leave", room },
      (event) =>
        event.type === "left" && event.name === this.#state.name && event.room === wanted
          ? true
          : undefined,
      true,
      internal,
    ).then(() => {});
  }

  #request<T>(
    message: Record<string, unknown>,
    accept: (event: ServerEvent) => T | undefined,
    unreffed = false,
    internal = false,
  ): Promise<T> {
    return this.#sender.request(this.#sender.newRef(), message, {
      accept,
      unreffed,
      ...(internal ? { quiet: () => false } : {}),
    });
  }

  #guard(work: () => void): void {
    try {
      work();
    } catch (error) {
      this.#report(error);
    }
  }

  #report(error: unknown): void {
    (this.#options.onListenerError ?? console.error)(error);
  }
}

function isPosition(value: unknown): value is Position {
  if (typeof value !== "object" || value === null) return false;
  const { offset, epoch } = value as Record<string, unknown>;
  return Number.isSafeInteger(offset) && (offset as number) >= 0 && typeof epoch === "string";
}
