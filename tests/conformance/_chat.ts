// Room messages and private messages between WebSocket clients.

import assert from "node:assert/strict";
import type { Case } from "./_case.ts";
import { WsClient } from "./_ws_client.ts";

/** Logs in `names` and puts them all in `room`. */
async function inRoom(ws: string, room: string, names: string[], echo = false) {
  const clients: WsClient[] = [];
  try {
    for (const name of names) {
      const client = await WsClient.login(ws, name, { echo });
      clients.push(client);
      client.send({ type: "join", room });
      await client.expect((e) => e.type === "presence" && e.room === room, `presence in ${room}`);
    }
  } catch (error) {
    for (const client of clients) await client[Symbol.asyncDispose]();
    throw error;
  }
  return {
    clients,
    async [Symbol.asyncDispose]() {
      for (const client of clients) await client[Symbol.asyncDispose]();
    },
  };
}

export const chatCases: Case[] = [
  {
    name:
      "publish: a room message reaches the other members once, in order, with id and ts; not the sender",
    async run({ ws, unique }) {
      const room = unique("room");
      await using group = await inRoom(ws, room, [unique("ann"), unique("bob"), unique("carl")]);
      const [ann, bob, carl] = group.clients as [WsClient, WsClient, WsClient];
      const texts = ["one", "two", "three", "four", "five"];
      for (const text of texts) bob.send({ type: "publish", room, text });
      for (const reader of [ann, carl]) {
        const ids = new Set<string>();
        for (const text of texts) {
          const message = await reader.expect("message");
          assert.deepEqual(
            [message.room, message.from, message.text],
            [room, bob.name, text],
            `${reader.name} got bob's messages in order`,
          );
          assert.equal(typeof message.id, "string", "message.id is a string");
          assert.ok(Number.isFinite(message.ts), "message.ts is a number");
          ids.add(message.id);
        }
        assert.equal(ids.size, texts.length, "every message has its own id");
        await reader.roundTrip();
        const extra = reader.inbox.seen.filter((e) => e.type === "message");
        assert.equal(extra.length, texts.length, `${reader.name} got each message once`);
      }
      await bob.roundTrip();
      assert.ok(
        !bob.inbox.seen.some((e) => e.type === "message"),
        "without echo the sender does not get its own messages",
      );
    },
  },
  {
    name:
      "publish: with echo on at login the sender gets its own message, with the id the others see",
    async run({ ws, unique }) {
      const room = unique("room");
      await using group = await inRoom(ws, room, [unique("ann"), unique("bob")], true);
      const [ann, bob] = group.clients as [WsClient, WsClient];
      bob.send({ type: "publish", room, text: "hi all" });
      const seen = await ann.expect("message");
      const echoed = await bob.expect("message");
      assert.deepEqual([echoed.from, echoed.text], [bob.name, "hi all"], "the echo");
      assert.equal(echoed.id, seen.id, "the echo carries the same id");
    },
  },
  {
    name: "publish: an action carries action: true; empty text gets empty_message",
    async run({ ws, unique }) {
      const room = unique("room");
      await using group = await inRoom(ws, room, [unique("ann"), unique("bob")]);
      const [ann, bob] = group.clients as [WsClient, WsClient];
      bob.send({ type: "publish", room, text: "waves", action: true });
      const action = await ann.expect("message");
      assert.deepEqual([action.text, action.action], ["waves", true], "an action");
      bob.send({ type: "publish", room, text: "   ", ref: "blank" });
      await bob.expectError("empty_message", "blank");
    },
  },
  {
    name: "direct: the recipient and the sender get the same direct event; nobody else does",
    async run({ ws, unique }) {
      await using ann = await WsClient.login(ws, unique("ann"));
      await using bob = await WsClient.login(ws, unique("bob"));
      await using carl = await WsClient.login(ws, unique("carl"));
      ann.send({ type: "direct", to: bob.name, text: "psst" });
      const received = await bob.expect("direct");
      assert.deepEqual(
        [received.from, received.to, received.text],
        [ann.name, bob.name, "psst"],
        "what bob got",
      );
      const copy = await ann.expect("direct");
      assert.deepEqual([copy.from, copy.to, copy.text], [ann.name, bob.name, "psst"], "ann's copy");
      assert.equal(copy.id, received.id, "the sender's copy has the recipient's id");
      assert.equal(typeof received.ts, "number", "direct.ts is a number");
      await carl.roundTrip();
      assert.ok(!carl.inbox.seen.some((e) => e.type === "direct"), "carl got nothing");
      ann.send({ type: "direct", to: unique("nobody"), text: "hello?", ref: "nobody" });
      await ann.expectError("no_such_user", "nobody");
    },
  },
  {
    name: "input: a text-mode line is handled in JSON mode (/join, /me, /msg)",
    async run({ ws, unique }) {
      const room = unique("room");
      await using ann = await WsClient.login(ws, unique("ann"));
      await using bob = await WsClient.login(ws, unique("bob"));
      bob.send({ type: "join", room });
      await bob.expect((e) => e.type === "presence" && e.room === room, `presence in ${room}`);
      ann.send({ type: "input", line: `/join ${room}` });
      await ann.expect((e) => e.type === "presence" && e.room === room, `presence in ${room}`);
      ann.send({ type: "input", line: "/me waves" });
      const action = await bob.expect("message");
      assert.deepEqual([action.room, action.text, action.action], [room, "waves", true]);
      ann.send({ type: "input", line: "hello there" });
      const said = await bob.expect("message");
      assert.deepEqual([said.room, said.from, said.text], [room, ann.name, "hello there"]);
      ann.send({ type: "input", line: `/msg ${bob.name} psst` });
      assert.equal((await bob.expect("direct")).text, "psst", "/msg");
      ann.send({ type: "input", line: "/no-such-command", ref: "cmd" });
      await ann.expectError("unknown_command", "cmd");
    },
  },
  {
    name: "ping: pong with the request's ref and a timestamp",
    async run({ ws }) {
      await using client = await WsClient.connect(ws);
      const before = Date.now();
      client.send({ type: "ping", ref: "p1" });
      const pong = await client.expect("pong");
      assert.equal(pong.ref, "p1", "pong.ref");
      assert.ok(
        Number.isFinite(pong.ts) && Math.abs(pong.ts - before) < 60_000,
        `pong.ts ${pong.ts} is near this machine's clock ${before}`,
      );
    },
  },
];
