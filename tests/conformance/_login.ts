// Hello, login and names: the greeting, the welcome, refused names, renames.

import assert from "node:assert/strict";
import type { Case } from "./_case.ts";
import { WsClient } from "./_ws_client.ts";

export const loginCases: Case[] = [
  {
    name: "hello: the server greets at once with protocol 1 and positive limits, and answers hello",
    async run({ ws }) {
      await using client = await WsClient.connect(ws);
      const hello = client.hello;
      assert.equal(hello.protocol, 1, "hello.protocol");
      assert.equal(typeof hello.server, "string", "hello.server is a string");
      for (const key of ["maxLineBytes", "maxFrameBytes", "maxTextBytes", "maxFileBytes"]) {
        const value = hello.limits?.[key];
        assert.ok(Number.isSafeInteger(value) && value > 0, `hello.limits.${key} is ${value}`);
      }
      assert.ok(
        hello.limits.maxFrameBytes >= hello.limits.maxTextBytes,
        "a frame can hold the longest text",
      );
      client.send({ type: "hello", ref: "again" });
      const again = await client.expect("hello");
      assert.equal(again.ref, "again", "the hello reply carries the request's ref");
      assert.deepEqual(again.limits, hello.limits, "the same limits both times");
    },
  },
  {
    name: "login: welcome with the name, the ref and the lobby, then joined and presence for lobby",
    async run({ ws, unique }) {
      const name = unique("ann");
      await using client = await WsClient.connect(ws);
      client.send({ type: "login", name, ref: "L1" });
      const welcome = await client.expect("welcome");
      client.name = name;
      assert.equal(welcome.name, name, "welcome.name");
      assert.equal(welcome.ref, "L1", "welcome.ref");
      assert.deepEqual(welcome.rooms, ["lobby"], "welcome.rooms");
      assert.equal(typeof welcome.session, "string", "welcome.session is a string");
      assert.ok(Number.isSafeInteger(welcome.others) && welcome.others >= 0, "welcome.others");
      assert.equal(typeof welcome.reclaim, "string", "welcome.reclaim is a string");
      const joined = await client.expect("joined");
      assert.deepEqual([joined.room, joined.name], ["lobby", name], "joined for lobby");
      assert.equal(typeof joined.ts, "number", "joined.ts is a number");
      const presence = await client.expect("presence");
      assert.equal(presence.room, "lobby", "presence.room");
      assert.ok(presence.members.includes(name), `presence lists ${name}`);
      assert.ok(presence.count >= 1, "presence.count");
    },
  },
  {
    name: "login: a taken name (in any case) gets name_taken with the ref, and another try works",
    async run({ ws, unique }) {
      const name = unique("ann");
      await using ann = await WsClient.login(ws, name);
      await using other = await WsClient.connect(ws);
      other.send({ type: "login", name: name.toUpperCase(), ref: "T1" });
      const error = await other.expectError("name_taken", "T1");
      assert.equal(typeof error.message, "string", "an error has a message");
      other.send({ type: "login", name, ref: "T2" });
      await other.expectError("name_taken", "T2");
      const second = unique("annie");
      other.send({ type: "login", name: second, ref: "T3" });
      assert.equal((await other.expect("welcome")).name, second);
      other.name = second;
      await ann.expect((e) => e.type === "joined" && e.name === second, `joined for ${second}`);
    },
  },
  {
    name:
      "login: names with spaces, control characters, nothing, or over 32 characters get name_invalid",
    async run({ ws, unique }) {
      await using client = await WsClient.connect(ws);
      const bad = ["has space", "", "x".repeat(33), "bell\u0007", "tab\tname", "\u200b"];
      for (const [index, name] of bad.entries()) {
        const ref = `N${index}`;
        client.send({ type: "login", name, ref });
        await client.expectError("name_invalid", ref).catch((error) => {
          throw new Error(`login as ${JSON.stringify(name)}: ${error.message}`);
        });
      }
      const name = unique("x".repeat(20));
      client.send({ type: "login", name });
      assert.equal((await client.expect("welcome")).name, name, "a valid name still works");
      client.name = name;
    },
  },
  {
    name: "login: requests before login get not_logged_in; a second login gets already_logged_in",
    async run({ ws, unique }) {
      await using client = await WsClient.connect(ws);
      client.send({ type: "publish", room: "lobby", text: "hi", ref: "P" });
      await client.expectError("not_logged_in", "P");
      client.send({ type: "join", room: unique("room"), ref: "J" });
      await client.expectError("not_logged_in", "J");
      client.send({ type: "ping", ref: "still" });
      assert.equal((await client.expect("pong")).ref, "still", "ping works before login");
      const name = unique("ann");
      client.send({ type: "login", name });
      await client.expect("welcome");
      client.name = name;
      client.send({ type: "login", name: unique("again"), ref: "A" });
      await client.expectError("already_logged_in", "A");
    },
  },
  {
    name:
      "nick: members of shared rooms see renamed; the old name is free at once, a taken one is refused",
    async run({ ws, unique }) {
      const room = unique("room");
      const [annName, bobName, robert] = [unique("ann"), unique("bob"), unique("robert")];
      await using ann = await WsClient.login(ws, annName);
      await using bob = await WsClient.login(ws, bobName);
      for (const client of [ann, bob]) {
        client.send({ type: "join", room });
        await client.expect((e) => e.type === "presence" && e.room === room, `presence in ${room}`);
      }
      bob.send({ type: "nick", name: robert });
      const seen = await ann.expect((e) => e.type === "renamed" && e.room === room, "renamed");
      assert.deepEqual([seen.from, seen.to], [bobName, robert], "ann sees the rename");
      const own = await bob.expect((e) => e.type === "renamed" && e.room === room, "renamed");
      assert.deepEqual([own.from, own.to], [bobName, robert], "bob sees his own rename");
      bob.name = robert;
      await using reuse = await WsClient.login(ws, bobName);
      assert.equal(reuse.name, bobName, "the old name is free at once");
      bob.send({ type: "nick", name: annName, ref: "taken" });
      await bob.expectError("name_taken", "taken");
    },
  },
];
