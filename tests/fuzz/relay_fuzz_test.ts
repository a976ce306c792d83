// Model-based fuzzing of the relay: random sessions do random things, structured
// or garbage, and after every step the relay must agree with a small model.

import assert from "node:assert/strict";
import fc from "fast-check";
import { decodeBinaryFrame } from "../../core/binary_frame.ts";
import type { Frame } from "../../core/outgoing.ts";
import { couldMislead } from "../../core/misleading.ts";
import { nameKey } from "../../core/names.ts";
import { Relay } from "../../core/relay.ts";
import { cleanText } from "../../core/sanitize.ts";
import type { Port, Session } from "../../core/session.ts";
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
  "pong",
  "notice",
  "error",
]);

// --- actions -----------------------------------------------------------------

type Mode = "frames" | "text" | "jsonLines";

type Action =
  | { kind: "connect"; mode: Mode }
  | { kind: "login"; c: number; name: number; echo: boolean | undefined }
  | { kind: "join"; c: number; room: number }
  | { kind: "leave"; c: number; room: number }
  | { kind: "publish"; c: number; room: number; text: number; action: boolean }
  | { kind: "direct"; c: number; name: number; text: number }
  | { kind: "nick"; c: number; name: number }
  | { kind: "presence"; c: number; room: number }
  | { kind: "rooms"; c: number }
  | { kind: "quit"; c: number }
  | { kind: "disconnect"; c: number }
  | { kind: "feed"; c: number; bytes: Uint8Array }
  | { kind: "json"; c: number; json: string }
  | { kind: "binary"; c: number; bytes: Uint8Array };

const client = fc.nat({ max: 9 });
// The first ten names are valid everywhere; pick from them more often than from the rest.
const name = fc.oneof(fc.nat({ max: 9 }), fc.nat({ max: NAMES.length - 1 }));
const room = fc.oneof(fc.constant(0), fc.nat({ max: ROOMS.length - 1 })); // lobby half the time
const text = fc.nat({ max: TEXTS.length - 1 });
const mode = fc.constantFrom<Mode>("frames", "text", "jsonLines");

const garbageLines = fc.array(textLine(), { maxLength: 4 }).map((lines) =>
  new TextEncoder().encode(lines.map((line) => line + "\r\n").join(""))
);

const action: fc.Arbitrary<Action> = fc.oneof(
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
  { arbitrary: fc.record({ kind: fc.constant("join"), c: client, room }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant("leave"), c: client, room }), weight: 2 },
  {
    arbitrary: fc.record({
      kind: fc.constant("publish"),
      c: client,
      room,
      text,
      action: fc.boolean(),
    }),
    weight: 4,
  },
  { arbitrary: fc.record({ kind: fc.constant("direct"), c: client, name, text }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant("nick"), c: client, name }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant("presence"), c: client, room }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant("rooms"), c: client }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant("quit"), c: client }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant("disconnect"), c: client }), weight: 1 },
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
);

const config = fc.record({
  maxLineBytes: fc.constantFrom(64, 16384),
  maxPresenceMembers: fc.constantFrom(2, 200),
  maxRoomsPerSession: fc.constantFrom(3, 32),
});

const scenario = fc.record({
  config,
  initial: fc.array(fc.tuple(mode, name), { minLength: 1, maxLength: 4 }),
  actions: fc.array(
    fc.record({ action, ending: fc.constantFrom("\n", "\r\n", "\r"), cuts: cutPoints(3) }),
    {
      minLength: 5,
      maxLength: 60,
      size: "max",
    },
  ),
});

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
const utf8Length = (text: string) => new TextEncoder().encode(text).length;

type Received = Record<string, unknown>;

interface Client {
  index: number;
  framing: "lines" | "frames";
  session: Session;
  inbox: Received[];
  closes: { code: number; reason: string }[];
  /** Once garbage went in, the model stops predicting this client and copies the relay. */
  tainted: boolean;
  alive: boolean;
  json: boolean;
  name: string | undefined;
  rooms: string[];
  current: string | undefined;
  echo: boolean;
}

/** A delivery the model expects in this step: who, and a predicate on one event. */
interface Expectation {
  to: Client;
  what: string;
  matches: (event: Received) => boolean;
  /** For text-mode receivers: the lines expected, in a row. */
  lines?: string[];
}

class World {
  readonly relay: Relay;
  readonly clients: Client[] = [];
  readonly bugs: unknown[] = [];
  /** Malformed frames and bad closes, found by the ports. */
  readonly problems: unknown[] = [];
  readonly limits: { maxLineBytes: number; maxPresenceMembers: number; maxRoomsPerSession: number };
  expectations: Expectation[] = [];
  /**
   * The relay's clock. Each step moves it 10 s on, so the per-session rate limit
   * refills between steps and never drops the model's (or the probe's) requests.
   */
  clock = 1_700_000_000_000;
  /** Whether the step's outcome may include message or direct events the model did not predict. */
  unpredictable = false;
  /** Names kept for users whose connections dropped: key to the clock time the hold ends. */
  holds = new Map<string, number>();

  constructor(limits: World["limits"]) {
    this.limits = limits;
    this.relay = new Relay({
      ...limits,
      // The budget before login has its own tests; here it would only end sessions early.
      maxLoginBytes: 1 << 20,
      now: () => this.clock,
      onError: (error) => this.bugs.push(error),
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
      json: framing === "frames",
      name: undefined,
      rooms: [],
      current: undefined,
      echo: false,
    };
    holder.client = created;
    this.clients.push(created);
    if (mode === "jsonLines") {
      session.feed(new TextEncoder().encode('{"type":"hello"}\n'));
      created.json = true;
    }
    return created;
  }

  live(): Client[] {
    return this.clients.filter((c) => c.alive);
  }

  holder(rawName: string): Client | undefined {
    const wanted = key(rawName);
    return this.live().find((c) => c.name !== undefined && key(c.name) === wanted);
  }

  /** True when `name` is online as someone other than `c`, or kept for a dropped user. */
  taken(name: string, c: Client): boolean {
    const holder = this.holder(name);
    if (holder !== undefined) return holder !== c;
    return (this.holds.get(key(name)) ?? -Infinity) > this.clock;
  }

  // --- effects, as PROTOCOL.md describes them ---

  login(c: Client, raw: string): void {
    if (c.name !== undefined) return; // already_logged_in
    const name = validName(raw);
    if (name === undefined || this.taken(name, c)) return; // name_taken
    c.name = name;
    c.rooms = ["lobby"];
    c.current = "lobby";
  }

  nick(c: Client, raw: string): void {
    const name = validName(raw);
    if (name === undefined || this.taken(name, c)) return;
    c.name = name;
  }

  join(c: Client, raw: string): void {
    const room = validRoom(raw);
    if (room === undefined) return;
    if (!c.rooms.includes(room)) {
      if (c.rooms.length >= this.limits.maxRoomsPerSession) return; // too_many_rooms
      c.rooms.push(room);
    }
    c.current = room;
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
    for (const member of this.live()) {
      if (!member.rooms.includes(room) || (member === c && !c.echo)) continue;
      const prefix = action ? `[${room}] * ${shown(from)} ` : `[${room}] ${shown(from)}: `;
      this.expectations.push({
        to: member,
        what: `message from ${from} in ${room}`,
        matches: (e) =>
          e.type === "message" && e.room === room && e.from === from && e.text === checked &&
          (e.action === true) === action && typeof e.id === "string" && typeof e.ts === "number",
        lines: checked.split("\n").map((line) => prefix + line),
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
    for (const member of new Set([target, c])) {
      this.expectations.push({
        to: member,
        what: `direct ${from} -> ${to}`,
        matches: (e) => e.type === "direct" && e.from === from && e.to === to && e.text === checked,
        lines: checked.split("\n").map((line) =>
          `[private ${shown(from)} -> ${shown(to)}] ${line}`
        ),
      });
    }
  }

  /** The connection ends; a name that dropped (not a quit) is kept for a while. */
  close(c: Client, how: "quit" | "drop" = "drop"): void {
    if (c.alive && c.name !== undefined && how === "drop") {
      this.holds.set(key(c.name), this.clock + this.relay.limits.nameGraceMs);
    }
    c.alive = false;
    c.rooms = [];
    c.current = undefined;
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
        if (arg !== "") this.join(c, arg);
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
      case "quit":
        return this.close(c, "quit");
    }
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
  deliveriesChecked: 0,
  presenceProbes: 0,
  maxUsers: 0,
  closes: 0,
  events: new Map<string, number>(),
};

// --- running a step --------------------------------------------------------------

function perform(world: World, step: Scenario["actions"][number]): void {
  const { action } = step;
  world.expectations = [];
  world.unpredictable = false;
  world.clock += 10_000;
  if (action.kind === "connect") {
    world.connect(action.mode);
    return;
  }
  const c = world.clients[action.c % world.clients.length];
  if (c === undefined) return;
  const predict = !c.tainted && c.alive;
  if (!predict) world.unpredictable = true;
  const encoder = new TextEncoder();
  const sendLine = (line: string) => {
    const bytes = encoder.encode(line + step.ending);
    for (const piece of chunk(bytes, step.cuts)) c.session.feed(piece);
    if (predict) world.textLine(c, line);
  };
  const sendJson = (request: Record<string, unknown>, effect: () => void) => {
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
      return sendJson({ type: "join", room: raw }, () => ready() && world.join(c, raw));
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

type Scenario = {
  config: World["limits"];
  initial: [Mode, number][];
  actions: { action: Action; ending: string; cuts: number[] }[];
};

/** Copies the relay's view of a client the model no longer predicts. */
function resync(world: World, c: Client): void {
  const s = c.session;
  // A tainted client the relay closed: a drop keeps its name, a quit (1000) does not.
  if (c.alive && s.state === "closed") {
    c.name = s.name;
    world.close(c, c.closes.some((close) => close.code === 1000) ? "quit" : "drop");
  }
  c.alive = s.state !== "closed";
  c.json = s.json;
  c.echo = s.echo;
  c.name = c.alive && s.state === "ready" ? s.name : undefined;
  c.rooms = c.alive ? [...s.rooms] : [];
  c.current = c.alive ? s.currentRoom : undefined;
}

/** No bug reported to onError, and no malformed frame or bad close seen by a port. */
function assertHealthy(world: World, label: string): void {
  assert.deepEqual(world.bugs, [], `${label}: the relay reported an internal error`);
  const first = world.problems[0];
  if (first !== undefined) {
    assert.fail(`${label}: ${first instanceof Error ? first.message : String(first)}`);
  }
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
  }
  const live = world.live();
  const users = live.filter((c) => c.name !== undefined);
  const members = new Map<string, Client[]>();
  for (const c of live) {
    for (const r of c.rooms) members.set(r, [...(members.get(r) ?? []), c]);
  }
  assert.deepEqual(
    world.relay.stats(),
    { sessions: live.length, users: users.length, rooms: members.size },
    `${label}: stats`,
  );
  const rooms = [...members].map(([r, list]) => ({ name: r, members: list.length }))
    .sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  assert.deepEqual(world.relay.roomList(), rooms, `${label}: roomList`);
  const keys = users.map((c) => key(c.name!));
  assert.equal(new Set(keys).size, keys.length, `${label}: names not unique: ${keys}`);

  // Deliveries this step.
  const fresh = world.clients.map((c, i) => c.inbox.slice(marks[i] ?? 0));
  coverage.steps++;
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
  for (const expectation of world.expectations) {
    const got = fresh[expectation.to.index] ?? [];
    if (!expectation.to.json) {
      const lines = got.map((e) => e.text as string);
      const want = expectation.lines ?? [];
      const at = lines.findIndex((_, i) => want.every((line, j) => lines[i + j] === line));
      assert.ok(at >= 0, `${label}: client ${expectation.to.index} missed ${expectation.what}`);
      continue;
    }
    const matching = got.filter(expectation.matches);
    assert.equal(
      matching.length,
      1,
      `${label}: client ${expectation.to.index} got ${matching.length} of ${expectation.what}: ${
        JSON.stringify(got)
      }`,
    );
  }
  if (!world.unpredictable) {
    for (const c of world.clients) {
      if (!c.json) continue;
      const said = (fresh[c.index] ?? []).filter((e) =>
        e.type === "message" || e.type === "direct"
      );
      const expected = world.expectations.filter((x) => x.to === c).length;
      assert.equal(
        said.length,
        expected,
        `${label}: client ${c.index} got ${JSON.stringify(said)}`,
      );
    }
  }

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

function runScenario(s: Scenario): void {
  coverage.scenarios++;
  const world = new World(s.config);
  for (const [m] of s.initial) world.connect(m);
  checkWorld(world, world.clients.map((c) => c.inbox.length), "after connecting");
  // Each first client tries to log in, then the random part begins.
  const logins = s.initial.map(([, n], c): Scenario["actions"][number] => ({
    action: { kind: "login", c, name: n, echo: undefined },
    ending: "\r\n",
    cuts: [],
  }));
  [...logins, ...s.actions].forEach((step, i) => {
    const marks = world.clients.map((c) => c.inbox.length);
    const label = `step ${i} ${
      JSON.stringify(step.action, (_, v) => v instanceof Uint8Array ? [...v] : v)
    }`;
    try {
      perform(world, step);
    } catch (error) {
      assert.fail(
        `${label}: threw out of the core: ${error instanceof Error ? error.stack : error}`,
      );
    }
    checkWorld(world, marks, label);
  });
  // Everyone leaves; the relay must end empty.
  for (const c of world.clients) c.session.disconnect();
  assert.deepEqual(world.relay.stats(), { sessions: 0, users: 0, rooms: 0 });
  assert.deepEqual(world.bugs, []);
  coverage.closes += world.clients.filter((c) => c.closes.length > 0).length;
}

Deno.test("Relay stays consistent with a model under random sessions (fuzz)", async () => {
  fc.assert(fc.property(scenario, runScenario), fuzzParams(150, 0.05));
  // Slow-consumer closes are scheduled with queueMicrotask; let any run before the sanitizers look.
  await Promise.resolve();
  if (Deno.env.get("FUZZ_STATS") === "1") {
    console.log({ ...coverage, events: Object.fromEntries([...coverage.events].sort()) });
  }
});

const garbage: fc.Arbitrary<Action> = fc.oneof(
  fc.record({
    kind: fc.constant("feed"),
    c: client,
    bytes: fc.oneof(byteStream(20), garbageLines),
  }),
  fc.record({ kind: fc.constant("json"), c: client, json: requestJsonText() }),
  fc.record({ kind: fc.constant("binary"), c: client, bytes: binaryFrameBytes() }),
);

Deno.test("Relay turns garbage from logged-in users into events or errors, never a throw (fuzz)", () => {
  // Three users, one per wire shape, logged in, then nothing but hostile input.
  const hostile = fc.record({
    config,
    initial: fc.constant<[Mode, number][]>([["frames", 0], ["text", 3], ["jsonLines", 5]]),
    actions: fc.array(
      fc.record({ action: garbage, ending: fc.constant("\n"), cuts: cutPoints(3) }),
      { minLength: 1, maxLength: 10 },
    ),
  });
  fc.assert(fc.property(hostile, runScenario), fuzzParams(200, 0.05));
});
