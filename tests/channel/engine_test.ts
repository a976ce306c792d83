// Relays on BroadcastChannel engines in this process (BroadcastChannel
// instances in one thread hear each other): names, presence, fan-out, private
// messages, races, nodes that leave or fall silent, resume on another node,
// and whatever else may arrive on the channels.

import assert from "node:assert/strict";
import { encodeBinaryFrame, nameKey, Relay, type RelayOptions } from "../../core/mod.ts";
import { BroadcastChannelEngine, type BroadcastChannelEngineOptions } from "../../channel/mod.ts";
import { assertFields, FakeClient, ofType, type Received } from "../_fakes.ts";
import { eventually } from "../_helpers.ts";

/** A relay on a BroadcastChannel engine, with short timings; `await using` closes it. */
interface TestNode extends AsyncDisposable {
  relay: Relay;
  engine: BroadcastChannelEngine;
  /** What the engine logged. */
  logged: string[];
}

async function startNode(
  prefix: string,
  options: BroadcastChannelEngineOptions = {},
  relay: RelayOptions = {},
): Promise<TestNode> {
  const logged: string[] = [];
  const engine = new BroadcastChannelEngine({
    prefix,
    heartbeatMs: 100,
    nodeTimeoutMs: 600,
    startWaitMs: 30,
    log: (line) => logged.push(line),
    ...options,
  });
  const node = new Relay({ nameGraceMs: 1000, ...relay, engine });
  await node.start();
  // The relay's sweep runs on a server's timer; here, on the test's.
  const sweeper = setInterval(() => node.sweep(), 200);
  let closed = false;
  return {
    relay: node,
    engine,
    logged,
    async [Symbol.asyncDispose]() {
      if (closed) return;
      closed = true;
      clearInterval(sweeper);
      node.close();
      await engine.close();
    },
  };
}

/** Waits until every node's engine passes `check` (news between nodes takes a turn or two). */
async function everywhere(
  nodes: TestNode[],
  check: (engine: BroadcastChannelEngine) => boolean,
  what: string,
): Promise<void> {
  await eventually(() => nodes.every((node) => check(node.engine)), what);
}

function newPrefix(): string {
  return `t${crypto.randomUUID().slice(0, 8)}:`;
}

// Events a client received and no wait has taken yet.
const unread = new WeakMap<FakeClient, Received[]>();

/** The events `client` received that no wait took yet (and forgets them). */
function drain(client: FakeClient): Received[] {
  const events = [...(unread.get(client) ?? []), ...client.events()];
  unread.delete(client);
  return events;
}

/** Waits for an event matching `match`, dropping the ones before it and keeping the ones after. */
async function waitFor(
  client: FakeClient,
  match: (event: Received) => boolean,
  what: string,
  ms?: number,
): Promise<Received> {
  const seen: Received[] = [];
  let found: Received | undefined;
  try {
    await eventually(
      () => {
        const events = drain(client);
        const index = events.findIndex(match);
        seen.push(...(index < 0 ? events : events.slice(0, index + 1)));
        if (index < 0) return false;
        found = events[index];
        unread.set(client, events.slice(index + 1));
        return true;
      },
      what,
      ms,
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}; seen ${JSON.stringify(seen.slice(-5))}`);
  }
  return found!;
}

async function login(relay: Relay, name: string): Promise<FakeClient> {
  const client = new FakeClient(relay, "frames");
  client.send({ type: "login", name });
  await waitFor(client, (e) => e.type === "presence" && e.room === "lobby", `${name}'s login`);
  return client;
}

async function ask(client: FakeClient, request: Received): Promise<Received> {
  const ref = crypto.randomUUID().slice(0, 8);
  client.send({ ...request, ref });
  return await waitFor(client, (e) => e.ref === ref, `an answer to ${request.type}`);
}

Deno.test("BroadcastChannelEngine: users on two nodes share rooms, presence, messages and names", async () => {
  const prefix = newPrefix();
  // Bursts of messages: lift the per-client rate, which is not what is tested here.
  const fast = { rateMessagesPerSecond: 1000, rateMessageBurst: 1000 };
  await using a = await startNode(prefix, {}, fast);
  await using b = await startNode(prefix, {}, fast);
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

  // Presence is the cluster's, in join order.
  assertFields(await ask(bob, { type: "presence", room: "lobby" }), {
    members: ["ann", "bob"],
    count: 2,
  });
  await eventually(
    async () => (await ask(bob, { type: "rooms" })).total === 1,
    "carl's leave to reach node b's room list",
  );
  assertFields(await ask(bob, { type: "rooms" }), {
    rooms: [{ name: "lobby", members: 2 }],
    total: 1,
  });

  // Room messages, in order, both ways, each positioned on the node that delivers it.
  for (let i = 0; i < 50; i++) ann.send({ type: "publish", room: "lobby", text: `a${i}` });
  const got: Received[] = [];
  await eventually(
    () => {
      got.push(...ofType(drain(bob), "message"));
      return got.length >= 50;
    },
    "50 messages on the other node",
  );
  assert.deepEqual(got.map((e) => e.text), Array.from({ length: 50 }, (_, i) => `a${i}`));
  assert.deepEqual(got.map((e) => e.offset), Array.from({ length: 50 }, (_, i) => i + 1));
  bob.send({ type: "publish", room: "lobby", text: "back at you" });
  assertFields(await waitFor(ann, (e) => e.type === "message", "bob's message"), {
    from: "bob",
    text: "back at you",
  });

  // Private messages reach a user on the other node; the sender gets the copy.
  bob.send({ type: "direct", to: "ANN", text: "psst" });
  assertFields(await waitFor(ann, (e) => e.type === "direct", "the direct"), {
    from: "bob",
    to: "ann",
    text: "psst",
    offset: 1,
  });
  assertFields(await waitFor(bob, (e) => e.type === "direct", "the sender's copy"), {
    to: "ann",
  });
  // Kept in the recipient's private stream, on the recipient's node.
  ann.send({ type: "history" });
  const replay = drain(ann); // this engine answers at once
  assertFields(replay[0], { type: "history", recovered: false, count: 1 });
  assertFields(replay[1], { type: "direct", text: "psst", offset: 1 });

  // Files cross as bytes (structured-cloned, not base64).
  const bytes = new Uint8Array([0, 1, 2, 250, 255]);
  ann.session.receiveBinary(
    encodeBinaryFrame(
      { room: "lobby", file: { name: "x.bin", type: "application/x-test" } },
      bytes,
    ),
  );
  const file = await waitFor(bob, (e) => e.type === "binary", "the file");
  assertFields(file.header, {
    from: "ann",
    file: { name: "x.bin", type: "application/x-test", size: 5 },
  });
  assert.deepEqual([...(file.payload as Uint8Array)], [...bytes]);

  // Renames and leaves are seen on the other node; the old name is free at once.
  bob.send({ type: "nick", name: "robert" });
  assertFields(await waitFor(ann, (e) => e.type === "renamed", "the rename"), {
    from: "bob",
    to: "robert",
  });
  await eventually(() => a.engine.findName("bob") === undefined, "bob's name to be free on a");
  await login(a.relay, "bob");
  b.relay.announce("maintenance soon");
  assertFields(await waitFor(ann, (e) => e.type === "notice", "the notice"), {
    text: "maintenance soon",
  });
  assert.deepEqual(a.logged, []);
  assert.deepEqual(b.logged, []);
});

Deno.test("BroadcastChannelEngine: three nodes list rooms and count users cluster-wide", async () => {
  const prefix = newPrefix();
  await using a = await startNode(prefix);
  await using b = await startNode(prefix);
  await using c = await startNode(prefix);
  const ann = await login(a.relay, "ann");
  const bob = await login(b.relay, "bob");
  const cid = await login(c.relay, "cid");
  ann.send({ type: "join", room: "games" });
  bob.send({ type: "join", room: "games" });
  cid.send({ type: "join", room: "art" });
  bob.send({ type: "join", room: "zoo" });
  await eventually(async () => (await ask(cid, { type: "rooms" })).total === 4, "4 rooms on c");
  assertFields(await ask(cid, { type: "rooms" }), {
    rooms: [
      { name: "art", members: 1 },
      { name: "games", members: 2 },
      { name: "lobby", members: 3 },
      { name: "zoo", members: 1 },
    ],
    total: 4,
  });
  assertFields(await ask(ann, { type: "rooms", after: "games", limit: 1 }), {
    rooms: [{ name: "lobby", members: 3 }],
    total: 4,
  });
  for (const node of [a, b, c]) {
    const health = await node.relay.health();
    assertFields(health, { status: "ok", backplane: "broadcast-channel", state: "up" });
    assert.deepEqual(health.cluster, { nodes: 3, users: 3, rooms: 4 });
  }
  // A room message reaches only the nodes with members there, in order.
  ann.send({ type: "publish", room: "games", text: "gg" });
  assertFields(await waitFor(bob, (e) => e.type === "message", "the games message"), {
    room: "games",
    text: "gg",
  });
  bob.send({ type: "leave", room: "zoo" });
  await eventually(async () => (await ask(ann, { type: "rooms" })).total === 3, "zoo gone on a");
});

Deno.test("BroadcastChannelEngine: two nodes granting one name at once: the earlier claim keeps it", async () => {
  const prefix = newPrefix();
  await using a = await startNode(prefix);
  await using b = await startNode(prefix);
  for (let round = 0; round < 10; round++) {
    const name = `racer${round}`;
    // Both claims are made before either node hears the other's.
    const one = new FakeClient(a.relay, "frames");
    const two = new FakeClient(b.relay, "frames");
    one.send({ type: "login", name });
    two.send({ type: "login", name: name.toUpperCase() });
    assert.equal(ofType(drain(one), "welcome").length, 1, `round ${round}: a welcomes`);
    assert.equal(ofType(drain(two), "welcome").length, 1, `round ${round}: b welcomes`);
    await eventually(
      () => [one, two].some((client) => client.session.name?.endsWith("-2")),
      `round ${round}: one of them renamed`,
    );
    const renamed = [one, two].filter((client) => client.session.name!.endsWith("-2"));
    assert.equal(renamed.length, 1, `round ${round}: exactly one gives way`);
    await waitFor(
      renamed[0]!,
      (e) => e.type === "notice" && /you are now/.test(e.text as string),
      "the notice of the rename",
    );
    // Both nodes agree on who holds each name.
    await eventually(
      () => {
        const [first, second] = [nameKey(name), nameKey(`${name}-2`)];
        return a.engine.findName(first)?.session === b.engine.findName(first)?.session &&
          b.engine.findName(second) !== undefined &&
          a.engine.findName(second)?.session === b.engine.findName(second)?.session;
      },
      `round ${round}: both nodes to agree`,
    );
    one.send({ type: "quit" });
    two.send({ type: "quit" });
  }
});

Deno.test("BroadcastChannelEngine: a node that closes: its users leave at once, names free", async () => {
  const prefix = newPrefix();
  // A node timeout far longer than "at once", so the leave cannot be the timeout's.
  const slow = { heartbeatMs: 1000, nodeTimeoutMs: 10_000 };
  await using a = await startNode(prefix, slow);
  const b = await startNode(prefix, slow);
  const ann = await login(a.relay, "ann");
  const bob = await login(b.relay, "bob");
  bob.send({ type: "join", room: "games" });
  ann.send({ type: "join", room: "games" });
  await everywhere([a, b], (e) => e.presence("games", 0).count === 2, "both in games everywhere");
  const stopped = Date.now();
  await b[Symbol.asyncDispose]();
  assertFields(await waitFor(ann, (e) => e.type === "left", "bob's leave", 3000), {
    name: "bob",
    reason: "disconnect",
  });
  assert.ok(Date.now() - stopped < 3000, "at once, not after the node timeout");
  await eventually(async () => {
    const presence = await ask(ann, { type: "presence", room: "games" });
    return presence.count === 1;
  }, "games to have ann alone");
  // bob quit with his node: his name is free at once.
  await login(a.relay, "bob");
  assert.deepEqual((await a.relay.health()).cluster, { nodes: 1, users: 2, rooms: 2 });
});

Deno.test("BroadcastChannelEngine: a node that falls silent: its members leave within the timeout", async () => {
  const prefix = newPrefix();
  await using a = await startNode(prefix);
  const ann = await login(a.relay, "ann");
  // A node that says hello with one user in the lobby, then is never heard again
  // (an isolate that was killed): played here by hand on the cluster channel.
  const ghost = new BroadcastChannel(`${prefix}cluster`);
  try {
    ghost.postMessage({
      v: 1,
      o: "ghostnode",
      q: 1,
      m: [{
        t: "hello",
        state: {
          names: [{ key: "ghost", session: "g1", name: "Ghost", token: "t", at: 1 }],
          rooms: [{ room: "lobby", members: [{ session: "g1", name: "Ghost", at: 1 }] }],
          parked: [],
        },
      }],
    });
  } finally {
    ghost.close();
  }
  await eventually(
    async () => (await ask(ann, { type: "presence", room: "lobby" })).count === 2,
    "the ghost in the lobby",
  );
  const taken = new FakeClient(a.relay, "frames");
  taken.send({ type: "login", name: "GHOST" });
  assertFields(await waitFor(taken, (e) => e.type === "error", "a refusal"), {
    code: "name_taken",
  });
  const heard = Date.now();
  assertFields(await waitFor(ann, (e) => e.type === "left", "the ghost's leave", 3000), {
    name: "Ghost",
    reason: "disconnect",
  });
  const seconds = (Date.now() - heard) / 1000;
  assert.ok(seconds <= 2, `left after ${seconds} s; the node timeout is 0.6 s`);
  assert.match(a.logged.join("\n"), /node ghostnode fell silent/);
  await login(a.relay, "ghost");
  assert.deepEqual((await a.relay.health()).cluster, { nodes: 1, users: 2, rooms: 1 });
});

for (const newsFirst of [false, true]) {
  const when = newsFirst ? "once the news of the drop arrived" : "before the news of the drop";
  Deno.test(`BroadcastChannelEngine: a session dropped on one node resumes on another, ${when}`, () =>
    resumeElsewhere(newsFirst));
}

async function resumeElsewhere(newsFirst: boolean): Promise<void> {
  const prefix = newPrefix();
  await using a = await startNode(prefix);
  await using b = await startNode(prefix);
  const ann = new FakeClient(a.relay, "frames");
  ann.send({ type: "login", name: "ann" });
  const welcome = await waitFor(ann, (e) => e.type === "welcome", "ann's welcome");
  ann.send({ type: "join", room: "games" });
  await waitFor(ann, (e) => e.type === "presence" && e.room === "games", "ann in games");
  const bob = await login(b.relay, "bob");
  bob.send({ type: "join", room: "games" });
  await waitFor(ann, (e) => e.type === "joined" && e.name === "bob", "bob's join");
  bob.send({ type: "publish", room: "games", text: "before" });
  const seen = await waitFor(ann, (e) => e.type === "message", "the first message");

  ann.session.disconnect();
  assert.equal(a.relay.stats().parked, 1);
  if (newsFirst) {
    // Told on node a's cluster stream after the park: once b knows cid, it knows the park.
    await login(a.relay, "cid");
    await everywhere([b], (e) => e.findName("cid") !== undefined, "cid known on b");
  }
  for (let i = 0; i < 3; i++) bob.send({ type: "publish", room: "games", text: `missed ${i}` });

  const back = new FakeClient(b.relay, "frames");
  back.send({
    type: "resume",
    token: welcome.resume,
    rooms: { games: { offset: seen.offset, epoch: seen.epoch } },
  });
  const resumed = await waitFor(back, (e) => e.type === "welcome", "the resumed welcome");
  assertFields(resumed, { resumed: true, name: "ann" });
  assert.deepEqual([...(resumed.rooms as string[])].sort(), ["games", "lobby"]);
  // Positions from node a mean nothing on node b: not recovered, never wrong messages.
  const header = await waitFor(back, (e) => e.type === "history", "the games replay");
  assertFields(header, { room: "games", recovered: false });
  assert.notEqual(header.epoch, seen.epoch);
  await eventually(() => a.relay.stats().parked === 0, "node a to hand the session over");
  assert.equal(a.engine.findName("ann")?.node, b.engine.node);
  // Nobody saw ann leave; she is one member of games, now through node b.
  assert.ok(!bob.frames.some((frame) => String(frame.data).includes('"left"')));
  assertFields(await ask(bob, { type: "presence", room: "games" }), {
    members: ["ann", "bob"],
    count: 2,
  });
  bob.send({ type: "publish", room: "games", text: "live" });
  assertFields(await waitFor(back, (e) => e.type === "message" && e.text === "live", "live"), {
    from: "bob",
  });
  // A token already used resumes nothing.
  const again = new FakeClient(a.relay, "frames");
  again.send({ type: "resume", token: welcome.resume });
  assertFields(await waitFor(again, (e) => e.type === "error", "a refusal"), {
    code: "resume_failed",
  });
}

Deno.test("BroadcastChannelEngine: a session dropped and resumed on its own node recovers exactly", async () => {
  const prefix = newPrefix();
  await using a = await startNode(prefix);
  await using b = await startNode(prefix);
  const ann = new FakeClient(a.relay, "frames");
  ann.send({ type: "login", name: "ann" });
  const welcome = await waitFor(ann, (e) => e.type === "welcome", "ann's welcome");
  const bob = await login(b.relay, "bob");
  await waitFor(ann, (e) => e.type === "joined" && e.name === "bob", "bob's join");
  bob.send({ type: "publish", room: "lobby", text: "before" });
  const seen = await waitFor(ann, (e) => e.type === "message", "the first message");
  ann.session.disconnect();
  for (let i = 0; i < 3; i++) bob.send({ type: "publish", room: "lobby", text: `missed ${i}` });
  // Node a still hears the lobby for its parked user: what was said is kept there.
  await eventually(
    () =>
      a.engine.history({ room: "lobby" }, undefined, 10).latest.offset ===
        (seen.offset as number) + 3,
    "the missed messages kept on node a",
  );
  const back = new FakeClient(a.relay, "frames");
  back.send({
    type: "resume",
    token: welcome.resume,
    rooms: { lobby: { offset: seen.offset, epoch: seen.epoch } },
  });
  assertFields(await waitFor(back, (e) => e.type === "history", "the replay"), {
    recovered: true,
    count: 3,
  });
  const texts: unknown[] = [];
  await eventually(() => {
    texts.push(...ofType(drain(back), "message").map((e) => e.text));
    return texts.length >= 3;
  }, "the 3 missed messages");
  assert.deepEqual(texts, ["missed 0", "missed 1", "missed 2"]);
});

Deno.test("BroadcastChannelEngine: malformed channel messages are ignored", async () => {
  const prefix = newPrefix();
  await using a = await startNode(prefix);
  await using b = await startNode(prefix);
  const ann = await login(a.relay, "ann");
  ann.send({ type: "join", room: "games" });
  const bob = await login(b.relay, "bob");
  bob.send({ type: "join", room: "games" });
  await waitFor(ann, (e) => e.type === "joined" && e.room === "games", "bob in games");

  const junk: unknown[] = [
    null,
    "hello",
    42,
    [],
    { v: 2, o: "x", q: 1, m: [] },
    { v: 1, o: "", q: 1, m: [] },
    { v: 1, o: "x", q: -1, m: [] },
    { v: 1, o: "x", q: 1, m: "not a list" },
    { v: 1, o: "x", q: 1, m: [null, 1, "a", { t: "nope" }] },
    { v: 1, o: "x", q: 1, m: [{ t: "hello" }] },
    {
      v: 1,
      o: "x",
      q: 1,
      m: [{ t: "hello", state: { names: [{ key: 1 }], rooms: [], parked: [] } }],
    },
    { v: 1, o: "x", q: 1, m: [{ t: "hello", state: { names: [], rooms: [{}], parked: [] } }] },
    { v: 1, o: "y", q: 1, m: [{ t: "state", to: a.engine.node, state: null }] },
    { v: 1, o: b.engine.node, q: 1e9, m: [{ t: "claim", key: "ann" }] },
    { v: 1, o: b.engine.node, q: 1e9, m: [{ t: "join", room: ["games"], session: "s" }] },
    { v: 1, o: "z", m: [{ t: "all", event: { type: "notice", ts: 0, text: "forged" } }] },
    { v: 1, o: "z", q: 1, m: [{ t: "all", event: { type: "notice", ts: 0, text: "forged" } }] },
    { v: 1, o: "z", q: 1, m: new Array(1000).fill({ t: "beat" }) },
    { v: 1, o: "x", q: 1, m: [{ to: "room", room: "games", event: { type: "message" } }] },
    {
      v: 1,
      o: "x",
      m: [{
        to: "room",
        room: "lobby",
        event: { type: "message", id: "m", ts: 0, room: "lobby", from: "eve", text: "wrong room" },
      }],
    },
    {
      v: 1,
      o: "x",
      m: [{
        to: "room",
        room: "games",
        event: { type: "message", id: "m", ts: 0, room: "games", from: "eve", data: "not bytes" },
      }],
    },
    {
      v: 1,
      o: "x",
      m: [{ to: "room", room: "games", event: { type: "welcome", name: "eve" } }],
    },
    {
      v: 1,
      o: "x",
      m: [{ t: "dm", e: { to: "user", node: a.engine.node, key: "ann", session: "nope" } }],
    },
    { v: 1, o: "x", m: [{ t: "take", token: "nothing", id: -1 }] },
    { v: 1, o: "x", m: [{ t: "taken", id: 1, handover: { parked: {} } }] },
  ];
  const channels = [
    `${prefix}cluster`,
    `${prefix}room:games`,
    `${prefix}node:${a.engine.node}`,
  ].map((name) => new BroadcastChannel(name));
  try {
    for (const channel of channels) for (const message of junk) channel.postMessage(message);
  } finally {
    for (const channel of channels) channel.close();
  }

  // Still one cluster: a message after the junk crosses, and nothing else arrived.
  bob.send({ type: "publish", room: "games", text: "still here" });
  const message = await waitFor(ann, (e) => e.type === "message", "bob's message");
  assertFields(message, { from: "bob", text: "still here" });
  const later = drain(ann);
  assert.ok(!later.some((e) => e.text === "forged" || e.from === "eve"), JSON.stringify(later));
  assert.deepEqual((await ask(ann, { type: "presence", room: "games" })).members, ["ann", "bob"]);
  assert.deepEqual((await a.relay.health()).cluster, { nodes: 2, users: 2, rooms: 2 });
  // A batch that claimed to be node b's, numbered far ahead, did not make node a deaf to it.
  await login(b.relay, "cid");
  await everywhere([a], (e) => e.findName("cid") !== undefined, "node b's next change on a");
  assert.deepEqual(a.logged, [], "nothing failed on the way");
});

Deno.test("BroadcastChannelEngine: options that cannot work are refused", () => {
  assert.throws(
    () => new BroadcastChannelEngine({ heartbeatMs: 1000, nodeTimeoutMs: 1500 }),
    RangeError,
  );
});

/** A node played by hand on the channels: what it posts, and what is sent to it. */
function fakeNode(prefix: string, id: string) {
  const cluster = new BroadcastChannel(`${prefix}cluster`);
  const inbox = new BroadcastChannel(`${prefix}node:${id}`);
  const received: unknown[] = [];
  inbox.onmessage = (event) => {
    received.push(...(event.data as { m: unknown[] }).m);
  };
  let q = 0;
  return {
    post(...items: unknown[]) {
      cluster.postMessage({ v: 1, o: id, q: ++q, m: items });
    },
    /** Skips a sequence number, as if a batch were lost on the way. */
    lose() {
      q++;
    },
    /** Waits for an item sent to this node. */
    async expect(match: (item: Record<string, unknown>) => boolean, what: string) {
      await eventually(() => received.some((item) => match(item as Record<string, unknown>)), what);
    },
    close() {
      cluster.close();
      inbox.close();
    },
  };
}

const GHOST_STATE = {
  names: [{ key: "ghost", session: "g1", name: "Ghost", token: "t", at: 1 }],
  rooms: [{ room: "lobby", members: [{ session: "g1", name: "Ghost", at: 1 }] }],
  parked: [],
};

Deno.test("BroadcastChannelEngine: a lost batch is noticed and the sender's state asked for again", async () => {
  const prefix = newPrefix();
  await using a = await startNode(prefix);
  const ann = await login(a.relay, "ann");
  const ghost = fakeNode(prefix, "ghostnode");
  try {
    ghost.post({ t: "hello", state: { names: [], rooms: [], parked: [] } });
    await everywhere([a], (e) => e.counts().nodes === 2, "the ghost node known");
    ghost.lose(); // the batch with Ghost's login never arrives
    ghost.post({ t: "beat" });
    await ghost.expect((item) => item.t === "sync", "a request for the ghost node's state");
    ghost.post({ t: "state", to: a.engine.node, state: GHOST_STATE });
    await eventually(
      async () => (await ask(ann, { type: "presence", room: "lobby" })).count === 2,
      "the ghost in the lobby after the state",
    );
    assert.equal(a.engine.findName("ghost")?.name, "Ghost");
  } finally {
    ghost.close();
  }
});

Deno.test("BroadcastChannelEngine: a node declared gone that speaks again is taken back", async () => {
  const prefix = newPrefix();
  await using a = await startNode(prefix);
  const ann = await login(a.relay, "ann");
  const ghost = fakeNode(prefix, "ghostnode");
  try {
    ghost.post({ t: "hello", state: GHOST_STATE });
    await waitFor(ann, (e) => e.type === "left" && e.name === "Ghost", "Ghost to leave", 3000);
    // It was only paused (a frozen isolate): it speaks again, is asked for its state, and is back.
    ghost.post({ t: "beat" });
    await ghost.expect((item) => item.t === "sync", "a request for the ghost node's state");
    ghost.post({ t: "state", to: a.engine.node, state: GHOST_STATE });
    assertFields(await waitFor(ann, (e) => e.type === "joined", "Ghost to come back"), {
      room: "lobby",
      name: "Ghost",
    });
    assert.match(a.logged.join("\n"), /node ghostnode is back/);
  } finally {
    ghost.close();
  }
});
