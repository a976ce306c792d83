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
  ErrorEvent,
  NoticeEvent,
  Position,
  PresenceEvent,
  RenamedEvent,
  RoomsEvent,
  ServerEvent,
  TopicEvent,
  WelcomeEvent,
} from "../core/protocol.ts";
import { CrosswireClientError } from "./errors.ts";
import type { ClientEventOf, ClientEventType, ConnectionCloseEvent } from "./events.ts";
import type {
  ConnectOptions,
  FileOptions,
  FileTarget,
  HistoryOptions,
  HistoryResult,
  JoinOptions,
  ModerationRequest,
  SavedSession,
  TextOptions,
} from "./options.ts";
import type { Transport } from "./transport.ts";
import { toBase64 } from "./_base64.ts";
import { Connection } from "./_connection.ts";
import { Emitter } from "./_emitter.ts";
import { Inbound } from "./_inbound.ts";
import { openerFor } from "./_open.ts";
import type { SessionState } from "./_restore.ts";
import { Sender } from "./_sender.ts";
import { requestJoin, requestReplay, roomKey } from "./_replays.ts";
import { type ReplayResult, Streams } from "./_streams.ts";
import { Tokens } from "./_tokens.ts";

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
 * @param options The name (or token) to log in with, a saved session, and timeouts.
 * @returns The client, once the server's `welcome` arrived (and, with
 * `resume`, every replay of what was missed).
 * @throws {CrosswireClientError} `name_taken`, `name_invalid`, `auth_failed`,
 * `auth_required`, `banned` (the server's codes), `connect_failed`,
 * `connection_closed` or `timeout`. The first connection is not retried.
 * @throws {TypeError} For a URL scheme other than ws, wss, tcp or tls
 * (without `openTransport`), or without a name, a token or a saved session.
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
 *
 * @example Log in with a token: the relay names the user
 * ```ts
 * import { type Identity, RelayError, startServer } from "@crosswire/relay";
 * import { connect } from "@crosswire/relay/client";
 * const ann: Identity = { subject: "u1", name: "ann", admin: false, expires: Date.now() + 60_000 };
 * const authenticate = (token: string) =>
 *   token === "ann-token"
 *     ? Promise.resolve(ann)
 *     : Promise.reject(new RelayError("auth_failed", "unknown token"));
 * const server = await startServer({
 *   hostname: "127.0.0.1",
 *   port: 0,
 *   tcpPort: null,
 *   relay: { authenticate },
 * });
 * const client = await connect(`ws://127.0.0.1:${server.httpAddr.port}/ws`, {
 *   token: () => Promise.resolve("ann-token"), // called for each login
 * });
 * if (client.name !== "ann") throw new Error("named by the token");
 * await client.close();
 * await server.shutdown();
 * ```
 */
export async function connect(
  url: string | URL,
  options: ConnectOptions,
): Promise<CrosswireClient> {
  checkWho(options);
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
    allowReconnect = (client, open) => client.#connection.reconnectWith(open);
  }

  /**
   * Resolves with the close event once the client has ended for good (it was
   * closed, gave up reconnecting, or the connection ended in a way a reconnect
   * cannot mend). Never rejects.
   */
  readonly closed: Promise<ConnectionCloseEvent>;
  #options: ConnectOptions;
  #state: SessionState;
  #emitter: Emitter;
  #streams: Streams;
  #sender: Sender;
  #inbound: Inbound;
  #connection: Connection;
  #tokens: Tokens;
  /** The connection whose expired token is being (or failed to be) renewed. */
  #renewing: number | undefined;

  /**
   * Wraps an open transport and logs in. Prefer {@link connect}, which also
   * waits for `welcome`, and lets the client reconnect (a client made here has
   * no way to open a new connection, so it does not).
   *
   * @param transport An open, not yet started transport.
   * @param options The name (or token) to log in with, and timeouts.
   * @throws {TypeError} Without a name, a token or a saved session.
   */
  constructor(transport: Transport, options: ConnectOptions) {
    checkWho(options);
    this.#options = options;
    this.#tokens = new Tokens(options.token);
    const saved = options.resume;
    const state: SessionState = {
      name: saved?.name ?? options.name ?? "",
      reclaim: saved?.reclaim ?? options.reclaim ?? "",
      token: typeof saved?.token === "string" ? saved.token : "",
      rooms: [],
    };
    this.#state = state;
    const emitter = this.#emitter = new Emitter((error) => this.#report(error));
    const streams = this.#streams = new Streams({
      deliver: (event, raw) => this.#inbound.deliver(event, raw),
      resync: (room, since) => this.#inbound.resync(room, since),
    });
    const sender = this.#sender = new Sender({
      current: () => ({ transport: this.#connection.transport, connection: this.#connection.id }),
      state: () => {
        const phase = this.#connection.phase;
        return phase === "open" || phase === "closed" ? phase : "away";
      },
      mayReconnect: () => this.#connection.mayReconnect,
      maxFrameBytes: () => this.#inbound.limits.maxFrameBytes,
      touched: () => emitter.release(),
    }, options.requestTimeoutMs ?? 30_000);
    const inbound = this.#inbound = new Inbound({
      state,
      streams,
      sender,
      emitter,
      open: () => this.#connection.phase === "open",
      awaitingWelcome: () => this.#connection.awaitingWelcome,
      renewToken: (event) => this.#renewToken(event),
    }, options.echo ?? false);
    this.#connection = new Connection({
      state,
      streams,
      sender,
      emitter,
      inbound,
      tokens: this.#tokens,
      leave: (room) => this.#leave(room, true),
      report: (error) => this.#report(error),
    }, options);
    if (saved) {
      for (const [room, position] of Object.entries(saved.rooms ?? {})) {
        if (!isPosition(position) || state.rooms.includes(room)) continue;
        state.rooms.push(room);
        streams.set(room, position);
      }
      if (isPosition(saved.direct)) streams.set(undefined, saved.direct);
    }
    this.closed = this.#connection.closed;
    const handshake = this.#connection.start(transport);
    handshake.catch(() => {}); // connect() reports it; never an unhandled rejection
    handshakes.set(this, handshake);
  }

  /** Your current name (changes after {@link nick}). */
  get name(): string {
    return this.#state.name;
  }

  /** The session id from the last `welcome`. */
  get session(): string {
    return this.#connection.welcome?.session ?? "";
  }

  /** The limits the server announced in `hello`. */
  get limits(): AnnouncedLimits {
    return this.#inbound.limits;
  }

  /** The server's last `welcome` event (after a reconnect, the new one). */
  get welcome(): WelcomeEvent {
    const welcome = this.#connection.welcome;
    if (!welcome) throw new CrosswireClientError("not_logged_in", "not logged in yet");
    return welcome;
  }

  /** True once the client has ended for good. */
  get isClosed(): boolean {
    return this.#connection.phase === "closed";
  }

  /** True while logged in on a live connection (false while reconnecting). */
  get connected(): boolean {
    return this.#connection.phase === "open";
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
    const max = this.#inbound.limits.maxFileBytes;
    if (bytes.length > max) {
      throw new CrosswireClientError(
        "too_large",
        `the file is ${bytes.length} bytes; the server accepts at most ${max}`,
      );
    }
    const info = { name: file.name, type: file.type ?? "application/octet-stream" };
    if (this.#connection.binaryFrames) {
      return this.#sender.send(encodeBinaryFrame({ ...target, file: info }, bytes));
    }
    const type = "room" in target ? "publish" : "direct";
    this.#sender.submit({ type, ...target, file: info, data: toBase64(bytes) });
  }

  /**
   * Sends a line exactly as a telnet user would type it: a slash command
   * (`/who`, `/join games`, `/msg bob hi`, `/history 20`, and for admins
   * `/kick bob spam`, `/topic ...`) or text for your current room. After
   * `/quit` the client does not reconnect; `/auth TOKEN` is
   * {@link CrosswireClient.refresh}, so a reconnect logs in with the new token.
   *
   * @example
   * ```ts ignore
   * client.input("/rooms");
   * ```
   */
  input(line: string): void {
    const auth = /^\/auth\s+(\S+)\s*$/i.exec(line);
    if (auth) return void this.refresh(auth[1]!).catch(() => {}); // its error event says why
    if (/^\/(?:quit|exit)(?:\s|$)/i.test(line)) this.#connection.leaving();
    this.#sender.submit({ type: "input", line });
    const echo = /^\/echo(?:\s+(\S+))?\s*$/i.exec(line);
    if (!echo) return;
    const setting = (echo[1] ?? "on").toLowerCase();
    if (setting === "on") this.#inbound.echo = true;
    if (setting !== "off") return;
    this.#inbound.echo = false;
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
   * Replaces the token of a user who logged in with one (before it expires, or
   * within the grace period after): the relay checks that it is about the same
   * user, and a later login after a reconnect uses it.
   *
   * @param token The new token.
   * @returns The relay's notice that it accepted the token.
   * @throws {CrosswireClientError} `auth_failed` (not a valid token),
   * `forbidden` (a token for someone else, or a session without a token),
   * `connection_lost`, `connection_closed`, `timeout`.
   *
   * @example Refreshing before the token runs out
   * ```ts
   * import { type Identity, RelayError, startServer } from "@crosswire/relay";
   * import { connect } from "@crosswire/relay/client";
   * const tokens: Record<string, Identity> = {
   *   old: { subject: "u1", name: "ann", admin: false, expires: Date.now() + 60_000 },
   *   new: { subject: "u1", name: "ann", admin: false, expires: Date.now() + 3_600_000 },
   * };
   * const authenticate = (token: string) =>
   *   tokens[token]
   *     ? Promise.resolve(tokens[token])
   *     : Promise.reject(new RelayError("auth_failed", "unknown token"));
   * const server = await startServer({
   *   hostname: "127.0.0.1",
   *   port: 0,
   *   tcpPort: null,
   *   relay: { authenticate },
   * });
   * const client = await connect(`ws://127.0.0.1:${server.httpAddr.port}/ws`, { token: "old" });
   * const notice = await client.refresh("new");
   * if (!notice.text.startsWith("Token accepted")) throw new Error(notice.text);
   * await client.close();
   * await server.shutdown();
   * ```
   */
  refresh(token: string): Promise<NoticeEvent> {
    return this.#refresh(token, false);
  }

  /**
   * Moderates (admins: an admin token, or after `oper`): kicks, bans, mutes and
   * their ends, and a room's topic; anyone may `oper` with the operator
   * password, and ask for a topic. Everyone in the rooms concerned gets a
   * `moderated` (or `topic`) event.
   *
   * @param request What to do.
   * @returns The relay's answer: a `notice` saying what was done, or the
   * `topic` asked for.
   * @throws {CrosswireClientError} `forbidden` (not an admin, a wrong
   * password), `no_such_user`, `bad_message`, `connection_lost`,
   * `connection_closed`, `timeout`.
   *
   * @example An operator sets the lobby's topic and kicks a user
   * ```ts
   * import { startServer } from "@crosswire/relay";
   * import { connect } from "@crosswire/relay/client";
   * const server = await startServer({
   *   hostname: "127.0.0.1",
   *   port: 0,
   *   tcpPort: null,
   *   relay: { adminPassword: "sesame" },
   * });
   * const url = `ws://127.0.0.1:${server.httpAddr.port}/ws`;
   * const ann = await connect(url, { name: "ann" });
   * const bob = await connect(url, { name: "bob" });
   * await ann.moderate({ type: "oper", password: "sesame" });
   * const topic = new Promise((resolve) => bob.on("topic", (event) => resolve(event.text)));
   * await ann.moderate({ type: "topic", room: "lobby", text: "be kind" });
   * if (await topic !== "be kind") throw new Error("no topic");
   * await ann.moderate({ type: "kick", name: "bob", reason: "testing" });
   * if ((await bob.closed).code !== 4010) throw new Error("not kicked");
   * await ann.close();
   * await server.shutdown();
   * ```
   */
  moderate(request: ModerationRequest): Promise<NoticeEvent | TopicEvent> {
    return this.#request(
      { ...request },
      (event) => event.type === "notice" || event.type === "topic" ? event : undefined,
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
    if (!this.#connection.welcome) {
      throw new CrosswireClientError("not_logged_in", "not logged in yet");
    }
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
    this.#connection.close();
    await this.closed;
  }

  // ------------------------------------------------------------ requests

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

  #refresh(token: string, quiet: boolean): Promise<NoticeEvent> {
    return this.#sender.request<NoticeEvent>(this.#sender.newRef(), { type: "refresh", token }, {
      accept: (event) => event.type === "notice" ? event : undefined,
      ...(quiet ? { quiet: () => true } : {}),
    }).then((notice) => {
      this.#tokens.accepted(token);
      return notice;
    });
  }

  // The relay says the token ran out: with the app's function, get a new one
  // and send it; listeners hear of it only when that fails. Once per token:
  // the closing error that follows a failed renewal is delivered.
  #renewToken(event: ErrorEvent): boolean {
    const connection = this.#connection.id;
    if (!this.#tokens.renewable || this.#renewing === connection) return false;
    this.#renewing = connection;
    this.#tokens.next().then((token) => this.#refresh(token!, true)).then(
      () => {
        if (this.#renewing === connection) this.#renewing = undefined;
      },
      () => {
        if (this.#connection.id === connection) this.#emitter.emit(event);
      },
    );
    return true;
  }

  #report(error: unknown): void {
    (this.#options.onListenerError ?? console.error)(error);
  }
}

// Someone to log in as: a name, a token that names the user, or a saved session.
function checkWho(options: ConnectOptions): void {
  if (options.token !== undefined || options.resume !== undefined) return;
  if (typeof options.name !== "string" || options.name === "") {
    throw new TypeError("connect() needs a name or a token");
  }
}

function isPosition(value: unknown): value is Position {
  if (typeof value !== "object" || value === null) return false;
  const { offset, epoch } = value as Record<string, unknown>;
  return Number.isSafeInteger(offset) && (offset as number) >= 0 && typeof epoch === "string";
}
