// The server API's lock: Hono's bearerAuth (a constant-time comparison) with
// every refusal answered as the app's JSON error, 401 `auth_failed`.

import type { Context, MiddlewareHandler } from "hono";
import { bearerAuth } from "hono/bearer-auth";

// bearerAuth refuses any presented token outside RFC 6750's token68 alphabet
// before comparing, so a key with other characters could never be matched.
export const TOKEN68 = /^[A-Za-z0-9._~+/-]+=*$/;

/** Why no client could present `apiKey` as a bearer token; undefined when one can. */
export function badApiKey(apiKey: string): string | undefined {
  return TOKEN68.test(apiKey) ? undefined : "may hold only letters, digits and - . _ ~ + / " +
    "(then = at the end); make one with: openssl rand -hex 32";
}

/**
 * Middleware that lets a request through only with `Authorization: Bearer <apiKey>`.
 * Throws a TypeError at once for a key no client could present.
 */
export function apiKeyRequired(apiKey: string, what = "the server API"): MiddlewareHandler {
  const bad = badApiKey(apiKey);
  // Never show the key itself: it may be real.
  if (bad !== undefined) throw new TypeError(`the API key ${bad}`);
  const refuse = (message: string) => (c: Context) =>
    c.json({ error: { code: "auth_failed", message } }, 401);
  // A malformed header is 401 too, not bearerAuth's 400: to the caller it is the same missing key.
  const missing = refuse(`${what} needs the API key: Authorization: Bearer <key>`);
  return bearerAuth({
    token: apiKey,
    noAuthenticationHeader: { message: missing },
    invalidAuthenticationHeader: { message: missing },
    invalidToken: { message: refuse("wrong API key") },
  });
}
