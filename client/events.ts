/**
 * The events a `CrosswireClient` delivers to its listeners: everything
 * the server sends, and the client's own news about its connection
 * (`reconnecting`, `resumed`, `gap`, `close`).
 *
 * @module
 */
import type { ServerEvent } from "../core/protocol.ts";

/**
 * The client is closed for good: `close()` was called, the
 * connection ended in a way a reconnect cannot help (after `quit`, or a
 * protocol violation), reconnecting is off, or the client gave up
 * reconnecting. `code` follows WebSocket close codes (over TCP: 1000 when the
 * client closed, 1005 at the end of the stream, 1006 on errors; 4000 when the
 * server stopped answering pings).
 *
 * @example Knowing why the client ended
 * ```ts
 * import type { ConnectionCloseEvent } from "@crosswire/relay/client";
 * const event: ConnectionCloseEvent = { type: "close", code: 1001, reason: "shutting down" };
 * if (event.type !== "close" || event.code !== 1001) throw new Error("unexpected");
 * ```
 */
export interface ConnectionCloseEvent {
  /** Always `"close"`. */
  type: "close";
  /** WebSocket close code of the connection that ended last. */
  code: number;
  /** Close reason, possibly empty. */
  reason: string;
}

/**
 * The connection dropped (or a new attempt failed) and the client will try
 * again in `delayMs`. Requests made meanwhile wait for the new connection.
 *
 * @example Telling the user a reconnect is coming
 * ```ts
 * import type { ReconnectingEvent } from "@crosswire/relay/client";
 * const event: ReconnectingEvent = {
 *   type: "reconnecting",
 *   attempt: 1,
 *   delayMs: 740,
 *   code: 1006,
 *   reason: "",
 * };
 * const text = `reconnecting in ${(event.delayMs / 1000).toFixed(1)} s…`;
 * if (text !== "reconnecting in 0.7 s…") throw new Error(text);
 * ```
 */
export interface ReconnectingEvent {
  /** Always `"reconnecting"`. */
  type: "reconnecting";
  /** Which attempt comes next: 1 after a drop, one more after each failed try. */
  attempt: number;
  /** How long the client waits before it, in ms. */
  delayMs: number;
  /** Close code of the connection that dropped, or 1006 when an attempt could not connect. */
  code: number;
  /** Close reason, or why the attempt failed. */
  reason: string;
}

/**
 * How much of one room's (or the private stream's) history came back after a reconnect.
 *
 * @example Adding up what a reconnect recovered
 * ```ts
 * import type { Recovery } from "@crosswire/relay/client";
 * const rooms: Recovery[] = [{ recovered: true, count: 3 }, { recovered: false, count: 0 }];
 * if (rooms.reduce((sum, room) => sum + room.count, 0) !== 3) throw new Error("wrong sum");
 * ```
 */
export interface Recovery {
  /** True when every missed message came back; false when some may be missing (see `gap`). */
  recovered: boolean;
  /** Messages delivered from the replay (duplicates dropped). */
  count: number;
}

/**
 * The client is back after a reconnect (or after `connect()` with a saved
 * session), and every replay has arrived: the missed messages were delivered
 * as ordinary `message` and `direct` events before this one.
 *
 * @example Reporting a reconnect
 * ```ts
 * import type { ResumedEvent } from "@crosswire/relay/client";
 * const event: ResumedEvent = {
 *   type: "resumed",
 *   session: true,
 *   rooms: [{ room: "lobby", recovered: true, count: 2 }],
 *   direct: { recovered: true, count: 1 },
 * };
 * const missed = event.rooms.reduce((sum, room) => sum + room.count, event.direct?.count ?? 0);
 * if (missed !== 3) throw new Error("wrong count");
 * ```
 */
export interface ResumedEvent {
  /** Always `"resumed"`. */
  type: "resumed";
  /**
   * True: the relay still had the session (same name and rooms, nobody saw it
   * leave). False: it had ended, so the client logged in afresh (with the
   * name's `reclaim` secret) and joined its rooms again.
   */
  session: boolean;
  /** Every room the client is in now, and what came back in each. */
  rooms: ({ room: string } & Recovery)[];
  /** The private stream, when the client knew a position in it. */
  direct?: Recovery;
}

/**
 * Some messages could not be recovered: in `room`, or without `room` among
 * private messages. Messages after the gap follow this event.
 *
 * - `"expired"`: the session ended while the client was away, and with it its
 *   private stream.
 * - `"too_old"`: the relay no longer keeps everything after the client's last
 *   position (too many or too old).
 * - `"epoch"`: the history the client knew is gone (the relay restarted or lost it).
 * - `"skipped"`: a message arrived after a hole that asking for history could not fill.
 *
 * @example Showing a gap
 * ```ts
 * import type { GapEvent } from "@crosswire/relay/client";
 * const gap: GapEvent = { type: "gap", room: "lobby", reason: "too_old" };
 * const line = `-- some messages in #${gap.room} could not be recovered --`;
 * if (!line.includes("#lobby")) throw new Error(line);
 * ```
 */
export interface GapEvent {
  /** Always `"gap"`. */
  type: "gap";
  /** The room; absent for the private stream. */
  room?: string;
  /** Why the missed messages are not coming. */
  reason: "expired" | "too_old" | "epoch" | "skipped";
}

/**
 * Everything a client listener can receive: what the server sends, and the
 * client's own events.
 *
 * @example Handling every event in one place
 * ```ts
 * import type { ClientEvent } from "@crosswire/relay/client";
 * function describe(event: ClientEvent): string {
 *   switch (event.type) {
 *     case "message":
 *       return `${event.from}: ${event.text ?? ""}`;
 *     case "gap":
 *       return "some messages are missing";
 *     default:
 *       return event.type;
 *   }
 * }
 * if (describe({ type: "gap", reason: "epoch" }) !== "some messages are missing") {
 *   throw new Error("unexpected");
 * }
 * ```
 */
export type ClientEvent =
  | ServerEvent
  | ConnectionCloseEvent
  | ReconnectingEvent
  | ResumedEvent
  | GapEvent;

/**
 * The `type` of a {@link ClientEvent}, or `"*"` for every event.
 *
 * @example Event types a listener can ask for
 * ```ts
 * import type { ClientEventType } from "@crosswire/relay/client";
 * const types: ClientEventType[] = ["message", "resumed", "gap", "*"];
 * if (types.length !== 4) throw new Error("unexpected");
 * ```
 */
export type ClientEventType = ClientEvent["type"] | "*";

/**
 * The event a listener for `T` receives.
 *
 * @example The event type for `"gap"` listeners
 * ```ts
 * import type { ClientEventOf } from "@crosswire/relay/client";
 * const gap: ClientEventOf<"gap"> = { type: "gap", reason: "skipped" };
 * if (gap.reason !== "skipped") throw new Error("unexpected");
 * ```
 */
export type ClientEventOf<T extends ClientEventType> = T extends "*" ? ClientEvent
  : Extract<ClientEvent, { type: T }>;
