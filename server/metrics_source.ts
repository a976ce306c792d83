// What /metrics and /api/stats read from a relay, and the seam between the
// endpoints and the library that writes the Prometheus text format. Nothing
// here imports prom-client: a build that cannot carry it (Cloudflare Workers,
// without Node's built-in modules) can still use the endpoints' module.

import type { EngineStatus, HealthReport, RelayCounters } from "../core/mod.ts";
import type { RelayGauges } from "../core/relay.ts";

/**
 * The parts of a `Relay` the metrics read (a `Relay` has them all).
 *
 * @example
 * ```ts
 * import { type MetricsSource, Relay } from "@crosswire/relay";
 * const source: MetricsSource = new Relay();
 * if (source.gauges().rooms !== 0) throw new Error("no rooms yet");
 * ```
 */
export interface MetricsSource {
  /** Running totals. */
  readonly counters: RelayCounters;
  /** What the node holds now. */
  gauges(): RelayGauges;
  /** The backplane, for its state. */
  readonly engine: { status(): EngineStatus };
  /** The health report, for `/api/stats`. */
  health(): Promise<HealthReport>;
}

/**
 * A relay's metrics in an exposition format, read when scraped.
 *
 * @example A stand-in that exposes one line
 * ```ts
 * import type { Exposition } from "@crosswire/relay";
 * const exposition: Exposition = {
 *   contentType: "text/plain",
 *   scrape: () => Promise.resolve("up 1\n"),
 * };
 * if (!(await exposition.scrape()).startsWith("up")) throw new Error("unexpected");
 * ```
 */
export interface Exposition {
  /** The Content-Type of what `scrape` returns. */
  readonly contentType: string;
  /** The metrics as they are now. */
  scrape(): Promise<string>;
}

/**
 * Makes the exposition for one relay: the servers pass prom-client's
 * (`server/_metrics_prometheus.ts`); {@link AppOptions.metrics} takes one.
 *
 * @example Serving a hand-made exposition at /metrics
 * ```ts
 * import { createApp, type MakeExposition, Relay } from "@crosswire/relay";
 * import { upgradeWebSocket } from "hono/deno";
 * const metrics: MakeExposition = (source) => ({
 *   contentType: "text/plain",
 *   scrape: () => Promise.resolve(`rooms ${source.gauges().rooms}\n`),
 * });
 * const app = createApp(new Relay(), { upgradeWebSocket, metrics });
 * if ((await (await app.request("/metrics")).text()) !== "rooms 0\n") throw new Error("no metrics");
 * ```
 */
export type MakeExposition = (source: MetricsSource) => Exposition;
