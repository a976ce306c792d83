// BroadcastChannelEngine with recording hosts, several engines (nodes) in this
// thread and one in a Worker: moderation rulings sent to the other nodes and
// exchanged in the nodes' state (so a node that starts later has them), lifts
// that stay lifted, each room's history size, parked sessions that keep who
// their user is, and the checks on what arrives.

import assert from "node:assert/strict";
import type { Parked, Ruling } from "../../core/mod.ts";
import { BroadcastChannelEngine } from "../../channel/mod.ts";
import { readClusterItem, readNodeItem, readRoomEnvelope } from "../../channel/_wire.ts";
import { RulingBook } from "../../channel/_rulings.ts";
import { eventually, within } from "../_helpers.ts";
import {
  ban,
  type RecordingHost,
  recordingHost,
  type RecordingHostOptions,
  said,
} from "../_ruling_host.ts";

interface Node extends AsyncDisposable {
  engine: BroadcastChannelEngine;
  host: RecordingHost;
  logged: string[];
}

async function node(prefix: string, options: RecordingHostOptions = {}): Promise<Node> {
  const logged: string[] = [];
  const engine = new BroadcastChannelEngine({
    prefix,
    heartbeatMs: 100,
    nodeTimeoutMs: 600,
    startWaitMs: 30,
    log: (line) => logged.push(line),
  });
  const host = recordingHost(options);
  await engine.start(host);
  return { engine, host, logged, [Symbol.asyncDispose]: () => engine.close() };
}

const newPrefix = () => `c${crypto.randomUUID().slice(0, 8)}:`;

const bySort = (rulings: Ruling[]) =>
  [...rulings].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

/** Posts `items` on the cluster channel as node `id` would. */
function postAs(prefix: string, id: string, q: number, ...items: unknown[]): void {
  const channel = new BroadcastChannel(`${prefix}cluster`);
  try {
    channel.postMessage({ v: 1, o: id, q, m: items });
  } finally {
    channel.close();
  }
}

Deno.test("BroadcastChannelEngine.rule(): rulings reach the other nodes; a node that starts later has the kept ones", async () => {
  const prefix = newPrefix();
  await using a = await node(prefix);
  await using b = await node(prefix);
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
  const soon = ban("eve", 300);
  for (const ruling of [banned, mute, topic, kick, address, soon]) a.engine.rule(ruling);
  await eventually(() => b.host.rulings.length === 6, "six rulings on node B");
  assert.deepEqual(b.host.rulings, [banned, mute, topic, kick, address, soon], "in order");
  assert.deepEqual(a.host.rulings, [], "node A applies its own rulings itself");
  assert.deepEqual(bySort(b.engine.rulings()), bySort([banned, mute, topic, address, soon]));

  // Replaced, lifted, cleared; and one that ran out.
  const topic2: Ruling = { ...topic, text: "two", ts: 2 };
  const unbanned: Ruling = { ...address, until: 0 };
  const unmuted: Ruling = { ...mute, until: Date.now() - 1 };
  b.engine.rule(topic2); // from the other node this time
  a.engine.rule(unbanned);
  a.engine.rule(unmuted);
  await eventually(() => a.host.rulings.length === 1, "node B's topic on node A");
  await eventually(() => b.host.rulings.length === 8, "the lifts on node B");
  await eventually(() => Date.now() > soon.until, "eve's ban to end");
  await using c = await node(prefix);
  assert.deepEqual(bySort(c.engine.rulings()), bySort([banned, topic2]));
  assert.deepEqual(c.host.rulings, [], "learned while starting: the relay reads rulings()");
  b.engine.rule({ ...topic2, text: "" });
  await eventually(() => c.host.rulings.length === 1, "the clearing on node C, live");
  assert.deepEqual(c.engine.rulings(), [banned]);
  assert.deepEqual([...a.logged, ...b.logged, ...c.logged], []);
});

Deno.test("BroadcastChannelEngine: a node in another isolate that starts later learns the rulings", async () => {
  const prefix = newPrefix();
  await using a = await node(prefix);
  const banned = ban("bob", 60_000);
  const topic: Ruling = { kind: "topic", room: "lobby", text: "hi", by: "op", ts: 1 };
  a.engine.rule(banned);
  a.engine.rule(topic);
  a.engine.rule(ban("lifted", -1));
  const worker = new Worker(new URL("./_late_worker.ts", import.meta.url), { type: "module" });
  try {
    const answer = new Promise<{ rulings: Ruling[] }>((resolve, reject) => {
      worker.onmessage = (event) => resolve(event.data);
      worker.onerror = (event) => reject(new Error(event.message));
    });
    worker.postMessage({ prefix });
    const { rulings } = await within(answer, 10_000, "the worker's rulings");
    assert.deepEqual(bySort(rulings), bySort([banned, topic]));
  } finally {
    worker.terminate();
  }
});

Deno.test("BroadcastChannelEngine: a lift stays lifted; an older state does not bring the ban back", async () => {
  const prefix = newPrefix();
  await using a = await node(prefix);
  await using b = await node(prefix);
  const banned = ban("bob", 60_000);
  a.engine.rule(banned);
  a.engine.rule({ ...banned, until: 0 });
  await eventually(() => b.host.rulings.length === 2, "the ban and its lift on node B");
  // A node that missed the lift tells its state, with the ban stamped before it, and a
  // malformed ruling: the state applies (its name), the stale ban and the junk do not.
  postAs(prefix, "stale", 1, {
    t: "hello",
    state: {
      names: [{ key: "sam", session: "s1", name: "Sam", token: "t", at: 1 }],
      rooms: [],
      parked: [],
      rulings: [
        { ruling: banned, at: 1 },
        { ruling: { kind: "ban", target: { name: "x" }, by: "op" }, at: 2 },
        { ruling: ban("y", 60_000) }, // no stamp
        "junk",
      ],
    },
  });
  await eventually(() => b.engine.findName("sam") !== undefined, "the stale node's state");
  assert.deepEqual(b.engine.rulings(), []);
  assert.deepEqual(a.engine.rulings(), []);
  assert.equal(b.host.rulings.length, 2, "nothing new to apply");
  // A ruling stamped later than the lift is news; a malformed live one is dropped.
  const again = ban("bob", 120_000);
  postAs(
    prefix,
    "stale",
    2,
    { t: "rule", ruling: { kind: "mute", target: { name: "z" }, until: 1, by: "op" } }, // no stamp
    { t: "rule", ruling: { kind: "kick", target: { name: 5 }, by: "op" } },
    { t: "rule", ruling: again, at: Date.now() + 1000 },
    { t: "rule", ruling: { kind: "kick", target: { name: "dan" }, by: "op" } },
  );
  await eventually(() => b.host.rulings.length === 4, "the new ban and the kick");
  assert.deepEqual(b.host.rulings.slice(2), [again, {
    kind: "kick",
    target: { name: "dan" },
    by: "op",
  }]);
  assert.deepEqual(b.engine.rulings(), [again]);
  // A node's own ruling wins over whatever stamp the one kept there has.
  a.engine.rule({ ...again, until: 0 });
  await eventually(() => b.host.rulings.length === 5, "node A's lift on node B");
  assert.deepEqual(a.engine.rulings(), []);
  assert.deepEqual(b.engine.rulings(), []);
});

Deno.test("BroadcastChannelEngine: each room keeps what the host's rules say; private streams the default", async () => {
  const prefix = newPrefix();
  const history = { size: 5, ttlMs: 600_000, bytes: 1 << 20, totalBytes: 1 << 24 };
  await using a = await node(prefix, { history, sizes: { small: 2, none: 0, s1: 1 } });
  await using b = await node(prefix, { history, sizes: { small: 3 } });
  const rooms = ["small", "none", "other"];
  for (const room of rooms) b.engine.subscribe(room);
  for (let i = 1; i <= 7; i++) {
    for (const room of rooms) a.engine.record(said(room, `${room}${i}`));
    a.engine.record({
      to: "user",
      key: "bob",
      node: a.engine.node,
      session: "s1",
      event: { type: "direct", id: `d${i}`, ts: 0, from: "ann", to: "bob", text: `d${i}` },
    });
  }
  await eventually(() => b.host.delivered.length === 21, "the room messages on node B");
  const texts = (engine: BroadcastChannelEngine, room: string) =>
    engine.history({ room }, undefined, 100).events.map((e) => e.text);
  assert.deepEqual(texts(a.engine, "small"), ["small6", "small7"]);
  assert.deepEqual(texts(a.engine, "none"), [], "0: none kept");
  assert.equal(a.engine.history({ room: "none" }, undefined, 100).latest.offset, 7);
  assert.equal(texts(a.engine, "other").length, 5, "the default size");
  assert.equal(a.engine.history({ session: "s1" }, undefined, 100).events.length, 5);
  // Node B keeps what its own rules say of the messages it hears.
  assert.deepEqual(texts(b.engine, "small"), ["small5", "small6", "small7"]);
  assert.equal(texts(b.engine, "none").length, 5);
});

Deno.test("BroadcastChannelEngine: a session resumed on another node keeps its identity and oper", async () => {
  const prefix = newPrefix();
  await using a = await node(prefix);
  await using b = await node(prefix);
  const member = { node: a.engine.node, session: "s1", name: "Ann" };
  a.engine.claimName("ann", member, "reclaim");
  a.engine.join("lobby", member, 0);
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
  await eventually(() => b.engine.presence("lobby", 1).count === 1, "the parked session seen");
  const unparked = await b.engine.unpark("token");
  assert.deepEqual(unparked, { parked, kept: ["lobby"] });
});

Deno.test("readClusterItem(), readNodeItem(), readRoomEnvelope(): rulings, identities and moderation events are checked", () => {
  const banned = ban("bob", 1000);
  const kick: Ruling = { kind: "kick", target: { name: "bob" }, by: "op" };
  assert.deepEqual(readClusterItem({ t: "rule", ruling: kick }), { t: "rule", ruling: kick });
  assert.deepEqual(readClusterItem({ t: "rule", ruling: banned, at: 5 }), {
    t: "rule",
    ruling: banned,
    at: 5,
  });
  for (
    const [bad, why] of [
      [{ t: "rule", ruling: banned }, "a kept ruling without its stamp"],
      [{ t: "rule", ruling: banned, at: "5" }, "a stamp not a number"],
      [{ t: "rule", ruling: { ...banned, until: "x" }, at: 5 }, "a malformed ruling"],
      [{ t: "rule" }, "no ruling"],
    ] as const
  ) {
    assert.equal(readClusterItem(bad), undefined, why);
  }
  const state = { names: [], rooms: [], parked: [] };
  const hello = readClusterItem({
    t: "hello",
    state: { ...state, rulings: [{ ruling: banned, at: 1 }, { ruling: kick, at: 2 }, 7] },
  });
  assert.deepEqual(hello, {
    t: "hello",
    state: { ...state, rulings: [{ ruling: banned, at: 1 }] },
  }, "only kept rulings, well-formed and stamped");
  assert.deepEqual(readClusterItem({ t: "hello", state }), { t: "hello", state });

  const parked = {
    node: "n",
    session: "s",
    name: "ann",
    key: "ann",
    reclaim: "r",
    rooms: [],
    echo: false,
    identity: { subject: "u", name: "ann", admin: false, expires: 1, rooms: { a: ["join"] } },
    oper: false,
  };
  const park = (p: unknown) => readClusterItem({ t: "park", token: "t", parked: p, ms: 1 });
  assert.ok(park(parked));
  assert.ok(park({ ...parked, identity: undefined, oper: undefined }));
  for (
    const [bad, why] of [
      [{ ...parked, oper: "yes" }, "oper not a boolean"],
      [{ ...parked, identity: { ...parked.identity, admin: 1 } }, "admin not a boolean"],
      [{ ...parked, identity: { ...parked.identity, expires: "never" } }, "no expiry"],
      [{ ...parked, identity: { ...parked.identity, subject: "" } }, "no subject"],
      [{ ...parked, identity: { ...parked.identity, rooms: { a: ["own"] } } }, "a grant unknown"],
      [{ ...parked, identity: { ...parked.identity, rooms: ["a"] } }, "rooms not a map"],
    ] as const
  ) {
    assert.equal(park(bad), undefined, why);
    assert.equal(
      readNodeItem({ t: "taken", id: 1, handover: { parked: bad, at: 1, kept: [] } }, "n"),
      undefined,
      `a handover: ${why}`,
    );
  }

  const moderated = {
    type: "moderated",
    ts: 1,
    action: "ban",
    name: "bob",
    by: "op",
    until: 5,
    room: "lobby",
  };
  const topic = { type: "topic", ts: 1, room: "lobby", text: "", by: "op" };
  for (const event of [moderated, topic, { ...moderated, room: undefined, reason: "spam" }]) {
    assert.ok(readRoomEnvelope({ to: "room", room: "lobby", event }, "lobby"), event.type);
  }
  for (
    const [event, why] of [
      [{ ...moderated, room: "games" }, "another room's"],
      [{ ...moderated, action: "smite" }, "an unknown action"],
      [{ ...moderated, until: "later" }, "an end not a number"],
      [{ ...topic, room: "games" }, "another room's topic"],
      [{ ...topic, by: undefined }, "a topic by nobody"],
    ] as const
  ) {
    assert.equal(readRoomEnvelope({ to: "room", room: "lobby", event }, "lobby"), undefined, why);
  }
  const all = { ...moderated, room: undefined };
  assert.ok(readClusterItem({ t: "all", event: all }), "what a moderator did, for everyone");
  assert.equal(readClusterItem({ t: "all", event: { ...all, name: 5 } }), undefined);
});

Deno.test("RulingBook: the later stamp wins; lifts are forgotten after the tombstone time", () => {
  let now = 10_000;
  const book = new RulingBook(() => now, 1000);
  const banned = { ...ban("bob", 0), until: 20_000 };
  assert.equal(book.keep(banned, 5), true);
  assert.equal(book.keep({ ...banned, until: 30_000 }, 4), false, "an older stamp");
  assert.equal(book.stampOf(banned), 5);
  const lift = { ...banned, until: 0 };
  assert.equal(book.keep(lift, 6), true);
  assert.deepEqual(book.inForce(), []);
  assert.deepEqual(book.stamped(), [{ ruling: lift, at: 6 }], "the lift is remembered");
  const topic: Ruling = { kind: "topic", room: "lobby", text: "hi", by: "op", ts: 1 };
  book.keep(topic, 1);
  book.keep({ ...ban("eve", 0), until: now }, 1); // over at once
  now += 999;
  book.prune();
  assert.equal(book.stamped().length, 3);
  now += 1;
  book.prune();
  assert.deepEqual(book.stamped(), [{ ruling: topic, at: 1 }], "a topic in force stays");
  // Two rulings with one stamp: the same one wins on every node, whatever the order.
  const one = new RulingBook(() => now, 1000);
  const two = new RulingBook(() => now, 1000);
  const x = { ...topic, text: "x" };
  const y = { ...topic, text: "y" };
  one.keep(x, 9);
  one.keep(y, 9);
  two.keep(y, 9);
  two.keep(x, 9);
  assert.deepEqual(one.inForce(), two.inForce());
});
