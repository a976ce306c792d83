// One prom-client Registry per relay (never the global default one: a test
// process runs many servers). Every value is read from the relay when
// scraped, in each metric's collect(); nothing here runs per message.

import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Transport } from "../core/mod.ts";
import type { Exposition, MetricsSource } from "./metrics_source.ts";

const TRANSPORTS: readonly Transport[] = ["websocket", "tcp", "irc"];

// Labels shown at 0 before they first happen, so dashboards and alerts see
// the series from the start (rate() of a series that appears later misses
// its first increase).
const KNOWN_DISCONNECTS = [
  "quit",
  "drop",
  "slow_consumer",
  "idle_timeout",
  "login_timeout",
  "rate_limited",
  "kicked",
  "banned",
  "token_expired",
];
const KNOWN_ERRORS = ["rate_limited"];
const KNOWN_MODERATION = ["kick", "ban", "mute", "topic"];

// Backplane round trips: sub-millisecond on a local Redis, seconds when it struggles.
const PUBLISH_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/**
 * The Prometheus text format by prom-client, for one relay. Also puts the
 * backplane-latency histogram in `source.counters.publishLatency`.
 */
export function prometheusExposition(source: MetricsSource): Exposition {
  const registry = metricsRegistry(source);
  return { contentType: registry.contentType, scrape: () => registry.metrics() };
}

function metricsRegistry(source: MetricsSource): Registry {
  const registry = new Registry();
  const counters = source.counters;
  const gauges = oncePerScrape(() => source.gauges());

  const total = (name: string, help: string, read: () => number) =>
    new Counter({
      name: `crosswire_${name}`,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  const totals = <L extends string>(
    name: string,
    help: string,
    label: L,
    read: () => Iterable<[string, number]>,
  ) =>
    new Counter<L>({
      name: `crosswire_${name}`,
      help,
      labelNames: [label],
      registers: [registry],
      collect() {
        this.reset();
        for (const [key, value] of read()) this.inc({ [label]: key } as Record<L, string>, value);
      },
    });
  // Read when scraped: the per-transport totals are computed from the traffic records.
  const byTransport = (counts: () => Record<Transport, number>) => () => {
    const now = counts();
    return TRANSPORTS.map((transport): [string, number] => [transport, now[transport]]);
  };
  const withKnown = (counts: Map<string, number>, known: readonly string[]) => () => {
    const all = new Map(known.map((key) => [key, 0]));
    for (const [key, value] of counts) all.set(key, value);
    return all;
  };
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name: `crosswire_${name}`,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });

  new Gauge({
    name: "crosswire_connections",
    help: "Open connections by transport and state (new: not logged in yet; ready: logged in)",
    labelNames: ["transport", "state"],
    registers: [registry],
    collect() {
      const connections = gauges().connections;
      for (const transport of TRANSPORTS) {
        const counts = connections[transport];
        this.set({ transport, state: "new" }, counts.new);
        this.set({ transport, state: "ready" }, counts.ready);
      }
    },
  });
  gauge(
    "parked_sessions",
    "Sessions whose connection dropped, kept for a resume",
    () => gauges().parked,
  );
  gauge("rooms", "Rooms with at least one member on this node", () => gauges().rooms);
  gauge("queued_bytes", "Bytes queued for sending, over every session", () => gauges().queuedBytes);
  new Gauge({
    name: "crosswire_backplane_up",
    help: "1 while the backplane is up, 0 while degraded (this node serves its own clients alone)",
    labelNames: ["backplane"],
    registers: [registry],
    collect() {
      this.reset();
      const status = source.engine.status();
      this.set({ backplane: status.backplane }, status.state === "up" ? 1 : 0);
    },
  });

  totals(
    "connections_opened_total",
    "Connections opened, by transport",
    "transport",
    byTransport(() => counters.connections),
  );
  totals(
    "logins_total",
    "Logins, by how the user was identified (token or anonymous)",
    "method",
    () => Object.entries(counters.logins),
  );
  total("auth_failures_total", "Tokens refused", () => counters.authFailures);
  total("token_refreshes_total", "Tokens replaced on a live connection", () => counters.refreshes);
  totals(
    "messages_received_total",
    "Messages (frames or lines) received, by transport",
    "transport",
    byTransport(() => counters.messagesIn),
  );
  totals(
    "received_bytes_total",
    "Bytes received, by transport",
    "transport",
    byTransport(() => counters.bytesIn),
  );
  totals(
    "messages_sent_total",
    "Messages (frames or lines) queued for sending, by transport",
    "transport",
    byTransport(() => counters.messagesOut),
  );
  totals(
    "sent_bytes_total",
    "Bytes queued for sending, by transport",
    "transport",
    byTransport(() => counters.bytesOut),
  );
  total("room_messages_total", "Room messages published", () => counters.published);
  total("direct_messages_total", "Private messages sent", () => counters.directs);
  totals(
    "errors_total",
    "Error events sent to clients, by code",
    "code",
    withKnown(counters.errors, KNOWN_ERRORS),
  );
  total(
    "rate_limited_total",
    "Messages dropped by the rate limit",
    () => counters.errors.get("rate_limited") ?? 0,
  );
  totals(
    "disconnects_total",
    "Sessions ended, by reason (quit, drop, or the error code that closed them)",
    "reason",
    withKnown(counters.disconnects, KNOWN_DISCONNECTS),
  );
  total(
    "history_reads_total",
    "History reads served (join replays, history requests, resumes)",
    () => counters.historyReads,
  );
  total("history_messages_total", "Messages sent from history", () => counters.historyMessages);
  total("resumes_total", "Sessions resumed", () => counters.resumes);
  total("resume_failures_total", "Resumes refused", () => counters.resumeFailures);
  totals(
    "moderation_actions_total",
    "Moderation actions taken on this node, by kind",
    "action",
    withKnown(counters.moderation, KNOWN_MODERATION),
  );

  // The one value measured as it happens: the engine calls observe() per batch.
  counters.publishLatency = new Histogram({
    name: "crosswire_backplane_publish_seconds",
    help: "Seconds from handing a batch to the backplane to its acknowledgement",
    buckets: PUBLISH_BUCKETS,
    registers: [registry],
  });
  return registry;
}

// relay.gauges() walks the sessions: read it once per scrape, not once per
// gauge. The metrics' collect() calls all run in one synchronous pass, so
// the value is kept until the next microtask.
function oncePerScrape<T>(read: () => T): () => T {
  let value: { current: T } | undefined;
  return () => {
    if (value === undefined) {
      value = { current: read() };
      queueMicrotask(() => value = undefined);
    }
    return value.current;
  };
}
