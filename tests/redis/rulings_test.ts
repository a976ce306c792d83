// RedisEngine on a real redis-server, two or three engines (nodes) in this
// process with recording hosts: moderation rulings kept in Redis and sent to
// the other nodes, caught up after an outage, each room's history size, the
// publish round trip, and parked sessions that keep who their user is.

import assert from "node:assert/strict";
import type { HistoryLimits, Parked, Ruling } from "../../core/mod.ts";
import { RedisEngine } from "../../redis/mod.ts";
import { eventually } from "../_helpers.ts";
import { redisMissing, startRedis, type TestRedis } from "../_redis.ts";
import {
  ban,
  type RecordingHost,
  recordingHost,
  type RecordingHostOptions,
  said,
} from "../_ruling_host.ts";

const ignore = redisMissing();

const LIMITS: HistoryLimits = { size: 5, ttlMs: 600_000, bytes: 1 << 20, totalBytes: 1 << 24 };

interface Node extends AsyncDisposable {
  engine: RedisEngine;
  host: RecordingHost;
}

async function node(
  redis: TestRedis,
  prefix: string,
  options: RecordingHostOptions = {},
): Promise<Node> {
  const engine = new RedisEngine({ url: redis.url, prefix, history: LIMITS, log: () => {} });
  const host = recordingHost(options);
  await engine.start(host);
  return { engine, host, [Symbol.asyncDispose]: () => engine.close() };
}

const newPrefix = () => `r${crypto.randomUUID().slice(0, 8)}:`;

/** The rulings a node applies when it starts, sorted by key for comparing. */
async function sorted(engine: RedisEngine): Promise<Ruling[]> {
  const rulings = await engine.rulings();
  return rulings.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

const bySort = (rulings: Ruling[]) =>
  [...rulings].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

Deno.test({
  name:
    "RedisEngine.rule(): bans, mutes, topics and kicks reach the other node; kept ones a later node",
  ignore,
}, async () => {
  await using redis = await startRedis();
  const prefix = newPrefix();
  await using a = await node(redis, prefix);
  await using b = await node(redis, prefix);
  const banned = ban("bob", 60_000);
  const mute: Ruling = {
    kind: "mute",
    target: { name: "carl" },
    until: Date.now() + 60_000,
    by: "op",
  };
  const topic: Ruling = { kind: "topic", room: "lobby", text: "one", by: "op", ts: 1 };
  const kick: Ruling = { kind: "kick", target: { name: "dan" }, by: "op", reason: "flood" };
  const address: Ruling = { ...ban("x", 60_000), target: { address: "10.0.0.9" } };
  for (const ruling of [banned, mute, topic, kick, address]) a.engine.rule(ruling);
  await eventually(() => b.host.rulings.length === 5, "five rulings on node B");
  assert.deepEqual(b.host.rulings, [banned, mute, topic, kick, address], "in order, unchanged");
  assert.equal(a.host.rulings.length, 0, "node A applies its own rulings itself");

  // Replaced, lifted, cleared, and one that runs out.
  const topic2: Ruling = { ...topic, text: "two", ts: 2 };
  const soon = ban("eve", 1500);
  for (const ruling of [topic2, { ...address, until: 0 }, soon]) a.engine.rule(ruling);
  await eventually(() => b.host.rulings.length === 8, "three more on node B");
  await using c = await node(redis, prefix);
  assert.deepEqual(await sorted(c.engine), bySort([banned, mute, topic2, soon]));
  await eventually(() => Date.now() > (soon as { until: number }).until, "eve's ban to end");
  assert.deepEqual(await sorted(c.engine), bySort([banned, mute, topic2]), "ended: not in force");
  assert.equal(
    (await redis.cli("HEXISTS", `${prefix}rulings`, "ban:name:eve")).trim(),
    "0",
    "an ended ban is removed from Redis when read",
  );
  const cleared: Ruling = { ...topic2, text: "" };
  const unmuted: Ruling = { ...mute, until: Date.now() - 1 };
  a.engine.rule(cleared);
  a.engine.rule(unmuted);
  await eventually(() => b.host.rulings.length === 10, "the lift and the clearing on node B");
  assert.deepEqual(await c.engine.rulings(), [banned]);
  assert.deepEqual(c.host.rulings, [cleared, unmuted], "node C heard them live too");
});

Deno.test({
  name: "RedisEngine: rulings from the wire are checked; a malformed one is dropped",
  ignore,
}, async () => {
  await using redis = await startRedis();
  const prefix = newPrefix();
  await using b = await node(redis, prefix);
  const payload = {
    o: "elsewhere",
    e: [],
    u: [
      { kind: "ban", target: { name: "x" }, by: "op" }, // no end
      { kind: "topic", room: "lobby", text: 5, by: "op", ts: 1 },
      "kick",
      { kind: "kick", target: { name: "dan" }, by: "op", extra: "<dropped>" },
    ],
  };
  await redis.cli("PUBLISH", `${prefix}all`, JSON.stringify(payload));
  await redis.cli("PUBLISH", `${prefix}all`, '{"o":"elsewhere","e":[],"u":{"kind":"kick"}}');
  await redis.cli("HSET", `${prefix}rulings`, "ban:name:y", "{not json", "mute:name:z", "[1]");
  await eventually(() => b.host.rulings.length > 0, "the well-formed kick");
  assert.deepEqual(b.host.rulings, [{ kind: "kick", target: { name: "dan" }, by: "op" }]);
  assert.deepEqual(await b.engine.rulings(), [], "what is not a ruling is not applied");
  assert.equal((await redis.cli("HLEN", `${prefix}rulings`)).trim(), "1", "only `~` is left");
});

Deno.test({
  name: "RedisEngine: rulings in one turn go in one round trip, timed once per batch",
  ignore,
}, async () => {
  await using redis = await startRedis();
  const prefix = newPrefix();
  await using a = await node(redis, prefix);
  await using b = await node(redis, prefix);
  const before = a.host.publishes.length;
  for (let i = 0; i < 20; i++) a.engine.rule(ban(`u${i}`, 60_000));
  a.engine.publish({ to: "all", event: { type: "notice", ts: 0, text: "hi" } });
  a.engine.rule({ kind: "kick", target: { name: "dan" }, by: "op" });
  await eventually(() => b.host.rulings.length === 21, "21 rulings on node B");
  await eventually(() => a.host.publishes.length > before, "the batch's round trip");
  assert.equal(a.host.publishes.length - before, 1, "one pipeline, measured once");
  const seconds = a.host.publishes.at(-1)!;
  assert.ok(seconds >= 0 && seconds < 5, `a round trip in seconds: ${seconds}`);
  assert.equal(b.host.delivered.length, 1, "the notice between the rulings");
  // The notice came in order: after the bans, before the kick.
  assert.equal(b.host.rulings.at(-1)!.kind, "kick");
});

Deno.test({
  name: "RedisEngine: a node cut off from Redis catches up on rulings made and lifted meanwhile",
  ignore,
}, async () => {
  await using redis = await startRedis();
  const prefix = newPrefix();
  await using a = await node(redis, prefix);
  const whileDown: Ruling = {
    kind: "mute",
    target: { name: "zed" },
    until: Date.now() + 60_000,
    by: "b-op",
  };
  let ruledWhileDown = false;
  await using b = await node(redis, prefix, {
    // Node B rules while it is cut off: kept once it is back, and sent on.
    onChange: (status) => {
      if (status.state === "degraded" && !ruledWhileDown) {
        ruledWhileDown = true;
        b.engine.rule(whileDown);
        b.engine.rule({ kind: "kick", target: { name: "lost" }, by: "b-op" });
      }
    },
  });
  const lifted = ban("liam", 60_000);
  const kept = ban("kim", 60_000);
  a.engine.rule(lifted);
  a.engine.rule(kept);
  await eventually(() => b.host.rulings.length === 2, "both bans on node B");

  // Node B's subscriber is cut: what node A rules now never reaches it live.
  const clients = await redis.cli("CLIENT", "LIST");
  const id = clients.split("\n").find((line) =>
    line.includes(`name=crosswire:${b.engine.node}:sub`)
  )
    ?.match(/\bid=(\d+)/)?.[1];
  assert.ok(id, "node B's subscriber");
  await redis.cli("CLIENT", "KILL", "ID", id);
  const missed = ban("max", 60_000);
  a.engine.rule(missed);
  a.engine.rule({ ...lifted, until: 0 });
  a.engine.rule({ kind: "kick", target: { name: "nobody" }, by: "op" }); // a kick is not kept
  await eventually(() => b.host.states.includes("up") && b.host.rulings.length >= 5, "catch-up");
  assert.deepEqual(b.host.log.slice(0, 4), [
    "ruled:ban",
    "ruled:ban",
    "state:degraded",
    "state:up",
  ]);
  assert.deepEqual(
    bySort(b.host.rulings.slice(2)),
    bySort([kept, missed, { ...lifted, until: 0 }]),
    "every ruling read again, and the lift of one lifted meanwhile",
  );
  assert.ok(!b.host.rulings.some((r) => r.kind === "kick"), "the kick made meanwhile is gone");
  // What node B ruled while cut off is kept, and reaches node A.
  await eventually(() => a.host.rulings.length === 1, "node B's mute on node A");
  assert.deepEqual(a.host.rulings, [whileDown]);
  assert.deepEqual(await sorted(a.engine), bySort([kept, missed, whileDown]));
});

Deno.test({
  name: "RedisEngine: Redis restarted empty: the nodes keep their rulings there again",
  ignore,
}, async () => {
  await using redis = await startRedis();
  const prefix = newPrefix();
  await using a = await node(redis, prefix);
  await using b = await node(redis, prefix);
  const banned = ban("bob", 60_000);
  const lifted = ban("lia", 60_000);
  a.engine.rule(banned);
  a.engine.rule(lifted);
  a.engine.rule({ ...lifted, until: 0 });
  await eventually(() => b.host.rulings.length === 3, "the bans on node B");
  await redis.restart();
  await eventually(
    () => a.engine.status().state === "degraded" && b.engine.status().state === "degraded",
    "both nodes degraded",
  );
  assert.deepEqual(await a.engine.rulings(), [banned], "while degraded: what this node knows");
  await eventually(
    () => a.engine.status().state === "up" && b.engine.status().state === "up",
    "both nodes back",
    15_000,
  );
  await using c = await node(redis, prefix);
  await eventually(async () => (await c.engine.rulings()).length === 1, "the ban kept again");
  assert.deepEqual(await c.engine.rulings(), [banned], "and not the lifted one");
});

Deno.test({
  name:
    "RedisEngine: each room's stream keeps what the host's rules say; private streams the default",
  ignore,
}, async () => {
  await using redis = await startRedis();
  const prefix = newPrefix();
  await using a = await node(redis, prefix, { sizes: { small: 2, none: 0, s1: 1 } });
  await using b = await node(redis, prefix);
  // Kept messages come back to their node on the room's channel: node A hears the rooms.
  const ann = { node: a.engine.node, session: "s0", name: "ann" };
  for (const room of ["small", "none", "other"]) {
    a.engine.subscribe(room);
    await a.engine.join(room, ann, 0);
  }
  for (let i = 1; i <= 7; i++) {
    for (const room of ["small", "none", "other"]) a.engine.record(said(room, `${room}${i}`));
    a.engine.record({
      to: "user",
      key: "bob",
      node: a.engine.node,
      session: "s1",
      event: { type: "direct", id: `d${i}`, ts: 0, from: "ann", to: "bob", text: `d${i}` },
    });
  }
  await eventually(() => a.host.delivered.length === 28, "28 kept messages back, positioned");
  const read = async (room: string) => await a.engine.history({ room }, undefined, 100);
  const small = await read("small");
  assert.deepEqual(small.events.map((e) => [e.offset, e.text]), [[6, "small6"], [7, "small7"]]);
  const none = await read("none");
  assert.deepEqual(none.events, [], "0: none kept");
  assert.equal(none.latest.offset, 7, "positions are still given");
  assert.ok(
    a.host.delivered.every((e) => (e.event as { offset?: number }).offset! > 0),
    "every message delivered positioned",
  );
  assert.equal((await read("other")).events.length, 5, "the default size");
  const mine = await a.engine.history({ session: "s1" }, undefined, 100);
  assert.equal(mine.events.length, 5, "a private stream keeps the default");
  assert.equal((await redis.cli("EXISTS", `${prefix}s:r:none`)).trim(), "0", "nothing in Redis");
  // A resume from before what the small room keeps is not recovered; from within it is.
  const since = (offset: number) => ({ offset, epoch: small.latest.epoch });
  assert.equal((await a.engine.history({ room: "small" }, since(4), 100)).recovered, false);
  assert.equal((await a.engine.history({ room: "small" }, since(5), 100)).recovered, true);
  // A room's size is the rules of the node that writes it: node B's rules say nothing of
  // `small`, so what node B adds there is kept by the default.
  b.engine.subscribe("small");
  await b.engine.join("small", { node: b.engine.node, session: "s9", name: "bo" }, 0);
  for (let i = 8; i <= 10; i++) b.engine.record(said("small", `small${i}`));
  await eventually(() => b.host.delivered.length === 3, "node B's messages back");
  assert.equal((await b.engine.history({ room: "small" }, undefined, 100)).events.length, 5);
});

Deno.test({
  name: "RedisEngine: a parked session resumed on another node keeps its identity and oper",
  ignore,
}, async () => {
  await using redis = await startRedis();
  const prefix = newPrefix();
  await using a = await node(redis, prefix);
  await using b = await node(redis, prefix);
  const member = { node: a.engine.node, session: "s1", name: "Ann" };
  assert.deepEqual(await a.engine.claimName("ann", member, "reclaim"), { ok: true });
  await a.engine.join("lobby", member, 0);
  const parked: Parked = {
    node: a.engine.node,
    session: "s1",
    name: "Ann",
    key: "ann",
    reclaim: "reclaim",
    rooms: ["lobby"],
    echo: false,
    identity: {
      subject: "user-17",
      name: "Ann",
      admin: true,
      expires: Date.now() + 60_000,
      rooms: { "support-*": ["join", "publish"], news: [] },
    },
    oper: true,
  };
  a.engine.park("token", parked, 60_000);
  await eventually(
    async () => (await redis.cli("EXISTS", `${prefix}park:token`)).trim() === "1",
    "parked",
  );
  const unparked = await b.engine.unpark("token");
  assert.deepEqual(unparked, { parked, kept: ["lobby"] });
});
