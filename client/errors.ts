/**
 * The client's error class and the codes it carries.
 *
 * @module
 */
import type { ErrorCode } from "../core/errors.ts";

/** Codes a {@link CrosswireClientError} can carry: the server's, plus the client's own. */
export type ClientErrorCode =
  | ErrorCode
  /** The connection could not be opened. */
  | "connect_failed"
  /** The connection closed before the reply arrived, or was already closed. */
  | "connection_closed"
  /** No reply within the configured time. */
  | "timeout";

/**
 * A failed request or connection, with a stable `code`: the server's error code
 * (`name_taken`, `room_invalid`, ...) or the client's own (`connect_failed`,
 * `connection_closed`, `timeout`).
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
