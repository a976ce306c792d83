// Batching: a client that asks for it gets several JSON messages per text
// frame, separated by newlines; a client that does not gets one per frame.

import assert from "node:assert/strict";
import type { Case } from "./_case.ts";
import { WsClient } from "./_ws_client.ts";

export const batchingCases: Case[] = [
  {
    name:
      "batching: welcome, joined and presence of a login share one frame; split frames keep order",
    async run({ ws, unique }) {
      const room = unique("room");
      await using batched = await WsClient.login(ws, unique("bat"), { batch: true });
      // Produced together by one login, so they go out together.
      const loginFrame = batched.frames.find((frame) => frame.includes('"welcome"'));
      assert.ok(loginFrame !== undefined, "a frame holds the welcome");
      assert.deepEqual(
        loginFrame.split("\n").map((part) => JSON.parse(part).type),
        ["welcome", "joined", "presence"],
        `the login frame: ${loginFrame.slice(0, 300)}`,
      );
      await using plain = await WsClient.login(ws, unique("plain"));
      for (const client of [batched, plain]) {
        client.send({ type: "join", room });
        await client.expect((e) => e.type === "presence" && e.room === room, `presence in ${room}`);
      }
      const texts = Array.from({ length: 10 }, (_, i) => `m${i}`);
      for (const text of texts) plain.send({ type: "publish", room, text });
      for (const text of texts) {
        const message = await batched.expect("message");
        assert.deepEqual([message.from, message.text], [plain.name, text], "in order");
      }
    },
  },
  {
    name: "batching: a client that does not ask gets exactly one JSON object per text frame",
    async run({ ws, unique }) {
      const room = unique("room");
      await using ann = await WsClient.login(ws, unique("ann"));
      await using bob = await WsClient.login(ws, unique("bob"));
      for (const client of [ann, bob]) {
        client.send({ type: "join", room });
        await client.expect((e) => e.type === "presence" && e.room === room, `presence in ${room}`);
      }
      const texts = Array.from({ length: 10 }, (_, i) => `m${i}`);
      for (const text of texts) bob.send({ type: "publish", room, text });
      for (const text of texts) assert.equal((await ann.expect("message")).text, text, "in order");
      // The client already refuses a frame that is not one JSON object; say it plainly too.
      const batchedFrames = ann.frames.filter((frame) => frame.includes("\n"));
      assert.deepEqual(batchedFrames, [], "no frame holds a newline");
    },
  },
];
