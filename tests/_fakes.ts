// Plain-object fakes for the core's unit tests: a Port that records what the
// relay asks of it, and clients that drain their session's queue on demand.

import assert from "node:assert/strict";
import {
  decodeBinaryFrame,
  type Engine,
  type Frame,
  type Identity,
  MemoryEngine,
  type OutboundQueue,
  type Port,
  Relay,
  RelayError,
  type RelayOptions,
  type Session,
} from "../core/mod.ts";

/** A JSON object the relay sent, as the client would parse it. */
export type Received = Record<string, unknown>;

/** A Port that records wakes and closes and never drains by itself. */
export interface FakePort extends Port {
  /** How many times the queue went from empty to non-empty. */
  wakes: number;
  /** The queue the relay last woke us for. */
  queue: OutboundQueue | undefined;
  /** Every close the relay asked for, in order. */
  closes: { code: number; reason: string }[];
}

/** Makes a {@link FakePort} for `framing`. */
export function fakePort(framing: "lines" | "frames"): FakePort {
  const port: FakePort = {
    framing,
    wakes: 0,
    queue: undefined,
    closes: [],
    wake(queue) {
      port.wakes++;
      port.queue = queue;
    },
    close(code, reason) {
      port.closes.push({ code, reason });
    },
  };
  return port;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** One connection: its session, its port, and every frame drained so far. */
export class FakeClient {
  readonly session: Session;
  readonly port: FakePort;
  /** Every frame taken from the queue, oldest first (kept for identity checks). */
  readonly frames: Frame[] = [];

  constructor(relay: Relay, framing: "lines" | "frames") {
    this.port = fakePort(framing);
    this.session = relay.connect(this.port);
  }

  /** Takes whatever is queued now and returns just those frames. */
  take(): Frame[] {
    const taken = this.session.outbound.take();
    this.frames.push(...taken);
    return taken;
  }

  /**
   * Drains the queue and decodes it: JSON text frames and JSON lines are parsed;
   * binary frames become `{ type: "binary", header, payload }`; text-mode lines
   * (and any line that is not JSON) become `{ type: "line", text }`.
   */
  events(): Received[] {
    const out: Received[] = [];
    for (const frame of this.take()) {
      if (typeof frame.data === "string") {
        out.push(JSON.parse(frame.data));
      } else if (this.port.framing === "frames") {
        const { header, payload } = decodeBinaryFrame(frame.data);
        out.push({ type: "binary", header, payload });
      } else {
        for (const line of decoder.decode(frame.data).split(/\r?\n/)) {
          if (line === "") continue;
          out.push(parseLine(line));
        }
      }
    }
    return out;
  }

  /** Drains the queue and returns the text-mode lines (every event's `text` joined). */
  lines(): string[] {
    return this.events().map((event) => {
      assert.equal(event.type, "line", `expected a text line, got ${JSON.stringify(event)}`);
      return event.text as string;
    });
  }

  /** Feeds text over lines framing. */
  type(text: string): void {
    this.session.feed(encoder.encode(text));
  }

  /** Sends one JSON message: a frame, or a line when the port is a byte stream. */
  send(message: Record<string, unknown>): void {
    if (this.port.framing === "frames") this.session.receiveText(JSON.stringify(message));
    else this.type(JSON.stringify(message) + "\n");
  }
}

function parseLine(line: string): Received {
  if (line.startsWith("{")) {
    try {
      return JSON.parse(line);
    } catch {
      // fall through: a text line that happens to start with a brace
    }
  }
  return { type: "line", text: line };
}

/** Connects a WebSocket-style (frames) client, logs it in as `name` and drains its queue. */
export function jsonUser(
  relay: Relay,
  name: string,
  extra: Record<string, unknown> = {},
): FakeClient {
  const client = new FakeClient(relay, "frames");
  client.send({ type: "login", name, ...extra });
  const events = client.events();
  assert.ok(
    events.some((event) => event.type === "welcome"),
    `login of ${name} failed: ${JSON.stringify(events)}`,
  );
  return client;
}

/** Connects a TCP text-mode client, logs it in as `name` and drains its queue. */
export function textUser(relay: Relay, name: string): FakeClient {
  const client = new FakeClient(relay, "lines");
  client.type(name + "\r\n");
  const lines = client.lines();
  assert.ok(
    lines.some((line) => line.startsWith(`-!- Welcome, ${name}!`)),
    `login of ${name} failed: ${JSON.stringify(lines)}`,
  );
  return client;
}

/** Connects a TCP client that switches to JSON lines and logs in as `name`. */
export function jsonLineUser(relay: Relay, name: string): FakeClient {
  const client = new FakeClient(relay, "lines");
  client.send({ type: "login", name });
  const events = client.events();
  assert.ok(
    events.some((event) => event.type === "welcome"),
    `login of ${name} failed: ${JSON.stringify(events)}`,
  );
  return client;
}

/** Asserts that `actual` has each of `expected`'s fields, deep-equal. */
export function assertFields(actual: unknown, expected: Received, message?: string): void {
  assert.ok(typeof actual === "object" && actual !== null, `not an object: ${String(actual)}`);
  const subset: Received = {};
  for (const key of Object.keys(expected)) subset[key] = (actual as Received)[key];
  assert.deepEqual(subset, expected, message);
}

/** The events of `type`, in order. */
export function ofType(events: Received[], type: string): Received[] {
  return events.filter((event) => event.type === type);
}

/** A fixed clock that tests can move. */
export function fakeClock(start = 1_700_000_000_000): { now: () => number; set(t: number): void } {
  let time = start;
  return {
    now: () => time,
    set(t) {
      time = t;
    },
  };
}

/** Runs `work` and returns the code of the RelayError it throws; fails if it throws nothing else. */
export function codeOf(work: () => unknown): string {
  try {
    work();
  } catch (error) {
    assert.ok(error instanceof RelayError, `not a RelayError: ${String(error)}`);
    return error.code;
  }
  assert.fail("expected a RelayError");
}

/** An engine whose questions are answered a macrotask later, as a remote store's would be. */
export interface SlowEngine extends Engine {
  /** Resolves once every question asked so far (and any asked meanwhile) is answered. */
  settled(): Promise<void>;
}

/**
 * Wraps a {@link MemoryEngine}: changes happen at once, in call order (as a
 * pipelined connection would apply them), but every answer arrives later.
 */
export function slowEngine(): SlowEngine {
  const memory = new MemoryEngine();
  let pending = 0;
  const idle: (() => void)[] = [];
  const later = <T>(value: T): Promise<T> => {
    pending++;
    return new Promise<T>((resolve) =>
      setTimeout(() => {
        resolve(value);
        if (--pending === 0) setTimeout(() => idle.splice(0).forEach((wake) => wake()), 0);
      }, 0)
    );
  };
  return {
    node: memory.node,
    start: (host) => memory.start(host),
    close: () => memory.close(),
    status: () => memory.status(),
    counts: () => later(memory.counts()),
    subscribe: (room) => memory.subscribe(room),
    unsubscribe: (room) => memory.unsubscribe(room),
    publish: () => {},
    claimName: (key, member, token) => later(memory.claimName(key, member, token)),
    releaseName: (key, session, hold) => memory.releaseName(key, session, hold),
    findName: (key) => later(memory.findName(key)),
    join: (room, member, limit) => later(memory.join(room, member, limit)),
    leave: (room, session) => later(memory.leave(room, session)),
    rename: (room, session, name) => memory.rename(room, session, name),
    presence: (room, limit) => later(memory.presence(room, limit)),
    rooms: (limit, after) => later(memory.rooms(limit, after)),
    record: (envelope) => memory.record(envelope),
    history: (stream, since, limit) => later(memory.history(stream, since, limit)),
    dropStream: (session) => memory.dropStream(session),
    sweep: (now) => memory.sweep(now),
    park: (token, parked, ms) => memory.park(token, parked, ms),
    unpark: (token) => later(memory.unpark(token)),
    expire: (token) => later(memory.expire(token)),
    rule: (ruling) => memory.rule(ruling),
    rulings: () => later(memory.rulings()),
    settled: async () => {
      while (pending > 0) await new Promise<void>((resolve) => idle.push(resolve));
    },
  };
}

/** Takes (and drops) whatever each client has queued. */
export function drain(...clients: FakeClient[]): void {
  for (const client of clients) client.take();
}

/** The one error among `events`; fails when there is not exactly one. */
export function errorOf(events: Received[]): Received {
  const errors = ofType(events, "error");
  assert.equal(errors.length, 1, `expected one error in ${JSON.stringify(events)}`);
  return errors[0]!;
}

/** The texts of the `message` and `direct` events, in order. */
export function said(events: Received[]): unknown[] {
  return events.filter((e) => e.type === "message" || e.type === "direct").map((e) => e.text);
}

/** The position a message event carries. */
export function at(event: Received | undefined): { offset: number; epoch: string } {
  return { offset: event!.offset as number, epoch: event!.epoch as string };
}

/**
 * A relay whose tokens are the keys of `identities` (a stand-in verifier: a
 * missing key is a bad signature), with a clock the test moves.
 */
export function relayWithTokens(
  identities: Record<string, Partial<Identity>>,
  options: RelayOptions = {},
): { relay: Relay; clock: { now: () => number; set(t: number): void } } {
  const clock = fakeClock();
  const relay = new Relay({
    now: clock.now,
    authenticate: (token) => {
      const found = identities[token];
      if (found === undefined) {
        return Promise.reject(
          new RelayError("auth_failed", "the token's signature does not verify"),
        );
      }
      const subject = found.subject ?? token;
      return Promise.resolve({
        subject,
        name: found.name ?? subject,
        admin: found.admin ?? false,
        expires: found.expires ?? clock.now() + 3_600_000,
        ...(found.rooms === undefined ? {} : { rooms: found.rooms }),
      });
    },
    ...options,
  });
  return { relay, clock };
}
