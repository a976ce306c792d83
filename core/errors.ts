/**
 * Error codes a client can see, and the error class that carries them.
 *
 * @module
 */

/**
 * Every machine-readable error code the relay sends. Stable across versions.
 *
 * @example Reacting to a code rather than a message
 * ```ts
 * import { type ErrorCode, RelayError } from "@crosswire/relay";
 * const retryable = (code: ErrorCode) => code === "rate_limited" || code === "server_busy";
 * const error = new RelayError("rate_limited", "slow down");
 * if (!retryable(error.code)) throw new Error("rate_limited should be retryable");
 * ```
 */
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
  | "login_timeout"
  | "host_denied"
  | "origin_denied"
  | "resume_failed"
  | "auth_required"
  | "auth_failed"
  | "token_expired"
  | "forbidden"
  | "room_full"
  | "muted"
  | "banned"
  | "kicked"
  | "internal_error";

/**
 * WebSocket close codes the relay uses (1000-1015 from RFC 6455, 4000+ our own).
 * The reserved 1005, 1006 and 1015 are never sent.
 *
 * @example An error that ends the connection carries its close code
 * ```ts
 * import { CloseCode, RelayError } from "@crosswire/relay";
 * const error = new RelayError("too_large", "too big", { closeCode: CloseCode.tooBig });
 * if (error.closeCode !== 1009) throw new Error("unexpected close code");
 * ```
 */
export const CloseCode = {
  /** The client said `quit`. */
  normal: 1000,
  /** The server is shutting down. */
  goingAway: 1001,
  /** The peer broke the protocol. */
  protocolError: 1002,
  /** The peer sent a kind of data the relay cannot read, such as a Blob. */
  unsupportedData: 1003,
  /** A closing error without a more specific code. */
  policyViolation: 1008,
  /** A line, frame or file over its limit. */
  tooBig: 1009,
  /** Sending to the peer failed. */
  internalError: 1011,
  /** Too many connections, in all or from one address. */
  tryAgainLater: 1013,
  /** The client sent nothing for `idleTimeoutMs`. */
  idleTimeout: 4001,
  /** The client did not log in within `loginTimeoutMs`. */
  loginTimeout: 4002,
  /** The client's token expired and no new one came within `tokenGraceMs`. */
  tokenExpired: 4003,
  /** The client read too slowly and its outbound queue overflowed. */
  slowConsumer: 4008,
  /** An admin (or the server API) disconnected the client. */
  kicked: 4010,
  /** The client's name or address is banned. */
  banned: 4011,
  /** The client kept sending faster than its rate limit. */
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
   * Creates an error to report to the client, or to close its connection with.
   *
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
