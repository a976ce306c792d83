// An EngineHost for engine tests that records what an engine tells its relay
// (rulings, deliveries, state changes, publish times), with the rules a test
// gives for each room's history size.

import type {
  EngineHost,
  EngineStatus,
  Envelope,
  HistoryLimits,
  MessageEvent,
  Recorded,
  Ruling,
} from "../core/mod.ts";

/** A host that keeps everything it is told, in order. */
export interface RecordingHost extends EngineHost {
  /** Rulings the engine handed on, in order. */
  readonly rulings: Ruling[];
  /** Envelopes delivered, in order. */
  readonly delivered: Envelope[];
  /** Engine states told, in order. */
  readonly states: EngineStatus["state"][];
  /** Publish round trips told, in seconds. */
  readonly publishes: number[];
  /** Everything, in one order: `ruled:<kind>`, `state:<state>`. */
  readonly log: string[];
}

/** Options for {@link recordingHost}. */
export interface RecordingHostOptions {
  /** Messages each named room keeps; other rooms keep the default. */
  sizes?: Record<string, number>;
  /** What the relay's options say each stream keeps. */
  history?: HistoryLimits;
  /** Called after a state change is recorded (a test may act while degraded). */
  onChange?: (status: EngineStatus) => void;
}

/** A host recording what it is told. */
export function recordingHost(options: RecordingHostOptions = {}): RecordingHost {
  const host: RecordingHost = {
    rulings: [],
    delivered: [],
    states: [],
    publishes: [],
    log: [],
    ...(options.history ? { history: options.history } : {}),
    deliver: (envelope) => host.delivered.push(envelope),
    changed: (status) => {
      host.states.push(status.state);
      host.log.push(`state:${status.state}`);
      options.onChange?.(status);
    },
    resumedElsewhere: () => {},
    nameLost: () => {},
    ruled: (ruling) => {
      host.rulings.push(ruling);
      host.log.push(`ruled:${ruling.kind}`);
    },
    historySize: (room) => options.sizes?.[room],
    published: (seconds) => host.publishes.push(seconds),
  };
  return host;
}

let ids = 0;

/** A room message to record, from `from`. */
export function said(room: string, text: string, from = "ann"): Recorded {
  const event: MessageEvent = { type: "message", id: `t-${++ids}`, ts: 0, room, from, text };
  return { to: "room", room, event };
}

/** A ban of `name` for `ms` from now (in the past when negative: a lift). */
export function ban(name: string, ms: number, by = "op"): Extract<Ruling, { kind: "ban" }> {
  return { kind: "ban", target: { name }, until: Date.now() + ms, by, reason: "spam" };
}
