// Model-based fuzzing of the relay: random sessions do random things, structured
// or garbage, and after every step the relay must agree with a small model:
// names, rooms, presence and deliveries; sessions that drop are parked, resumed
// and ended when time passes and the relay sweeps; and every stream's positions
// and every replay (`history`, `join` with `since` or `history`, `/history`,
// `/join`, `resume`) are predicted exactly until garbage input makes the
// streams unknowable, after which only their shape is checked.
//
// The model fails the run when the relay breaks what docs/PROTOCOL.md says:
// for instance a replay that is not exactly the kept messages after `since`,
// a position that skips or repeats, a parked session that others see leave,
// one that never ends after its window, or an error code the document omits.

import assert from "node:assert/strict";
import fc from "npm:fast-check@4.10.2";
import { decodeBinaryFrame } from "../../core/binary_frame.ts";
import type { Frame } from "../../core/outgoing.ts";
import { couldMislead } from "../../core/misleading.ts";
import { nameKey } from "../../core/names.ts";
import type { Position } from "../../core/protocol.ts";
import { Relay } from "../../core/relay.ts";
import { cleanText } from "../../core/sanitize.ts";
import type { Port, Session } from "../../core/session.ts";
import { wrapLine } from "../../core/text_render.ts";
import {
  binaryFrameBytes,
  byteStream,
  chunk,
  cutPoints,
  documentedErrorCodes,
  fuzzParams,
  requestJsonText,
  textLine,
} from "./_arbitraries.ts";

// --- pools the model understands ------------------------------------------------

const NAMES = [
  "ann",
  "Ann",
  "ANN",
  "bob",
  " bob ",
  "carl",
  "dave",
  "erin",
  "fay",
  "gus",
  "dåna",
  "da\u030ana", // the same name, decomposed
  "🙂",
  "#hash",
  "y".repeat(32),
  "y".repeat(33),
  "",
  "a b",
  "\x1b[2J",
  "ze\u200bro",
  "hello", // also a text line, so a text user's first "hello" logs in as hello
  "\u0430nn", // Cyrillic a: looks like ann, so it has ann's key
] as const;

const ROOMS = [
  "lobby",
  "games",
  "#games",
  "Games",
  "r1",
  "r2",
  "日本",
  "#lobby",
  "",
  "a b",
  "z".repeat(33),
  "#",
  "\x1b[31mred",
] as const;

const TEXTS = [
  "hello",
  "héllo wörld",
  "🙂 ok",
  "  padded  ",
  "",
  "   ",
  "x".repeat(9000),
  "tab\tand\x1b[31mred",
  "two\nlines",
  "bell\x07\u202eevil",
] as const;

// internal_error is documented but left out on purpose: it means a bug.
const ERROR_CODES: readonly string[] = documentedErrorCodes().filter((c) => c !== "internal_error");

const EVENT_TYPES = new Set([
  "hello",
  "welcome",
  "message",
  "direct",
  "joined",
  "left",
  "renamed",
  "presence",
  "rooms",
  "history",
  "pong",
  "notice",
  "error",
]);

// --- actions -----------------------------------------------------------------

type Mode = "frames" | "text" | "jsonLines";

/** Which position a client sends as `since`, from what it has seen of the stream. */
type SinceKind = "none" | "seen" | "behind" | "ahead" | "zero" | "bogus";

type Action =
  | { kind: "connect"; mode: Mode }
  | { kind: "login"; c: number; name: number; echo: boolean | undefined }
  | { kind: "join"; c: number; room: number; since: SinceKind; history: number | undefined }
  | { kind: "leave"; c: number; room: number }
  | { kind: "publish"; c: number; room: number; text: number; action: boolean }
  | { kind: "direct"; c: number; name: number; text: number }
  | { kind: "nick"; c: number; name: number }
  | { kind: "presence"; c: number; room: number }
  | { kind: "rooms"; c: number }
  | {
    kind: "history";
    c: number;
    room: number | undefined;
    since: SinceKind;
    limit: number | undefined;
  }
  | {
    kind: "resume";
    c: number;
    mode: "frames" | "jsonLines";
    /** A parked session's token (when there is one), any client's, or none at all. */
    token: "parked" | "any" | "bogus";
    rooms: "none" | "seen" | "some" | "bogus";
    direct: boolean;
    echo: boolean | undefined;
  }
  | { kind: "wait"; ms: number }
  | { kind: "quit"; c: number }
  | { kind: "disconnect"; c: number }
  | { kind: "feed"; c: number; bytes: Uint8Array }
  | { kind: "json"; c: number; json: string }
  | { kind: "binary"; c: number; bytes: Uint8Array };

const client = fc.nat({ max: 9 });
// The first fourteen names are valid everywhere; pick from them more often than from the rest.
const name = fc.oneof(fc.nat({ max: 13 }), fc.nat({ max: NAMES.length - 1 }));
const room = fc.oneof(fc.constant(0), fc.nat({ max: ROOMS.length - 1 })); // lobby half the time
const text = fc.nat({ max: TEXTS.length - 1 });
const mode = fc.constantFrom<Mode>("frames", "text", "jsonLines");
const since = fc.constantFrom<SinceKind>(
  "none",
  "seen",
  "seen",
  "behind",
  "ahead",
  "zero",
  "bogus",
);

const garbageLines = fc.array(textLine(), { maxLength: 4 }).map((lines) =>
  new TextEncoder().encode(lines.map((line) => line + "\r\n").join(""))
);

const garbageActions: fc.WeightedArbitrary<Action>[] = [
  {
    arbitrary: fc.record({
      kind: fc.constant("feed"),
      c: client,
      bytes: fc.oneof(byteStream(20), garbageLines),
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({ kind: fc.constant("json"), c: client, json: requestJsonText() }),
    weight: 2,
  },
  {
    arbitrary: fc.record({ kind: fc.constant("binary"), c: client, bytes: binaryFrameBytes() }),
    weight: 1,
  },
];

/**
 * Requests the model follows, weighted; `history` scales the new ones (history,
 * resume, time) and `said` the messages that fill the streams.
 */
function structuredActions(history: number, said: number): fc.WeightedArbitrary<Action>[] {
  return [
    { arbitrary: fc.record({ kind: fc.constant("connect"), mode }), weight: 2 },
    {
      arbitrary: fc.record({
        kind: fc.constant("login"),
        c: client,
        name,
        echo: fc.option(fc.boolean(), { nil: undefined }),
      }),
      weight: 8,
    },
    {
      arbitrary: fc.record({
        kind: fc.constant("join"),
        c: client,
        room,
        since: fc.oneof({ arbitrary: fc.constant<SinceKind>("none"), weight: 3 }, {
          arbitrary: since,
          weight: history,
        }),
        history: fc.option(fc.constantFrom(-1, 0, 1, 2, 5, 200), { nil: undefined, freq: 3 }),
      }),
      weight: 4,
    },
    { arbitrary: fc.record({ kind: fc.constant("leave"), c: client, room }), weight: 2 },
    {
      arbitrary: fc.record({
        kind: fc.constant("publish"),
        c: client,
        room,
        text,
        action: fc.boolean(),
      }),
      weight: 5 * said,
    },
    {
      arbitrary: fc.record({ kind: fc.constant("direct"), c: client, name, text }),
      weight: 2 * said,
    },
    { arbitrary: fc.record({ kind: fc.constant("nick"), c: client, name }), weight: 2 },
    { arbitrary: fc.record({ kind: fc.constant("presence"), c: client, room }), weight: 1 },
    { arbitrary: fc.record({ kind: fc.constant("rooms"), c: client }), weight: 1 },
    {
      arbitrary: fc.record({
        kind: fc.constant("history"),
        c: client,
        room: fc.option(room, { nil: undefined, freq: 4 }), // undefined: the private stream
        since,
        limit: fc.option(fc.constantFrom(-1, 0, 1, 2, 5, 100, 999), { nil: undefined }),
      }),
      weight: history,
    },
    {
      arbitrary: fc.record({
        kind: fc.constant("resume"),
        c: client,
        mode: fc.constantFrom<"frames" | "jsonLines">("frames", "jsonLines"),
        token: fc.constantFrom<"parked" | "any" | "bogus">("parked", "parked", "any", "bogus"),
        rooms: fc.constantFrom<"none" | "seen" | "some" | "bogus">(
          "none",
          "seen",
          "seen",
          "some",
          "bogus",
        ),
        direct: fc.boolean(),
        echo: fc.option(fc.boolean(), { nil: undefined }),
      }),
      weight: history,
    },
    {
      arbitrary: fc.record({
        kind: fc.constant("wait"),
        ms: fc.constantFrom(1_000, 20_000, 59_000, 61_000, 700_000, 3_600_000),
      }),
      weight: history,
    },
    { arbitrary: fc.record({ kind: fc.constant("quit"), c: client }), weight: 1 },
    { arbitrary: fc.record({ kind: fc.constant("disconnect"), c: client }), weight: 2 },
  ];
}

const action: fc.Arbitrary<Action> = fc.oneof(...structuredActions(2, 1), ...garbageActions);
const structured: fc.Arbitrary<Action> = fc.oneof(...structuredActions(4, 3));

const config = fc.record({
  maxLineBytes: fc.constantFrom(64, 16384),
  maxPresenceMembers: fc.constantFrom(2, 200),
  maxRoomsPerSession: fc.constantFrom(3, 32),
  resumeWindowMs: fc.constantFrom(0, 60_000, 300_000),
  historySize: fc.constantFrom(0, 3, 100),
  historyTtlMs: fc.constantFrom(45_000, 600_000, 600_000),
  historyBytes: fc.constantFrom(700, 2 * 1024 * 1024),
  historyTotalBytes: fc.constantFrom(1500, 256 * 1024 * 1024),
  historyOnJoin: fc.constantFrom(0, 2, 10),
});

type Limits = {
  maxLineBytes: number;
  maxPresenceMembers: number;
  maxRoomsPerSession: number;
  resumeWindowMs: number;
  historySize: number;
  historyTtlMs: number;
  historyBytes: number;
  historyTotalBytes: number;
  historyOnJoin: number;
};

type Step = { action: Action; ending: string; cuts: number[] };

type Scenario = {
  config: Limits;
  initial: [Mode, number][];
  actions: Step[];
};

function scenarioOf(actions: fc.Arbitrary<Action>): fc.Arbitrary<Scenario> {
  return fc.record({
    config,
    initial: fc.array(fc.tuple(mode, name), { minLength: 1, maxLength: 5 }),
    actions: fc.array(
      fc.record({
        action: actions,
        ending: fc.constantFrom("\n", "\r\n", "\r"),
        cuts: cutPoints(3),
      }),
      { minLength: 5, maxLength: 60, size: "max" },
    ),
  });
}

// --- the model of history ----------------------------------------------------------

const utf8Length = (text: string) => new TextEncoder().encode(text).length;

/** What a kept message is: enough to recognise it again in a replay. */
interface Said {
  kind: "message" | "direct";
  room?: string;
  from: string;
  to?: string;
  text: string;
  action: boolean;
}

interface KeptMessage {
  offset: number;
  ts: number;
  bytes: number;
  said: Said;
  gone: boolean;
}

class ModelStream {
  /** Learned from the first event seen with it; undefined until then. */
  epoch: string | undefined;
  offset = 0;
  kept: KeptMessage[] = [];
  bytes = 0;
  lastTs = 0;
}

interface ModelRead {
  recovered: boolean;
  stream: ModelStream;
  offset: number;
  events: KeptMessage[];
}

/**
 * The streams as docs/PROTOCOL.md describes them (count, age, bytes per stream,
 * and a total where the oldest anywhere goes first), trimmed when the relay's
 * in-memory history trims: when a stream is written or read, and at a sweep.
 */
class HistoryModel {
  readonly streams = new Map<string, ModelStream>();
  #order: { stream: ModelStream; kept: KeptMessage }[] = [];
  #total = 0;

  constructor(
    readonly limits: { size: number; ttlMs: number; bytes: number; totalBytes: number },
  ) {}

  append(name: string, said: Said, now: number): number {
    coverage.appended++;
    const stream = this.#stream(name, now);
    const offset = ++stream.offset;
    stream.lastTs = now;
    if (this.limits.size > 0) {
      const kept = { offset, ts: now, bytes: 128 + utf8Length(said.text), said, gone: false };
      stream.kept.push(kept);
      stream.bytes += kept.bytes;
      this.#total += kept.bytes;
      this.#order.push({ stream, kept });
      this.#trim(stream, now);
      while (this.#total > this.limits.totalBytes) {
        const oldest = this.#order.find((entry) => !entry.kept.gone);
        assert.ok(oldest !== undefined && oldest.stream.kept[0] === oldest.kept);
        this.#shift(oldest.stream);
      }
      this.#order = this.#order.filter((entry) => !entry.kept.gone);
    }
    return offset;
  }

  read(name: string, since: Position | undefined, limit: number, now: number): ModelRead {
    const stream = this.#stream(name, now);
    this.#trim(stream, now);
    const offset = stream.offset;
    // An epoch the model has not seen is one no client has seen: since cannot be in it.
    if (since !== undefined && stream.epoch !== undefined && since.epoch === stream.epoch) {
      const missed = offset - since.offset;
      const firstKept = stream.kept[0]?.offset ?? offset + 1;
      if (missed >= 0 && missed <= limit && since.offset + 1 >= firstKept) {
        return {
          recovered: true,
          stream,
          offset,
          events: stream.kept.slice(stream.kept.length - missed),
        };
      }
    }
    const events = limit > 0 ? stream.kept.slice(Math.max(0, stream.kept.length - limit)) : [];
    return { recovered: false, stream, offset, events };
  }

  drop(name: string): void {
    const stream = this.streams.get(name);
    if (!stream) return;
    while (stream.kept.length > 0) this.#shift(stream);
    this.streams.delete(name);
  }

  /** Trims every stream; forgets those with nothing kept, quiet for an hour (or the ttl). */
  sweep(now: number): void {
    const quiet = Math.max(this.limits.ttlMs, 3_600_000);
    for (const [name, stream] of this.streams) {
      this.#trim(stream, now);
      if (stream.kept.length === 0 && now - stream.lastTs >= quiet) {
        this.streams.delete(name);
      }
    }
  }

  #stream(name: string, now: number): ModelStream {
    let stream = this.streams.get(name);
    if (!stream) {
      this.streams.set(name, stream = new ModelStream());
      stream.lastTs = now; // a stream first read counts as used then
    }
    return stream;
  }

  #trim(stream: ModelStream, now: number): void {
    const { size, bytes, ttlMs } = this.limits;
    for (
      let first = stream.kept[0];
      first !== undefined &&
      (stream.kept.length > size || stream.bytes > bytes || first.ts <= now - ttlMs);
      first = stream.kept[0]
    ) {
      this.#shift(stream);
    }
  }

  #shift(stream: ModelStream): void {
    const kept = stream.kept.shift()!;
    kept.gone = true;
    stream.bytes -= kept.bytes;
    this.#total -= kept.bytes;
  }
}

// --- the model -----------------------------------------------------------------

function validName(raw: string): string | undefined {
  const normal = raw.normalize("NFC");
  const length = [...normal].length;
  return length >= 1 && length <= 32 && /^[^\p{C}\p{Z}\s]+$/u.test(normal) ? normal : undefined;
}

function validRoom(raw: string): string | undefined {
  return validName(raw.startsWith("#") ? raw.slice(1) : raw);
}

const key = (name: string) => nameKey(name);
// Text mode marks a name that could pass for someone else's (see core/misleading.ts).
const shown = (name: string) => couldMislead(name) ? `${name}(?)` : name;
/** How a replayed text line shows the time: `14:02`, UTC. */
const hhmm = (ts: number) => new Date(ts).toISOString().slice(11, 16);

type Received = Record<string, unknown>;

interface Client {
  index: number;
  framing: "lines" | "frames";
  session: Session;
  inbox: Received[];
  closes: { code: number; reason: string }[];
  /** Once garbage went in, the model stops predicting this client and copies the relay. */
  tainted: boolean;
  /** The connection is open. */
  alive: boolean;
  /** The connection dropped and the session is kept (name, rooms) for a resume. */
  parked: boolean;
  /** When a parked session's window ends. */
  parkedUntil: number;
  json: boolean;
  name: string | undefined;
  rooms: string[];
  current: string | undefined;
  echo: boolean;
  /** The session's id: its private stream is `u:<id>`; a resumed connection takes the parked one's. */
  id: string;
  /** The latest position this client saw per stream: `r:<room>`, or `u` for its private one. */
  seen: Map<string, Position>;
}

/** What the model expects one client to receive in this step. */
interface Expectation {
  to: Client;
  what: string;
  /** JSON: exactly one event this step matches. */
  matches: (event: Received) => boolean;
  /** JSON: the events that must come right after the matched one, in order (a replay). */
  then?: ((event: Received) => boolean)[];
  /** Text mode: the lines expected, in a row (none or empty: nothing to check). */
  lines?: string[];
  /** How many `message` and `direct` events this accounts for. */
  said: number;
}

function saidMatches(said: Said, offset: number): (e: Received) => boolean {
  return (e) =>
    e.type === said.kind && e.from === said.from && e.text === said.text &&
    (e.action === true) === said.action && e.offset === offset &&
    (said.kind === "message" ? e.room === said.room : e.to === said.to);
}

/** A message's text-mode lines: one per line of text, wrapped as a terminal would not. */
function saidLines(said: Said, prefix: string): string[] {
  return said.text.split("\n").flatMap((line) => wrapLine(prefix + line));
}

class World {
  readonly relay: Relay;
  readonly clients: Client[] = [];
  readonly bugs: unknown[] = [];
  /** Malformed frames and bad closes, found by the ports. */
  readonly problems: unknown[] = [];
  readonly limits: Limits;
  readonly history: HistoryModel;
  expectations: Expectation[] = [];
  /**
   * The relay's clock. Each step moves it 10 s on, so the per-session rate limit
   * refills between steps and never drops the model's (or the probe's) requests.
   */
  clock = 1_700_000_000_000;
  /** Whether the step's outcome may include message or direct events the model did not predict. */
  unpredictable = false;
  /**
   * False once input the model cannot follow went in (garbage, or a tainted
   * client's request): from then on positions and replays are not predicted.
   */
  exact = true;
  /** Names kept for users whose connections dropped: key to the clock time the hold ends. */
  holds = new Map<string, number>();

  constructor(limits: Limits) {
    this.limits = limits;
    this.relay = new Relay({
      ...limits,
      // The budget before login has its own tests; here it would only end sessions early.
      maxLoginBytes: 1 << 20,
      // Sweeps here are for parked sessions and history; these timeouts have their own tests.
      loginTimeoutMs: 1e12,
      idleTimeoutMs: 0,
      now: () => this.clock,
      onError: (error) => this.bugs.push(error),
    });
    this.history = new HistoryModel({
      size: limits.historySize,
      ttlMs: limits.historyTtlMs,
      bytes: limits.historyBytes,
      totalBytes: limits.historyTotalBytes,
    });
  }

  connect(mode: Mode): Client {
    const framing = mode === "frames" ? "frames" : "lines";
    const holder: { client?: Client } = {};
    const inbox: Received[] = [];
    const closes: { code: number; reason: string }[] = [];
    const port: Port = {
      framing,
      // Failures here are collected, not thrown: the core would catch them.
      wake: (queue) => {
        const session = holder.client?.session;
        const frames = queue.take();
        try {
          assert.notEqual(session?.state, "closed", "a closed session was sent something");
          for (const frame of frames) {
            inbox.push(...checkFrame(frame, framing, session?.json ?? framing === "frames"));
          }
        } catch (error) {
          this.problems.push(error);
        }
      },
      close: (code, reason) => {
        closes.push({ code, reason });
        if ([1005, 1006, 1015].includes(code)) {
          this.problems.push(new Error(`reserved close code ${code}`));
        }
      },
    };
    const session = this.relay.connect(port);
    const created: Client = {
      index: this.clients.length,
      framing,
      session,
      inbox,
      closes,
      tainted: false,
      alive: true,
      parked: false,
      parkedUntil: 0,
      json: framing === "frames",
      name: undefined,
      rooms: [],
      current: undefined,
      echo: false,
      id: session.id,
      seen: new Map(),
    };
    holder.client = created;
    this.clients.push(created);
    if (mode === "jsonLines") {
      session.feed(new TextEncoder().encode('{"type":"hello"}\n'));
      created.json = true;
    }
    return created;
  }

  /** Open connections. */
  live(): Client[] {
    return this.clients.filter((c) => c.alive);
  }

  /** Sessions the relay has: open ones and parked ones. */
  present(): Client[] {
    return this.clients.filter((c) => c.alive || c.parked);
  }

  holder(rawName: string): Client | undefined {
    const wanted = key(rawName);
    return this.present().find((c) => c.name !== undefined && key(c.name) === wanted);
  }

  /** True when `name` is someone else's (online or parked), or kept for a dropped user. */
  taken(name: string, c: Client): boolean {
    const holder = this.holder(name);
    if (holder !== undefined) return holder !== c;
    return (this.holds.get(key(name)) ?? -Infinity) > this.clock;
  }

  expect(to: Client, what: string, matches: (e: Received) => boolean): void {
    if (to.json) this.expectations.push({ to, what, matches, said: 0 });
  }

  /** Whether `value` is the position `read` says, as far as the model knows it. */
  positionIs(value: unknown, read: ModelRead): boolean {
    if (typeof value !== "object" || value === null) return false;
    const { offset, epoch } = value as Received;
    if (typeof epoch !== "string") return false;
    if (!this.exact) return typeof offset === "number";
    return offset === read.offset &&
      (read.stream.epoch === undefined || epoch === read.stream.epoch);
  }

  // --- effects, as PROTOCOL.md describes them ---

  login(c: Client, raw: string): void {
    if (c.name !== undefined) return; // already_logged_in
    const name = validName(raw);
    if (name === undefined || this.taken(name, c)) return; // name_taken
    c.name = name;
    c.rooms = ["lobby"];
    c.current = "lobby";
    if (c.json) {
      // The welcome carries the private stream's position (and a token when resume is on).
      const read = this.history.read(`u:${c.id}`, undefined, 0, this.clock);
      const resume = this.limits.resumeWindowMs > 0;
      this.expect(
        c,
        `welcome of ${name}`,
        (e) =>
          e.type === "welcome" && e.name === name && e.session === c.id && !("resumed" in e) &&
          (typeof e.resume === "string") === resume && this.positionIs(e.direct, read),
      );
    } else {
      this.replayOnJoin(c, "lobby", undefined, undefined);
    }
  }

  nick(c: Client, raw: string): void {
    const name = validName(raw);
    if (name === undefined || this.taken(name, c)) return;
    c.name = name;
  }

  /** True when `c` is in the room afterwards (it joined, or was in it). */
  join(c: Client, raw: string): boolean {
    const room = validRoom(raw);
    if (room === undefined) return false;
    if (!c.rooms.includes(room)) {
      if (c.rooms.length >= this.limits.maxRoomsPerSession) return false; // too_many_rooms
      c.rooms.push(room);
    }
    c.current = room;
    return true;
  }

  /** A join, then the replay it asks for (`since`, `history`, or text mode's last lines). */
  replayOnJoin(
    c: Client,
    raw: string,
    since: Position | undefined,
    history: number | undefined,
  ): void {
    const room = validRoom(raw);
    if (room === undefined || !this.join(c, raw)) return;
    // Asked for (`since`, or `history` even at 0 or below), the header always comes.
    const asked = since !== undefined || history !== undefined;
    const count = since !== undefined ? 100 : history ?? (c.json ? 0 : this.limits.historyOnJoin);
    if (!asked && (count <= 0 || this.limits.historySize <= 0)) return;
    this.replay(c, room, since, count, !asked);
  }

  /**
   * Reads a stream as the relay does and expects the replay it sends `c`; with
   * `quietIfEmpty` (text mode's lines on a join), nothing when there is nothing.
   */
  replay(
    c: Client,
    room: string | undefined,
    since: Position | undefined,
    limit: number,
    quietIfEmpty = false,
  ): void {
    const stream = room === undefined ? `u:${c.id}` : `r:${room}`;
    const count = Math.min(Math.max(limit, 0), 100, Math.max(this.limits.historySize, 0));
    const read = this.history.read(stream, since, count, this.clock);
    coverage.replays++;
    if (read.recovered) coverage.recovered++;
    if (!this.exact) {
      this.unpredictable = true;
      return;
    }
    const epoch = read.stream.epoch;
    const what = `replay of ${stream} since ${JSON.stringify(since)} (${count})`;
    if (c.json && !(quietIfEmpty && read.events.length === 0)) {
      this.expectations.push({
        to: c,
        what,
        said: read.events.length,
        matches: (e) =>
          e.type === "history" && (room === undefined ? !("room" in e) : e.room === room) &&
          e.recovered === read.recovered && e.offset === read.offset &&
          e.count === read.events.length && typeof e.epoch === "string" &&
          (epoch === undefined || e.epoch === epoch),
        then: read.events.map((kept) => saidMatches(kept.said, kept.offset)),
      });
      return;
    }
    if (c.json) return;
    const n = read.events.length;
    if (room === undefined || (n === 0 && quietIfEmpty)) return;
    if (n === 0) {
      const empty = `-!- [${room}] ${read.recovered ? "nothing missed" : "no messages yet"}`;
      this.expectations.push({ to: c, what, matches: () => false, lines: [empty], said: 0 });
      return;
    }
    const lines = [
      `-!- [${room}] the last ${n === 1 ? "1 message" : `${n} messages`} (times in UTC):`,
      ...read.events.flatMap(({ said, ts }) =>
        saidLines(
          said,
          said.action
            ? `[${room} ${hhmm(ts)}] * ${shown(said.from)} `
            : `[${room} ${hhmm(ts)}] ${shown(said.from)}: `,
        )
      ),
    ];
    this.expectations.push({ to: c, what, matches: () => false, lines, said: 0 });
  }

  leave(c: Client, raw: string): void {
    const room = validRoom(raw);
    if (room === undefined || !c.rooms.includes(room)) return;
    c.rooms = c.rooms.filter((r) => r !== room);
    if (c.current === room) c.current = c.rooms.at(-1);
  }

  publish(c: Client, raw: string, textValue: string, action: boolean): void {
    const room = validRoom(raw);
    if (room === undefined || !c.rooms.includes(room)) return;
    const checked = checkedText(textValue);
    if (checked === undefined) return;
    const from = c.name!;
    const said: Said = { kind: "message", room, from, text: checked, action };
    const offset = this.history.append(`r:${room}`, said, this.clock);
    const exact = this.exact;
    for (const member of this.live()) {
      if (!member.rooms.includes(room) || (member === c && !c.echo)) continue;
      const prefix = action ? `[${room}] * ${shown(from)} ` : `[${room}] ${shown(from)}: `;
      const matches = saidMatches(said, offset);
      this.expectations.push({
        to: member,
        what: `message from ${from} in ${room}`,
        matches: (e) =>
          typeof e.id === "string" && typeof e.ts === "number" &&
          (exact ? matches(e) : matches({ ...e, offset })),
        lines: saidLines(said, prefix),
        said: 1,
      });
    }
  }

  direct(c: Client, rawTo: string, textValue: string): void {
    if ([...rawTo].length > 32) return;
    const target = this.holder(rawTo.normalize("NFC"));
    if (target === undefined) return;
    const checked = checkedText(textValue);
    if (checked === undefined) return;
    const from = c.name!;
    const to = target.name!;
    const said: Said = { kind: "direct", from, to, text: checked, action: false };
    // The recipient's private stream keeps it, and the sender's keeps a copy.
    const copies: [Client, number][] = [[
      target,
      this.history.append(`u:${target.id}`, said, this.clock),
    ]];
    if (target !== c) copies.push([c, this.history.append(`u:${c.id}`, said, this.clock)]);
    const exact = this.exact;
    for (const [member, offset] of copies) {
      if (!member.alive) continue; // parked: it is in the stream for the resume
      const matches = saidMatches(said, offset);
      this.expectations.push({
        to: member,
        what: `direct ${from} -> ${to}`,
        matches: (e) => exact ? matches(e) : matches({ ...e, offset }),
        lines: saidLines(said, `[private ${shown(from)} -> ${shown(to)}] `),
        said: 1,
      });
    }
  }

  /**
   * The connection ends. A dropped JSON session with a resume token is parked:
   * it keeps its name and rooms. Otherwise it ends; a drop keeps its name a while.
   */
  close(c: Client, how: "quit" | "drop" = "drop"): void {
    if (!c.alive) return;
    c.alive = false;
    if (how === "drop" && c.name !== undefined && c.session.resume !== undefined) {
      assert.ok(this.limits.resumeWindowMs > 0, "a resume token only with a resume window");
      c.parked = true;
      c.parkedUntil = this.clock + this.limits.resumeWindowMs;
      coverage.parked++;
      return;
    }
    if (c.name !== undefined && how === "drop") {
      this.holds.set(key(c.name), this.clock + this.relay.limits.nameGraceMs);
    }
    this.end(c);
  }

  /** A session ends for good: out of its rooms, its name free, its private stream gone. */
  end(c: Client): void {
    c.parked = false;
    c.name = undefined;
    c.rooms = [];
    c.current = undefined;
    this.history.drop(`u:${c.id}`);
  }

  /** Time passes and the relay sweeps: history ages, parked sessions past their window end. */
  async wait(ms: number): Promise<void> {
    this.clock += ms;
    this.relay.sweep();
    this.history.sweep(this.clock);
    for (const c of this.clients) {
      if (c.parked && c.parkedUntil <= this.clock) {
        coverage.expired++;
        this.end(c); // the name is free at once: no hold after a window
      }
    }
    // The relay ends them a microtask later, after asking the engine.
    for (let i = 0; i < 5; i++) await Promise.resolve();
  }

  /** A new connection sends `resume` for `target`'s session (or a bogus token). */
  resume(n: Client, target: Client | undefined, request: ResumeRequest): void {
    const ok = target !== undefined && target.parked && target.session.resume === request.token &&
      this.clock < target.parkedUntil;
    if (!ok) {
      this.expect(n, "resume_failed", (e) => e.type === "error" && e.code === "resume_failed");
      return;
    }
    coverage.resumed++;
    n.name = target.name;
    n.rooms = [...target.rooms];
    n.current = target.current;
    n.echo = request.echo ?? target.echo;
    n.id = target.id;
    n.seen = new Map(target.seen);
    target.parked = false;
    target.name = undefined;
    target.rooms = [];
    target.current = undefined;
    const read = this.history.read(`u:${n.id}`, undefined, 0, this.clock);
    const rooms = [...n.rooms];
    this.expect(
      n,
      `resumed welcome of ${n.name}`,
      (e) =>
        e.type === "welcome" && e.resumed === true && e.name === n.name && e.session === n.id &&
        JSON.stringify(e.rooms) === JSON.stringify(rooms) && typeof e.resume === "string" &&
        e.resume !== request.token && this.positionIs(e.direct, read),
    );
    const positions = request.rooms ?? {};
    for (const room of rooms) {
      if (Object.hasOwn(positions, room)) this.replay(n, room, positions[room], 100);
    }
    if (request.direct !== undefined) this.replay(n, undefined, request.direct, 100);
  }

  /** What one text-mode line does (see core/text_commands.ts and PROTOCOL.md). */
  textLine(c: Client, line: string): void {
    if (utf8Length(line) > this.limits.maxLineBytes) return this.close(c); // line_too_long
    const trimmed = line.trim();
    if (trimmed === "") return;
    if (c.name === undefined) {
      if (!trimmed.startsWith("/")) return this.login(c, trimmed);
      const [command, arg] = splitCommand(trimmed);
      if ((command === "nick") && arg !== "") return this.login(c, arg);
      if (command === "quit") return this.close(c, "quit");
      return;
    }
    if (!line.startsWith("/")) {
      if (c.current !== undefined) this.publish(c, c.current, line, false);
      return;
    }
    const [command, arg] = splitCommand(line);
    switch (command) {
      case "nick":
        if (arg !== "") this.nick(c, arg);
        return;
      case "join":
        if (arg !== "") this.replayOnJoin(c, arg, undefined, undefined);
        return;
      case "leave": {
        const target = arg || c.current;
        if (target !== undefined) this.leave(c, target);
        return;
      }
      case "msg": {
        const [to, body] = splitFirst(arg);
        if (to !== "" && body !== "") this.direct(c, to, body);
        return;
      }
      case "me":
        if (arg !== "" && c.current !== undefined) this.publish(c, c.current, arg, true);
        return;
      case "history": {
        if (c.current === undefined || (arg !== "" && !/^\d{1,3}$/.test(arg))) return;
        const limit = arg === "" ? 20 : Math.min(Math.max(Number(arg), 1), 100);
        return this.replay(c, c.current, undefined, limit);
      }
      case "quit":
        return this.close(c, "quit");
    }
  }
}

type ResumeRequest = {
  token: string;
  rooms?: Record<string, Position>;
  direct?: Position;
  echo?: boolean;
};

/** The position `c` sends as `since` for `stream` (`r:<room>` or `u`). */
function sinceFor(c: Client, stream: string, kind: SinceKind): Position | undefined {
  const seen = c.seen.get(stream);
  const unknown = { offset: 0, epoch: "never-seen" };
  switch (kind) {
    case "none":
      return undefined;
    case "seen":
      return seen ?? unknown;
    case "behind":
      return seen ? { offset: Math.max(0, seen.offset - 2), epoch: seen.epoch } : unknown;
    case "ahead":
      return seen ? { offset: seen.offset + 3, epoch: seen.epoch } : unknown;
    case "zero":
      return { offset: 0, epoch: seen?.epoch ?? "never-seen" };
    case "bogus":
      return { offset: seen?.offset ?? 1, epoch: "bogus-epoch" };
  }
}

function splitFirst(rest: string): [string, string] {
  const match = /^(\S+)\s*([\s\S]*)$/.exec(rest);
  return match ? [match[1]!, match[2]!] : ["", ""];
}

function splitCommand(line: string): [string, string] {
  const [command, rest] = splitFirst(line.slice(1));
  return [command.toLowerCase(), rest.trim()];
}

/** The text as relayed, or undefined when the relay must refuse it (empty or too large). */
function checkedText(raw: string): string | undefined {
  const text = cleanText(raw, true);
  if (text.trim() === "" || utf8Length(text) > 8192) return undefined;
  return text;
}

// --- frames ----------------------------------------------------------------------

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

function checkEvent(event: unknown, where: string): Received {
  assert.ok(typeof event === "object" && event !== null && !Array.isArray(event), where);
  const e = event as Received;
  assert.ok(typeof e.type === "string" && EVENT_TYPES.has(e.type), `${where}: type ${e.type}`);
  if (e.type === "error") {
    assert.ok(ERROR_CODES.includes(e.code as string), `${where}: error ${JSON.stringify(e)}`);
  }
  if ("ref" in e) {
    assert.ok(
      typeof e.ref === "string" && e.ref.length <= 64,
      `${where}: ref ${JSON.stringify(e.ref)}`,
    );
  }
  return e;
}

// C0 but CR and LF, DEL, C1, and the bidi overrides.
// deno-lint-ignore no-control-regex -- finding control characters is the point
const TERMINAL_UNSAFE = /[\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;

/** Checks one frame is well-formed for its port and decodes it into events. */
function checkFrame(frame: Frame, framing: "lines" | "frames", json: boolean): Received[] {
  const { data } = frame;
  if (framing === "frames") {
    if (typeof data === "string") {
      assert.equal(frame.bytes, utf8Length(data), "frame.bytes counts UTF-8 bytes");
      return [checkEvent(JSON.parse(data), `text frame ${data.slice(0, 200)}`)];
    }
    const { header, payload } = decodeBinaryFrame(data);
    const event = checkEvent(header, "binary frame header");
    assert.ok(event.type === "message" || event.type === "direct", "binary frames carry files");
    return [{ ...event, payload }];
  }
  assert.ok(typeof data !== "string", "a stream port gets bytes");
  assert.equal(frame.bytes, data.length);
  const textValue = strictUtf8.decode(data);
  if (json) {
    assert.ok(textValue.endsWith("\n") && textValue.indexOf("\n") === textValue.length - 1);
    return [checkEvent(JSON.parse(textValue), `JSON line ${textValue.slice(0, 200)}`)];
  }
  assert.ok(textValue.endsWith("\r\n"), `text lines end with CRLF: ${JSON.stringify(textValue)}`);
  const lines = textValue.slice(0, -2).split("\r\n");
  return lines.map((line) => {
    assert.ok(
      !TERMINAL_UNSAFE.test(line) && !line.includes("\r") && !line.includes("\n"),
      `a text line a terminal would obey: ${JSON.stringify(line)}`,
    );
    const error = /^! ([a-z_]+): /.exec(line);
    if (error) assert.ok(ERROR_CODES.includes(error[1]!), `error line ${line}`);
    return { type: "line", text: line };
  });
}

/** What the campaign exercised; printed with FUZZ_STATS=1 to show the model is not idle. */
const coverage = {
  scenarios: 0,
  steps: 0,
  exactSteps: 0,
  deliveriesChecked: 0,
  presenceProbes: 0,
  maxUsers: 0,
  closes: 0,
  replays: 0,
  recovered: 0,
  replayedMessages: 0,
  appended: 0,
  parked: 0,
  resumed: 0,
  expired: 0,
  events: new Map<string, number>(),
};

// --- running a step --------------------------------------------------------------

async function perform(world: World, step: Step): Promise<void> {
  const { action } = step;
  world.expectations = [];
  world.unpredictable = false;
  world.clock += 10_000;
  const encoder = new TextEncoder();
  if (action.kind === "connect") {
    world.connect(action.mode);
    return;
  }
  if (action.kind === "wait") return await world.wait(action.ms);
  if (action.kind === "resume") {
    // The target is one of the clients so far; the resume comes on a new connection.
    const parked = world.clients.filter((c) => c.parked && c.parkedUntil > world.clock);
    const pool = action.token === "parked" && parked.length > 0 ? parked : world.clients;
    const target = pool[action.c % Math.max(pool.length, 1)];
    const n = world.connect(action.mode);
    const right = action.token === "bogus" ? undefined : target?.session.resume;
    const request: ResumeRequest = { token: right ?? "f".repeat(64) };
    if (action.rooms !== "none") {
      const rooms: Record<string, Position> = {};
      const seen = [...(target?.seen ?? [])].filter(([stream]) => stream.startsWith("r:"));
      if (action.rooms === "bogus") {
        for (const r of target?.rooms ?? ["lobby"]) rooms[r] = { offset: 1, epoch: "bogus-epoch" };
      } else {
        for (const [stream, at] of action.rooms === "some" ? seen.slice(0, 1) : seen) {
          rooms[stream.slice(2)] = at;
        }
        rooms["elsewhere"] = { offset: 0, epoch: "never-seen" }; // not one of its rooms: ignored
      }
      request.rooms = rooms;
    }
    if (action.direct) request.direct = target?.seen.get("u") ?? { offset: 0, epoch: "never-seen" };
    if (action.echo !== undefined) request.echo = action.echo;
    const json = JSON.stringify({ type: "resume", ...request });
    if (n.framing === "frames") n.session.receiveText(json);
    else for (const piece of chunk(encoder.encode(json + "\n"), step.cuts)) n.session.feed(piece);
    world.resume(n, target, request);
    return;
  }
  // Mostly one with an open connection; sometimes any, closed ones too.
  const open = world.live();
  const pool = action.c < 7 && open.length > 0 ? open : world.clients;
  const c = pool[action.c % pool.length];
  if (c === undefined) return;
  const predict = !c.tainted && c.alive;
  if (!predict) world.unpredictable = true;
  // Input from a client the model no longer follows may change any stream.
  const blind = () => {
    if (!predict && c.session.state !== "closed") world.exact = false;
  };
  const sendLine = (line: string) => {
    blind();
    const bytes = encoder.encode(line + step.ending);
    for (const piece of chunk(bytes, step.cuts)) c.session.feed(piece);
    if (predict) world.textLine(c, line);
  };
  const sendJson = (request: Record<string, unknown>, effect: () => void) => {
    blind();
    const json = JSON.stringify(request);
    if (c.framing === "frames") c.session.receiveText(json);
    else for (const piece of chunk(encoder.encode(json + "\n"), step.cuts)) c.session.feed(piece);
    if (predict) effect();
  };
  const ready = () => c.name !== undefined;
  const textMode = !c.json;
  switch (action.kind) {
    case "login": {
      const raw = NAMES[action.name]!;
      if (textMode) {
        if (!ready() && !raw.trim().startsWith("/")) sendLine(raw);
        return;
      }
      const request = action.echo === undefined
        ? { type: "login", name: raw }
        : { type: "login", name: raw, echo: action.echo };
      return sendJson(request, () => {
        if (action.echo !== undefined) c.echo = action.echo;
        world.login(c, raw);
      });
    }
    case "join": {
      const raw = ROOMS[action.room]!;
      if (textMode) return sendLine(`/join ${raw}`);
      const at = sinceFor(c, `r:${validRoom(raw) ?? raw}`, action.since);
      const request = {
        type: "join",
        room: raw,
        ...(at === undefined ? {} : { since: at }),
        ...(action.history === undefined ? {} : { history: action.history }),
      };
      return sendJson(request, () => ready() && world.replayOnJoin(c, raw, at, action.history));
    }
    case "leave": {
      const raw = ROOMS[action.room]!;
      if (textMode) return sendLine(`/leave ${raw}`);
      return sendJson({ type: "leave", room: raw }, () => ready() && world.leave(c, raw));
    }
    case "publish": {
      const raw = ROOMS[action.room]!;
      const body = TEXTS[action.text]!;
      if (textMode) {
        const line = body.replace(/[\r\n]/g, " ");
        return sendLine(action.action ? `/me ${line}` : line.startsWith("/") ? "/" + line : line);
      }
      const request = { type: "publish", room: raw, text: body, action: action.action };
      return sendJson(request, () => ready() && world.publish(c, raw, body, action.action));
    }
    case "direct": {
      const to = NAMES[action.name]!;
      const body = TEXTS[action.text]!;
      if (textMode) return sendLine(`/msg ${to} ${body.replace(/[\r\n]/g, " ")}`);
      return sendJson(
        { type: "direct", to, text: body },
        () => ready() && world.direct(c, to, body),
      );
    }
    case "nick": {
      const raw = NAMES[action.name]!;
      if (textMode) return sendLine(`/nick ${raw}`);
      return sendJson({ type: "nick", name: raw }, () => ready() && world.nick(c, raw));
    }
    case "presence": {
      const raw = ROOMS[action.room]!;
      if (textMode) return sendLine(`/who ${raw}`);
      return sendJson({ type: "presence", room: raw }, () => {});
    }
    case "rooms":
      if (textMode) return sendLine("/rooms");
      return sendJson({ type: "rooms" }, () => {});
    case "history": {
      if (textMode) {
        return sendLine(`/history${action.limit === undefined ? "" : ` ${action.limit}`}`);
      }
      const raw = action.room === undefined ? undefined : ROOMS[action.room]!;
      const stream = raw === undefined ? "u" : `r:${validRoom(raw) ?? raw}`;
      const at = sinceFor(c, stream, action.since);
      const request = {
        type: "history",
        ...(raw === undefined ? {} : { room: raw }),
        ...(at === undefined ? {} : { since: at }),
        ...(action.limit === undefined ? {} : { limit: action.limit }),
      };
      return sendJson(request, () => {
        if (!ready()) return; // not_logged_in
        const room = raw === undefined ? undefined : validRoom(raw);
        if (raw !== undefined && (room === undefined || !c.rooms.includes(room))) return;
        world.replay(c, room, at, action.limit ?? 100);
      });
    }
    case "quit":
      if (textMode) return sendLine("/quit");
      return sendJson({ type: "quit" }, () => world.close(c, "quit"));
    case "disconnect":
      c.session.disconnect();
      world.close(c);
      return;
    case "feed":
    case "json":
    case "binary":
      c.tainted = true;
      world.unpredictable = true;
      world.exact = false;
      if (action.kind === "binary") {
        if (c.framing === "frames") c.session.receiveBinary(action.bytes);
        else c.session.feed(action.bytes);
      } else if (action.kind === "json") {
        if (c.framing === "frames") c.session.receiveText(action.json);
        else c.session.feed(encoder.encode(action.json + "\n"));
      } else {
        if (c.framing === "lines") c.session.feed(action.bytes);
        else c.session.receiveText(new TextDecoder().decode(action.bytes));
      }
      return;
  }
}

/** Copies the relay's view of a client the model no longer predicts. */
function resync(world: World, c: Client): void {
  const s = c.session;
  // A tainted client the relay closed: a drop parks or keeps its name, a quit (1000) does not.
  if (c.alive && s.state === "closed") {
    c.name = s.name;
    c.rooms = [...s.rooms];
    c.current = s.currentRoom;
    c.echo = s.echo;
    world.close(c, c.closes.some((close) => close.code === 1000) ? "quit" : "drop");
  }
  if (!c.alive) return; // a parked session keeps what it had when its connection closed
  c.json = s.json;
  c.echo = s.echo;
  c.name = s.state === "ready" ? s.name : undefined;
  c.rooms = [...s.rooms];
  c.current = s.currentRoom;
  c.id = s.id;
}

/** No bug reported to onError, and no malformed frame or bad close seen by a port. */
function assertHealthy(world: World, label: string): void {
  assert.deepEqual(world.bugs, [], `${label}: the relay reported an internal error`);
  const first = world.problems[0];
  if (first !== undefined) {
    assert.fail(`${label}: ${first instanceof Error ? first.message : String(first)}`);
  }
}

/** The stream an event with a position is about, for client `c`, and the position. */
function positionOf(c: Client, e: Received): [string, string, Position] | undefined {
  const at = (value: unknown): Position | undefined => {
    if (typeof value !== "object" || value === null) return undefined;
    const { offset, epoch } = value as Received;
    return typeof offset === "number" && typeof epoch === "string" ? { offset, epoch } : undefined;
  };
  let position: Position | undefined;
  let room: unknown;
  switch (e.type) {
    case "message":
      position = at(e);
      room = e.room;
      break;
    case "direct":
      position = at(e);
      break;
    case "history":
      position = at(e);
      room = e.room;
      break;
    case "welcome":
      position = at(e.direct);
      break;
    default:
      return undefined;
  }
  if (position === undefined) return undefined;
  if (typeof room === "string") return [`r:${room}`, `r:${room}`, position];
  return [`u:${c.session.id}`, "u", position];
}

/**
 * What every replay looks like, whatever the model knows: `count` messages of
 * the stream right after the header, in its epoch, consecutive, none past the
 * header's offset, ending at it when recovered.
 */
function checkReplays(events: Received[], where: string): void {
  events.forEach((header, i) => {
    if (header.type !== "history") return;
    const count = header.count as number;
    assert.ok(Number.isSafeInteger(count) && count >= 0 && count <= 100, `${where}: count`);
    assert.ok(typeof header.epoch === "string" && Number.isSafeInteger(header.offset), where);
    const replayed = events.slice(i + 1, i + 1 + count);
    assert.equal(replayed.length, count, `${where}: ${count} messages follow the header`);
    replayed.forEach((e, j) => {
      const what = `${where}: replayed ${JSON.stringify(e).slice(0, 200)}`;
      if (header.room === undefined) assert.equal(e.type, "direct", what);
      else assert.ok(e.type === "message" && e.room === header.room, what);
      assert.equal(e.epoch, header.epoch, what);
      const first = replayed[0]!.offset as number;
      assert.equal(e.offset, first + j, `${what}: consecutive`);
      assert.ok((e.offset as number) <= (header.offset as number), `${what}: past the latest`);
    });
    if (header.recovered === true && count > 0) {
      assert.equal(replayed.at(-1)!.offset, header.offset, `${where}: recovered up to the latest`);
    }
    coverage.replayedMessages += count;
  });
}

function checkWorld(world: World, marks: number[], label: string): void {
  assertHealthy(world, label);
  for (const c of world.clients) {
    if (c.tainted) resync(world, c);
    const s = c.session;
    const who = `${label}: client ${c.index}`;
    assert.ok(c.closes.length <= 1, `${who} was closed ${c.closes.length} times`);
    if (!c.alive) {
      assert.equal(s.state, "closed", `${who} should be closed`);
      continue;
    }
    assert.notEqual(s.state, "closed", `${who} should be open`);
    assert.equal(s.json, c.json, `${who} json mode`);
    assert.equal(s.state, c.name === undefined ? "new" : "ready", `${who} state`);
    assert.equal(s.name, c.name, `${who} name`);
    assert.deepEqual([...s.rooms], c.rooms, `${who} rooms`);
    assert.equal(s.currentRoom, c.current, `${who} current room`);
    assert.equal(s.echo, c.echo, `${who} echo`);
    assert.equal(s.id, c.id, `${who} session id`);
  }
  const live = world.live();
  const present = world.present();
  const users = live.filter((c) => c.name !== undefined);
  const members = new Map<string, Client[]>();
  for (const c of present) {
    for (const r of c.rooms) members.set(r, [...(members.get(r) ?? []), c]);
  }
  assert.deepEqual(
    world.relay.stats(),
    {
      sessions: live.length,
      users: users.length,
      parked: present.length - live.length,
      rooms: members.size,
    },
    `${label}: stats`,
  );
  const rooms = [...members].map(([r, list]) => ({ name: r, members: list.length }))
    .sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  assert.deepEqual(world.relay.roomList(), rooms, `${label}: roomList`);
  const keys = present.filter((c) => c.name !== undefined).map((c) => key(c.name!));
  assert.equal(new Set(keys).size, keys.length, `${label}: names not unique: ${keys}`);

  // Deliveries this step.
  const fresh = world.clients.map((c, i) => c.inbox.slice(marks[i] ?? 0));
  coverage.steps++;
  if (world.exact) coverage.exactSteps++;
  coverage.deliveriesChecked += world.expectations.length;
  coverage.maxUsers = Math.max(coverage.maxUsers, users.length);
  for (const e of fresh.flat()) {
    const name = e.type === "error"
      ? `error:${e.code}`
      : e.type === "line"
      ? `line:${String(e.text).slice(0, 1)}`
      : String(e.type);
    coverage.events.set(name, (coverage.events.get(name) ?? 0) + 1);
  }
  fresh.forEach((events, i) => checkReplays(events, `${label}: client ${i}`));
  for (const expectation of world.expectations) {
    const got = fresh[expectation.to.index] ?? [];
    if (!expectation.to.json) {
      const want = expectation.lines ?? [];
      if (want.length === 0) continue;
      const lines = got.map((e) => e.text as string);
      const at = lines.findIndex((_, i) => want.every((line, j) => lines[i + j] === line));
      assert.ok(
        at >= 0,
        `${label}: client ${expectation.to.index} missed ${expectation.what}: ${
          JSON.stringify(want)
        } in ${JSON.stringify(lines)}`,
      );
      continue;
    }
    const matching = got.filter(expectation.matches);
    assert.equal(
      matching.length,
      1,
      `${label}: client ${expectation.to.index} got ${matching.length} of ${expectation.what}: ${
        JSON.stringify(got).slice(0, 3000)
      }`,
    );
    const at = got.indexOf(matching[0]!);
    (expectation.then ?? []).forEach((matches, j) => {
      const e = got[at + 1 + j];
      assert.ok(
        e !== undefined && matches(e),
        `${label}: client ${expectation.to.index}, ${expectation.what}: event ${j} is ${
          JSON.stringify(e)
        }`,
      );
    });
  }
  if (!world.unpredictable) {
    for (const c of world.clients) {
      if (!c.json) continue;
      const said = (fresh[c.index] ?? []).filter((e) =>
        e.type === "message" || e.type === "direct"
      );
      const expected = world.expectations.filter((x) => x.to === c)
        .reduce((sum, x) => sum + x.said, 0);
      assert.equal(
        said.length,
        expected,
        `${label}: client ${c.index} got ${JSON.stringify(said).slice(0, 3000)}`,
      );
    }
  }
  // What each client saw: the epochs the model learns, the positions the client keeps.
  world.clients.forEach((c, i) => {
    for (const e of fresh[i] ?? []) {
      const found = positionOf(c, e);
      if (found === undefined) continue;
      const [stream, seenKey, position] = found;
      if (world.exact) {
        const modelled = world.history.streams.get(stream);
        assert.ok(modelled !== undefined, `${label}: ${stream} is no stream the model knows`);
        modelled.epoch ??= position.epoch;
        assert.equal(position.epoch, modelled.epoch, `${label}: the epoch of ${stream}`);
      }
      const before = c.seen.get(seenKey);
      if (
        before === undefined || before.epoch !== position.epoch || before.offset < position.offset
      ) {
        c.seen.set(seenKey, position);
      }
    }
  });

  // Presence, asked of the relay by a logged-in JSON client, lists exactly each room's members.
  const probe = live.find((c) => c.framing === "frames" && c.name !== undefined);
  if (probe) {
    for (const r of [...members.keys(), "nobody-here"]) {
      coverage.presenceProbes++;
      const before = probe.inbox.length;
      probe.session.receiveText(JSON.stringify({ type: "presence", room: "#" + r, ref: "probe" }));
      const replies = probe.inbox.slice(before);
      assertHealthy(world, `${label}, presence probe of ${r}`);
      assert.equal(replies.length, 1, `${label}: presence ${r}: ${JSON.stringify(replies)}`);
      const reply = replies[0]!;
      const expected = (members.get(r) ?? []).map((c) => c.name!);
      assert.equal(reply.type, "presence");
      assert.equal(reply.room, r);
      assert.equal(reply.ref, "probe");
      assert.equal(reply.count, expected.length, `${label}: presence count of ${r}`);
      const listed = reply.members as string[];
      assert.equal(listed.length, Math.min(expected.length, world.limits.maxPresenceMembers));
      if (listed.length === expected.length) {
        assert.deepEqual([...listed].sort(), [...expected].sort(), `${label}: presence of ${r}`);
      } else {
        for (const n of listed) assert.ok(expected.includes(n), `${label}: ${n} is not in ${r}`);
      }
      assert.equal(new Set(listed).size, listed.length, `${label}: ${r} lists a name twice`);
    }
  }
}

async function runScenario(s: Scenario): Promise<void> {
  coverage.scenarios++;
  const world = new World(s.config);
  for (const [m] of s.initial) world.connect(m);
  checkWorld(world, world.clients.map((c) => c.inbox.length), "after connecting");
  // Each first client tries to log in, then the random part begins.
  const logins = s.initial.map(([, n], c): Step => ({
    action: { kind: "login", c, name: n, echo: undefined },
    ending: "\r\n",
    cuts: [],
  }));
  const steps = [...logins, ...s.actions];
  for (const [i, step] of steps.entries()) {
    const marks = world.clients.map((c) => c.inbox.length);
    const label = `step ${i} ${
      JSON.stringify(step.action, (_, v) => v instanceof Uint8Array ? [...v] : v)
    }`;
    try {
      await perform(world, step);
    } catch (error) {
      assert.fail(
        `${label}: threw out of the core: ${error instanceof Error ? error.stack : error}`,
      );
    }
    checkWorld(world, marks, label);
  }
  // Every connection drops; the parked sessions stay until the relay closes.
  for (const c of world.clients) {
    c.session.disconnect();
    if (c.tainted && c.alive) resync(world, c);
    world.close(c);
  }
  const parked = world.present().length;
  const rooms = new Set(world.present().flatMap((c) => c.rooms)).size;
  assert.deepEqual(world.relay.stats(), { sessions: 0, users: 0, parked, rooms }, "at the end");
  world.relay.close();
  assert.deepEqual(world.relay.stats(), { sessions: 0, users: 0, parked: 0, rooms: 0 });
  assert.deepEqual(await world.relay.engine.counts(), { nodes: 1, users: 0, rooms: 0 });
  assert.deepEqual(world.bugs, []);
  coverage.closes += world.clients.filter((c) => c.closes.length > 0).length;
}

/** Prints what a property exercised with FUZZ_STATS=1, and starts counting afresh. */
function report(): void {
  if (Deno.env.get("FUZZ_STATS") === "1") {
    console.log({ ...coverage, events: Object.fromEntries([...coverage.events].sort()) });
  }
  for (const key of Object.keys(coverage) as (keyof typeof coverage)[]) {
    if (key !== "events") coverage[key] = 0;
  }
  coverage.events.clear();
}

Deno.test("Relay stays consistent with a model under random sessions (fuzz)", async () => {
  await fc.assert(fc.asyncProperty(scenarioOf(action), runScenario), fuzzParams(150, 0.05));
  // Slow-consumer closes are scheduled with queueMicrotask; let any run before the sanitizers look.
  await Promise.resolve();
  report();
});

Deno.test("Relay keeps history, positions and parked sessions as a model does (fuzz)", async () => {
  // No garbage: every stream stays known, so every position and replay is predicted.
  await fc.assert(fc.asyncProperty(scenarioOf(structured), runScenario), fuzzParams(150, 0.05));
  await Promise.resolve();
  report();
});

Deno.test("Relay turns garbage from logged-in users into events or errors, never a throw (fuzz)", async () => {
  // Three users, one per wire shape, logged in, then nothing but hostile input.
  const hostile = fc.record({
    config,
    initial: fc.constant<[Mode, number][]>([["frames", 0], ["text", 3], ["jsonLines", 5]]),
    actions: fc.array(
      fc.record({
        action: fc.oneof(...garbageActions),
        ending: fc.constant("\n"),
        cuts: cutPoints(3),
      }),
      { minLength: 1, maxLength: 10 },
    ),
  });
  await fc.assert(fc.asyncProperty(hostile, runScenario), fuzzParams(200, 0.05));
  await Promise.resolve();
});
