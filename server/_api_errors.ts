// The server API's error answers: the app's JSON shape with the protocol's
// codes, and an HTTP status a backend can act on without reading the code.

import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { type ErrorCode, RelayError } from "../core/mod.ts";

const STATUS: Partial<Record<ErrorCode, ContentfulStatusCode>> = {
  bad_message: 400,
  bad_json: 400,
  room_invalid: 400,
  name_invalid: 400,
  empty_message: 400,
  too_large: 413,
  no_such_user: 404,
  rate_limited: 429,
  internal_error: 500,
};

/** The JSON error response: `{"error":{"code","message"}}` with `status`. */
export function errorResponse(
  c: Context,
  code: string,
  message: string,
  status: ContentfulStatusCode,
  headers?: Record<string, string>,
): Response {
  return c.json({ error: { code, message } }, status, headers);
}

/**
 * The answer for something a route threw: a RelayError keeps its code and
 * message; anything else is a bug, reported and answered with a generic 500.
 */
export function failure(c: Context, error: unknown): Response {
  if (error instanceof RelayError) {
    return errorResponse(c, error.code, error.message, STATUS[error.code] ?? 400);
  }
  // Like the relay's default onError: the operator sees it, the caller learns nothing inside.
  console.error(error);
  return errorResponse(c, "internal_error", "the server failed to handle the request", 500);
}
