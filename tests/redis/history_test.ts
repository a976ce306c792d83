// History and resume on two relay nodes in this process, one real redis-server:
// messages kept in Redis Streams with one order for every node, replays read
// from any node, and a session parked on one node resumed on the other.

import assert from "node:assert/strict";
import type { Relay } from "../../core/mod.ts";
import { assertFields, FakeClient, type Received } from "../_fakes.ts";
import { eventually } from "../_helpers.ts";
import { redisMissing, relayNode, startRedis } from "../_redis.ts";

const ignore = redisMissing();

const node = relayNode;

// Events a client received that no collect() has taken yet.
const unread = new WeakMap<FakeClient, Received[]>();

/** Waits until `count` of a client's events match; takes and returns those, in order. */
async function collect(
  client: FakeClient,
  match: (event: Received) => boolean,
  count: number,
  what: string,
): Promise<Received[]> {
  const buffer = unread.get(client) ?? [];
  unread.set(client, buffer);
  const found: Received[] = [];
  const take = () => {
    buffer.push(...client.events());
    for (let i = 0; i < buffer.length && found.length < count;) {
      if (match(buffer[i]!)) found.push(...buffer.splice(i, 1));
      else i++;
    }
    return found.length >= count;
  };
  await eventually(take, `${what}: ${found.length} of ${count}`);
  return found;
}

async function login(
  relay: Relay,
  name: string,
): Promise<{ client: FakeClient; welcome: Received }> {
  const client = new FakeClient(relay, "frames");
  client.send({ type: "login", name });
  const events = await collect(
    client,
    (e) => e.type === "welcome" || e.type === "presence",
    2,
    `${name}'s login`,
  );
  return { client, welcome: events[0]! };
}

const texts = (events: Received[]) => events.filter((e) => e.type === "message").map((e) => e.text);

Deno.test({
  name: "Redis history: every node delivers a room's messages in one order, positioned",
  ignore,
}, async () => {
  await using redis = await startRedis();
  const prefix = `h${crypto.randomUUID().slice(0, 8)}:`;
  await using a = await node(redis.url, prefix);
  await using b = await node(redis.url, prefix);
  const { client: ann } = await login(a.relay, "ann");
  const { client: bob } = await login(b.relay, "bob");
  ann.send({ type: "echo", on: true });
  bob.send({ type: "echo", on: true });
  await collect(bob, (e) => e.type === "notice", 1, "bob's echo");
  // Both say things at once: every member sees one order, with offsets 1, 2, 3...
  for (let i = 0; i < 40; i++) {
    ann.send({ type: "publish", room: "lobby", text: `a${i}` });
    bob.send({ type: "publish", room: "lobby", text: `b${i}` });
  }
  const seenByAnn = await collect(ann, (e) => e.type === "message", 80, "ann's messages");
  const seenByBob = await collect(bob, (e) => e.type === "message", 80, "bob's messages");
  assert.deepEqual(texts(seenByAnn), texts(seenByBob), "one order on both nodes");
  assert.deepEqual(seenByAnn.map((e) => e.offset), Array.from({ length: 80 }, (_, i) => i + 1));
  assert.equal(new Set(seenByAnn.map((e) => e.epoch)).size, 1);

  // A history read on either node gives the same messages with the same positions.
  bob.send({
    type: "history",
    room: "lobby",
    since: { offset: 70, epoch: seenByAnn[0]!.epoch },
    ref: "h",
  });
  const [header] = await collect(bob, (e) => e.type === "history", 1, "bob's history");
  assertFields(header, { recovered: true, offset: 80, count: 10, ref: "h" });
  const replay = await collect(bob, (e) => e.type === "message", 10, "the replay");
  assert.deepEqual(replay.map((e) => e.offset), [71, 72, 73, 74, 75, 76, 77, 78, 79, 80]);
  assert.deepEqual(texts(replay), texts(seenByAnn.slice(70)));
});

Deno.test({
  name:
    "Redis history: a session dropped on node A resumes on node B with nothing lost and no flap",
  ignore,
}, async () => {
  await using redis = await startRedis();
  const prefix = `h${crypto.randomUUID().slice(0, 8)}:`;
  await using a = await node(redis.url, prefix);
  await using b = await node(redis.url, prefix, { rateMessageBurst: 100 });
  const { client: ann, welcome } = await login(a.relay, "ann");
  const { client: bob } = await login(b.relay, "bob");
  ann.send({ type: "join", room: "dev" });
  bob.send({ type: "join", room: "dev" });
  await collect(bob, (e) => e.type === "presence" && e.room === "dev", 1, "bob in dev");
  bob.send({ type: "publish", room: "dev", text: "before" });
  const [before] = await collect(ann, (e) => e.type === "message", 1, "ann hears before");
  unread.set(ann, []);
  unread.set(bob, []);

  ann.session.disconnect(); // the connection drops; the session is parked on A
  await eventually(() => a.relay.stats().parked === 1, "ann parked on A");
  for (let i = 0; i < 50; i++) bob.send({ type: "publish", room: "dev", text: `m${i}` });
  bob.send({ type: "direct", to: "ann", text: "psst" });
  await collect(bob, (e) => e.type === "direct", 1, "bob's copy of the DM");

  const back = new FakeClient(b.relay, "frames");
  back.send({
    type: "resume",
    token: welcome.resume,
    rooms: { dev: { offset: before!.offset, epoch: before!.epoch } },
    direct: welcome.direct,
    ref: "r",
  });
  const [resumed] = await collect(back, (e) => e.type === "welcome", 1, "the resumed welcome");
  assertFields(resumed, { resumed: true, name: "ann", session: welcome.session, ref: "r" });
  assert.deepEqual([...(resumed!.rooms as string[])].sort(), ["dev", "lobby"]);
  const replay = await collect(
    back,
    (e) => e.type === "message" || e.type === "direct",
    51,
    "replay",
  );
  assert.deepEqual(texts(replay), Array.from({ length: 50 }, (_, i) => `m${i}`));
  assertFields(replay[50], { type: "direct", text: "psst", from: "bob" });
  const headers = await collect(back, (e) => e.type === "history", 2, "two replay headers");
  assertFields(headers[0], { room: "dev", recovered: true, count: 50 });
  assertFields(headers[1], { recovered: true, count: 1 });

  // Live messages go on from there, with no gap and no duplicate.
  bob.send({ type: "publish", room: "dev", text: "after" });
  const [after] = await collect(back, (e) => e.type === "message", 1, "the live message");
  assertFields(after, { text: "after", offset: (replay[49]!.offset as number) + 1 });
  // A heard the session went to B: nothing is parked there any more.
  await eventually(() => a.relay.stats().parked === 0, "A forgot ann");
  // Nobody saw ann leave or join again.
  const bobSaw = [...(unread.get(bob) ?? []), ...bob.events()];
  unread.set(bob, []);
  assert.equal(bobSaw.filter((e) => e.type === "left" || e.type === "joined").length, 0);
  bob.send({ type: "presence", room: "dev", ref: "p" });
  const [presence] = await collect(bob, (e) => e.ref === "p", 1, "presence");
  assertFields(presence, { count: 2 });
});

Deno.test({
  name: "Redis history: a parked session whose window runs out leaves for everyone",
  ignore,
}, async () => {
  await using redis = await startRedis();
  const prefix = `h${crypto.randomUUID().slice(0, 8)}:`;
  await using a = await node(redis.url, prefix, { resumeWindowMs: 300 });
  await using b = await node(redis.url, prefix);
  const { client: ann, welcome } = await login(a.relay, "ann");
  const { client: bob } = await login(b.relay, "bob");
  await collect(ann, (e) => e.type === "joined" && e.name === "bob", 1, "ann sees bob");
  ann.session.disconnect();
  await eventually(() => a.relay.stats().parked === 1, "ann parked");
  // Past the window (by Redis's clock), no node may resume it, though A has not ended it yet.
  await new Promise((resolve) => setTimeout(resolve, 400));
  const late = new FakeClient(b.relay, "frames");
  late.send({ type: "resume", token: welcome.resume });
  const [error] = await collect(late, (e) => e.type === "error", 1, "the refusal");
  assertFields(error, { code: "resume_failed" });
  // A's sweep ends it: everyone sees ann leave, and the name is free.
  a.relay.sweep();
  const [left] = await collect(bob, (e) => e.type === "left", 1, "bob sees ann leave");
  assertFields(left, { name: "ann", reason: "disconnect" });
  late.send({ type: "login", name: "ann" });
  await collect(late, (e) => e.type === "welcome", 1, "ann's name is free");
});

Deno.test({
  name: "Redis history: past the history size, a replay says it did not recover",
  ignore,
}, async () => {
  await using redis = await startRedis();
  const prefix = `h${crypto.randomUUID().slice(0, 8)}:`;
  await using a = await node(redis.url, prefix, { historySize: 5 });
  const { client: ann } = await login(a.relay, "ann");
  ann.send({ type: "echo", on: true });
  for (let i = 0; i < 30; i++) ann.send({ type: "publish", room: "lobby", text: `m${i}` });
  const said = await collect(ann, (e) => e.type === "message", 30, "ann's messages");
  ann.send({
    type: "history",
    room: "lobby",
    since: { offset: 2, epoch: said[0]!.epoch },
    ref: "h",
  });
  const [header] = await collect(ann, (e) => e.type === "history", 1, "history");
  assertFields(header, { recovered: false, offset: 30 });
  const replay = await collect(ann, (e) => e.type === "message", header!.count as number, "replay");
  assert.ok(replay.length >= 5 && replay.length <= 30, `kept about 5: ${replay.length}`);
  assert.equal(replay.at(-1)!.text, "m29");
});
