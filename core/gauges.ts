// What a node holds right now, counted when asked (for metrics), never kept up
// to date on the per-message path.

import type { Transport } from "./counters.ts";
import type { Session, SessionState } from "./session.ts";

/**
 * What this node holds right now, for metrics.
 *
 * @example
 * ```ts
 * import { type Port, Relay, type RelayGauges } from "@crosswire/relay";
 * const port: Port = { framing: "lines", wake: () => {}, close: () => {} };
 * const relay = new Relay();
 * relay.connect(port);
 * const gauges: RelayGauges = relay.gauges();
 * if (gauges.connections.tcp.new !== 1) throw new Error("one TCP connection, not logged in");
 * ```
 */
export interface RelayGauges {
  /** Open connections by transport and state (`new`: not logged in yet; `ready`: logged in). */
  connections: Record<Transport, Record<Exclude<SessionState, "closed">, number>>;
  /** Sessions kept for a resume. */
  parked: number;
  /** Rooms with a member on this node. */
  rooms: number;
  /** Bytes waiting in every session's outbound queue. */
  queuedBytes: number;
}

/** Counts `sessions` by transport and state, and their queued bytes. */
export function measure(sessions: Iterable<Session>, parked: number, rooms: number): RelayGauges {
  const connections = {
    websocket: { new: 0, ready: 0 },
    tcp: { new: 0, ready: 0 },
    irc: { new: 0, ready: 0 },
  };
  let queuedBytes = 0;
  for (const session of sessions) {
    const state = session.state;
    if (state !== "closed") connections[session.transport][state]++;
    queuedBytes += session.outbound.bytes;
  }
  return { connections, parked, rooms, queuedBytes };
}
