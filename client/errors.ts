/**
 * The client's error class and the codes it carries.
 *
 * @module
 */
import type { ErrorCode } from "../core/errors.ts";

/**
 * Codes a {@link CrosswireClientError} can carry: the server's, plus the client's own.
 *
 * @example Retrying only what may work next time
 * ```ts
 * import type { ClientErrorCode } from "@crosswire/relay/client";
 * const worthRetrying = (code: ClientErrorCode) =>
 *   code === "timeout" || code === "connection_lost" || code === "rate_limited";
 * if (!worthRetrying("connection_lost") || worthRetrying("name_taken")) throw new Error("wrong");
 * ```
 */
export type ClientErrorCode =
  | ErrorCode
  /**
   * The connection could not be opened. For a WebSocket the message says why
   * when the server can tell: the HTTP status of a failed handshake (a wrong
   * path, a refused host or origin, not a crosswire server) or the network error.
   */
  | "connect_failed"
  /** The client is closed (for good), or closed before the reply arrived. */
  | "connection_closed"
  /**
   * The connection dropped before the reply arrived (the request may or may
   * not have taken effect); the client is reconnecting. Also thrown when too
   * much waits to be sent while it reconnects.
   */
  | "connection_lost"
  /** No reply within the configured time. */
  | "timeout";

/**
 * A failed request or connection, with a stable `code`: the server's error code
 * (`name_taken`, `room_invalid`, ...) or the client's own (`connect_failed`,
 * `connection_closed`, `connection_lost`, `timeout`).
 *
 * @example Telling a taken name from other failures
 * ```ts
 * import { CrosswireClientError } from "@crosswire/relay/client";
 * const error = new CrosswireClientError("name_taken", 'the name "ann" is taken');
 * if (error.code !== "name_taken" || error.name !== "CrosswireClientError") throw error;
 * ```
 */
export class CrosswireClientError extends Error {
  /** Stable machine-readable code. */
  readonly code: ClientErrorCode;

  /**
   * Makes an error with a stable code.
   *
   * @param code Stable machine-readable code.
   * @param message Human-readable explanation.
   * @param options `cause` to chain.
   */
  constructor(code: ClientErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "CrosswireClientError";
    this.code = code;
  }
}
