// The relay's options and the limits resolved from them. Every limit is finite
// by default; docs/PROTOCOL.md and the README list them for users.

import type { Authenticator } from "./auth.ts";
import type { Engine } from "./engine.ts";
import type { RoomPolicies } from "./policies.ts";

/**
 * Options for {@link Relay}. Every limit is finite by default.
 *
 * @example Tightening one limit, keeping the other defaults
 * ```ts
 * import { Relay, type RelayOptions } from "@crosswire/relay";
 * const options: RelayOptions = { maxTextBytes: 280, motd: "Welcome!" };
 * const relay = new Relay(options);
 * if (relay.limits.maxTextBytes !== 280 || relay.limits.maxRoomsPerSession !== 32) {
 *   throw new Error("unexpected limits");
 * }
 * ```
 */
export interface RelayOptions {
  /** Shown to every user at login. @default undefined */
  motd?: string;
  /** Server name announced in `hello`. @default "crosswire" */
  serverName?: string;
  /** Longest line a text-mode TCP client may send, in bytes. @default 8192 */
  maxLineBytes?: number;
  /** Largest chat text, in bytes of UTF-8. @default 8192 */
  maxTextBytes?: number;
  /** Largest shared file, in bytes. @default 1048576 (1 MiB) */
  maxFileBytes?: number;
  /**
   * Largest JSON message (WebSocket text frame, TCP JSON line), in bytes.
   * @default room for a base64 file of `maxFileBytes` plus 4 KiB
   */
  maxFrameBytes?: number;
  /**
   * Bytes a connection may send in all before it logs in; more closes it
   * (`too_large`, 1009). @default 16384
   */
  maxLoginBytes?: number;
  /**
   * Output waiting for one session above which it counts as behind. A session
   * that stays behind for `slowConsumerMs`, or gets four times this far
   * behind, is closed as a slow consumer. @default 8388608 (8 MiB)
   */
  maxQueuedBytes?: number;
  /** How long a session may stay behind before it is closed (4008). @default 10000 */
  slowConsumerMs?: number;
  /** Rooms one session may be in at once. @default 32 */
  maxRoomsPerSession?: number;
  /** Names listed in one presence reply (the count is always complete). @default 200 */
  maxPresenceMembers?: number;
  /**
   * Rooms larger than this stop announcing joins and leaves to every member
   * (the user concerned still hears of it; presence stays exact). @default 500
   */
  maxAnnouncedRoomSize?: number;
  /** Rooms that may exist at once. @default 10000 */
  maxRooms?: number;
  /** Rooms that users from one address may have created and that still exist. @default 100 */
  maxRoomsPerAddress?: number;
  /** Open connections, logged in or not. @default 10000 */
  maxConnections?: number;
  /** Open connections from one remote address. @default 100 */
  maxConnectionsPerAddress?: number;
  /** Connections from one address that have not logged in yet. @default 16 */
  maxPendingPerAddress?: number;
  /** A connection must log in within this long of opening, or it is closed (4002). @default 30000 */
  loginTimeoutMs?: number;
  /**
   * A client that sends nothing for this long is told and closed; 0 turns it
   * off. Checked by {@link Relay.sweep}. @default 300000 (5 minutes)
   */
  idleTimeoutMs?: number;
  /** Messages per second one session may send, sustained. @default 20 */
  rateMessagesPerSecond?: number;
  /** Messages one session may send in a burst. @default 50 */
  rateMessageBurst?: number;
  /** Bytes per second one session may send, sustained. @default 1048576 (1 MiB) */
  rateBytesPerSecond?: number;
  /**
   * Messages dropped for rate within 10 seconds before the session is
   * disconnected (close 4029). @default 100
   */
  rateAbuseLimit?: number;
  /**
   * Private messages one user may receive per second, from everyone together;
   * the burst is `rateMessageBurst`. @default 20
   */
  directMessagesPerSecond?: number;
  /**
   * Bytes of private messages and files one user may receive per second, from
   * everyone together; the burst always fits one largest file. @default 1048576 (1 MiB)
   */
  directBytesPerSecond?: number;
  /**
   * Bytes per second said in one room, by all its members together; the burst
   * always fits two largest files. @default 2097152 (2 MiB)
   */
  roomBytesPerSecond?: number;
  /**
   * How long the name of a user whose connection dropped stays reserved for
   * that user (who reclaims it with the `reclaim` token from `welcome`). @default 60000
   */
  nameGraceMs?: number;
  /** Messages each room keeps for `history`, `join` with `since` and resume (0: none). @default 100 */
  historySize?: number;
  /** Kept messages older than this are gone. @default 600000 (10 minutes) */
  historyTtlMs?: number;
  /** Bytes (text and files) each room keeps at most; older messages go first. @default 2097152 */
  historyBytes?: number;
  /**
   * Bytes of history this node keeps in memory, all rooms and private streams
   * together; the oldest messages anywhere go first. @default 268435456 (256 MiB)
   */
  historyTotalBytes?: number;
  /** Messages a text-mode user is shown on `/join`. @default 10 */
  historyOnJoin?: number;
  /**
   * How long a session whose connection dropped is kept (its name, its rooms,
   * what it missed) for a client that comes back with its `resume` token. 0 turns
   * resume off. @default 120000
   */
  resumeWindowMs?: number;
  /**
   * Shared state: names, presence, and fan-out to other nodes.
   * @default new MemoryEngine(): one node, in this process
   */
  engine?: Engine;
  /** Clock, in milliseconds since the epoch. @default Date.now */
  now?: () => number;
  /**
   * Whether a gap of more than 3 seconds between sweeps means the relay was
   * paused (its process stopped, its event loop blocked): deadlines then leave
   * the gap out, and input that waited meanwhile gets rate credit. A host that
   * sweeps only when something happens (a Durable Object that sleeps) turns it
   * off, or every quiet spell would count as a pause. @default true
   */
  detectPauses?: boolean;
  /**
   * Verifies a token a client presents (in `login`, `refresh`, `/auth` or
   * IRC's `PASS`). Without it, tokens are refused. @default undefined
   */
  authenticate?: Authenticator;
  /** Refuse users who log in without a token (`auth_required`). @default false */
  requireAuth?: boolean;
  /**
   * How long a client whose token expired has to send a new one (`refresh`)
   * before it is closed (4003). @default 30000
   */
  tokenGraceMs?: number;
  /** Rules for rooms by name or pattern: read-only, private, member limits, history. @default {} */
  rooms?: RoomPolicies;
  /**
   * The password a user gives with `/oper` (or `{"type":"oper"}`) to become an
   * admin. Without it, only tokens with `"admin": true` make admins. @default undefined
   */
  adminPassword?: string;
  /** Called with unexpected errors (bugs), never with client mistakes. @default console.error */
  onError?: (error: unknown) => void;
}

/**
 * The limits in force, every field resolved.
 *
 * @example `maxFrameBytes` follows `maxFileBytes` unless set
 * ```ts
 * import { Relay, type RelayLimits } from "@crosswire/relay";
 * const limits: RelayLimits = new Relay({ maxFileBytes: 3000 }).limits;
 * // A base64 file of 3000 bytes (4000 characters) plus 4 KiB for the JSON around it.
 * if (limits.maxFrameBytes !== 4000 + 4096) throw new Error("unexpected frame limit");
 * ```
 */
export type RelayLimits = Readonly<
  Required<
    Omit<
      RelayOptions,
      | "motd"
      | "serverName"
      | "engine"
      | "now"
      | "onError"
      | "detectPauses"
      | "authenticate"
      | "requireAuth"
      | "rooms"
      | "adminPassword"
    >
  >
>;

/** Fills in every default. */
export function resolveLimits(options: RelayOptions): RelayLimits {
  const maxFileBytes = options.maxFileBytes ?? 1024 * 1024;
  return {
    maxLineBytes: options.maxLineBytes ?? 8192,
    maxTextBytes: options.maxTextBytes ?? 8192,
    maxFileBytes,
    maxFrameBytes: options.maxFrameBytes ?? Math.ceil(maxFileBytes / 3) * 4 + 4096,
    maxLoginBytes: options.maxLoginBytes ?? 16 * 1024,
    maxQueuedBytes: options.maxQueuedBytes ?? 8 * 1024 * 1024,
    slowConsumerMs: options.slowConsumerMs ?? 10_000,
    maxRoomsPerSession: options.maxRoomsPerSession ?? 32,
    maxPresenceMembers: options.maxPresenceMembers ?? 200,
    maxRooms: options.maxRooms ?? 10_000,
    maxRoomsPerAddress: options.maxRoomsPerAddress ?? 100,
    maxAnnouncedRoomSize: options.maxAnnouncedRoomSize ?? 500,
    maxConnections: options.maxConnections ?? 10_000,
    maxConnectionsPerAddress: options.maxConnectionsPerAddress ?? 100,
    maxPendingPerAddress: options.maxPendingPerAddress ?? 16,
    loginTimeoutMs: options.loginTimeoutMs ?? 30_000,
    idleTimeoutMs: options.idleTimeoutMs ?? 300_000,
    rateMessagesPerSecond: options.rateMessagesPerSecond ?? 20,
    rateMessageBurst: options.rateMessageBurst ?? 50,
    rateBytesPerSecond: options.rateBytesPerSecond ?? 1024 * 1024,
    rateAbuseLimit: options.rateAbuseLimit ?? 100,
    directMessagesPerSecond: options.directMessagesPerSecond ?? 20,
    directBytesPerSecond: options.directBytesPerSecond ?? 1024 * 1024,
    roomBytesPerSecond: options.roomBytesPerSecond ?? 2 * 1024 * 1024,
    nameGraceMs: options.nameGraceMs ?? 60_000,
    historySize: options.historySize ?? 100,
    historyTtlMs: options.historyTtlMs ?? 600_000,
    historyBytes: options.historyBytes ?? 2 * 1024 * 1024,
    historyTotalBytes: options.historyTotalBytes ?? 256 * 1024 * 1024,
    historyOnJoin: options.historyOnJoin ?? 10,
    resumeWindowMs: options.resumeWindowMs ?? 120_000,
    tokenGraceMs: options.tokenGraceMs ?? 30_000,
  };
}
