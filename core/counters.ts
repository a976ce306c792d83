/**
 * What the relay has done since it started, as plain numbers the per-message
 * path bumps without allocating: read them for metrics (the server's
 * `/metrics` turns them into Prometheus counters when scraped).
 *
 * @module
 */

/**
 * How a session reaches the relay: a WebSocket, a TCP stream (text or JSON
 * lines), or an IRC client (on the TCP port or the IRC port).
 *
 * @example
 * ```ts
 * import type { Transport } from "@crosswire/relay";
 * const transports: Transport[] = ["websocket", "tcp", "irc"];
 * if (transports.length !== 3) throw new Error("three transports");
 * ```
 */
export type Transport = "websocket" | "tcp" | "irc";

/**
 * One number per transport.
 *
 * @example
 * ```ts
 * import type { PerTransport } from "@crosswire/relay";
 * const counts: PerTransport = { websocket: 2, tcp: 1, irc: 0 };
 * if (counts.websocket + counts.tcp + counts.irc !== 3) throw new Error("unexpected sum");
 * ```
 */
export type PerTransport = Record<Transport, number>;

function perTransport(): PerTransport {
  return { websocket: 0, tcp: 0, irc: 0 };
}

/**
 * One transport's traffic. A session bumps its transport's record directly,
 * so the per-message path adds to plain fields and looks nothing up.
 *
 * @example
 * ```ts
 * import { Relay, type Traffic } from "@crosswire/relay";
 * const traffic: Traffic = new Relay().counters.traffic.tcp;
 * if (traffic.messagesOut !== 0) throw new Error("nothing sent yet");
 * ```
 */
export interface Traffic {
  /** Messages (frames or lines) received. */
  messagesIn: number;
  /** Bytes received. */
  bytesIn: number;
  /** Messages (frames or lines) the transport took to send. */
  messagesOut: number;
  /** Bytes the transport took to send. */
  bytesOut: number;
}

function traffic(): Traffic {
  return { messagesIn: 0, bytesIn: 0, messagesOut: 0, bytesOut: 0 };
}

function sum(records: Record<Transport, Traffic>, field: keyof Traffic): PerTransport {
  return {
    websocket: records.websocket[field],
    tcp: records.tcp[field],
    irc: records.irc[field],
  };
}

/**
 * Running totals on this node since the relay was made. Every field only grows.
 *
 * @example Counting a login and a message
 * ```ts
 * import { type Port, Relay } from "@crosswire/relay";
 * const port: Port = { framing: "frames", wake: () => {}, close: () => {} };
 * const relay = new Relay();
 * const session = relay.connect(port);
 * session.receiveText('{"type":"login","name":"ann"}');
 * session.receiveText('{"type":"publish","room":"lobby","text":"hi"}');
 * const counters = relay.counters;
 * if (counters.logins.anonymous !== 1 || counters.messagesIn.websocket !== 2) {
 *   throw new Error("unexpected counts");
 * }
 * ```
 */
export class RelayCounters {
  /** Connections opened (sessions made), by transport at the time they were made. */
  readonly connections: PerTransport = perTransport();
  /** Logins, by how the user was identified (a resume is not a login). */
  readonly logins: { token: number; anonymous: number } = { token: 0, anonymous: 0 };
  /** Tokens refused (bad signature, expired, wrong audience...). */
  authFailures = 0;
  /** Tokens replaced on a live connection (`refresh`). */
  refreshes = 0;
  /** Traffic by transport. */
  readonly traffic: Record<Transport, Traffic> = {
    websocket: traffic(),
    tcp: traffic(),
    irc: traffic(),
  };
  /** Messages (frames or lines) received, by transport. */
  get messagesIn(): PerTransport {
    return sum(this.traffic, "messagesIn");
  }
  /** Bytes received, by transport. */
  get bytesIn(): PerTransport {
    return sum(this.traffic, "bytesIn");
  }
  /** Messages (frames or lines) the transport took to send, by transport. */
  get messagesOut(): PerTransport {
    return sum(this.traffic, "messagesOut");
  }
  /** Bytes the transport took to send, by transport. */
  get bytesOut(): PerTransport {
    return sum(this.traffic, "bytesOut");
  }
  /** Room messages published (one per message, however many receive it). */
  published = 0;
  /** Private messages sent. */
  directs = 0;
  /** Error events sent to clients, by code (`rate_limited` counts rate-limit drops). */
  readonly errors: Map<string, number> = new Map();
  /**
   * Sessions ended, by why: `quit`, `drop`, or the error code that closed them
   * (`slow_consumer`, `idle_timeout`, `login_timeout`, `rate_limited`,
   * `kicked`, `banned`, `token_expired`, ...).
   */
  readonly disconnects: Map<string, number> = new Map();
  /** History reads served (replays on join, `history`, resume). */
  historyReads = 0;
  /** Messages sent from history. */
  historyMessages = 0;
  /** Sessions resumed. */
  resumes = 0;
  /** Resumes refused (`resume_failed`). */
  resumeFailures = 0;
  /** Moderation actions taken on this node, by kind (`kick`, `ban`, `mute`, `topic`). */
  readonly moderation: Map<string, number> = new Map();
  /**
   * Told how long each batch the engine sent to the backplane took to be
   * acknowledged, in seconds; a metrics layer puts a histogram here.
   * @default does nothing
   */
  publishLatency: { observe(seconds: number): void } = { observe() {} };
}

/** Adds one to `key`'s count in `counts`. */
export function bump(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}
