/**
 * Error codes a client can see, and the error class that carries them.
 *
 * @module
 */

/** Every machine-readable error code the relay sends. Stable across versions. */
export type ErrorCode =
  | "bad_json"
  | "bad_message"
  | "unknown_type"
  | "unknown_command"
  | "bad_frame"
  | "not_logged_in"
  | "already_logged_in"
  | "name_invalid"
  | "name_taken"
  | "room_invalid"
  | "not_in_room"
  | "too_many_rooms"
  | "no_such_user"
  | "too_large"
  | "line_too_long"
  | "empty_message"
  | "slow_consumer"
  | "rate_limited"
  | "server_busy"
  | "idle_timeout"
  | "room_limit"
  | "internal_error";

/** WebSocket close codes the relay uses (1000-1015 from RFC 6455, 4000+ our own). */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  protocolError: 1002,
  unsupportedData: 1003,
  policyViolation: 1008,
  tooBig: 1009,
  internalError: 1011,
  tryAgainLater: 1013,
  idleTimeout: 4001,
  slowConsumer: 4008,
  rateLimited: 4029,
} as const;

/**
 * A failure a client caused or can act on. `code` is stable and machine-readable;
 * `closeCode` is set when the relay must also close the connection.
 *
 * @example Throwing and inspecting a relay error
 * ```ts
 * import { RelayError } from "@crosswire/relay";
 * const error = new RelayError("name_taken", 'the name "ann" is taken');
 * if (error.code !== "name_taken") throw new Error("unexpected code");
 * ```
 */
export class RelayError extends Error {
  /** The stable machine-readable code. */
  readonly code: ErrorCode;
  /** Close code to send when this error ends the connection, else undefined. */
  readonly closeCode: number | undefined;
  /** The `ref` of the request that failed, echoed back so the client can match it. */
  readonly ref: string | undefined;

  /**
   * @param code The stable machine-readable code.
   * @param message A human-readable explanation.
   * @param options `closeCode` when the connection must close; `ref` of the failed
   * request; `cause` to chain.
   */
  constructor(
    code: ErrorCode,
    message: string,
    options: { closeCode?: number; ref?: string | undefined; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "RelayError";
    this.code = code;
    this.closeCode = options.closeCode;
    this.ref = options.ref;
  }
}
