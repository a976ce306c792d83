// The checks on everything that arrives on the channels: only well-formed
// messages of ours, from another node, get through.

import assert from "node:assert/strict";
import {
  MAX_BATCH,
  readBatch,
  readClusterItem,
  readNodeItem,
  readRoomEnvelope,
} from "../../channel/_wire.ts";

Deno.test("readBatch() takes only version 1 batches from other nodes, of bounded size", () => {
  assert.ok(readBatch({ v: 1, o: "b", q: 1, m: [] }, "a"));
  assert.ok(readBatch({ v: 1, o: "b", m: [1] }, "a"), "items are checked one by one later");
  for (
    const bad of [
      null,
      "x",
      [],
      { v: 1, o: "a", m: [] }, // this node's own
      { v: 2, o: "b", m: [] },
      { v: 1, o: "", m: [] },
      { v: 1, o: 7, m: [] },
      { v: 1, o: "b", m: {} },
      { v: 1, o: "b", q: 1.5, m: [] },
      { v: 1, o: "b", q: -1, m: [] },
      { v: 1, o: "b", m: new Array(MAX_BATCH + 1).fill(0) },
    ]
  ) {
    assert.equal(readBatch(bad, "a"), undefined, JSON.stringify(bad)?.slice(0, 80));
  }
});

Deno.test("readRoomEnvelope() takes room events for the channel's room only", () => {
  const message = { type: "message", id: "n-1", ts: 1, room: "lobby", from: "ann", text: "hi" };
  assert.ok(readRoomEnvelope({ to: "room", room: "lobby", event: message }, "lobby"));
  assert.ok(readRoomEnvelope({ to: "room", room: "lobby", event: message, except: "s1" }, "lobby"));
  const file = {
    ...message,
    text: undefined,
    file: { name: "a.bin", type: "application/octet-stream", size: 2 },
    data: new Uint8Array(2),
  };
  assert.ok(readRoomEnvelope({ to: "room", room: "lobby", event: file }, "lobby"));
  const left = { type: "left", ts: 1, room: "lobby", name: "ann", reason: "disconnect" };
  assert.ok(readRoomEnvelope({ to: "room", room: "lobby", event: left }, "lobby"));
  for (
    const [bad, why] of [
      [{ to: "room", room: "games", event: message }, "another room's channel"],
      [{ to: "room", room: "lobby", event: { ...message, room: "games" } }, "the event's room"],
      [{ to: "room", room: "lobby", event: { ...file, data: "AAA=" } }, "bytes as a string"],
      [{ to: "room", room: "lobby", event: { ...message, text: 5 } }, "text not a string"],
      [{ to: "room", room: "lobby", event: { ...left, reason: "kicked" } }, "an unknown reason"],
      [{ to: "room", room: "lobby", event: { type: "welcome", name: "x" } }, "a welcome"],
      [{ to: "room", room: "lobby", event: message, except: 3 }, "except not an id"],
      [{ to: "user", room: "lobby", event: message }, "not a room envelope"],
    ] as const
  ) {
    assert.equal(readRoomEnvelope(bad, "lobby"), undefined, why);
  }
});

Deno.test("readClusterItem() takes each item only with its fields", () => {
  const parked = {
    node: "a",
    session: "s",
    name: "ann",
    key: "ann",
    reclaim: "t",
    rooms: ["lobby"],
    echo: false,
  };
  const good = [
    { t: "hello", state: { names: [], rooms: [], parked: [] } },
    {
      t: "state",
      to: "a",
      state: { names: [], rooms: [], parked: [{ token: "k", parked, ms: 5 }] },
    },
    { t: "beat" },
    { t: "bye" },
    { t: "claim", key: "ann", session: "s", name: "Ann", token: "t", at: 1 },
    { t: "release", key: "ann", session: "s", ms: 0 },
    { t: "join", room: "lobby", session: "s", name: "Ann", at: 1 },
    { t: "leave", room: "lobby", session: "s" },
    { t: "rename", room: "lobby", session: "s", name: "Bo" },
    { t: "park", token: "k", parked, ms: 1000 },
    { t: "unpark", token: "k" },
    { t: "moved", session: "s", token: "k" },
    { t: "all", event: { type: "notice", ts: 1, text: "hi" } },
    { t: "take", token: "k", id: 1 },
    { t: "take", to: "a", token: "k", id: 1 },
  ];
  for (const item of good) assert.ok(readClusterItem(item), JSON.stringify(item));
  const bad = [
    null,
    { t: "hello" },
    { t: "hello", state: { names: [{ key: "a" }], rooms: [], parked: [] } },
    { t: "state", state: { names: [], rooms: [], parked: [] } },
    { t: "claim", key: "ann", session: "s", name: "Ann", token: "t", at: "now" },
    { t: "join", room: ["lobby"], session: "s", name: "Ann", at: 1 },
    { t: "park", token: "k", parked: { ...parked, rooms: [1] }, ms: 1 },
    { t: "all", event: { type: "message", ts: 1, text: "hi" } },
    { t: "take", token: "k", id: -1 },
    { t: "take", token: "k", id: 1, to: 5 },
    { t: "nope" },
  ];
  for (const item of bad) assert.equal(readClusterItem(item), undefined, JSON.stringify(item));
});

Deno.test("readNodeItem() takes private messages for this node and answers to its requests", () => {
  const direct = { type: "direct", id: "n-1", ts: 1, from: "bob", to: "ann", text: "psst" };
  const dm = { t: "dm", e: { to: "user", key: "ann", node: "a", session: "s", event: direct } };
  assert.ok(readNodeItem(dm, "a"));
  assert.equal(readNodeItem(dm, "b"), undefined, "for another node");
  assert.equal(
    readNodeItem({ t: "dm", e: { ...dm.e, event: { ...direct, type: "message" } } }, "a"),
    undefined,
  );
  assert.ok(readNodeItem({ t: "sync" }, "a"));
  assert.ok(readNodeItem({ t: "taken", id: 3 }, "a"));
  assert.equal(readNodeItem({ t: "taken", id: 3, handover: { parked: {} } }, "a"), undefined);
  assert.equal(readNodeItem({ t: "take", token: "k", id: 1 }, "a"), undefined, "cluster only");
});
