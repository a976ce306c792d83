// MemoryEngine: moderation rulings kept by key until they end, the check every
// ruling from another node passes, and each room's own history size.

import assert from "node:assert/strict";
import { type DirectEvent, MemoryEngine, type Ruling } from "../../core/mod.ts";
import { readRuling } from "../../core/_rulings.ts";
import { MemoryHistory, roomHistorySize } from "../../core/memory_history.ts";
import { recordingHost, said } from "../_ruling_host.ts";

const LIMITS = { size: 5, ttlMs: 600_000, bytes: 1 << 20, totalBytes: 1 << 24 };

Deno.test("MemoryEngine.rule() keeps bans, mutes and topics by key until they end; never tells its own host", async () => {
  let now = 1_000_000;
  const engine = new MemoryEngine({ now: () => now });
  const host = recordingHost();
  await engine.start(host);
  const banBob: Ruling = { kind: "ban", target: { name: "bob" }, until: now + 1000, by: "ann" };
  const banAddress: Ruling = {
    kind: "ban",
    target: { address: "10.0.0.1" },
    until: now + 5000,
    by: "ann",
  };
  const mute: Ruling = { kind: "mute", target: { name: "carl" }, until: now + 2000, by: "ann" };
  const topic: Ruling = { kind: "topic", room: "lobby", text: "one", by: "ann", ts: now };
  for (const ruling of [banBob, banAddress, mute, topic]) engine.rule(ruling);
  engine.rule({ kind: "kick", target: { name: "dan" }, by: "ann" });
  assert.deepEqual(engine.rulings(), [banBob, banAddress, mute, topic], "a kick is not kept");

  // A later ruling under the same key replaces the one there.
  const topic2: Ruling = { ...topic, text: "two" };
  const longer: Ruling = { ...mute, until: now + 9000 };
  engine.rule(topic2);
  engine.rule(longer);
  assert.deepEqual(engine.rulings(), [banBob, banAddress, longer, topic2]);

  // A ban whose end is past lifts it; an empty topic clears it.
  engine.rule({ ...banAddress, until: now - 1 });
  engine.rule({ ...topic, text: "" });
  assert.deepEqual(engine.rulings(), [banBob, longer]);

  // Bans and mutes that ran out (by the engine's clock) are no longer in force.
  now += 1000;
  assert.deepEqual(engine.rulings(), [longer], "the ban ended at its `until`");
  now += 8000;
  engine.sweep(now);
  assert.deepEqual(engine.rulings(), []);
  assert.deepEqual(host.rulings, [], "the caller applies its own rulings");
});

Deno.test("MemoryEngine: each room keeps what the host's rules say; other rooms and private streams the default", async () => {
  const engine = new MemoryEngine({ history: LIMITS });
  await engine.start(recordingHost({ sizes: { small: 2, none: 0, s1: 1 } }));
  for (let i = 1; i <= 7; i++) {
    for (const room of ["small", "none", "other", "s1"]) engine.record(said(room, `${room}${i}`));
    const event: DirectEvent = {
      type: "direct",
      id: `d${i}`,
      ts: 0,
      from: "a",
      to: "b",
      text: "x",
    };
    engine.record({ to: "user", key: "b", node: engine.node, session: "s1", event });
  }
  const kept = (room: string) => engine.history({ room }, undefined, 100);
  assert.deepEqual(kept("small").events.map((e) => e.text), ["small6", "small7"]);
  assert.deepEqual(kept("none").events, [], "0: none kept");
  assert.equal(kept("none").latest.offset, 7, "positions are still given");
  assert.equal(kept("other").events.length, 5, "the default size");
  assert.equal(kept("s1").events.length, 1, "a room named like a session has its own size");
  assert.equal(
    engine.history({ session: "s1" }, undefined, 100).events.length,
    5,
    "a private stream keeps the default, whatever the rules say of a room of that name",
  );
  // A resume from before what the small room keeps is told so.
  const from = kept("small").latest;
  assert.equal(
    engine.history({ room: "small" }, { ...from, offset: 4 }, 100).recovered,
    false,
  );
  assert.equal(engine.history({ room: "small" }, { ...from, offset: 5 }, 100).recovered, true);
});

Deno.test("MemoryHistory: a room whose rules change keeps the new size from the next message", () => {
  let size = 4;
  const history = new MemoryHistory(
    LIMITS,
    () => 0,
    (stream) => stream === "r:a" ? size : undefined,
  );
  for (let i = 0; i < 6; i++) history.append("r:a", said("a", `m${i}`).event as never);
  assert.equal(history.read("r:a", undefined, 100).events.length, 4);
  size = 0;
  history.append("r:a", said("a", "m6").event as never);
  assert.deepEqual(history.read("r:a", undefined, 100).events, [], "what was kept goes too");
  assert.equal(history.read("r:a", undefined, 100).latest.offset, 7);
});

Deno.test("roomHistorySize(): a room's size from the host, the default for anything else", () => {
  const host = (answer: () => number | undefined) => ({ ...recordingHost(), historySize: answer });
  assert.equal(roomHistorySize(host(() => 3), "r:lobby"), 3);
  assert.equal(roomHistorySize(host(() => 0), "r:lobby"), 0);
  assert.equal(roomHistorySize(host(() => 3), "u:s1"), undefined, "private streams: default");
  assert.equal(roomHistorySize(undefined, "r:lobby"), undefined, "not started");
  for (const bad of [-1, 1.5, NaN, Infinity, undefined]) {
    assert.equal(roomHistorySize(host(() => bad), "r:lobby"), undefined, String(bad));
  }
  const throws = host(() => {
    throw new Error("a bug in the rules");
  });
  assert.equal(roomHistorySize(throws, "r:lobby"), undefined);
});

Deno.test("readRuling() takes well-formed rulings only, rebuilt with their own fields", () => {
  const good: Ruling[] = [
    { kind: "kick", target: { name: "bob" }, by: "ann" },
    { kind: "kick", target: { name: "bob" }, by: "ann", reason: "spam" },
    { kind: "ban", target: { name: "bob" }, until: 5, by: "ann", reason: "" },
    { kind: "ban", target: { address: "::1" }, until: 5, by: "server" },
    { kind: "mute", target: { name: "bob" }, until: 0, by: "ann" },
    { kind: "topic", room: "lobby", text: "", by: "ann", ts: 1 },
  ];
  for (const ruling of good) assert.deepEqual(readRuling(ruling), ruling);
  assert.deepEqual(
    readRuling({ kind: "kick", target: { name: "bob", extra: 1 }, by: "ann", more: 2 }),
    { kind: "kick", target: { name: "bob" }, by: "ann" },
    "unknown fields are left behind",
  );
  const bad: [unknown, string][] = [
    [null, "null"],
    ["ban", "a string"],
    [[], "an array"],
    [{ kind: "ban", target: { name: "bob" }, by: "ann" }, "a ban without its end"],
    [{ kind: "ban", target: { name: "bob" }, until: "soon", by: "ann" }, "an end not a number"],
    [{ kind: "ban", target: { name: "bob" }, until: NaN, by: "ann" }, "an end not finite"],
    [{ kind: "ban", target: {}, until: 1, by: "ann" }, "no target"],
    [{ kind: "ban", target: { name: "b", address: "a" }, until: 1, by: "ann" }, "two targets"],
    [{ kind: "mute", target: { address: "::1" }, until: 1, by: "ann" }, "a mute of an address"],
    [{ kind: "kick", target: { name: "" }, by: "ann" }, "an empty name"],
    [{ kind: "kick", target: { name: "bob" } }, "no moderator"],
    [{ kind: "kick", target: { name: "bob" }, by: "ann", reason: 5 }, "a reason not text"],
    [{ kind: "kick", target: { name: "x".repeat(2000) }, by: "ann" }, "a name too long"],
    [{ kind: "topic", room: "lobby", by: "ann", ts: 1 }, "a topic without text"],
    [{ kind: "topic", room: "lobby", text: "x", by: "ann" }, "a topic without its time"],
    [{ kind: "topic", room: "", text: "x", by: "ann", ts: 1 }, "no room"],
    [{ kind: "topic", room: "a", text: "x".repeat(20_000), by: "a", ts: 1 }, "a topic too long"],
    [{ kind: "warn", target: { name: "bob" }, by: "ann" }, "an unknown kind"],
  ];
  for (const [value, why] of bad) assert.equal(readRuling(value), undefined, why);
});
