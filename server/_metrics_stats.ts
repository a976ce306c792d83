// The body of GET /api/stats: the numbers /metrics exposes, as JSON a person
// can read (curl ... | jq), with the counters' Maps turned into objects.

import type { ClusterCounts, HealthReport, RelayCounters, Transport } from "../core/mod.ts";
import type { RelayGauges } from "../core/relay.ts";
import type { MetricsSource } from "./metrics_source.ts";

/** What GET /api/stats answers. */
export interface StatsBody {
  /** This node's id. */
  node: string;
  /** The engine: `memory`, `redis`, ... */
  backplane: string;
  /** The engine's state. */
  state: HealthReport["state"];
  /** Seconds since the app was made. */
  uptimeSeconds: number;
  /** Open connections by transport: `new` before login, `ready` after. */
  connections: RelayGauges["connections"];
  /** Logged-in users with a live connection on this node. */
  users: number;
  /** Rooms with at least one member on this node. */
  rooms: number;
  /** Sessions kept for a client to resume. */
  parked: number;
  /** Bytes queued for sending, over every session. */
  queuedBytes: number;
  /** Counts across the cluster, when the backplane can say. */
  cluster?: ClusterCounts;
  /** The running totals, as `/metrics` shows them. */
  counters: CountersBody;
}

/** {@link RelayCounters} as plain JSON (without the latency histogram; traffic by transport). */
export type CountersBody = {
  [K in Exclude<keyof RelayCounters, "publishLatency" | "traffic">]: RelayCounters[K] extends
    Map<string, number> ? Record<string, number>
    : RelayCounters[K];
};

/** Builds the /api/stats body for `relay`, made `startedAt` (ms since the epoch). */
export async function statsBody(relay: MetricsSource, startedAt: number): Promise<StatsBody> {
  const health = await relay.health();
  const gauges = relay.gauges();
  const c = relay.counters;
  const counters: CountersBody = {
    connections: { ...c.connections },
    logins: { ...c.logins },
    authFailures: c.authFailures,
    refreshes: c.refreshes,
    messagesIn: { ...c.messagesIn },
    bytesIn: { ...c.bytesIn },
    messagesOut: { ...c.messagesOut },
    bytesOut: { ...c.bytesOut },
    published: c.published,
    directs: c.directs,
    errors: Object.fromEntries(c.errors),
    disconnects: Object.fromEntries(c.disconnects),
    historyReads: c.historyReads,
    historyMessages: c.historyMessages,
    resumes: c.resumes,
    resumeFailures: c.resumeFailures,
    moderation: Object.fromEntries(c.moderation),
  };
  const connections = {} as Record<Transport, { new: number; ready: number }>;
  for (const [transport, counts] of Object.entries(gauges.connections)) {
    connections[transport as Transport] = { new: counts.new, ready: counts.ready };
  }
  return {
    node: health.nodeId,
    backplane: health.backplane,
    state: health.state,
    uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
    connections,
    users: health.node.users,
    rooms: gauges.rooms,
    parked: gauges.parked,
    queuedBytes: gauges.queuedBytes,
    ...(health.cluster === undefined ? {} : { cluster: health.cluster }),
    counters,
  };
}
