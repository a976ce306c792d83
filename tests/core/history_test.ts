// Relay history: `history` requests, `join` with `since` or `history`, the seam
// between a replay and live messages, text mode's /history and /join, and the
// byte rate a replay costs.
//
// Each test fails when the behaviour it names breaks, for instance:
// - `history` answering for a room the user is not in (memberRoom() skipped in
//   relay.ts) fails "not_in_room"; a private stream replayed with a `room`, or
//   read from the wrong session, fails the private-stream test;
// - Replays.send() sending the header's `offset`/`epoch` from anything but the
//   read's latest position, or a wrong `count`, fails every replay assertion;
// - the hold: without `session.hold(room)` in #join / Replays.send, or without
//   the `seen` filter in Session.replay(), the slowEngine tests see a live
//   message before the replay (a gap at the seam) or twice (a duplicate);
// - `join` sending a history event without `since`/`history` (JSON) fails
//   "no history event"; text mode not replaying `historyOnJoin` lines, or
//   rendering them without `[room HH:MM]` (UTC) after a `-!-` header, fails
//   the text tests; `/history N` not limited to N fails its test;
// - historySize 0 dropping positions (append() skipping the offset) or still
//   replaying fails its test;
// - `session.charge(...)` removed from Replays.send() lets the requester's next
//   request through: the rate test fails; a replay not cut to what fits in
//   half of maxQueuedBytes (or still claiming recovered when cut) fails the
//   queue test.

import assert from "node:assert/strict";
import type { Engine } from "../../core/engine.ts";
import { encodeBinaryFrame, LOBBY, Relay, type RelayOptions } from "../../core/mod.ts";
import {
  assertFields,
  at,
  drain,
  errorOf,
  FakeClient,
  fakeClock,
  jsonLineUser,
  jsonUser,
  ofType,
  type Received,
  said,
  type SlowEngine,
  slowEngine,
  textUser,
} from "../_fakes.ts";

/** 2023-11-14T22:13:20Z: replayed text lines show 22:13. */
const START = 1_700_000_000_000;

function relayWith(options: RelayOptions = {}) {
  const clock = fakeClock(START);
  const relay = new Relay({ now: clock.now, rateMessageBurst: 1000, ...options });
  return { relay, clock };
}

/** Says each text in `room` as `client`; returns nothing (the others receive them). */
function say(client: FakeClient, room: string, ...texts: string[]): void {
  for (const text of texts) client.send({ type: "publish", room, text });
}

// --- history requests --------------------------------------------------------------

Deno.test("Relay history replays the room's latest messages with positions, oldest first", () => {
  const { relay } = relayWith();
  const ann = jsonUser(relay, "ann");
  const bob = jsonUser(relay, "bob");
  drain(ann);
  say(bob, LOBBY, "one", "two", "three");
  const live = ann.events();
  assert.deepEqual(said(live), ["one", "two", "three"]);
  const epoch = live[0]!.epoch as string;
  assert.deepEqual(live.map((e) => e.offset), [1, 2, 3]);
  ann.send({ type: "history", room: LOBBY, limit: 2, ref: "h1" });
  const events = ann.events();
  assert.equal(events.length, 3, JSON.stringify(events));
  assert.deepEqual(events[0], {
    type: "history",
    room: LOBBY,
    recovered: false,
    epoch,
    offset: 3,
    count: 2,
    ref: "h1",
  });
  assert.deepEqual(events.slice(1), live.slice(1), "the very events said, positions and all");
  assert.equal(events[1]!.ref, undefined, "messages carry no ref");
  assert.deepEqual(bob.events(), [], "only the requester hears it");
});

Deno.test("Relay history with since gives exactly the missed, recovered; #room works too", () => {
  const { relay } = relayWith();
  const ann = jsonUser(relay, "ann");
  const bob = jsonUser(relay, "bob");
  drain(ann);
  say(bob, LOBBY, "1", "2", "3", "4");
  const live = ann.events();
  ann.send({ type: "history", room: "#lobby", since: at(live[1]) });
  const events = ann.events();
  assertFields(events[0], { type: "history", room: LOBBY, recovered: true, offset: 4, count: 2 });
  assert.deepEqual(said(events), ["3", "4"]);
  ann.send({ type: "history", room: LOBBY, since: at(live[3]) });
  assert.deepEqual(ann.events(), [{
    type: "history",
    room: LOBBY,
    recovered: true,
    epoch: live[0]!.epoch,
    offset: 4,
    count: 0,
  }]);
  ann.send({ type: "history", room: LOBBY, since: { offset: 2, epoch: "elsewhere" }, limit: 1 });
  const other = ann.events();
  assertFields(other[0], { recovered: false, count: 1, offset: 4, epoch: live[0]!.epoch });
  assert.deepEqual(said(other), ["4"]);
});

Deno.test("Relay history limit: 100 by default and at most, 0 or less is none", () => {
  const { relay } = relayWith({ historySize: 150 });
  const ann = jsonUser(relay, "ann");
  const bob = jsonUser(relay, "bob");
  for (let i = 1; i <= 120; i++) say(bob, LOBBY, `m${i}`);
  drain(ann);
  ann.send({ type: "history", room: LOBBY });
  const all = ann.events();
  assertFields(all[0], { count: 100, offset: 120, recovered: false });
  assert.deepEqual(
    all.slice(1).map((e) => e.offset),
    Array.from({ length: 100 }, (_, i) => i + 21),
  );
  ann.send({ type: "history", room: LOBBY, limit: 500 });
  assertFields(ann.events()[0], { count: 100 });
  ann.send({ type: "history", room: LOBBY, limit: 0 });
  assert.deepEqual(ann.events().map((e) => [e.type, e.count]), [["history", 0]]);
  ann.send({ type: "history", room: LOBBY, limit: -5 });
  assert.deepEqual(ann.events().map((e) => [e.type, e.count]), [["history", 0]]);
  ann.send({ type: "history", room: LOBBY, since: { offset: 10, epoch: all[1]!.epoch } });
  const missed = ann.events();
  assertFields(missed[0], { recovered: false, count: 100 }, "110 missed: more than 100");
  assert.equal(missed[1]!.offset, 21);
});

Deno.test("Relay history of a room you are not in is not_in_room; a bad room is room_invalid", () => {
  const { relay } = relayWith();
  const ann = jsonUser(relay, "ann");
  const bob = jsonUser(relay, "bob");
  bob.send({ type: "join", room: "games" });
  say(bob, "games", "secret");
  drain(ann);
  ann.send({ type: "history", room: "games", ref: "h" });
  const events = ann.events();
  assertFields(errorOf(events), { code: "not_in_room", ref: "h" });
  assert.equal(events.length, 1, "nothing of the room leaks");
  ann.send({ type: "history", room: "a b" });
  assertFields(errorOf(ann.events()), { code: "room_invalid" });
  const pending = new FakeClient(relay, "frames");
  drain(pending);
  pending.send({ type: "history", room: LOBBY });
  assertFields(errorOf(pending.events()), { code: "not_logged_in" });
});

Deno.test("Relay history without a room replays your private stream, received and sent", () => {
  const { relay } = relayWith();
  const annWelcome: Received[] = [];
  const ann = new FakeClient(relay, "frames");
  ann.send({ type: "login", name: "ann" });
  annWelcome.push(...ofType(ann.events(), "welcome"));
  const start = annWelcome[0]!.direct as { offset: number; epoch: string };
  assert.equal(start.offset, 0, "welcome carries the private stream's position at login");
  const bob = jsonUser(relay, "bob");
  const cy = jsonUser(relay, "cy");
  drain(ann, bob, cy);
  bob.send({ type: "direct", to: "ann", text: "hi ann" });
  ann.send({ type: "direct", to: "cy", text: "hi cy" });
  cy.send({ type: "direct", to: "ann", text: "from cy" });
  const live = ann.events();
  assert.deepEqual(said(live), ["hi ann", "hi cy", "from cy"]);
  assert.deepEqual(live.map((e) => [e.offset, e.epoch]), [1, 2, 3].map((o) => [o, start.epoch]));
  ann.send({ type: "history", ref: "p" });
  const events = ann.events();
  assert.deepEqual(events[0], {
    type: "history",
    recovered: false,
    epoch: start.epoch,
    offset: 3,
    count: 3,
    ref: "p",
  });
  assert.ok(!("room" in events[0]!), "no room for the private stream");
  assert.deepEqual(events.slice(1), live);
  ann.send({ type: "history", since: start });
  const since = ann.events();
  assertFields(since[0], { recovered: true, count: 3 });
  assert.deepEqual(said(since), ["hi ann", "hi cy", "from cy"]);
  drain(bob);
  bob.send({ type: "history" });
  const bobs = bob.events();
  assertFields(bobs[0], { count: 1, offset: 1 });
  assert.notEqual(bobs[0]!.epoch, start.epoch, "each session has its own stream");
  assert.deepEqual(said(bobs), ["hi ann"]);
});

Deno.test("Relay history replays a file as a binary frame to WebSocket users, a notice in text mode", () => {
  const { relay } = relayWith();
  const ann = jsonUser(relay, "ann");
  const bob = jsonUser(relay, "bob");
  drain(ann);
  const payload = new Uint8Array([1, 2, 3]);
  bob.session.receiveBinary(
    encodeBinaryFrame({ room: LOBBY, file: { name: "a.bin", type: "text/plain" } }, payload),
  );
  const [live] = ann.events();
  assert.equal(live!.type, "binary");
  ann.send({ type: "history", room: LOBBY });
  const [header, replayed] = ann.events();
  assertFields(header, { type: "history", count: 1 });
  assert.equal(replayed!.type, "binary");
  assertFields((replayed as { header: Received }).header, {
    type: "message",
    offset: 1,
    file: { name: "a.bin", type: "text/plain", size: 3 },
  });
  assert.deepEqual((replayed as { payload: Uint8Array }).payload, payload);
  const text = textUser(relay, "cy");
  text.type("/history\r\n");
  assert.deepEqual(text.lines(), [
    "-!- [lobby] the last 1 message (times in UTC):",
    '-!- [lobby 22:13] bob shared a file: "a.bin" (3 B, text/plain)',
  ]);
});

Deno.test("Relay history fills at most half of maxQueuedBytes; what does not fit is not recovered", () => {
  const { relay } = relayWith({ maxQueuedBytes: 20_000 });
  const ann = jsonUser(relay, "ann");
  const bob = jsonUser(relay, "bob");
  drain(ann);
  say(bob, LOBBY, ..."12345".split("").map((n) => n.repeat(3000)));
  const live = ann.events(); // read: the queue is empty again
  const start = { offset: 0, epoch: live[0]!.epoch as string };
  ann.send({ type: "history", room: LOBBY, since: start });
  const events = ann.events();
  assertFields(events[0], { type: "history", recovered: false, offset: 5 });
  const count = events[0]!.count as number;
  assert.ok(count >= 1 && count < 5, `${count} of 5 fit in 10 kB`);
  assert.deepEqual(
    events.slice(1).map((e) => e.offset),
    Array.from({ length: count }, (_, i) => 6 - count + i),
    "the latest that fit",
  );
  // With the queue already holding most of the budget, fewer fit.
  say(bob, LOBBY, "6".repeat(3000), "7".repeat(3000), "8".repeat(3000));
  ann.send({ type: "history", room: LOBBY, since: start });
  const behind = ofType(ann.events(), "history")[0]!;
  assert.ok((behind.count as number) < count, `${behind.count} behind ${count}`);
  assertFields(behind, { recovered: false });
  assert.equal(ann.session.state, "ready", "never a slow consumer for a replay");
  // When everything fits, the same request is recovered.
  ann.send({ type: "history", room: LOBBY, since: { offset: 7, epoch: start.epoch } });
  assertFields(ofType(ann.events(), "history")[0], { recovered: true, count: 1 });
});

// --- join with since or history ------------------------------------------------------

Deno.test("Relay join with since replays exactly the missed, then live ones with no gap", () => {
  const { relay } = relayWith();
  const ann = jsonUser(relay, "ann");
  const bob = jsonUser(relay, "bob");
  ann.send({ type: "join", room: "games" });
  bob.send({ type: "join", room: "games" });
  say(bob, "games", "g1");
  const seen = ofType(ann.events(), "message");
  ann.send({ type: "leave", room: "games" });
  say(bob, "games", "g2", "g3");
  drain(ann, bob);
  ann.send({ type: "join", room: "games", since: at(seen[0]), ref: "j" });
  say(bob, "games", "g4");
  const events = ann.events();
  assert.deepEqual(events.map((e) => e.type), [
    "joined",
    "presence",
    "history",
    "message",
    "message",
    "message",
  ]);
  assertFields(events[2], { room: "games", recovered: true, offset: 3, count: 2, ref: "j" });
  assert.deepEqual(said(events), ["g2", "g3", "g4"]);
  assert.deepEqual(events.slice(3).map((e) => e.offset), [2, 3, 4]);
  assert.deepEqual(ofType(bob.events(), "joined").map((e) => e.name), ["ann"]);
});

Deno.test("Relay join with since of a room you are in still replays; others see no join", () => {
  const { relay } = relayWith();
  const ann = jsonUser(relay, "ann");
  const bob = jsonUser(relay, "bob");
  drain(ann);
  say(bob, LOBBY, "1", "2", "3");
  const live = ann.events();
  drain(bob);
  ann.send({ type: "join", room: LOBBY, since: at(live[0]) });
  const events = ann.events();
  assert.deepEqual(events.map((e) => e.type), ["presence", "history", "message", "message"]);
  assertFields(events[1], { recovered: true, count: 2 });
  assert.deepEqual(said(events), ["2", "3"]);
  assert.deepEqual(bob.events(), []);
});

Deno.test("Relay join with history: N gives the latest N, not recovered", () => {
  const { relay } = relayWith();
  const ann = jsonUser(relay, "ann");
  const bob = jsonUser(relay, "bob");
  bob.send({ type: "join", room: "games" });
  say(bob, "games", "1", "2", "3", "4");
  drain(ann);
  ann.send({ type: "join", room: "games", history: 3 });
  const events = ann.events();
  assert.deepEqual(events.map((e) => e.type).slice(0, 3), ["joined", "presence", "history"]);
  assertFields(events[2], { room: "games", recovered: false, offset: 4, count: 3 });
  assert.deepEqual(said(events), ["2", "3", "4"]);
  bob.send({ type: "join", room: "empty", history: 5 });
  const empty = ofType(bob.events(), "history");
  assertFields(empty[0], { room: "empty", recovered: false, offset: 0, count: 0 });
});

Deno.test("Relay JSON join without since or history sends no history event; history: 0 the header alone", () => {
  const { relay } = relayWith();
  const ann = jsonUser(relay, "ann");
  const bob = jsonUser(relay, "bob");
  bob.send({ type: "join", room: "games" });
  say(bob, "games", "1", "2");
  drain(ann);
  ann.send({ type: "join", room: "games" });
  assert.deepEqual(ann.events().map((e) => e.type), ["joined", "presence"]);
  ann.send({ type: "leave", room: "games" });
  drain(ann);
  ann.send({ type: "join", room: "games", history: 0 });
  const events = ann.events();
  assert.deepEqual(events.map((e) => e.type), ["joined", "presence", "history"]);
  assertFields(events[2], { room: "games", recovered: false, offset: 2, count: 0 });
  const cy = new FakeClient(relay, "frames");
  cy.send({ type: "login", name: "cy" });
  assert.deepEqual(
    cy.events().map((e) => e.type),
    ["hello", "welcome", "joined", "presence"],
    "JSON login: no lobby replay",
  );
});

Deno.test("Relay join with since fails as join does: nothing is replayed", () => {
  const { relay } = relayWith({ maxRoomsPerSession: 1 });
  const ann = jsonUser(relay, "ann");
  drain(ann);
  ann.send({ type: "join", room: "games", since: { offset: 0, epoch: "x" }, ref: "j" });
  const events = ann.events();
  assert.deepEqual(events.map((e) => e.type), ["error"]);
  assertFields(events[0], { code: "too_many_rooms", ref: "j" });
  const bob = jsonUser(relay, "bob");
  say(bob, LOBBY, "after");
  assert.deepEqual(said(ann.events()), ["after"], "nothing stays held after the failure");
});

// --- the seam with a slow engine -----------------------------------------------------

/** A slow engine whose next history read calls `then` right after it is taken. */
function hookedEngine(): SlowEngine & { afterRead(then: () => void): void } {
  const slow = slowEngine();
  let hook: (() => void) | undefined;
  const engine: Engine = {
    ...slow,
    history: (stream, since, limit) => {
      const read = slow.history(stream, since, limit);
      const then = hook;
      hook = undefined;
      then?.();
      return read;
    },
  };
  return Object.assign(engine, {
    settled: () => slow.settled(),
    afterRead(then: () => void) {
      hook = then;
    },
  });
}

async function slowUser(relay: Relay, engine: SlowEngine, name: string): Promise<FakeClient> {
  const client = new FakeClient(relay, "frames");
  client.send({ type: "login", name });
  await engine.settled();
  assert.ok(ofType(client.events(), "welcome").length === 1, `login of ${name}`);
  return client;
}

Deno.test("Relay join with since on a slow engine: live messages wait for the replay, none twice", async () => {
  const engine = hookedEngine();
  const relay = new Relay({ engine, rateMessageBurst: 1000 });
  const ann = await slowUser(relay, engine, "ann");
  const bob = await slowUser(relay, engine, "bob");
  drain(ann);
  say(bob, LOBBY, "m1", "m2", "m3");
  const live = ann.events();
  assert.deepEqual(said(live), ["m1", "m2", "m3"]);
  ann.send({ type: "join", room: LOBBY, since: at(live[0]), ref: "j" });
  say(bob, LOBBY, "m4"); // before the engine answered anything: in the read, and held
  engine.afterRead(() => say(bob, LOBBY, "m5")); // after the read: held, then delivered
  assert.deepEqual(said(ann.events()), [], "held while the engine answers");
  await engine.settled();
  say(bob, LOBBY, "m6");
  const events = ann.events();
  assert.deepEqual(events.map((e) => e.type), [
    "presence",
    "history",
    "message",
    "message",
    "message",
    "message",
    "message",
  ]);
  assertFields(events[1], { recovered: true, offset: 4, count: 3, ref: "j" });
  assert.deepEqual(said(events), ["m2", "m3", "m4", "m5", "m6"]);
  assert.deepEqual(events.slice(2).map((e) => e.offset), [2, 3, 4, 5, 6]);
});

Deno.test("Relay join of a new room with since on a slow engine: replay, then what was said meanwhile", async () => {
  const engine = hookedEngine();
  const relay = new Relay({ engine, rateMessageBurst: 1000 });
  const ann = await slowUser(relay, engine, "ann");
  const bob = await slowUser(relay, engine, "bob");
  ann.send({ type: "join", room: "games" });
  bob.send({ type: "join", room: "games" });
  await engine.settled();
  say(bob, "games", "g1");
  const seen = ofType(ann.events(), "message");
  ann.send({ type: "leave", room: "games" });
  await engine.settled();
  say(bob, "games", "g2", "g3");
  drain(ann, bob);
  ann.send({ type: "join", room: "games", since: at(seen[0]) });
  say(bob, "games", "g4");
  engine.afterRead(() => say(bob, "games", "g5"));
  await engine.settled();
  const events = ann.events();
  assert.deepEqual(events.map((e) => e.type).slice(0, 3), ["joined", "presence", "history"]);
  assertFields(events[2], { recovered: true, offset: 4, count: 3 });
  assert.deepEqual(said(events), ["g2", "g3", "g4", "g5"]);
  assert.equal(new Set(events.map((e) => e.id).filter(Boolean)).size, 4);
});

Deno.test("Relay history on a slow engine: what is said during the read follows the replay", async () => {
  const engine = hookedEngine();
  const relay = new Relay({ engine, rateMessageBurst: 1000 });
  const ann = await slowUser(relay, engine, "ann");
  const bob = await slowUser(relay, engine, "bob");
  say(bob, LOBBY, "1", "2");
  drain(ann);
  // The read is taken at once; the answer comes a macrotask later.
  engine.afterRead(() => {
    say(bob, LOBBY, "3");
    bob.send({ type: "direct", to: "ann", text: "dm" }); // another stream: not held
  });
  ann.send({ type: "history", room: LOBBY, limit: 1 });
  say(bob, LOBBY, "4");
  await engine.settled();
  const events = ann.events();
  assert.deepEqual(events.map((e) => e.type), [
    "direct",
    "history",
    "message",
    "message",
    "message",
  ]);
  assertFields(events[1], { count: 1, offset: 2, recovered: false });
  assert.deepEqual(said(events), ["dm", "2", "3", "4"]);
});

Deno.test("Relay private history on a slow engine: a direct message during the read comes after", async () => {
  const engine = hookedEngine();
  const relay = new Relay({ engine, rateMessageBurst: 1000 });
  const ann = await slowUser(relay, engine, "ann");
  const bob = await slowUser(relay, engine, "bob");
  drain(ann);
  bob.send({ type: "direct", to: "ann", text: "one" });
  bob.send({ type: "direct", to: "ann", text: "two" });
  const [first] = ann.events(); // "two" too: the client asks since "one" all the same
  assertFields(first, { type: "direct", offset: 1 });
  engine.afterRead(() => bob.send({ type: "direct", to: "ann", text: "three" }));
  ann.send({ type: "history", since: at(first) });
  bob.send({ type: "direct", to: "ann", text: "four" });
  await engine.settled();
  const events = ann.events();
  assert.deepEqual(events.map((e) => e.type), ["history", "direct", "direct", "direct"]);
  assertFields(events[0], { recovered: true, count: 1, offset: 2 });
  assert.deepEqual(said(events), ["two", "three", "four"]);
});

Deno.test("Relay text login on a slow engine: the lobby's last lines, then what was said meanwhile", async () => {
  const engine = hookedEngine();
  const relay = new Relay({ engine, rateMessageBurst: 1000, historyOnJoin: 2, now: () => START });
  const bob = await slowUser(relay, engine, "bob");
  say(bob, LOBBY, "one", "two");
  const ann = new FakeClient(relay, "lines");
  ann.lines();
  engine.afterRead(() => say(bob, LOBBY, "after the read"));
  ann.type("ann\r\n");
  say(bob, LOBBY, "before the read"); // ann is not in the lobby yet: only in the replay
  await engine.settled();
  assert.deepEqual(ann.lines().slice(-5), [
    "-!- [lobby] 2 here: bob, ann",
    "-!- [lobby] the last 2 messages (times in UTC):",
    "[lobby 22:13] bob: two",
    "[lobby 22:13] bob: before the read",
    "[lobby] bob: after the read",
  ]);
});

// --- text mode ------------------------------------------------------------------------

Deno.test("Relay text /history N shows the last N lines of the current room, with UTC times", () => {
  const { relay, clock } = relayWith();
  const bob = jsonUser(relay, "bob");
  say(bob, LOBBY, "one");
  clock.set(START + 5 * 60_000); // 22:18, within the ttl
  say(bob, LOBBY, "two", "three");
  bob.send({ type: "publish", room: LOBBY, text: "waves", action: true });
  const ann = textUser(relay, "ann");
  ann.type("/history 2\r\n");
  assert.deepEqual(ann.lines(), [
    "-!- [lobby] the last 2 messages (times in UTC):",
    "[lobby 22:18] bob: three",
    "[lobby 22:18] * bob waves",
  ]);
  ann.type("/history\r\n");
  const lines = ann.lines();
  assert.equal(lines[0], "-!- [lobby] the last 4 messages (times in UTC):");
  assert.equal(lines[1], "[lobby 22:13] bob: one");
  ann.type("/history 0\r\n");
  assert.deepEqual(ann.lines(), [
    "-!- [lobby] the last 1 message (times in UTC):",
    "[lobby 22:18] * bob waves",
  ]);
  ann.type("/history x\r\n");
  assert.deepEqual(ann.lines(), ["-!- error bad_message: usage: /history [N]"]);
  ann.type("/leave\r\n/history\r\n");
  assert.deepEqual(ann.lines().slice(-1), [
    "-!- error not_in_room: you are not in any room; /join one first",
  ]);
});

Deno.test("Relay text /join shows the room's last historyOnJoin lines after a -!- header", () => {
  const { relay } = relayWith({ historyOnJoin: 2 });
  const bob = jsonUser(relay, "bob");
  bob.send({ type: "join", room: "games" });
  say(bob, "games", "g1", "g2", "g3");
  say(bob, LOBBY, "l1");
  const ann = new FakeClient(relay, "lines");
  ann.lines();
  ann.type("ann\r\n");
  assert.deepEqual(ann.lines().slice(-3), [
    "-!- [lobby] 2 here: bob, ann",
    "-!- [lobby] the last 1 message (times in UTC):",
    "[lobby 22:13] bob: l1",
  ], "the lobby at login, too");
  ann.type("/join games\r\n");
  assert.deepEqual(ann.lines(), [
    "-!- [games] ann joined",
    "-!- [games] 2 here: bob, ann",
    "-!- [games] the last 2 messages (times in UTC):",
    "[games 22:13] bob: g2",
    "[games 22:13] bob: g3",
  ]);
  say(bob, "games", "live");
  assert.deepEqual(ann.lines(), ["[games] bob: live"], "live lines show no time");
  ann.type("/join empty\r\n");
  assert.deepEqual(ann.lines(), ["-!- [empty] ann joined", "-!- [empty] 1 here: ann"]);
});

Deno.test("Relay text /join with historyOnJoin 0 replays nothing", () => {
  const { relay } = relayWith({ historyOnJoin: 0 });
  const bob = jsonUser(relay, "bob");
  say(bob, LOBBY, "l1");
  const ann = textUser(relay, "ann");
  ann.type("/join lobby\r\n");
  assert.deepEqual(ann.lines(), ["-!- [lobby] 2 here: bob, ann"]);
});

Deno.test("Relay JSON-lines TCP users get history as JSON, like WebSocket users", () => {
  const { relay } = relayWith();
  const bob = jsonUser(relay, "bob");
  say(bob, LOBBY, "one");
  const ann = jsonLineUser(relay, "ann");
  ann.send({ type: "history", room: LOBBY });
  const events = ann.events();
  assertFields(events[0], { type: "history", count: 1 });
  assertFields(events[1], { type: "message", text: "one", offset: 1 });
});

// --- historySize 0 ----------------------------------------------------------------------

Deno.test("Relay historySize 0: positions are still given, but nothing is replayed", () => {
  const { relay } = relayWith({ historySize: 0 });
  const ann = jsonUser(relay, "ann");
  const bob = jsonUser(relay, "bob");
  drain(ann);
  say(bob, LOBBY, "1", "2");
  const live = ann.events();
  assert.deepEqual(live.map((e) => e.offset), [1, 2]);
  assert.equal(typeof live[0]!.epoch, "string");
  ann.send({ type: "history", room: LOBBY });
  assert.deepEqual(ann.events(), [{
    type: "history",
    room: LOBBY,
    recovered: false,
    epoch: live[0]!.epoch,
    offset: 2,
    count: 0,
  }]);
  ann.send({ type: "join", room: LOBBY, since: at(live[0]) });
  const missed = ann.events();
  assertFields(missed[1], { type: "history", recovered: false, count: 0 });
  assert.equal(missed.length, 2);
  ann.send({ type: "join", room: LOBBY, since: at(live[1]) });
  assertFields(ann.events()[1], { type: "history", recovered: true, count: 0 });
  ann.send({ type: "join", room: LOBBY, history: 10 });
  const asked = ann.events();
  assert.deepEqual(asked.map((e) => e.type), ["presence", "history"], "the header alone");
  assertFields(asked[1], { count: 0, offset: 2 });
  const text = textUser(relay, "cy");
  text.type("/join lobby\r\n");
  assert.deepEqual(text.lines(), ["-!- [lobby] 3 here: ann, bob, cy"]);
});

// --- cost ---------------------------------------------------------------------------------

Deno.test("Relay replies count against the requester's byte rate", () => {
  const limits = {
    maxFileBytes: 100, // so the byte burst is about 4 KiB
    rateBytesPerSecond: 1000,
    resumeWindowMs: 0,
  };
  const run = (ask: Record<string, unknown> | undefined) => {
    const { relay } = relayWith(limits);
    const ann = jsonUser(relay, "ann");
    const bob = jsonUser(relay, "bob");
    for (let i = 0; i < 12; i++) say(bob, LOBBY, String(i).padEnd(300, "."));
    drain(ann);
    if (ask !== undefined) {
      // A replay is at most the byte burst: asked twice, it is more than the burst.
      for (let twice = 0; twice < 2; twice++) {
        ann.send(ask);
        const events = ann.events();
        assert.equal(ofType(events, "error").length, 0, JSON.stringify(events.slice(0, 2)));
      }
    }
    ann.send({ type: "ping", ref: "after" });
    return ann.events();
  };
  assertFields(run(undefined)[0], { type: "pong" }, "a ping alone passes");
  assertFields(run({ type: "history", room: LOBBY })[0], { type: "error", code: "rate_limited" });
  assertFields(run({ type: "join", room: LOBBY, history: 12 })[0], {
    type: "error",
    code: "rate_limited",
  });
  assertFields(run({ type: "history", room: LOBBY, limit: 1 })[0], { type: "pong" });
});
