// When the client reconnects, and how long it waits: exponential backoff with
// full jitter (a random wait up to the doubled delay), so clients dropped
// together do not come back together.

import type { ReconnectOptions } from "./options.ts";

/** The reconnect options with every default filled in. */
export type Backoff = Required<ReconnectOptions>;

const DEFAULTS: Backoff = { initialDelayMs: 500, maxDelayMs: 30_000, maxAttempts: Infinity };

/** The backoff for the `reconnect` option, or undefined when reconnecting is off. */
export function backoffFor(option: boolean | ReconnectOptions | undefined): Backoff | undefined {
  if (option === false) return undefined;
  const given = option === true || option === undefined ? {} : option;
  const initialDelayMs = Math.max(0, given.initialDelayMs ?? DEFAULTS.initialDelayMs);
  return {
    initialDelayMs,
    maxDelayMs: Math.max(initialDelayMs, given.maxDelayMs ?? DEFAULTS.maxDelayMs),
    maxAttempts: Math.max(1, given.maxAttempts ?? DEFAULTS.maxAttempts),
  };
}

/** The wait before attempt `attempt` (1, 2, ...): random up to the capped, doubled delay. */
export function delayFor(attempt: number, backoff: Backoff, random = Math.random): number {
  const ceiling = Math.min(
    backoff.maxDelayMs,
    backoff.initialDelayMs * 2 ** Math.min(Math.max(attempt - 1, 0), 30),
  );
  return Math.round(random() * ceiling);
}

// Closes that say the client broke a rule, or asked to leave: coming back
// would be refused the same way, or would undo a quit.
const FINAL_CODES = new Set([
  1000, // after quit
  1002, // the client broke the WebSocket protocol
  1003, // data the relay cannot read
  1007, // invalid data
  1008, // policy (for example the name was lost in a cluster)
  1009, // too big
  1010, // a WebSocket extension the server lacks
  4002, // login timeout: the handshake itself fails
  4010, // kicked: an admin wants the user gone for now
  4011, // banned: a new login would be refused
]);

// Errors the relay sends just before it closes, for the same reasons (over
// TCP they are all the client learns: the stream just ends).
const FINAL_ERRORS = new Set([
  "name_taken",
  "name_invalid",
  "line_too_long",
  "too_large",
  "login_timeout",
  "bad_frame",
  "kicked",
  "banned",
  "auth_failed",
  "auth_required",
]);

// The token ran out: only a new token (from the app's function) makes a new login worth it.
const TOKEN_EXPIRED_CODE = 4003;
const TOKEN_EXPIRED_ERROR = "token_expired";

/**
 * Whether a connection closed with `code`, after an error `lastError` (the
 * last thing the server sent, when it was an error without `ref`), is worth
 * reconnecting: yes after the server went away, a dead connection, a slow
 * consumer or rate limit close (4008, 4029), an idle timeout or a busy server;
 * no after quit, a protocol violation, a kick, a ban or a refused token, which
 * would only repeat. An expired token (4003) is worth it only when
 * `renewable`: the app's function gives the next login a fresh one.
 */
export function shouldReconnect(
  code: number,
  lastError: string | undefined,
  renewable = false,
): boolean {
  if (FINAL_CODES.has(code)) return false;
  if (code === TOKEN_EXPIRED_CODE || lastError === TOKEN_EXPIRED_ERROR) return renewable;
  return lastError === undefined || !FINAL_ERRORS.has(lastError);
}
