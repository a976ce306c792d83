/**
 * crosswire on Cloudflare Workers: the Worker serves the page and hands
 * `/ws`, `/healthz`, `/metrics` and the server API (`/api/...`) to the one
 * Durable Object that runs the relay ({@link CrosswireRelay}). There is no
 * TCP listener on Workers. Tokens, the admin password and the API key come
 * from the variables CROSSWIRE_JWT_SECRET, CROSSWIRE_REQUIRE_AUTH,
 * CROSSWIRE_ADMIN_PASSWORD and CROSSWIRE_API_KEY (`wrangler secret put`).
 *
 * @module
 */

import { Relay } from "../../core/mod.ts";
import { createApp, type RelayApp } from "../../server/app.ts";
import { type Env, listVar } from "./_types.ts";

export { CrosswireRelay } from "./relay_object.ts";

/**
 * The one object every connection goes to: the relay is the unit (all rooms
 * in one place), so one object per deployment, however many rooms there are.
 */
const RELAY_NAME = "relay";

/** What the relay answers: everything else is the page and its files. */
const RELAY_PATHS = new Set(["/ws", "/healthz", "/metrics", "/api"]);

// The page and its files come from the same Hono app as on every runtime.
// Its relay only satisfies createApp: what the relay answers never reaches it.
let pages: RelayApp | undefined;
function pagesApp(env: Env): RelayApp {
  return pages ??= createApp(new Relay(), {
    upgradeWebSocket: () => () => new Response("not here", { status: 500 }),
    allowOrigins: listVar(env.CROSSWIRE_ALLOW_ORIGINS),
    allowedHosts: listVar(env.CROSSWIRE_ALLOWED_HOSTS),
  });
}

export default {
  fetch(request: Request, env: Env): Response | Promise<Response> {
    const path = new URL(request.url).pathname;
    if (RELAY_PATHS.has(path) || path.startsWith("/api/")) {
      return env.RELAY.get(env.RELAY.idFromName(RELAY_NAME)).fetch(request);
    }
    return pagesApp(env).fetch(request);
  },
};
