// GET /metrics (Prometheus text format, by prom-client) and GET /api/stats
// (the same numbers as JSON, for people), protected by the API key when set.

import type { Hono, MiddlewareHandler } from "hono";
import { apiKeyRequired } from "./_api_auth.ts";
import type { Relay } from "../core/mod.ts";
import type { MakeExposition } from "./metrics_source.ts";
import { statsBody } from "./_metrics_stats.ts";

// prom-client's default process metrics (CPU, memory, event-loop lag) are
// left out. They do run on Deno, Node and Bun, but every call starts a GC
// observer and an event-loop monitor that are never stopped (one per server,
// and a test process starts many), and they describe the process, not the
// relay: a node exporter or the runtime's own tooling reports them better.

/**
 * Mounts `GET /metrics` and `GET /api/stats` on `app`. With `apiKey` both need
 * `Authorization: Bearer <apiKey>` (compared in constant time); without one
 * they are open, which suits a relay on a private network only: set a key on
 * a public server.
 *
 * @param app The relay's Hono app.
 * @param relay The relay whose counters and gauges are shown.
 * @param apiKey The bearer token, or undefined for open endpoints.
 * @param exposition Writes the Prometheus format; without it `/metrics` is not mounted (404).
 *
 * @example Scraping a relay with a key
 * ```ts
 * import { Hono } from "hono";
 * import { Relay } from "@crosswire/relay";
 * import { mountMetrics } from "./metrics.ts";
 * import { prometheusExposition } from "./_metrics_prometheus.ts";
 * const app = new Hono();
 * mountMetrics(app, new Relay(), "s3cret", prometheusExposition);
 * const denied = await app.request("/metrics");
 * const scraped = await app.request("/metrics", { headers: { authorization: "Bearer s3cret" } });
 * if (denied.status !== 401 || !(await scraped.text()).includes("crosswire_logins_total")) {
 *   throw new Error("unexpected /metrics");
 * }
 * ```
 */
export function mountMetrics(
  app: Hono,
  relay: Relay,
  apiKey: string | undefined,
  exposition: MakeExposition | undefined,
): void {
  const startedAt = Date.now();
  // Open without a key, on purpose: a relay on a private network is scraped
  // as is. The README tells operators of public servers to set --api-key.
  const guard: MiddlewareHandler = apiKey === undefined
    ? async (_c, next) => await next()
    : apiKeyRequired(apiKey, "this endpoint");
  const noStore = { "cache-control": "no-store" };

  if (exposition !== undefined) {
    const metrics = exposition(relay);
    app.get("/metrics", guard, async () =>
      new Response(await metrics.scrape(), {
        headers: { "content-type": metrics.contentType, ...noStore },
      }));
  }
  app.get(
    "/api/stats",
    guard,
    async (c) => c.json(await statsBody(relay, startedAt), 200, noStore),
  );
}
