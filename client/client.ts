/**
 * The crosswire client library. Web-standard only (WebSocket, TextEncoder,
 * timers), so it runs in Deno and in browsers; `tcp://` URLs load the Deno TCP
 * transport on demand.
 *
 * @module
 */
import { decodeBinaryFrame, encodeBinaryFrame } from "../core/binary_frame.ts";
import { CrosswireClientError } from "./errors.ts";
import { openWebSocket } from "./websocket_transport.ts";
import type { Transport } from "./transport.ts";
import type {
  AnnouncedLimits,
  PresenceEvent,
  RenamedEvent,
  RoomsEvent,
  ServerEvent,
  WelcomeEvent,
} from "../core/protocol.ts";

/** The connection ended; `code` follows WebSocket close codes (1005/1006 for TCP EOF/errors). */
export interface ConnectionCloseEvent {
  /** Always `"close"`. */
  type: "close";
  /** WebSocket close code; over TCP 1000 when we closed, 1005 at end of stream, 1006 on errors. */
  code: number;
  /** Close reason, possibly empty. */
  reason: string;
}

/** Everything a client listener can receive. */
export type ClientEvent = ServerEvent | ConnectionCloseEvent;

/** The `type` of a {@link ClientEvent}, or `"*"` for every event. */
export type ClientEventType = ClientEvent["type"] | "*";

/** The event a listener for `T` receives. */
export type ClientEventOf<T extends ClientEventType> = T extends "*" ? ClientEvent
  : Extract<ClientEvent, { type: T }>;

/** Options for {@link connect}. */
export interface ConnectOptions {
  /** The name to log in with. */
  name: string;
  /** Whether your own room messages come back to you. @default false (the server's default) */
  echo?: boolean;
  /**
   * The `reclaim` secret from an earlier session's `welcome`: when that
   * session dropped, the relay keeps its name for it a while, and this takes
   * the name back. @default undefined
   */
  reclaim?: string;
  /** WebSocket implementation for `ws://` and `wss://` URLs. @default globalThis.WebSocket */
  WebSocket?: new (url: string) => WebSocket;
  /** How long to wait for the connection and `welcome`, in ms. @default 10000 */
  timeoutMs?: number;
  /** How long a request (join, ping, ...) waits for its reply, in ms. @default 30000 */
  requestTimeoutMs?: number;
  /** Longest line accepted over TCP, in bytes (files arrive base64 on one line). @default 67108864 */
  maxLineBytes?: number;
  /**
   * Sends a `ping` this often, in ms, so a quiet client is not closed as idle
   * (the relay closes sessions that send nothing for a while), and closes the
   * connection (code 4000) when a ping is still unanswered at the next one, so
   * a dead server is noticed within two intervals. 0 turns it off.
   * @default a third of the server's announced idle timeout, at most 30000
   */
  keepaliveMs?: number;
  /**
   * PEM certificates to trust for `tls:` URLs besides the system's (a private
   * CA). For `wss:` in Deno, start Deno with `--cert FILE` instead. @default undefined
   */
  caCerts?: string[];
  /** Called when a listener throws; listeners never break the client. @default console.error */
  onListenerError?: (error: unknown) => void;
}

/** Where to send a file: a room you are in, or a user. */
export type FileTarget = { room: string } | { to: string };

/** A file's name and media type. */
export interface FileOptions {
  /** File name shown to recipients. */
  name: string;
  /** Media type. @default "application/octet-stream" */
  type?: string;
}

/** Options for {@link CrosswireClient.send} and {@link CrosswireClient.direct}. */
export interface TextOptions {
  /** Send as an action (`/me`). @default false */
  action?: boolean;
}

type Listener = (event: ClientEvent) => void;

interface Pending {
  /** Returns the value to resolve with, or undefined when `event` is not the reply. */
  accept(event: ServerEvent): unknown;
  /** Also try `accept` on events without this ref (left, renamed carry none). */
  unreffed: boolean;
  resolve(value: unknown): void;
  reject(error: CrosswireClientError): void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

const DEFAULT_LIMITS: AnnouncedLimits = {
  maxLineBytes: 8192,
  maxFrameBytes: Math.ceil(1024 * 1024 / 3) * 4 + 4096,
  maxTextBytes: 8192,
  maxFileBytes: 1024 * 1024,
  idleTimeoutMs: 300_000,
};
const encoder = new TextEncoder();

// Readiness of each client, kept out of the public surface.
const handshakes = new WeakMap<CrosswireClient, Promise<void>>();

/**
 * Connects and logs in. `ws://` and `wss://` use WebSocket; `tcp://host:port`
 * uses the relay's TCP JSON mode (Deno only; loaded on demand).
 *
 * @param url `ws://host:8080/ws`, `wss://...` or `tcp://host:4040`.
 * @param options The name to log in with, and timeouts.
 * @returns The client, once the server's `welcome` arrived.
 * @throws {CrosswireClientError} `name_taken`, `name_invalid` (the server's codes),
 * `connect_failed`, `connection_closed` or `timeout`.
 * @throws {TypeError} For a URL scheme other than ws, wss or tcp.
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
  const parsed = new URL(url);
  const timeoutMs = options.timeoutMs ?? 10_000;
  let transport: Transport;
  if (parsed.protocol === "ws:" || parsed.protocol === "wss:") {
    transport = await openWebSocket(parsed, {
      timeoutMs,
      ...(options.WebSocket ? { WebSocket: options.WebSocket } : {}),
    });
  } else if (parsed.protocol === "tcp:" || parsed.protocol === "tls:") {
    const { connectTcp } = await import("./tcp_transport.ts");
    transport = await connectTcp(parsed, {
      maxLineBytes: options.maxLineBytes ?? 64 << 20,
      tls: parsed.protocol === "tls:",
      ...(options.caCerts ? { caCerts: options.caCerts } : {}),
    });
  } else {
    throw new TypeError(`unsupported URL scheme "${parsed.protocol}"; use ws:, wss:, tcp: or tls:`);
  }
  const client = new CrosswireClient(transport, options);
  await handshakes.get(client);
  return client;
}

/**
 * A logged-in connection to a relay. Make one with {@link connect}. Every
 * event the server sends reaches listeners added with {@link CrosswireClient.on};
 * nothing the server sends can throw out of the client.
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
  /** Resolves with the close event once the connection has ended. Never rejects. */
  readonly closed: Promise<ConnectionCloseEvent>;
  #transport: Transport;
  #options: ConnectOptions;
  #listeners = new Map<ClientEventType, Set<Listener>>();
  #pending = new Map<string, Pending>();
  #nextRef = 0;
  #limits: AnnouncedLimits = DEFAULT_LIMITS;
  #welcome: WelcomeEvent | undefined;
  #name: string;
  #isClosed = false;
  #loginRef: string | undefined;
  #resolveClosed!: (event: ConnectionCloseEvent) => void;
  // Events that arrive after `welcome` but before the caller had a chance to
  // listen (joined, presence) are held until the first `on()`, the first
  // request, or the next task, whichever comes first.
  #backlog: ClientEvent[] | undefined = [];
  #releaseTimer: ReturnType<typeof setTimeout> | undefined;
  #keepalive: ReturnType<typeof setInterval> | undefined;
  #awaitingPong = false;
  #sawHello = false;

  /**
   * Wraps an open transport and logs in. Prefer {@link connect}, which also
   * waits for `welcome`.
   *
   * @param transport An open, not yet started transport.
   * @param options The name to log in with, and timeouts.
   */
  constructor(transport: Transport, options: ConnectOptions) {
    this.#transport = transport;
    this.#options = options;
    this.#name = options.name;
    this.closed = new Promise((resolve) => this.#resolveClosed = resolve);
    const handshake = this.#login();
    handshake.catch(() => {}); // connect() reports it; never an unhandled rejection
    handshakes.set(this, handshake);
  }

  /** Your current name (changes after {@link nick}). */
  get name(): string {
    return this.#name;
  }

  /** The session id from `welcome`. */
  get session(): string {
    return this.#welcome?.session ?? "";
  }

  /** The limits the server announced in `hello`. */
  get limits(): AnnouncedLimits {
    return this.#limits;
  }

  /** The server's `welcome` event. */
  get welcome(): WelcomeEvent {
    if (!this.#welcome) throw new CrosswireClientError("not_logged_in", "not logged in yet");
    return this.#welcome;
  }

  /** True once the connection has ended. */
  get isClosed(): boolean {
    return this.#isClosed;
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
   */
  on<T extends ClientEventType>(type: T, listener: (event: ClientEventOf<T>) => void): () => void {
    const set = this.#listeners.get(type) ?? new Set<Listener>();
    this.#listeners.set(type, set);
    const entry = listener as Listener;
    set.add(entry);
    // A microtask later, so every listener added in the same turn sees the backlog.
    if (this.#backlog && this.#welcome) queueMicrotask(() => this.#release());
    return () => void set.delete(entry);
  }

  /**
   * Joins (or creates) a room, which becomes your current room.
   *
   * @returns Who is in the room.
   * @throws {CrosswireClientError} `room_invalid`, `too_many_rooms`, `connection_closed`.
   *
   * @example
   * ```ts ignore
   * const presence = await client.join("games");
   * console.log(presence.members);
   * ```
   */
  join(room: string): Promise<PresenceEvent> {
    return this.#request(
      { type: "join", room },
      (event) => event.type === "presence" ? event : undefined,
    );
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
    const wanted = roomKey(room);
    return this.#request(
      { type: "leave", room },
      (event) =>
        event.type === "left" && event.name === this.#name && event.room === wanted
          ? true
          : undefined,
      true,
    ).then(() => {});
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
    this.#sendJson({ type: "publish", room, text, ...(options.action ? { action: true } : {}) });
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
    this.#sendJson({ type: "direct", to, text, ...(options.action ? { action: true } : {}) });
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
    this.#checkOpen();
    if (this.#transport.binaryFrames) {
      this.#release();
      this.#transport.send(encodeBinaryFrame({ ...target, file: info }, bytes));
      return;
    }
    const type = "room" in target ? "publish" : "direct";
    this.#sendJson({ type, ...target, file: info, data: toBase64(bytes) });
  }

  /**
   * Sends a line exactly as a telnet user would type it: a slash command
   * (`/who`, `/join games`, `/msg bob hi`) or text for your current room.
   *
   * @example
   * ```ts ignore
   * client.input("/rooms");
   * ```
   */
  input(line: string): void {
    this.#sendJson({ type: "input", line });
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
    const from = this.#name;
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
   * Says goodbye (`quit`, so the relay frees the name at once rather than
   * keeping it for a reconnect) and closes the connection. Pending requests
   * reject with `connection_closed`.
   *
   * @returns Resolves once closed.
   *
   * @example
   * ```ts ignore
   * await client.close();
   * ```
   */
  async close(): Promise<void> {
    if (!this.#isClosed) {
      try {
        if (this.#welcome) this.#send(JSON.stringify({ type: "quit" }));
      } catch { /* the connection is already going */ }
      this.#transport.close();
    }
    await this.closed;
  }

  async #login(): Promise<void> {
    const ref = this.#loginRef = this.#newRef();
    const timeoutMs = this.#options.timeoutMs ?? 10_000;
    const welcome = new Promise<unknown>((resolve, reject) => {
      this.#pending.set(ref, {
        accept: (event) => event.type === "welcome" ? event : undefined,
        unreffed: false,
        resolve,
        reject,
        timer: setTimeout(
          () =>
            this.#settle(ref, new CrosswireClientError("timeout", "no welcome from the server")),
          timeoutMs,
        ),
      });
    });
    this.#transport.start({
      text: (data) => this.#guard(() => this.#receiveText(data)),
      binary: (data) => this.#guard(() => this.#receiveBinary(data)),
      closed: (code, reason) => this.#closedBy(code, reason),
    });
    try {
      this.#send(JSON.stringify({
        type: "login",
        name: this.#options.name,
        ...(this.#options.echo === undefined ? {} : { echo: this.#options.echo }),
        ...(this.#options.reclaim === undefined ? {} : { reclaim: this.#options.reclaim }),
        ref,
      }));
      await welcome;
    } catch (error) {
      if (!this.#isClosed) this.#transport.close();
      await this.closed;
      throw error;
    }
  }

  #request<T>(
    request: Record<string, unknown>,
    accept: (event: ServerEvent) => T | undefined,
    unreffed = false,
  ): Promise<T> {
    if (this.#isClosed) {
      return Promise.reject(
        new CrosswireClientError("connection_closed", "the connection is closed"),
      );
    }
    const ref = this.#newRef();
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(ref, {
        accept,
        unreffed,
        resolve: resolve as (value: unknown) => void,
        reject,
        timer: setTimeout(
          () =>
            this.#settle(
              ref,
              new CrosswireClientError("timeout", `no reply to ${String(request.type)}`),
            ),
          this.#options.requestTimeoutMs ?? 30_000,
        ),
      });
      try {
        this.#send(JSON.stringify({ ...request, ref }));
      } catch (error) {
        this.#settle(ref, error as CrosswireClientError);
      }
    });
  }

  #newRef(): string {
    return `c${(++this.#nextRef).toString(36)}`;
  }

  // Resolves (with a value) or rejects (with an error) the request `ref`.
  #settle(ref: string, outcome: CrosswireClientError | { value: unknown }): void {
    const pending = this.#pending.get(ref);
    if (!pending) return;
    this.#pending.delete(ref);
    clearTimeout(pending.timer);
    if (outcome instanceof CrosswireClientError) pending.reject(outcome);
    else pending.resolve(outcome.value);
  }

  #sendJson(message: Record<string, unknown>): void {
    this.#send(JSON.stringify(message));
  }

  #send(data: string): void {
    this.#checkOpen();
    if (this.#welcome) this.#release(); // what arrives from now on answers this
    const max = this.#limits.maxFrameBytes;
    if (data.length * 3 > max && encoder.encode(data).length > max) {
      throw new CrosswireClientError("too_large", `a message may be at most ${max} bytes`);
    }
    this.#transport.send(data);
  }

  #checkOpen(): void {
    if (this.#isClosed) {
      throw new CrosswireClientError("connection_closed", "the connection is closed");
    }
  }

  #receiveText(data: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      return; // not JSON: nothing a client can act on
    }
    const event = toEvent(parsed);
    if (event) this.#handle(event);
  }

  #receiveBinary(data: Uint8Array): void {
    let frame: ReturnType<typeof decodeBinaryFrame>;
    try {
      frame = decodeBinaryFrame(data);
    } catch {
      return; // a malformed frame from the server is dropped
    }
    const event = toEvent({ ...frame.header, data: frame.payload });
    if (event) this.#handle(event);
  }

  #handle(event: ServerEvent): void {
    if (event.type === "hello") {
      this.#limits = { ...DEFAULT_LIMITS, ...event.limits };
      // The relay greets on connect and answers our batching hello: show one.
      if (this.#sawHello) return;
      this.#sawHello = true;
    }
    if (event.type === "renamed" && event.from === this.#name) this.#name = event.to;
    if (event.type === "welcome" && refOf(event) === this.#loginRef && !this.#welcome) {
      this.#welcome = event;
      this.#name = event.name;
      this.#releaseTimer = setTimeout(() => this.#release(), 0);
      const idle = this.#limits.idleTimeoutMs;
      const every = this.#options.keepaliveMs ?? (idle > 0 ? Math.min(30_000, idle / 3) : 30_000);
      if (every > 0) this.#keepalive = setInterval(() => this.#heartbeat(), every);
    }
    this.#matchPending(event);
    this.#emit(event);
  }

  #matchPending(event: ServerEvent): void {
    const ref = refOf(event);
    const own = ref === undefined ? undefined : this.#pending.get(ref);
    if (own && ref !== undefined) {
      if (event.type === "error") {
        return this.#settle(ref, new CrosswireClientError(event.code, event.message));
      }
      const value = own.accept(event);
      if (value !== undefined) return this.#settle(ref, { value });
    }
    // An error without a ref before welcome still ends the login.
    if (event.type === "error" && !this.#welcome && ref === undefined && this.#loginRef) {
      this.#settle(this.#loginRef, new CrosswireClientError(event.code, event.message));
    }
    for (const [key, pending] of this.#pending) {
      if (!pending.unreffed) continue;
      const value = pending.accept(event);
      if (value !== undefined) this.#settle(key, { value });
    }
  }

  #emit(event: ClientEvent): void {
    if (this.#backlog) {
      this.#backlog.push(event);
      return;
    }
    for (const type of [event.type, "*"] as const) {
      for (const listener of this.#listeners.get(type) ?? []) {
        try {
          listener(event);
        } catch (error) {
          (this.#options.onListenerError ?? console.error)(error);
        }
      }
    }
  }

  #release(): void {
    clearTimeout(this.#releaseTimer);
    this.#releaseTimer = undefined;
    const backlog = this.#backlog;
    if (!backlog) return;
    this.#backlog = undefined;
    for (const event of backlog) this.#emit(event);
  }

  // A ping still unanswered a whole interval later means the server is gone,
  // even if the socket has not noticed (a dead peer sends no FIN).
  #heartbeat(): void {
    if (this.#awaitingPong) {
      this.#transport.close();
      return this.#closedBy(4000, "server not responding");
    }
    this.#awaitingPong = true;
    this.ping().then(() => this.#awaitingPong = false, () => {});
  }

  #closedBy(code: number, reason: string): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    clearInterval(this.#keepalive);
    for (const ref of [...this.#pending.keys()]) {
      this.#settle(
        ref,
        new CrosswireClientError(
          "connection_closed",
          `the connection closed (${code}${reason ? `: ${reason}` : ""})`,
        ),
      );
    }
    const event: ConnectionCloseEvent = { type: "close", code, reason };
    if (this.#welcome) this.#release();
    else {
      clearTimeout(this.#releaseTimer);
      this.#backlog = [];
    }
    this.#emit(event);
    this.#resolveClosed(event);
  }

  #guard(work: () => void): void {
    try {
      work();
    } catch (error) {
      (this.#options.onListenerError ?? console.error)(error);
    }
  }
}

// Mirrors the server's room normalisation, to recognise our own `left` event.
function roomKey(room: string): string {
  return (room.startsWith("#") ? room.slice(1) : room).normalize("NFC");
}

function toBase64(bytes: Uint8Array): string {
  if (typeof bytes.toBase64 === "function") return bytes.toBase64();
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array {
  if (typeof Uint8Array.fromBase64 === "function") return Uint8Array.fromBase64(text);
  return Uint8Array.from(atob(text), (char) => char.charCodeAt(0));
}

// Checks the one thing every handler relies on (a string `type`) and turns
// base64 file data into bytes. Anything else is trusted as the protocol says.
function toEvent(value: unknown): ServerEvent | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const fields = value as Record<string, unknown>;
  if (typeof fields.type !== "string") return undefined;
  if ((fields.type === "message" || fields.type === "direct") && fields.data !== undefined) {
    if (typeof fields.data === "string") {
      try {
        return { ...fields, data: fromBase64(fields.data) } as unknown as ServerEvent;
      } catch {
        return undefined;
      }
    }
    if (!(fields.data instanceof Uint8Array)) return undefined;
  }
  return fields as unknown as ServerEvent;
}

// `welcome` carries the login's ref on the wire, though its type does not say so.
function refOf(event: ServerEvent): string | undefined {
  const ref = (event as { ref?: unknown }).ref;
  return typeof ref === "string" ? ref : undefined;
}
