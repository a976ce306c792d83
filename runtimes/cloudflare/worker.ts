/**
 * crosswire on Cloudflare Workers: the Worker serves the page and hands
 * `/ws` and `/healthz` to the one Durable Object that runs the relay
 * ({@link CrosswireRelay}). There is no TCP listener on Workers.
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

// The page and its files come from the same Hono app as on every runtime.
// Its relay only satisfies createApp: `/ws` and `/healthz` never reach it.
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
    if (path === "/ws" || path === "/healthz") {
      return env.RELAY.get(env.RELAY.idFromName(RELAY_NAME)).fetch(request);
    }
    return pagesApp(env).fetch(request);
  },
};
