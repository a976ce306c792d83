// Limits as the server announces them in hello: the sizes are read from
// there, so a server configured with other limits passes too.

import assert from "node:assert/strict";
import type { Case } from "./_case.ts";
import { binaryFrame, pattern, splitBinaryFrame } from "./_binary_frame.ts";
import { BINARY, WsClient } from "./_ws_client.ts";

/** Frames sent before login to use up the login budget, at most. */
const MAX_LOGIN_PROBES = 64;

export const limitCases: Case[] = [
  {
    name: "limits: chat text of maxTextBytes is relayed; one UTF-8 byte more gets too_large",
    async run({ ws, unique, limits }) {
      await using ann = await WsClient.login(ws, unique("ann"));
      await using bob = await WsClient.login(ws, unique("bob"));
      const longest = "x".repeat(limits.maxTextBytes);
      ann.send({ type: "publish", room: "lobby", text: longest });
      const message = await bob.expect((e) => e.type === "message" && e.from === ann.name);
      assert.equal(message.text.length, limits.maxTextBytes, "the longest text arrives whole");
      // Bytes, not characters: "é" is two bytes of UTF-8.
      const over = "é".repeat(Math.floor(limits.maxTextBytes / 2)) + "xx";
      ann.send({ type: "publish", room: "lobby", text: over, ref: "over" });
      await ann.expectError("too_large", "over");
      await ann.roundTrip();
    },
  },
  {
    name: "limits: a file of maxFileBytes is relayed; one byte more gets too_large",
    async run({ ws, unique, limits }) {
      const room = unique("files");
      // Two senders: each file counts against its own sender's byte rate.
      await using ann = await WsClient.login(ws, unique("ann"));
      await using bob = await WsClient.login(ws, unique("bob"));
      await using carl = await WsClient.login(ws, unique("carl"));
      for (const client of [ann, bob, carl]) {
        client.send({ type: "join", room });
        await client.expect((e) => e.type === "presence" && e.room === room, `presence in ${room}`);
      }
      const largest = pattern(limits.maxFileBytes, 1);
      ann.sendBinary(binaryFrame({ room, file: { name: "largest.bin" } }, largest));
      const { header, payload } = splitBinaryFrame((await bob.expect(BINARY)).bytes!);
      assert.equal((header.file as { size: number }).size, limits.maxFileBytes, "file.size");
      assert.ok(payload.length === largest.length, "the largest file arrives whole");
      carl.sendBinary(
        binaryFrame(
          { room, file: { name: "over.bin" }, ref: "over" },
          new Uint8Array(limits.maxFileBytes + 1),
        ),
      );
      await carl.expectError("too_large", "over");
      await carl.roundTrip();
    },
  },
  {
    name: "limits: a text frame over maxFrameBytes is closed with 1009",
    async run({ ws, unique, limits }) {
      await using bob = await WsClient.login(ws, unique("bob"));
      await using ann = await WsClient.login(ws, unique("ann"));
      ann.send(`{"type":"publish","room":"lobby","text":"${"x".repeat(limits.maxFrameBytes)}"}`);
      const closed = await ann.expectClosed();
      assert.equal(closed.code, 1009, `close code (reason ${JSON.stringify(closed.reason)})`);
      const error = ann.inbox.seen.find((e) => e.type === "error");
      if (error) assert.equal(error.code, "too_large", "an error before the close is too_large");
      assert.ok(
        !bob.inbox.seen.some((e) => e.type === "message" && e.from === ann.name),
        "nothing of it was relayed",
      );
      await bob.roundTrip();
    },
  },
  {
    name:
      "limits: a client that sends too much before login gets too_large and is closed with 1009",
    async run({ ws }) {
      await using client = await WsClient.connect(ws);
      const padding = "x".repeat(8 * 1024);
      let closed: CloseEvent | undefined;
      // Each ping waits for its pong, so nothing is sent after the server's close.
      for (let probe = 0; probe < MAX_LOGIN_PROBES && closed === undefined; probe++) {
        const ref = `pad${probe}`;
        client.send({ type: "ping", ref, padding });
        const pong = await client.expect((e) => e.type === "pong" && e.ref === ref, `pong ${ref}`)
          .catch(() => undefined);
        // No pong: an error and the close came instead (or the wait below says what did).
        if (pong === undefined) closed = await client.expectClosed();
      }
      assert.ok(closed, `still open after ${MAX_LOGIN_PROBES * 8} KiB sent before login`);
      assert.equal(closed.code, 1009, "close code");
      // docs/PROTOCOL.md: the error says why, then the close.
      const error = client.inbox.seen.find((e) => e.type === "error");
      assert.equal(error?.code, "too_large", "an error before the close is too_large");
    },
  },
];
