import assert from "node:assert/strict";
import { CloseCode, LOBBY, Relay } from "../../core/mod.ts";
import {
  assertFields,
  FakeClient,
  fakeClock,
  jsonUser,
  ofType,
  slowEngine,
  textUser,
} from "../_fakes.ts";

const START = 1_700_000_000_000;

/** Moves the clock one second at a time, sweeping each second, as the server's timer does. */
function run(relay: Relay, clock: ReturnType<typeof fakeClock>, from: number, to: number): void {
  for (let t = from; t <= to; t += 1000) {
    clock.set(START + t);
    relay.sweep();
  }
}

Deno.test("Session: an oversized frame is too_large (1009) even when the rate is exhausted", () => {
  const relay = new Relay({ maxFileBytes: 1000, rateMessageBurst: 1, rateMessagesPerSecond: 1 });
  const ann = jsonUser(relay, "ann");
  ann.send({ type: "ping" }); // spends the only message of the burst
  ann.events();
  ann.session.receiveText("x".repeat(relay.limits.maxFrameBytes + 1));
  assertFields(ofType(ann.events(), "error")[0], { code: "too_large" });
  assert.deepEqual(ann.port.closes.map((close) => close.code), [CloseCode.tooBig]);
});

Deno.test("Session: a reader that keeps taking its bytes is never a slow consumer", () => {
  const clock = fakeClock();
  const relay = new Relay({
    now: clock.now,
    maxQueuedBytes: 1000,
    slowConsumerMs: 3000,
    rateMessagesPerSecond: 1000,
    rateMessageBurst: 1000,
  });
  const ann = jsonUser(relay, "ann");
  const reader = jsonUser(relay, "reader");
  // A burst over the limit each second, taken each second: behind, but never for long.
  for (let second = 1; second <= 10; second++) {
    for (let i = 0; i < 20; i++) ann.send({ type: "publish", room: LOBBY, text: "x".repeat(100) });
    assert.ok(reader.session.outbound.bytes > 1000);
    run(relay, clock, second * 1000, second * 1000);
    reader.take();
  }
  assert.equal(reader.session.state, "ready");
});

Deno.test("Session: one that stays behind for slowConsumerMs is closed (4008); others go on", () => {
  const clock = fakeClock();
  const relay = new Relay({
    now: clock.now,
    maxQueuedBytes: 1000,
    slowConsumerMs: 3000,
    resumeWindowMs: 0,
  });
  const ann = jsonUser(relay, "ann");
  const slow = jsonUser(relay, "slow");
  const bob = jsonUser(relay, "bob");
  for (let i = 0; i < 12; i++) ann.send({ type: "publish", room: LOBBY, text: "x".repeat(100) });
  bob.take();
  run(relay, clock, 1000, 2000);
  assert.equal(slow.session.state, "ready", "behind for 2 s is not yet too long");
  run(relay, clock, 3000, 4000);
  assert.deepEqual(slow.port.closes.map((close) => close.code), [CloseCode.slowConsumer]);
  assertFields(ofType(bob.events(), "left")[0], { name: "slow", reason: "disconnect" });
});

Deno.test("Session: time the relay was paused is not held against a slow reader or an idle one", () => {
  const clock = fakeClock();
  const relay = new Relay({
    now: clock.now,
    maxQueuedBytes: 1000,
    slowConsumerMs: 3000,
    idleTimeoutMs: 5000,
  });
  const ann = jsonUser(relay, "ann");
  const slow = jsonUser(relay, "slow");
  run(relay, clock, 1000, 2000);
  for (let i = 0; i < 12; i++) ann.send({ type: "publish", room: LOBBY, text: "x".repeat(100) });
  // The process is stopped for 20 s; the first sweep after it sees the gap.
  run(relay, clock, 22_000, 22_000);
  assert.equal(ann.session.state, "ready", "not idle: the relay slept, not the client");
  assert.equal(slow.session.state, "ready", "not behind for long: the relay slept");
  slow.take();
  slow.send({ type: "ping" });
  run(relay, clock, 23_000, 25_000);
  assert.equal(slow.session.state, "ready", "it caught up");
  // Idle since 2 s, with 19 s of pause left out: 5 s idle at 26 s.
  run(relay, clock, 26_000, 26_000);
  assert.deepEqual(ann.port.closes.map((close) => close.code), [CloseCode.idleTimeout]);
});

Deno.test("Session: input that waited while the relay was paused gets rate credit", () => {
  const clock = fakeClock();
  const relay = new Relay({ now: clock.now, rateMessagesPerSecond: 4, rateMessageBurst: 10 });
  const ann = textUser(relay, "ann");
  const bob = textUser(relay, "bob");
  run(relay, clock, 1000, 3000);
  // 20 s stopped: 4 lines a second queued in the socket arrive at once, before any sweep.
  clock.set(START + 23_000);
  for (let i = 0; i < 80; i++) ann.type(`line ${i}\r\n`);
  const heard = bob.lines().filter((line) => line.startsWith("[lobby] ann: line"));
  assert.equal(heard.length, 80, "nothing was dropped as rate_limited");
  assert.ok(!ann.lines().some((line) => line.includes("rate_limited")));
  // The credit is spent: a real flood right after is limited again.
  for (let i = 0; i < 40; i++) ann.type(`flood ${i}\r\n`);
  assert.ok(ann.lines().some((line) => line.includes("rate_limited")));
});

Deno.test("Session: a client is still rate limited when nothing was paused", () => {
  const clock = fakeClock();
  const relay = new Relay({ now: clock.now, rateMessagesPerSecond: 4, rateMessageBurst: 10 });
  const ann = textUser(relay, "ann");
  run(relay, clock, 1000, 23_000);
  for (let i = 0; i < 80; i++) ann.type(`line ${i}\r\n`);
  assert.ok(ann.lines().some((line) => line.includes("rate_limited")));
});

Deno.test("Session: requests wait, in order, while the engine answers one", async () => {
  const engine = slowEngine();
  const relay = new Relay({ engine });
  const ann = new FakeClient(relay, "frames");
  ann.events();
  ann.send({ type: "login", name: "ann", ref: "1" });
  ann.send({ type: "join", room: "games", ref: "2" });
  ann.send({ type: "publish", room: "games", text: "hi", ref: "3" });
  ann.send({ type: "presence", room: "games", ref: "4" });
  ann.send({ type: "ping", ref: "5" });
  assert.deepEqual(ann.events(), [], "nothing is answered before the engine is");
  await engine.settled();
  const replies = ann.events().filter((event) => event.ref !== undefined);
  assert.deepEqual(replies.map((event) => `${event.type}:${event.ref}`), [
    "welcome:1",
    "presence:2",
    "presence:4",
    "pong:5",
  ]);
  assert.equal(ann.session.state, "ready");
});

Deno.test("Session: rate credit for a pause is capped at 30 seconds' worth", () => {
  const clock = fakeClock();
  const relay = new Relay({ now: clock.now, rateMessagesPerSecond: 4, rateMessageBurst: 10 });
  const ann = textUser(relay, "ann");
  const bob = textUser(relay, "bob");
  run(relay, clock, 1000, 3000);
  clock.set(START + 3_603_000); // an hour "paused" (or a clock step)
  for (let i = 0; i < 400; i++) ann.type(`line ${i}\r\n`);
  const heard = bob.lines().filter((line) => line.startsWith("[lobby] ann: line")).length;
  assert.ok(heard >= 120 && heard <= 130, `${heard} passed; 30 s at 4/s is 120`);
});
