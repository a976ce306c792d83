// Rooms: join, leave, the room list and presence.

import assert from "node:assert/strict";
import type { Case, Context } from "./_case.ts";
import { type Received, WsClient } from "./_ws_client.ts";

/** Joins `room` and returns the presence the joiner gets. */
async function join(client: WsClient, room: string): Promise<Received> {
  client.send({ type: "join", room });
  return await client.expect(
    (e) => e.type === "presence" && e.room === room,
    `presence in ${room}`,
  );
}

/** The server's room list entries from `after` on, one page of `limit`. */
async function roomsPage(client: WsClient, after: string, limit: number): Promise<Received> {
  const ref = client.nextRef();
  client.send({ type: "rooms", after, limit, ref });
  return await client.expect((e) => e.type === "rooms" && e.ref === ref, `rooms with ref ${ref}`);
}

export const roomCases: Case[] = [
  {
    name: "join: the joiner gets joined and presence; members already there get joined",
    async run({ ws, unique }: Context) {
      const room = unique("room");
      const [annName, bobName] = [unique("ann"), unique("bob")];
      await using ann = await WsClient.login(ws, annName);
      await using bob = await WsClient.login(ws, bobName);
      ann.send({ type: "join", room, ref: "J1" });
      const joined = await ann.expect((e) => e.type === "joined" && e.room === room, "joined");
      assert.equal(joined.name, annName, "joined.name");
      const alone = await ann.expect("presence");
      assert.deepEqual(
        [alone.room, alone.members, alone.count, alone.ref],
        [room, [annName], 1, "J1"],
        "presence after creating the room",
      );
      bob.send({ type: "join", room });
      const seen = await ann.expect((e) => e.type === "joined" && e.room === room, "joined");
      assert.equal(seen.name, bobName, "ann sees bob join");
      const both = await bob.expect((e) => e.type === "presence" && e.room === room, "presence");
      assert.deepEqual([[...both.members].sort(), both.count], [[annName, bobName].sort(), 2]);
    },
  },
  {
    name:
      "join: a leading # is dropped, room names are case-sensitive, bad room names get room_invalid",
    async run({ ws, unique }) {
      const room = unique("games");
      await using ann = await WsClient.login(ws, unique("ann"));
      ann.send({ type: "join", room: `#${room}` });
      const joined = await ann.expect((e) => e.type === "joined" && e.name === ann.name, "joined");
      assert.equal(joined.room, room, "joined the room without its #");
      const upper = await join(ann, room.toUpperCase());
      assert.equal(upper.count, 1, `${room.toUpperCase()} is another room than ${room}`);
      for (const [index, bad] of ["has space", "", "x".repeat(33)].entries()) {
        ann.send({ type: "join", room: bad, ref: `B${index}` });
        await ann.expectError("room_invalid", `B${index}`);
      }
    },
  },
  {
    name: "leave: every member gets left with reason leave, the leaver too; then not_in_room",
    async run({ ws, unique }) {
      const room = unique("room");
      await using ann = await WsClient.login(ws, unique("ann"));
      await using bob = await WsClient.login(ws, unique("bob"));
      await join(ann, room);
      await join(bob, room);
      bob.send({ type: "leave", room });
      for (const client of [ann, bob]) {
        const left = await client.expect((e) => e.type === "left" && e.room === room, "left");
        assert.deepEqual(
          [left.name, left.reason],
          [bob.name, "leave"],
          `left as ${client.name} saw it`,
        );
        assert.equal(typeof left.ts, "number", "left.ts is a number");
      }
      bob.send({ type: "leave", room, ref: "again" });
      await bob.expectError("not_in_room", "again");
      bob.send({ type: "publish", room, text: "hi", ref: "say" });
      await bob.expectError("not_in_room", "say");
    },
  },
  {
    name:
      "rooms: one page sorted by name after `after`, with member counts and a total; empty rooms go",
    async run({ ws, unique }) {
      const prefix = unique("list");
      const [a, b, c] = [`${prefix}-a`, `${prefix}-b`, `${prefix}-c`];
      await using ann = await WsClient.login(ws, unique("ann"));
      await using bob = await WsClient.login(ws, unique("bob"));
      for (const room of [c, a, b]) await join(ann, room);
      await join(bob, b);
      // Nothing else can sort between these names, whatever else the server holds.
      const page = await roomsPage(ann, a, 2);
      assert.deepEqual(page.rooms, [{ name: b, members: 2 }, { name: c, members: 1 }]);
      assert.ok(Number.isSafeInteger(page.total) && page.total >= 4, `rooms.total ${page.total}`);
      ann.send({ type: "leave", room: c });
      await ann.expect((e) => e.type === "left" && e.room === c, `left ${c}`);
      const after = await roomsPage(ann, a, 2);
      assert.equal(after.rooms[0]?.name, b, "the list starts after `after`");
      assert.ok(
        !after.rooms.some((entry: { name: string }) => entry.name === c),
        `${c} is gone with its last member: ${JSON.stringify(after.rooms)}`,
      );
    },
  },
  {
    name: "presence: lists a room's members and counts them, with the request's ref",
    async run({ ws, unique }) {
      const room = unique("room");
      await using ann = await WsClient.login(ws, unique("ann"));
      await using bob = await WsClient.login(ws, unique("bob"));
      await using carl = await WsClient.login(ws, unique("carl"));
      await join(ann, room);
      await join(bob, room);
      carl.send({ type: "presence", room, ref: "who" });
      const presence = await carl.expect("presence");
      assert.equal(presence.ref, "who", "presence.ref");
      assert.equal(presence.room, room, "presence.room");
      assert.deepEqual([...presence.members].sort(), [ann.name, bob.name].sort(), "members");
      assert.equal(presence.count, 2, "presence.count");
    },
  },
];
