// Two relay nodes in this process on one real redis-server: names, presence,
// fan-out, private messages and notices across nodes.

import assert from "node:assert/strict";
import type { Relay } from "../../core/mod.ts";
import { assertFields, FakeClient, ofType, type Received } from "../_fakes.ts";
import { eventually } from "../_helpers.ts";
import { redisMissing, relayNode, startRedis } from "../_redis.ts";

const ignore = redisMissing();

/** A node whose dropped users' names are kept for a second. */
const node = (url: string, prefix: string) => relayNode(url, prefix, { nameGraceMs: 1000 });

/** Collects a client's events until one matches. */
async function waitFor(client: FakeClient, match: (event: Received) => boolean, what: string) {
  const seen: Received[] = [];
  let found: Received | undefined;
  await eventually(() => {
    for (const event of client.events()) {
      seen.push(event);
      if (!found && match(event)) found = event;
    }
    return found !== undefined;
  }, `${what}; seen ${JSON.stringify(seen.slice(-5))}`);
  return found!;
}

async function login(relay: Relay, name: string): Promise<FakeClient> {
  const client = new FakeClient(relay, "frames");
  client.send({ type: "login", name });
  await waitFor(
    client,
    (event) => event.type === "presence" && event.room === "lobby",
    `${name}'s login`,
  );
  return client;
}

Deno.test({
  name: "RedisEngine: users on two nodes share rooms, presence, messages and names",
  ignore,
}, async () => {
  await using redis = await startRedis();
  const prefix = `t${crypto.randomUUID().slice(0, 8)}:`;
  await using a = await node(redis.url, prefix);
  await using b = await node(redis.url, prefix);
  const ann = await login(a.relay, "ann");
  const bob = await login(b.relay, "bob");
  await waitFor(ann, (e) => e.type === "joined" && e.name === "bob", "ann to see bob join");

  // The welcome counts users on every node.
  const carl = new FakeClient(b.relay, "frames");
  carl.send({ type: "login", name: "carl" });
  assertFields(await waitFor(carl, (e) => e.type === "welcome", "carl's welcome"), { others: 2 });
  carl.send({ type: "quit" });

  // Names are unique across nodes, look-alikes included.
  const thief = new FakeClient(b.relay, "frames");
  thief.send({ type: "login", name: "\u0430nn" });
  assertFields(await waitFor(thief, (e) => e.type === "error", "a refusal"), {
    code: "name_taken",
  });

  // Presence is the cluster's.
  bob.send({ type: "presence", room: "lobby", ref: "p" });
  assertFields(await waitFor(bob, (e) => e.ref === "p", "presence"), { count: 2 });
  bob.send({ type: "rooms", ref: "r" });
  assertFields(await waitFor(bob, (e) => e.ref === "r", "rooms"), {
    rooms: [{ name: "lobby", members: 2 }],
    total: 1,
  });

  // Room messages, in order, both ways.
  for (let i = 0; i < 50; i++) ann.send({ type: "publish", room: "lobby", text: `a${i}` });
  const got: string[] = [];
  await eventually(() => {
    got.push(...ofType(bob.events(), "message").map((e) => e.text as string));
    return got.length >= 50;
  }, "50 messages on the other node");
  assert.deepEqual(got, Array.from({ length: 50 }, (_, i) => `a${i}`));

  // Private messages reach a user on the other node; the sender gets the copy.
  bob.send({ type: "direct", to: "ANN", text: "psst" });
  assertFields(await waitFor(ann, (e) => e.type === "direct", "the direct"), {
    from: "bob",
    to: "ann",
    text: "psst",
  });
  assertFields(await waitFor(bob, (e) => e.type === "direct", "the sender's copy"), {
    to: "ann",
  });

  // Renames and leaves are seen on the other node.
  bob.send({ type: "nick", name: "robert" });
  assertFields(await waitFor(ann, (e) => e.type === "renamed", "the rename"), {
    from: "bob",
    to: "robert",
  });
  await login(a.relay, "bob"); // the old name is free at once after a rename
  b.relay.announce("maintenance soon");
  assertFields(await waitFor(ann, (e) => e.type === "notice", "the notice"), {
    text: "maintenance soon",
  });
});

Deno.test(
  { name: "RedisEngine: two nodes racing for one name: exactly one wins", ignore },
  async () => {
    await using redis = await startRedis();
    const prefix = `t${crypto.randomUUID().slice(0, 8)}:`;
    await using a = await node(redis.url, prefix);
    await using b = await node(redis.url, prefix);
    for (let round = 0; round < 20; round++) {
      const name = `racer${round}`;
      const one = new FakeClient(a.relay, "frames");
      const two = new FakeClient(b.relay, "frames");
      one.send({ type: "login", name });
      two.send({ type: "login", name: name.toUpperCase() });
      const outcome = async (client: FakeClient) =>
        (await waitFor(client, (e) => e.type === "welcome" || e.type === "error", "an answer"))
          .type;
      const results = await Promise.all([outcome(one), outcome(two)]);
      assert.deepEqual(results.sort(), ["error", "welcome"], `round ${round}`);
    }
  },
);

Deno.test(
  { name: "RedisEngine: a node that leaves tells the others its users left", ignore },
  async () => {
    await using redis = await startRedis();
    const prefix = `t${crypto.randomUUID().slice(0, 8)}:`;
    await using a = await node(redis.url, prefix);
    const b = await node(redis.url, prefix);
    const ann = await login(a.relay, "ann");
    await login(b.relay, "bob");
    await waitFor(ann, (e) => e.type === "joined" && e.name === "bob", "bob's join");
    await b[Symbol.asyncDispose]();
    assertFields(await waitFor(ann, (e) => e.type === "left", "bob's leave"), {
      name: "bob",
      reason: "disconnect",
    });
    // bob's name is kept for him for the grace period (1 s here), then free.
    const early = new FakeClient(a.relay, "frames");
    early.send({ type: "login", name: "bob" });
    assertFields(await waitFor(early, (e) => e.type === "error", "a refusal"), {
      code: "name_taken",
    });
    await eventually(async () => {
      const again = new FakeClient(a.relay, "frames");
      again.send({ type: "login", name: "bob" });
      const answer = await waitFor(again, (e) => e.type === "welcome" || e.type === "error", "x");
      return answer.type === "welcome";
    }, "bob's name to be free after the grace period");
    const health = await a.relay.health();
    assertFields(health, { status: "ok", backplane: "redis", state: "up" });
  },
);

Deno.test({
  name: "RedisEngine: Redis stopped and started again: nodes serve alone, then rejoin",
  ignore,
}, async () => {
  await using redis = await startRedis();
  const prefix = `t${crypto.randomUUID().slice(0, 8)}:`;
  await using a = await node(redis.url, prefix);
  await using b = await node(redis.url, prefix);
  const ann = await login(a.relay, "ann");
  const amy = await login(a.relay, "amy");
  const bob = await login(b.relay, "bob");
  await waitFor(ann, (e) => e.type === "joined" && e.name === "bob", "bob's join");

  await redis.kill();
  const notice = await waitFor(ann, (e) => e.type === "notice", "the degraded notice");
  assert.match(notice.text as string, /link to the other crosswire nodes is down/);
  await eventually(async () => (await a.relay.health()).status === "degraded", "degraded health");
  // Local users still talk; what is said meanwhile cannot reach the other node.
  ann.send({ type: "publish", room: "lobby", text: "while away" });
  assertFields(await waitFor(amy, (e) => e.type === "message", "a local message"), {
    text: "while away",
  });
  // Both nodes take a name while they cannot see each other: one must give way.
  const carlA = await login(a.relay, "carl");
  const carlB = await login(b.relay, "Carl");

  await redis.restart();
  const back = await waitFor(
    ann,
    (e) => e.type === "notice" && /is back/.test(e.text as string),
    "recovery",
  );
  assert.match(back.text as string, /[1-9]\d* messages? said here could not reach them/);
  await eventually(async () => (await b.relay.health()).status === "ok", "b healthy again");
  // After the restart Redis had nothing: both nodes put their users back.
  bob.send({ type: "presence", room: "lobby", ref: "after" });
  await eventually(async () => {
    bob.send({ type: "presence", room: "lobby", ref: "again" });
    const presence = await waitFor(
      bob,
      (e) => e.type === "presence" && e.ref === "again",
      "presence",
    );
    return presence.count === 5;
  }, "all five users in the cluster's presence again");
  const renamed = await waitFor(
    [carlA, carlB].find((c) => c.session.name!.includes("-")) ?? carlA,
    (e) => e.type === "notice" && /you are now/.test(e.text as string),
    "the name conflict to be resolved",
  );
  assert.match(renamed.text as string, /you are now [Cc]arl-2/);
  assert.notEqual(carlA.session.name!.toLowerCase(), carlB.session.name!.toLowerCase());
  ann.send({ type: "publish", room: "lobby", text: "hello again" });
  assertFields(await waitFor(bob, (e) => e.type === "message", "cross-node chat again"), {
    text: "hello again",
  });
});

Deno.test({
  name: "RedisEngine: a node starting up does not swallow another dead node's leaves",
  ignore,
}, async () => {
  await using redis = await startRedis();
  const prefix = `t${crypto.randomUUID().slice(0, 8)}:`;
  await using a = await node(redis.url, prefix);
  const ann = await login(a.relay, "ann");
  // A node "x" that died with a user in the lobby, its lease long gone, not yet reaped.
  const cli = (...args: string[]) => redis.cli(...args);
  await cli("ZADD", `${prefix}nodes`, "1", "x");
  await cli("SADD", `${prefix}reaping`, "x");
  await cli("ZADD", `${prefix}p:lobby:x`, "1", "sx");
  await cli("HSET", `${prefix}pn:lobby:x`, "sx", "ghost");
  await cli("HINCRBY", `${prefix}roomnodes:lobby`, "x", "1");
  await cli("SADD", `${prefix}node:x:rooms`, "lobby");
  await cli("ZINCRBY", `${prefix}rooms`, "1", "lobby");
  // A second node starts: it wipes its own state silently, and only its own.
  await using _b = await node(redis.url, prefix);
  assertFields(await waitFor(ann, (e) => e.type === "left", "the ghost's leave"), {
    name: "ghost",
    reason: "disconnect",
  });
});
