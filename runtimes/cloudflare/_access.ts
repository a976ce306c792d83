// Who may do what on Workers, from the Worker's variables (there is no
// command line): CROSSWIRE_JWT_SECRET, CROSSWIRE_REQUIRE_AUTH,
// CROSSWIRE_ADMIN_PASSWORD and CROSSWIRE_API_KEY, as the CLI reads them. A
// Durable Object cannot refuse to start, so a bad value is logged and the
// setting fails closed: tokens refused, the API locked.

import { createJwtVerifier } from "../../auth/jwt.ts";
import { type Authenticator, RelayError, type RelayOptions } from "../../core/mod.ts";

/** The variables read here (set secrets with `wrangler secret put`). */
export interface AccessEnv {
  /** HS256 secret for login tokens, at least 32 bytes. */
  CROSSWIRE_JWT_SECRET?: string;
  /** "1", "true" or "yes": refuse users without a token. */
  CROSSWIRE_REQUIRE_AUTH?: string;
  /** The password for `/oper`. */
  CROSSWIRE_ADMIN_PASSWORD?: string;
  /** Bearer token for the server API and `/metrics`, at least 16 characters. */
  CROSSWIRE_API_KEY?: string;
}

/** The relay's options and the app's API key from `env`. */
export interface WorkerAccess {
  relay: Pick<RelayOptions, "authenticate" | "requireAuth" | "adminPassword">;
  apiKey: string | undefined;
}

/** Reads `env`; an empty variable is unset, as the CLI has it. */
export function accessFromEnv(env: AccessEnv): WorkerAccess {
  const relay: WorkerAccess["relay"] = {};
  const secret = env.CROSSWIRE_JWT_SECRET || undefined;
  if (secret !== undefined) relay.authenticate = verifier(secret);
  const required = (env.CROSSWIRE_REQUIRE_AUTH ?? "").trim().toLowerCase();
  if (!["", "0", "false", "no"].includes(required)) {
    if (!["1", "true", "yes"].includes(required)) {
      console.error(`crosswire: CROSSWIRE_REQUIRE_AUTH is not 1, true or yes; taken as yes`);
    }
    if (secret === undefined) {
      console.error(
        "crosswire: CROSSWIRE_REQUIRE_AUTH without CROSSWIRE_JWT_SECRET refuses everyone",
      );
    }
    relay.requireAuth = true;
  }
  if (env.CROSSWIRE_ADMIN_PASSWORD) relay.adminPassword = env.CROSSWIRE_ADMIN_PASSWORD;
  let apiKey = env.CROSSWIRE_API_KEY || undefined;
  if (apiKey !== undefined && [...apiKey].length < 16) {
    console.error(
      "crosswire: CROSSWIRE_API_KEY is shorter than 16 characters; the API stays locked",
    );
    // Unguessable, and never told: without it /metrics would be open.
    apiKey = crypto.randomUUID() + crypto.randomUUID();
  }
  return { relay, apiKey };
}

// The verifier is made once, at once; a bad secret is logged, then every token is refused.
function verifier(secret: string): Authenticator {
  const made = createJwtVerifier({ secret }).catch((error: Error): Authenticator => {
    console.error(`crosswire: CROSSWIRE_JWT_SECRET: ${error.message}`);
    return () =>
      Promise.reject(new RelayError("auth_failed", "this server cannot check tokens yet"));
  });
  return async (token) => (await made)(token);
}
