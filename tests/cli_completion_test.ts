// Tab completion in the terminal client (node:readline's completer shape), and the
// rooms and members it completes from, followed from server events.

import assert from "node:assert/strict";
import { complete, type CompletionSource } from "../client/_completion.ts";
import { RoomTracker } from "../client/_rooms.ts";

const source = (members: string[], known: string[] = members): CompletionSource => ({
  commands: ["/join", "/leave", "/me", "/msg", "/send", "/who"],
  members: () => members,
  known: () => known,
  me: () => "carl",
});

Deno.test("complete() finishes a command at the start of the line", () => {
  const commands = source([]);
  assert.deepEqual(complete("/jo", commands), [["/join "], "/jo"]);
  assert.deepEqual(complete("/JO", commands), [["/join "], "/JO"]);
  assert.deepEqual(complete("/m", commands), [["/me", "/msg"], "/m"]);
  assert.deepEqual(complete("/x", commands), [[], "/x"]);
});

Deno.test("complete() finishes a name in the room, addressed at the start of a line", () => {
  const room = source(["carl", "parker", "paula", "wes"]);
  assert.deepEqual(complete("we", room), [["wes: "], "we"]);
  assert.deepEqual(complete("hi we", room), [["wes "], "we"]);
  assert.deepEqual(complete("hi pa", room), [["parker", "paula"], "pa"]);
  assert.deepEqual(complete("hi @pau", room), [["@paula "], "@pau"]);
  assert.deepEqual(complete("hi @pa", room), [["@parker", "@paula"], "@pa"]);
  assert.deepEqual(complete("ca", room), [[], "ca"], "never the user's own name");
  assert.deepEqual(complete("", room), [["parker", "paula", "wes"], ""]);
});

Deno.test("complete() ignores case only when that finds a single name", () => {
  const room = source(["Parker", "Paula", "wes"]);
  assert.deepEqual(complete("hi park", room), [["Parker "], "park"]);
  assert.deepEqual(complete("hi pa", room), [[], "pa"]);
  assert.deepEqual(complete("hi Pa", room), [["Parker", "Paula"], "Pa"]);
});

Deno.test("complete() offers anyone known after /msg, without the @", () => {
  const names = source(["wes"], ["wes", "zoe"]);
  assert.deepEqual(complete("/msg zo", names), [["zoe "], "zo"]);
  assert.deepEqual(complete("/msg @zo", names), [["zoe "], "@zo"]);
  assert.deepEqual(complete("zo", names), [[], "zo"], "not in the room");
});

Deno.test("RoomTracker follows presence, joins, leaves and renames", () => {
  const rooms = new RoomTracker(["lobby"]);
  const ts = 0;
  rooms.seen({ type: "presence", room: "lobby", members: ["wes", "carl"], count: 2 }, "carl");
  assert.deepEqual(rooms.members(), ["wes", "carl"]);
  rooms.seen({ type: "joined", ts, room: "lobby", name: "zoe" }, "carl");
  rooms.seen({ type: "renamed", ts, room: "lobby", from: "wes", to: "west" }, "carl");
  rooms.seen({ type: "left", ts, room: "lobby", name: "zoe", reason: "leave" }, "carl");
  assert.deepEqual(rooms.members().sort(), ["carl", "west"]);

  rooms.typed("/join #games");
  rooms.seen({ type: "joined", ts, room: "games", name: "carl" }, "carl");
  rooms.seen({ type: "presence", room: "games", members: ["ann", "carl"], count: 2 }, "carl");
  assert.equal(rooms.current, "games");
  assert.deepEqual(rooms.members(), ["ann", "carl"]);
  rooms.seen({ type: "direct", id: "1", ts, from: "bob", to: "carl", text: "psst" }, "carl");
  assert.deepEqual(rooms.known().sort(), ["ann", "bob", "carl", "west"]);

  rooms.seen({ type: "left", ts, room: "games", name: "carl", reason: "leave" }, "carl");
  assert.equal(rooms.current, "lobby");
  assert.deepEqual(rooms.members("games"), []);
});

Deno.test("RoomTracker keeps the members it knows when presence is cut short", () => {
  const rooms = new RoomTracker(["lobby"]);
  rooms.seen({ type: "joined", ts: 0, room: "lobby", name: "zoe" }, "carl");
  rooms.seen({ type: "presence", room: "lobby", members: ["carl"], count: 900 }, "carl");
  assert.deepEqual(rooms.members().sort(), ["carl", "zoe"]);
  rooms.seen({ type: "presence", room: "lobby", members: ["carl"], count: 1 }, "carl");
  assert.deepEqual(rooms.members(), ["carl"]);
});
