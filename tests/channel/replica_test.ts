// The merged view of every node's names, rooms and parked sessions, without
// channels: who wins a name, join order, nodes dropped and replaced.

import assert from "node:assert/strict";
import { type NameHolder, precedes, Replica } from "../../channel/_replica.ts";
import { fakeClock } from "../_fakes.ts";

function holder(node: string, session: string, at: number, token = "t"): NameHolder {
  return { node, session, name: session, token, at, heldUntil: undefined };
}

Deno.test("Replica.winner() is the earlier live claim, then the smaller node id", () => {
  const replica = new Replica(Date.now);
  replica.claim("ann", holder("b", "s2", 10));
  replica.claim("ann", holder("a", "s1", 20));
  assert.equal(replica.winner("ann")?.session, "s2");
  assert.equal(replica.liveNames, 1, "one name, however many claim it");
  assert.ok(precedes(holder("b", "x", 5), holder("a", "y", 6)));
  assert.ok(precedes(holder("a", "x", 5), holder("b", "y", 5)));
  replica.release("b", "ann", "s2", 0);
  assert.equal(replica.findName("ann")?.node, "a", "the other claim holds it now");
  assert.equal(replica.liveNames, 1);
  replica.release("a", "ann", "s1", 0);
  assert.equal(replica.findName("ann"), undefined);
  assert.equal(replica.liveNames, 0);
});

Deno.test("Replica: a name kept for a dropped user runs out, or goes to a live claim", () => {
  const clock = fakeClock(1000);
  const replica = new Replica(clock.now);
  replica.claim("ann", holder("a", "s1", 1, "token"));
  replica.release("a", "ann", "s1", 500);
  assert.equal(replica.findName("ann"), undefined, "kept, not live");
  assert.equal(replica.liveNames, 0);
  assert.deepEqual(replica.holders("ann").map((h) => h.token), ["token"]);
  // A live claim through another node (the user back, with its token) replaces the hold.
  replica.claim("ann", holder("b", "s9", 2, "token"));
  assert.deepEqual(replica.holders("ann").map((h) => h.node), ["b"]);
  assert.equal(replica.liveNames, 1);
  replica.release("b", "ann", "s9", 500);
  clock.set(1500);
  assert.deepEqual(replica.holders("ann"), [], "its time ran out");
  assert.equal(replica.liveNames, 0);
});

Deno.test("Replica.presence() lists members in join order across nodes; a moved member keeps its place", () => {
  const replica = new Replica(Date.now);
  replica.join("b", "lobby", "s3", "cid", 30);
  replica.join("a", "lobby", "s1", "ann", 10);
  replica.join("b", "lobby", "s2", "bob", 20);
  assert.deepEqual(replica.presence("lobby", 10), { members: ["ann", "bob", "cid"], count: 3 });
  assert.deepEqual(replica.presence("lobby", 2), { members: ["ann", "bob"], count: 3 });
  // ann's session moves to node c (resumed there): same place, node c's now.
  replica.join("c", "lobby", "s1", "ann", 99);
  assert.deepEqual(replica.presence("lobby", 10).members, ["ann", "bob", "cid"]);
  assert.equal(replica.leave("a", "lobby", "s1"), false, "node a no longer has her");
  assert.equal(replica.leave("c", "lobby", "s1"), true);
  replica.rename("b", "lobby", "s2", "robert");
  assert.deepEqual(replica.presence("lobby", 10), { members: ["robert", "cid"], count: 2 });
  assert.deepEqual(replica.rooms(10), { rooms: [{ name: "lobby", members: 2 }], total: 1 });
});

Deno.test("Replica.dropNode() forgets a node and says who left where", () => {
  const replica = new Replica(Date.now);
  replica.claim("bob", holder("b", "s2", 1));
  replica.join("b", "lobby", "s2", "bob", 1);
  replica.join("b", "games", "s2", "bob", 2);
  replica.join("a", "lobby", "s1", "ann", 3);
  replica.park("b", "tok", {
    node: "b",
    session: "s2",
    name: "bob",
    key: "bob",
    reclaim: "t",
    rooms: ["lobby"],
    echo: false,
  }, Date.now() + 1000);
  const gone = replica.dropNode("b");
  assert.deepEqual(gone, [{ room: "lobby", names: ["bob"] }, { room: "games", names: ["bob"] }]);
  assert.equal(replica.findName("bob"), undefined);
  assert.equal(replica.parked("tok"), undefined);
  assert.deepEqual(replica.rooms(10), { rooms: [{ name: "lobby", members: 1 }], total: 1 });
  assert.equal(replica.node("b"), undefined);
});

Deno.test("Replica.replaceNode() makes a node's entries exactly its state, and stateOf() tells it", () => {
  const replica = new Replica(Date.now);
  replica.join("b", "old", "s0", "zed", 1);
  replica.claim("zed", holder("b", "s0", 1));
  const state = {
    names: [{ key: "bob", session: "s2", name: "Bob", token: "t", at: 5 }],
    rooms: [{ room: "lobby", members: [{ session: "s2", name: "Bob", at: 6 }] }],
    parked: [],
  };
  const { keys, added } = replica.replaceNode("b", state);
  assert.deepEqual(keys, ["bob"]);
  assert.deepEqual(added.map((m) => m.name), ["Bob"]);
  assert.equal(replica.findName("zed"), undefined, "what it no longer holds is gone");
  assert.deepEqual(replica.rooms(10).rooms.map((r) => r.name), ["lobby"]);
  assert.deepEqual(replica.stateOf("b"), state);
  // The same state again adds nobody.
  assert.deepEqual(replica.replaceNode("b", state).added, []);
});
