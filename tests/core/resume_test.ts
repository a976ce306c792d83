// Resume: a dropped JSON session is parked for resumeWindowMs (name kept, rooms
// kept, nobody sees it leave), a new connection that brings its token takes it
// back with what it missed, and it ends for good when the window runs out.
//
// Each test fails when the behaviour it names breaks, for instance:
// - #remove() not parking (or parking after `quit`, or in text mode, or with
//   resumeWindowMs 0) fails the parking tests: `left` is seen, the name is
//   free, stats().parked is wrong;
// - Resumption.#takeBack() not adopting the id, name or rooms, not issuing a
//   new token, or leaving the old one usable fails the resume test; replaying a
//   room without a position, or not replaying `direct`, fails it too;
// - the holds in #takeBack(): without them, on the slow engine, a message said
//   during the resume arrives before its room's replay or twice;
// - Resumption.sweep() not ending an expired session (or ending it before the
//   window) fails the window test; Relay.close() not calling endAll() leaves
//   the names held in the engine;
// - users.mayKeep() not counting parked sessions per address, or park() not
//   stopping at maxParked (maxConnections), fails the matching limit test;
// - decodeRequest() accepting a bad `resume` shape fails the bad_message test;
// - MemoryEngine.unpark() consuming an entry past its window (the sweep's
//   expire() then says "resumed elsewhere" and the session never ends) fails
//   "a resume tried after the window but before the sweep still lets the
//   session end"; re-parking a session whose new connection dropped under a
//   token its client never received fails "a connection that drops while its
//   resume is answered can resume again with the token it has". (Both failed
//   against the first version of core/; both pass since the fixes.)
// Three tests fail today (bugs, see each): "Relay resume on a slow engine:
// nothing comes before the welcome", "Relay resume: a parked session keeps no
// output queued for its dead connection" and "Relay resume: docs/PROTOCOL.md
// lists resume_failed among the error codes".

import assert from "node:assert/strict";
import type { Engine, StreamName } from "../../core/engine.ts";
import { LOBBY, nameKey, type Port, Relay, type RelayOptions } from "../../core/mod.ts";
import {
  assertFields,
  at,
  drain,
  errorOf,
  FakeClient,
  fakeClock,
  ofType,
  type Received,
  said,
  type SlowEngine,
  slowEngine,
  textUser,
} from "../_fakes.ts";

const WINDOW = 60_000;

/** Lets the microtasks queued by a sweep (a parked session ending) run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

function relayWith(options: RelayOptions = {}) {
  const clock = fakeClock();
  const relay = new Relay({
    now: clock.now,
    resumeWindowMs: WINDOW,
    rateMessageBurst: 1000,
    ...options,
  });
  return { relay, clock };
}

interface User {
  client: FakeClient;
  welcome: Received;
}

/** Logs in a WebSocket-style client; keeps its welcome (with `resume` and `direct`). */
function login(relay: Relay, name: string, extra: Record<string, unknown> = {}): User {
  const client = new FakeClient(relay, "frames");
  client.send({ type: "login", name, ...extra });
  const [welcome] = ofType(client.events(), "welcome");
  assert.ok(welcome !== undefined, `login of ${name} failed`);
  return { client, welcome };
}

/** A new connection that sends `resume`; returns it (its events not yet taken). */
function resumer(relay: Relay, request: Record<string, unknown>): FakeClient {
  const client = new FakeClient(relay, "frames");
  drain(client);
  client.send({ type: "resume", ...request });
  return client;
}

/** A client connecting from `address` (FakeClient connects without one). */
function fromAddress(relay: Relay, address: string): FakeClient {
  const proxy = {
    connect: (port: Port) => relay.connect(port, { remoteAddress: address }),
  } as unknown as Relay;
  return new FakeClient(proxy, "frames");
}

/** A new client tries to log in as `name`; returns the error code, or "ok". */
function tryName(relay: Relay, name: string): string {
  const client = new FakeClient(relay, "frames");
  client.send({ type: "login", name });
  const events = client.events();
  const code = ofType(events, "error")[0]?.code as string | undefined;
  client.send({ type: "quit" });
  return code ?? (ofType(events, "welcome").length === 1 ? "ok" : "none");
}

// --- parking ------------------------------------------------------------------------

Deno.test("Relay resume: a dropped JSON session is parked: no left, its name and rooms kept", () => {
  const { relay } = relayWith();
  const ann = login(relay, "ann");
  const bob = login(relay, "bob");
  ann.client.send({ type: "join", room: "games" });
  bob.client.send({ type: "join", room: "games" });
  assert.equal(typeof ann.welcome.resume, "string");
  assert.ok((ann.welcome.resume as string).length >= 32, "a secret, long enough");
  assertFields(ann.welcome.direct, { offset: 0 });
  drain(ann.client, bob.client);
  ann.client.session.disconnect();
  assert.deepEqual(bob.client.events(), [], "nobody sees ann leave");
  assert.deepEqual(relay.stats(), { sessions: 1, users: 1, parked: 1, rooms: 2 });
  assert.equal(tryName(relay, "ANN"), "name_taken");
  bob.client.send({ type: "presence", room: "games" });
  assertFields(bob.client.events()[0], { members: ["ann", "bob"], count: 2 });
  bob.client.send({ type: "direct", to: "ann", text: "are you there?" });
  const copy = bob.client.events();
  assert.deepEqual(copy.map((e) => e.type), ["direct"], "a parked user still receives");
  assert.equal(ann.client.events().length, 0, "but not on the dropped connection");
});

Deno.test("Relay resume: a parked session keeps no output queued for its dead connection", async () => {
  // Nothing drains a dropped connection's queue, yet the parked Session (kept for
  // the whole window) would hold it: up to 4 x maxQueuedBytes per parked session,
  // maxConnectionsPerAddress of them per address. It is let go a microtask later
  // (after a closing transport has written its last notice).
  const { relay } = relayWith();
  const ann = login(relay, "ann");
  const bob = login(relay, "bob");
  for (let i = 0; i < 20; i++) {
    bob.client.send({ type: "publish", room: LOBBY, text: "x".repeat(1000) });
  }
  assert.ok(ann.client.session.outbound.bytes > 20_000, "ann has not read these");
  ann.client.session.disconnect();
  assert.equal(relay.stats().parked, 1);
  await Promise.resolve();
  assert.equal(ann.client.session.outbound.bytes, 0, "the dead connection's output is let go");
});

Deno.test("Relay resume brings the session back: same id, name and rooms, a new token, what it missed", () => {
  const { relay } = relayWith();
  const ann = login(relay, "ann");
  const bob = login(relay, "bob");
  ann.client.send({ type: "join", room: "games" });
  ann.client.send({ type: "join", room: "quiet" });
  bob.client.send({ type: "join", room: "games" });
  drain(ann.client);
  bob.client.send({ type: "publish", room: LOBBY, text: "l1" });
  bob.client.send({ type: "publish", room: "games", text: "g1" });
  bob.client.send({ type: "direct", to: "ann", text: "d1" });
  const seen = ann.client.events();
  assert.deepEqual(said(seen), ["l1", "g1", "d1"]);
  ann.client.session.disconnect();
  bob.client.send({ type: "publish", room: LOBBY, text: "l2" });
  bob.client.send({ type: "publish", room: LOBBY, text: "l3" });
  bob.client.send({ type: "publish", room: "games", text: "g2" });
  bob.client.send({ type: "direct", to: "ann", text: "d2" });
  drain(bob.client);
  const back = resumer(relay, {
    token: ann.welcome.resume,
    rooms: { games: at(seen[1]), lobby: at(seen[0]) },
    direct: at(seen[2]),
    ref: "r1",
  });
  const events = back.events();
  assert.deepEqual(events.map((e) => e.type), [
    "welcome",
    "history",
    "message",
    "message",
    "history",
    "message",
    "history",
    "direct",
  ]);
  const welcome = events[0]!;
  assertFields(welcome, {
    session: ann.welcome.session,
    name: "ann",
    others: 1,
    rooms: [LOBBY, "games", "quiet"],
    reclaim: ann.welcome.reclaim,
    resumed: true,
    ref: "r1",
  });
  assert.equal(typeof welcome.resume, "string");
  assert.notEqual(welcome.resume, ann.welcome.resume, "a new token");
  assertFields(welcome.direct, { offset: 2, epoch: seen[2]!.epoch });
  // In the session's room order, each room named, then the private stream.
  assertFields(events[1], { room: LOBBY, recovered: true, offset: 3, count: 2, ref: "r1" });
  assert.deepEqual(said(events.slice(2, 4)), ["l2", "l3"]);
  assertFields(events[4], { room: "games", recovered: true, offset: 2, count: 1, ref: "r1" });
  assert.deepEqual(said([events[5]!]), ["g2"]);
  assertFields(events[6], { recovered: true, offset: 2, count: 1, ref: "r1" });
  assert.ok(!("room" in events[6]!));
  assert.deepEqual(said([events[7]!]), ["d2"]);
  assertFields(events[7], { offset: 2, epoch: seen[2]!.epoch });
  // The same session, back: nobody saw it go or come, and it is live again.
  assert.deepEqual(bob.client.events(), [], "no joined, no left");
  assert.equal(back.session.id, ann.welcome.session);
  assert.equal(back.session.name, "ann");
  assert.deepEqual([...back.session.rooms], [LOBBY, "games", "quiet"]);
  assert.equal(back.session.currentRoom, "quiet", "the current room is kept too");
  assert.deepEqual(relay.stats(), { sessions: 2, users: 2, parked: 0, rooms: 3 });
  bob.client.send({ type: "publish", room: "games", text: "g3" });
  bob.client.send({ type: "direct", to: "ann", text: "d3" });
  assertFields(ofType(back.events(), "message")[0], { text: "g3", offset: 3 });
  back.send({ type: "publish", room: "games", text: "hi again" });
  assertFields(bob.client.events().at(-1), { from: "ann", text: "hi again" });
  bob.client.send({ type: "presence", room: "games" });
  assertFields(bob.client.events()[0], { members: ["ann", "bob"], count: 2 });
});

Deno.test("Relay resume: the old token now fails, and resume_failed leaves the connection open", () => {
  const { relay } = relayWith();
  const ann = login(relay, "ann");
  ann.client.session.disconnect();
  const back = resumer(relay, { token: ann.welcome.resume });
  const [welcome] = back.events();
  assertFields(welcome, { type: "welcome", resumed: true, rooms: [LOBBY] });
  const again = resumer(relay, { token: ann.welcome.resume, ref: "x" });
  const events = again.events();
  assertFields(errorOf(events), { code: "resume_failed", ref: "x" });
  assert.equal(again.session.state, "new", "still open, for a login");
  assert.deepEqual(again.port.closes, []);
  again.send({ type: "login", name: "cy" });
  assertFields(again.events()[0], { type: "welcome", name: "cy" });
  const unknown = resumer(relay, { token: "0".repeat(64) });
  assertFields(errorOf(unknown.events()), { code: "resume_failed" });
  assert.deepEqual(relay.stats(), { sessions: 3, users: 2, parked: 0, rooms: 1 });
});

Deno.test("Relay resume: rooms without a position get no replay; without direct, no private replay", () => {
  const { relay } = relayWith();
  const ann = login(relay, "ann");
  const bob = login(relay, "bob");
  ann.client.send({ type: "join", room: "games" });
  bob.client.send({ type: "join", room: "games" });
  drain(ann.client);
  bob.client.send({ type: "publish", room: LOBBY, text: "l1" });
  const [l1] = ann.client.events();
  ann.client.session.disconnect();
  bob.client.send({ type: "publish", room: LOBBY, text: "l2" });
  bob.client.send({ type: "publish", room: "games", text: "g1" });
  bob.client.send({ type: "direct", to: "ann", text: "d1" });
  const back = resumer(relay, {
    token: ann.welcome.resume,
    rooms: { lobby: at(l1), elsewhere: { offset: 0, epoch: "x" } },
  });
  const events = back.events();
  assert.deepEqual(events.map((e) => e.type), ["welcome", "history", "message"]);
  assertFields(events[1], { room: LOBBY, count: 1 });
  assert.deepEqual(said(events), ["l2"]);
  assertFields(events[0], { rooms: [LOBBY, "games"] });
  assertFields(events[0]!.direct, { offset: 1 }, "the private stream's position now");
  // Without rooms at all: just the welcome.
  back.session.disconnect();
  const plain = resumer(relay, { token: events[0]!.resume });
  assert.deepEqual(plain.events().map((e) => e.type), ["welcome"]);
});

Deno.test("Relay resume: a position from another epoch replays the latest, not recovered", () => {
  const { relay } = relayWith();
  const ann = login(relay, "ann");
  const bob = login(relay, "bob");
  ann.client.session.disconnect();
  bob.client.send({ type: "publish", room: LOBBY, text: "l1" });
  const back = resumer(relay, {
    token: ann.welcome.resume,
    rooms: { lobby: { offset: 7, epoch: "gone" } },
    direct: { offset: 3, epoch: "gone" },
  });
  const events = back.events();
  assert.deepEqual(events.map((e) => e.type), ["welcome", "history", "message", "history"]);
  assertFields(events[1], { room: LOBBY, recovered: false, count: 1 });
  assertFields(events[3], { recovered: false, count: 0, offset: 0 });
});

Deno.test("Relay resume: a resumed session drops and resumes again with its newest token", () => {
  const { relay } = relayWith();
  const ann = login(relay, "ann", { echo: true });
  const bob = login(relay, "bob");
  ann.client.session.disconnect();
  const first = resumer(relay, { token: ann.welcome.resume });
  const [welcome1] = first.events();
  assert.equal(first.session.echo, true, "echo is kept unless the resume says otherwise");
  first.session.disconnect();
  assert.equal(relay.stats().parked, 1);
  const second = resumer(relay, { token: welcome1!.resume, echo: false });
  const [welcome2] = second.events();
  assertFields(welcome2, { type: "welcome", session: ann.welcome.session, resumed: true });
  assert.equal(second.session.echo, false);
  assert.deepEqual(ofType(bob.client.events(), "left"), []);
  assert.equal(tryName(relay, "ann"), "name_taken");
});

// --- the window ------------------------------------------------------------------------

Deno.test("Relay resume: after resumeWindowMs a parked session ends: left, and its name is free", async () => {
  const { relay, clock } = relayWith();
  const start = clock.now();
  const ann = login(relay, "ann");
  const bob = login(relay, "bob");
  ann.client.send({ type: "join", room: "games" });
  bob.client.send({ type: "join", room: "games" });
  ann.client.send({ type: "direct", to: "bob", text: "bye" });
  ann.client.session.disconnect();
  drain(bob.client);
  clock.set(start + WINDOW - 1);
  relay.sweep();
  await settle();
  assert.deepEqual(bob.client.events(), [], "still within the window");
  assert.equal(relay.stats().parked, 1);
  clock.set(start + WINDOW);
  relay.sweep();
  await settle();
  const left = bob.client.events();
  assert.deepEqual(
    left.map((e) => [e.type, e.room, e.name, e.reason]),
    [["left", LOBBY, "ann", "disconnect"], ["left", "games", "ann", "disconnect"]],
  );
  assert.deepEqual(relay.stats(), { sessions: 1, users: 1, parked: 0, rooms: 2 });
  assert.equal(tryName(relay, "ann"), "ok", "the name is free at once");
  const late = resumer(relay, { token: ann.welcome.resume });
  assertFields(errorOf(late.events()), { code: "resume_failed" });
  // Its private stream is gone with it: a new session of the same name starts afresh.
  const again = login(relay, "ann");
  assertFields(again.welcome.direct, { offset: 0 });
});

Deno.test("Relay resume: a resume tried after the window but before the sweep still lets the session end", async () => {
  // Once a bug: MemoryEngine.unpark() deleted an expired entry before refusing
  // it, so the sweep's expire() answered false ("resumed elsewhere") and the
  // session never ended: it stayed in its rooms and kept its name for good.
  const { relay, clock } = relayWith();
  const start = clock.now();
  const ann = login(relay, "ann");
  const bob = login(relay, "bob");
  ann.client.session.disconnect();
  drain(bob.client);
  clock.set(start + WINDOW + 1);
  const late = resumer(relay, { token: ann.welcome.resume });
  assertFields(errorOf(late.events()), { code: "resume_failed" });
  relay.sweep();
  await settle();
  assert.deepEqual(
    bob.client.events().map((e) => [e.type, e.name, e.reason]),
    [["left", "ann", "disconnect"]],
    "the others see the parked session leave",
  );
  assert.equal(tryName(relay, "ann"), "ok", "and its name is free");
  assert.deepEqual(relay.stats(), { sessions: 2, users: 1, parked: 0, rooms: 1 });
});

Deno.test("Relay resume: quit is never parked", () => {
  const { relay } = relayWith();
  const ann = login(relay, "ann");
  const bob = login(relay, "bob");
  drain(bob.client);
  ann.client.send({ type: "quit" });
  assert.deepEqual(ofType(bob.client.events(), "left").map((e) => e.name), ["ann"]);
  assert.deepEqual(relay.stats(), { sessions: 1, users: 1, parked: 0, rooms: 1 });
  assert.equal(tryName(relay, "ann"), "ok");
  const back = resumer(relay, { token: ann.welcome.resume });
  assertFields(errorOf(back.events()), { code: "resume_failed" });
});

Deno.test("Relay resume: text-mode sessions are never parked and get no token; JSON lines are", () => {
  const { relay } = relayWith();
  const bob = login(relay, "bob");
  const ann = textUser(relay, "ann");
  assert.equal(ann.session.resume, undefined, "no resume token in text mode");
  drain(bob.client);
  ann.session.disconnect();
  assert.deepEqual(ofType(bob.client.events(), "left").map((e) => e.name), ["ann"]);
  assert.equal(relay.stats().parked, 0);
  const cy = new FakeClient(relay, "lines");
  cy.send({ type: "login", name: "cy" });
  const [welcome] = ofType(cy.events(), "welcome");
  assert.equal(typeof welcome!.resume, "string", "a TCP client speaking JSON gets one");
  cy.session.disconnect();
  assert.equal(relay.stats().parked, 1);
  const back = resumer(relay, { token: welcome!.resume });
  assertFields(back.events()[0], { type: "welcome", name: "cy", resumed: true });
});

Deno.test("Relay resume: resumeWindowMs 0 gives no token, parks nothing, and resume fails", () => {
  const { relay } = relayWith({ resumeWindowMs: 0 });
  const ann = login(relay, "ann");
  const bob = login(relay, "bob");
  assert.ok(!("resume" in ann.welcome), JSON.stringify(ann.welcome));
  assertFields(ann.welcome.direct, { offset: 0 }, "positions are still given");
  drain(bob.client);
  ann.client.session.disconnect();
  assert.deepEqual(ofType(bob.client.events(), "left").map((e) => e.name), ["ann"]);
  assert.equal(relay.stats().parked, 0);
  const back = resumer(relay, { token: "anything" });
  assertFields(errorOf(back.events()), { code: "resume_failed" });
});

Deno.test("Relay resume: one address cannot park more sessions than maxConnectionsPerAddress", () => {
  const { relay } = relayWith({ maxConnectionsPerAddress: 2 });
  const bob = login(relay, "bob");
  const connect = (name: string) => {
    const client = fromAddress(relay, "10.0.0.1");
    client.send({ type: "login", name });
    assert.equal(ofType(client.events(), "welcome").length, 1, `login of ${name}`);
    return client;
  };
  const clients = [connect("a1"), connect("a2")];
  assert.equal(fromAddress(relay, "10.0.0.1").session.state, "closed", "two at once at most");
  drain(bob.client);
  clients[0]!.session.disconnect();
  clients[1]!.session.disconnect();
  assert.equal(relay.stats().parked, 2);
  // Parked sessions hold no connection, so the address may connect again...
  const third = connect("a3");
  drain(bob.client);
  // ...but it cannot park a third.
  third.session.disconnect();
  assert.deepEqual(
    ofType(bob.client.events(), "left").map((e) => e.name),
    ["a3"],
    "the third ends as if resume were off",
  );
  assert.equal(relay.stats().parked, 2);
  assert.equal(tryName(relay, "a3"), "ok", "nor is its name kept");
  const other = fromAddress(relay, "10.0.0.2");
  other.send({ type: "login", name: "b1" });
  other.session.disconnect();
  assert.equal(relay.stats().parked, 3, "another address has its own count");
});

Deno.test("Relay resume: no more sessions are parked than maxConnections", () => {
  const { relay } = relayWith({ maxConnections: 3 });
  const connect = (name: string) => login(relay, name).client;
  const [a1, a2, a3] = [connect("a1"), connect("a2"), connect("a3")];
  a1.session.disconnect();
  a2.session.disconnect();
  const [a4, a5] = [connect("a4"), connect("a5")];
  drain(a4, a5);
  a3.session.disconnect();
  assert.equal(relay.stats().parked, 3);
  assert.deepEqual(a5.events(), [], "nobody saw them go");
  a4.session.disconnect();
  assert.deepEqual(
    ofType(a5.events(), "left").map((e) => e.name),
    ["a4"],
    "the fourth ends as if resume were off",
  );
  assert.deepEqual(relay.stats(), { sessions: 1, users: 1, parked: 3, rooms: 1 });
});

Deno.test("Relay.close() ends parked sessions: their names and memberships are freed", () => {
  const { relay } = relayWith();
  const ann = login(relay, "ann");
  const bob = login(relay, "bob");
  ann.client.send({ type: "join", room: "games" });
  ann.client.session.disconnect();
  assert.ok(relay.engine.findName(nameKey("ann")) !== undefined);
  relay.close();
  assert.equal(bob.client.session.state, "closed");
  assert.deepEqual(relay.stats(), { sessions: 0, users: 0, parked: 0, rooms: 0 });
  assert.equal(relay.engine.findName(nameKey("ann")), undefined);
  assert.equal(relay.engine.findName(nameKey("bob")), undefined);
  assert.deepEqual(relay.engine.presence("games", 10), { members: [], count: 0 });
  assert.deepEqual(relay.engine.presence(LOBBY, 10), { members: [], count: 0 });
  const member = { node: relay.engine.node, session: "s", name: "ann" };
  assert.deepEqual(relay.engine.claimName(nameKey("ann"), member, "t"), { ok: true });
  assert.equal(resumer(relay, { token: ann.welcome.resume }).session.state, "closed");
});

// --- requests ----------------------------------------------------------------------------

Deno.test("Relay resume after login is already_logged_in", () => {
  const { relay } = relayWith();
  const ann = login(relay, "ann");
  const bob = login(relay, "bob");
  bob.client.session.disconnect();
  ann.client.send({ type: "resume", token: bob.welcome.resume, ref: "r" });
  assertFields(errorOf(ann.client.events()), { code: "already_logged_in", ref: "r" });
  assert.equal(ann.client.session.name, "ann");
  assert.equal(relay.stats().parked, 1, "bob is still parked for his own client");
});

Deno.test("Relay resume with a bad shape is bad_message", () => {
  const { relay } = relayWith();
  const ann = login(relay, "ann");
  ann.client.session.disconnect();
  const token = ann.welcome.resume;
  const tooMany = Object.fromEntries(
    Array.from({ length: 65 }, (_, i) => [`r${i}`, { offset: 0, epoch: "e" }]),
  );
  const bad: Record<string, unknown>[] = [
    {},
    { token: 42 },
    { token: null },
    { token, rooms: [] },
    { token, rooms: "lobby" },
    { token, rooms: { lobby: { offset: 1 } } },
    { token, rooms: { lobby: { epoch: "e" } } },
    { token, rooms: { lobby: { offset: -1, epoch: "e" } } },
    { token, rooms: { lobby: { offset: 1.5, epoch: "e" } } },
    { token, rooms: { lobby: { offset: "1", epoch: "e" } } },
    { token, rooms: { lobby: null } },
    { token, rooms: tooMany },
    { token, direct: { offset: 1 } },
    { token, direct: "1" },
    { token, echo: "yes" },
  ];
  for (const fields of bad) {
    const client = resumer(relay, { ...fields, ref: "b" });
    assertFields(
      errorOf(client.events()),
      { code: "bad_message", ref: "b" },
      JSON.stringify(fields),
    );
    assert.equal(client.session.state, "new");
  }
  const sixtyFour = Object.fromEntries(
    Array.from({ length: 64 }, (_, i) => [`r${i}`, { offset: 0, epoch: "e" }]),
  );
  const fine = resumer(relay, { token, rooms: sixtyFour });
  assertFields(fine.events()[0], { type: "welcome", resumed: true }, "64 rooms are fine");
});

Deno.test("Relay resume: docs/PROTOCOL.md lists resume_failed among the error codes", () => {
  // BUG (docs): the "Error codes" table omits resume_failed, which the relay
  // sends; the relay fuzz, which accepts only documented codes, fails on it too.
  const doc = Deno.readTextFileSync(new URL("../../docs/PROTOCOL.md", import.meta.url));
  const section = doc.split(/^## /m).find((part) => part.startsWith("Error codes")) ?? "";
  const codes = [...section.matchAll(/^\| `([a-z_]+)` +\|/gm)].map((match) => match[1]);
  assert.ok(codes.includes("already_logged_in"), "the table is where it was");
  assert.ok(codes.includes("resume_failed"), `documented: ${codes.join(", ")}`);
});

// --- a slow engine ---------------------------------------------------------------------------

/** A slow engine that calls a hook right after it takes a read of a matching stream. */
function hookedEngine(): SlowEngine & {
  afterRead(match: (stream: StreamName) => boolean, then: () => void): void;
} {
  const slow = slowEngine();
  const hooks: { match: (stream: StreamName) => boolean; then: () => void }[] = [];
  const engine: Engine = {
    ...slow,
    history: (stream, since, limit) => {
      const read = slow.history(stream, since, limit);
      const index = hooks.findIndex((hook) => hook.match(stream));
      if (index >= 0) hooks.splice(index, 1)[0]!.then();
      return read;
    },
  };
  return Object.assign(engine, {
    settled: () => slow.settled(),
    afterRead(match: (stream: StreamName) => boolean, then: () => void) {
      hooks.push({ match, then });
    },
  });
}

async function slowLogin(relay: Relay, engine: SlowEngine, name: string): Promise<User> {
  const client = new FakeClient(relay, "frames");
  client.send({ type: "login", name });
  await engine.settled();
  const [welcome] = ofType(client.events(), "welcome");
  assert.ok(welcome !== undefined, `login of ${name} failed`);
  return { client, welcome };
}

Deno.test("Relay resume on a slow engine: what is said meanwhile follows each replay, none twice", async () => {
  const engine = hookedEngine();
  const relay = new Relay({ engine, resumeWindowMs: WINDOW, rateMessageBurst: 1000 });
  const ann = await slowLogin(relay, engine, "ann");
  const bob = await slowLogin(relay, engine, "bob");
  ann.client.send({ type: "join", room: "games" });
  bob.client.send({ type: "join", room: "games" });
  await engine.settled();
  drain(ann.client, bob.client);
  const say = (room: string, text: string) => bob.client.send({ type: "publish", room, text });
  const dm = (text: string) => bob.client.send({ type: "direct", to: "ann", text });
  say(LOBBY, "l1");
  say("games", "g1");
  await engine.settled();
  const seen = ann.client.events();
  assert.deepEqual(said(seen), ["l1", "g1"]);
  ann.client.session.disconnect();
  say(LOBBY, "l2");
  dm("d1");
  await engine.settled();
  engine.afterRead((s) => "room" in s && s.room === LOBBY, () => {
    say(LOBBY, "l4"); // after the lobby's read: held, then sent after its replay
    say("games", "g2"); // before the games read: in it, and held
    dm("d2"); // before the private read: in it
  });
  const back = resumer(relay, {
    token: ann.welcome.resume,
    rooms: { lobby: at(seen[0]), games: at(seen[1]) },
    direct: ann.welcome.direct,
  });
  say(LOBBY, "l3"); // before the session is back: only in the replay
  dm("d3"); // likewise
  await engine.settled();
  say("games", "g3");
  const events = back.events();
  assert.deepEqual(events.map((e) => e.type === "history" ? `history ${e.room}` : e.type), [
    "welcome",
    "history lobby",
    "message",
    "message",
    "message",
    "history games",
    "message",
    "history undefined",
    "direct",
    "direct",
    "direct",
    "message",
  ]);
  assert.deepEqual(said(events), ["l2", "l3", "l4", "g2", "d1", "d3", "d2", "g3"]);
  assertFields(events[1], { recovered: true, offset: 3, count: 2 });
  assertFields(events[5], { recovered: true, offset: 2, count: 1 });
  assertFields(events[7], { recovered: true, offset: 3, count: 3 });
  const seenByBob = bob.client.events();
  assert.deepEqual(ofType(seenByBob, "joined").concat(ofType(seenByBob, "left")), []);
});

Deno.test("Relay resume on a slow engine: nothing comes before the welcome", async () => {
  // BUG: #takeBack() puts the new connection among the room members (and
  // behind the name) before the welcome is sent, and holds only the streams it
  // replays: while the engine answers the welcome's questions, live messages of
  // the other rooms and direct messages reach the client before its `welcome`.
  const slow = slowEngine();
  let onCounts: (() => void) | undefined;
  const engine: Engine = {
    ...slow,
    counts: () => {
      const counts = slow.counts();
      const then = onCounts;
      onCounts = undefined;
      then?.();
      return counts;
    },
  };
  const relay = new Relay({ engine, resumeWindowMs: WINDOW });
  const ann = await slowLogin(relay, slow, "ann");
  const bob = await slowLogin(relay, slow, "bob");
  ann.client.session.disconnect();
  onCounts = () => {
    // Asked by the resumed welcome: the session is back, its welcome not yet sent.
    bob.client.send({ type: "publish", room: LOBBY, text: "meanwhile" });
    bob.client.send({ type: "direct", to: "ann", text: "psst" });
  };
  const back = resumer(relay, { token: ann.welcome.resume });
  await slow.settled();
  const events = back.events();
  assert.deepEqual(
    events.map((e) => e.type),
    ["welcome", "message", "direct"],
    JSON.stringify(events.map((e) => [e.type, e.text])),
  );
});

Deno.test("Relay resume on a slow engine: of two connections with one token, exactly one wins", async () => {
  const engine = slowEngine();
  const relay = new Relay({ engine, resumeWindowMs: WINDOW });
  const ann = await slowLogin(relay, engine, "ann");
  ann.client.session.disconnect();
  const first = resumer(relay, { token: ann.welcome.resume });
  const second = resumer(relay, { token: ann.welcome.resume });
  await engine.settled();
  const outcomes = [first, second].map((client) => {
    const events = client.events();
    return events[0]?.type === "welcome" ? "welcome" : String(ofType(events, "error")[0]?.code);
  });
  assert.deepEqual(outcomes.sort(), ["resume_failed", "welcome"]);
  assert.deepEqual(relay.stats(), { sessions: 2, users: 1, parked: 0, rooms: 1 });
});

Deno.test("Relay resume: a connection that drops while its resume is answered can resume again with the token it has", async () => {
  // Once a bug: #takeBack() parked such a session again under a new token that
  // nobody received, the old one spent, so the client could not get back and
  // its name stayed taken for a whole new window.
  const engine = slowEngine();
  const relay = new Relay({ engine, resumeWindowMs: WINDOW });
  const ann = await slowLogin(relay, engine, "ann");
  const bob = await slowLogin(relay, engine, "bob");
  ann.client.session.disconnect();
  const lost = resumer(relay, { token: ann.welcome.resume });
  lost.session.disconnect(); // gone before the engine answered
  await engine.settled();
  assert.equal(relay.stats().parked, 1, "kept again");
  assert.deepEqual(ofType(bob.client.events(), "left"), []);
  const back = resumer(relay, { token: ann.welcome.resume });
  await engine.settled();
  assertFields(back.events()[0], { type: "welcome", resumed: true, name: "ann" });
});
