// Files: binary frames to rooms and to users, and base64 files in JSON.

import assert from "node:assert/strict";
import type { Case } from "./_case.ts";
import { binaryFrame, pattern, splitBinaryFrame, toBase64 } from "./_binary_frame.ts";
import { BINARY, WsClient } from "./_ws_client.ts";

export const fileCases: Case[] = [
  {
    name:
      "binary: a file to a room reaches the members as a binary frame whose header is the message",
    async run({ ws, unique, limits }) {
      const room = unique("room");
      await using ann = await WsClient.login(ws, unique("ann"));
      await using bob = await WsClient.login(ws, unique("bob"));
      for (const client of [ann, bob]) {
        client.send({ type: "join", room });
        await client.expect((e) => e.type === "presence" && e.room === room, `presence in ${room}`);
      }
      const payload = pattern(Math.min(3000, limits.maxFileBytes));
      ann.sendBinary(
        binaryFrame({ room, file: { name: "../../etc/cat.png", type: "image/png" } }, payload),
      );
      const { header, payload: got } = splitBinaryFrame((await bob.expect(BINARY)).bytes!);
      assert.equal(header.type, "message", "header.type");
      assert.deepEqual([header.room, header.from], [room, ann.name], "header room and from");
      assert.equal(typeof header.id, "string", "header.id is a string");
      assert.equal(typeof header.ts, "number", "header.ts is a number");
      assert.deepEqual(
        header.file,
        { name: "cat.png", type: "image/png", size: payload.length },
        "header.file: the base name, the type and the size",
      );
      assert.equal(header.data, undefined, "no base64 data in a binary frame's header");
      assert.deepEqual(got, payload, "the payload arrives intact");
    },
  },
  {
    name: "binary: a file to a user reaches only that user, and the sender's copy confirms it",
    async run({ ws, unique }) {
      await using ann = await WsClient.login(ws, unique("ann"));
      await using bob = await WsClient.login(ws, unique("bob"));
      await using carl = await WsClient.login(ws, unique("carl"));
      const payload = pattern(100, 7);
      ann.sendBinary(binaryFrame({ to: bob.name, file: { name: "a.bin" } }, payload));
      const { header, payload: got } = splitBinaryFrame((await bob.expect(BINARY)).bytes!);
      assert.deepEqual(
        [header.type, header.from, header.to, typeof header.file],
        ["direct", ann.name, bob.name, "object"],
        "the direct header",
      );
      assert.deepEqual(got, payload, "the payload arrives intact");
      const copy = splitBinaryFrame((await ann.expect(BINARY)).bytes!);
      assert.equal(copy.header.id, header.id, "the sender's copy has the same id");
      await carl.roundTrip();
      assert.ok(!carl.inbox.seen.some((e) => e.type === BINARY), "carl got nothing");
    },
  },
  {
    name: "binary: a frame with a bad layout gets bad_frame and the connection stays up",
    async run({ ws, unique }) {
      await using ann = await WsClient.login(ws, unique("ann"));
      ann.sendBinary(new Uint8Array([9, 9, 9]));
      await ann.expectError("bad_frame");
      ann.sendBinary(binaryFrame({ file: { name: "nowhere.bin" } }, pattern(10)));
      await ann.expectError("bad_frame");
      await ann.roundTrip();
    },
  },
  {
    name: "JSON file: publish with base64 data reaches WebSocket members as a binary frame",
    async run({ ws, unique, limits }) {
      const room = unique("room");
      await using ann = await WsClient.login(ws, unique("ann"));
      await using bob = await WsClient.login(ws, unique("bob"));
      for (const client of [ann, bob]) {
        client.send({ type: "join", room });
        await client.expect((e) => e.type === "presence" && e.room === room, `presence in ${room}`);
      }
      const payload = pattern(Math.min(1500, limits.maxFileBytes), 3);
      ann.send({
        type: "publish",
        room,
        data: toBase64(payload),
        file: { name: "notes.txt", type: "text/plain" },
      });
      const { header, payload: got } = splitBinaryFrame((await bob.expect(BINARY)).bytes!);
      assert.deepEqual(
        [header.type, header.room, header.from, header.file],
        ["message", room, ann.name, {
          name: "notes.txt",
          type: "text/plain",
          size: payload.length,
        }],
        "the header",
      );
      assert.deepEqual(got, payload, "the payload arrives intact");
      ann.send({ type: "publish", room, data: "not base64!", file: { name: "x" }, ref: "b64" });
      await ann.expectError("bad_message", "b64");
    },
  },
];
