/**
 * The options and results of the client library's calls.
 *
 * @module
 */
import type { DirectEvent, MessageEvent, Position } from "../core/protocol.ts";
import type { Transport } from "./transport.ts";

/**
 * How the client reconnects after the connection drops: it waits a random
 * time between 0 and `initialDelayMs` × 2^(attempt − 1), capped at
 * `maxDelayMs` (exponential backoff with full jitter), then connects again
 * and gets its session back.
 *
 * @example Retrying quickly, at most five times
 * ```ts
 * import type { ReconnectOptions } from "@crosswire/relay/client";
 * const reconnect: ReconnectOptions = { initialDelayMs: 100, maxDelayMs: 2000, maxAttempts: 5 };
 * if (reconnect.maxAttempts !== 5) throw new Error("unexpected");
 * ```
 */
export interface ReconnectOptions {
  /** The longest wait before the first attempt, in ms. @default 500 */
  initialDelayMs?: number;
  /** The longest wait before any attempt, in ms. @default 30000 */
  maxDelayMs?: number;
  /**
   * Attempts in a row before the client gives up and closes (an attempt that
   * gets the session back resets the count). @default Infinity
   */
  maxAttempts?: number;
}

/**
 * What a page keeps (in `sessionStorage`, say) to get its session back after
 * a reload: pass it to `connect()` as `resume`. Plain JSON; from
 * `client.saved()`.
 *
 * @example Keeping the session across a reload
 * ```ts ignore
 * addEventListener("pagehide", () => {
 *   sessionStorage.setItem("chat", JSON.stringify(client.saved()));
 * });
 * // After the reload:
 * const saved: SavedSession = JSON.parse(sessionStorage.getItem("chat")!);
 * const again = await connect(url, { name: saved.name, resume: saved });
 * ```
 */
export interface SavedSession {
  /** The name the session has. */
  name: string;
  /** The `resume` secret from the last `welcome`; empty when the relay keeps no sessions. */
  token: string;
  /** The `reclaim` secret for the name, used when the session has ended. */
  reclaim: string;
  /** The rooms the client is in, each with the last position it saw there. */
  rooms: Record<string, Position>;
  /** The last position seen in the private stream. */
  direct?: Position;
}

/**
 * A token to log in with: the token itself, or a function that returns one
 * (or a promise of one). A function is called before each login, the first
 * and every one after a reconnect that could not resume the session, and
 * when the relay says the token ran out (the client then sends `refresh` with
 * the new one by itself), so an app can fetch a fresh token from its backend
 * each time.
 *
 * @example A fixed token, and one fetched from the app's backend
 * ```ts
 * import type { TokenSource } from "@crosswire/relay/client";
 * const fixed: TokenSource = "eyJhbGciOiJIUzI1NiJ9.e30.sig";
 * const fetched: TokenSource = async () => {
 *   // In an app: (await fetch("/chat-token")).text()
 *   return await Promise.resolve("eyJhbGciOiJIUzI1NiJ9.e30.fresh");
 * };
 * if (typeof fixed !== "string" || typeof fetched !== "function") throw new Error("unexpected");
 * ```
 */
export type TokenSource = string | (() => string | Promise<string>);

/**
 * Options for `connect()`.
 *
 * @example A terminal user who wants to see their own messages, and a quick reconnect
 * ```ts
 * import type { ConnectOptions } from "@crosswire/relay/client";
 * const options: ConnectOptions = {
 *   name: "ann",
 *   echo: true,
 *   reconnect: { initialDelayMs: 250, maxAttempts: 20 },
 * };
 * if (options.reconnect === false) throw new Error("unexpected");
 * ```
 *
 * @example Logging in with a token: the name comes from it
 * ```ts
 * import type { ConnectOptions } from "@crosswire/relay/client";
 * const options: ConnectOptions = { token: () => Promise.resolve("a-token-from-your-backend") };
 * if (options.name !== undefined) throw new Error("no name needed");
 * ```
 */
export interface ConnectOptions {
  /**
   * The name to log in with. Needed unless `token` (or `resume`) is given: with
   * a token, the relay takes the name from the token and ignores this one.
   * @default undefined
   */
  name?: string;
  /**
   * A token proving who the user is, sent in `login`; the relay takes the
   * name (and what the user may do) from it. A string is used for every
   * login (and replaced by one that `client.refresh()` got
   * accepted); a function is called for a fresh one before each login and
   * when the token runs out (see {@link TokenSource}). @default undefined
   */
  token?: TokenSource;
  /** Whether your own room messages are delivered to you. @default false */
  echo?: boolean;
  /**
   * The `reclaim` secret from an earlier session's `welcome`: when that
   * session dropped, the relay keeps its name for it a while, and this takes
   * the name back. @default undefined
   */
  reclaim?: string;
  /**
   * A session saved with `client.saved()`: the client sends
   * `resume` instead of `login` and gets the session back (its name, its
   * rooms, and every message it missed that the relay still has). When the
   * relay no longer has it, the client logs in as `resume.name` with
   * `resume.reclaim` (and `token`, which a saved session does not keep) and
   * joins the saved rooms again from their positions.
   * @default undefined
   */
  resume?: SavedSession;
  /**
   * Reconnect when the connection drops: `false` never; `true` or options
   * with the backoff. The client does not reconnect after
   * `close()`, after `quit`, or after closes that
   * reconnecting cannot mend (1000, 1002, 1003, 1007, 1008, 1009, 1010,
   * 4002, a kick (4010) or a ban (4011), or an error such as `name_taken`,
   * `line_too_long`, `kicked`, `banned`, `auth_failed` or `auth_required` just
   * before the close), nor after its token expired (4003, `token_expired`)
   * unless `token` is a function, which then gives the new login a fresh
   * token; it does after the server went away, a dead connection, a slow
   * consumer close (4008), a rate limit close (4029) and an idle timeout (4001).
   * @default true, with the {@link ReconnectOptions} defaults
   */
  reconnect?: boolean | ReconnectOptions;
  /** WebSocket implementation for `ws://` and `wss://` URLs. @default globalThis.WebSocket */
  WebSocket?: new (url: string) => WebSocket;
  /**
   * Opens a connection to `url`, for a transport of your own (a test double,
   * a worker port). Called for the first connection and for every reconnect.
   * @default WebSocket for `ws:`/`wss:`, TCP for `tcp:`/`tls:` (Deno only)
   */
  openTransport?: (url: URL) => Promise<Transport>;
  /** How long to wait for the connection and `welcome`, in ms. @default 10000 */
  timeoutMs?: number;
  /** How long a request (join, ping, ...) waits for its reply, in ms. @default 30000 */
  requestTimeoutMs?: number;
  /** Longest line accepted over TCP, in bytes (files arrive base64 on one line). @default 67108864 */
  maxLineBytes?: number;
  /**
   * Sends a `ping` this often, in ms, so a quiet client is not closed as idle
   * (the relay closes sessions that send nothing for a while), and drops the
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

/**
 * Options for `client.join()`.
 *
 * @example Joining and catching up from a known position
 * ```ts ignore
 * await client.join("games", { since: { offset: 41, epoch: "k3x" } });
 * ```
 */
export interface JoinOptions {
  /**
   * Replay what the room said after this position (the messages arrive as
   * `message` events before `join()` resolves; a `gap` event first when the
   * relay no longer has them all). @default undefined
   */
  since?: Position;
  /** Replay the room's last this-many messages (0-100) as `message` events. @default 0 */
  history?: number;
}

/**
 * Options for `client.history()`.
 *
 * @example The last ten messages of a room
 * ```ts ignore
 * const { messages } = await client.history("lobby", { limit: 10 });
 * ```
 */
export interface HistoryOptions {
  /** Only what came after this position (when the relay still has it all). @default undefined */
  since?: Position;
  /** How many messages at most (1-100). @default 100 */
  limit?: number;
}

/**
 * A room's (or the private stream's) history, as `client.history()` returns it.
 *
 * @example Checking whether a history is complete
 * ```ts
 * import type { HistoryResult } from "@crosswire/relay/client";
 * const result: HistoryResult = { recovered: false, offset: 0, epoch: "e1", messages: [] };
 * if (result.recovered || result.messages.length !== 0) throw new Error("unexpected");
 * ```
 */
export interface HistoryResult {
  /**
   * True when `messages` are exactly those after the `since` asked for; false
   * when they are only the latest (something before them may be missing).
   */
  recovered: boolean;
  /** The stream's latest offset when it was read (0: no message yet). */
  offset: number;
  /** The stream's epoch. */
  epoch: string;
  /** The messages, oldest first. */
  messages: (MessageEvent | DirectEvent)[];
}

/**
 * Where to send a file: a room you are in, or a user.
 *
 * @example Both kinds of target
 * ```ts
 * import type { FileTarget } from "@crosswire/relay/client";
 * const targets: FileTarget[] = [{ room: "lobby" }, { to: "bob" }];
 * if (targets.length !== 2) throw new Error("unexpected");
 * ```
 */
export type FileTarget = { room: string } | { to: string };

/**
 * A file's name and media type.
 *
 * @example Describing a picture
 * ```ts
 * import type { FileOptions } from "@crosswire/relay/client";
 * const file: FileOptions = { name: "cat.png", type: "image/png" };
 * if (file.type !== "image/png") throw new Error("unexpected");
 * ```
 */
export interface FileOptions {
  /** File name shown to recipients. */
  name: string;
  /** Media type. @default "application/octet-stream" */
  type?: string;
}

/**
 * Options for `client.send()` and `client.direct()`.
 *
 * @example An action
 * ```ts
 * import type { TextOptions } from "@crosswire/relay/client";
 * const options: TextOptions = { action: true };
 * if (!options.action) throw new Error("unexpected");
 * ```
 */
export interface TextOptions {
  /** Send as an action (`/me`). @default false */
  action?: boolean;
}

/**
 * What `client.moderate()` asks of the relay: becoming an operator (`oper`),
 * a room's topic (anyone may ask for it; admins set or clear it with `text`),
 * and, for admins, kicks, bans and mutes. Bans and mutes last `minutes`
 * (the relay's default when left out); a ban's `target` is a name or an address.
 *
 * @example Muting someone for ten minutes
 * ```ts
 * import type { ModerationRequest } from "@crosswire/relay/client";
 * const mute: ModerationRequest = { type: "mute", name: "bob", minutes: 10, reason: "flooding" };
 * if (mute.type !== "mute") throw new Error("unexpected");
 * ```
 */
export type ModerationRequest =
  | { type: "oper"; password: string }
  | { type: "topic"; room: string; text?: string }
  | { type: "kick"; name: string; reason?: string }
  | { type: "ban"; target: string; minutes?: number; reason?: string }
  | { type: "unban"; target: string }
  | { type: "mute"; name: string; minutes?: number; reason?: string }
  | { type: "unmute"; name: string };
