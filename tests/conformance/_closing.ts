// How connections end: quit (1000), a WebSocket protocol violation (1002),
// sustained flooding (4029).

import assert from "node:assert/strict";
import type { Case } from "./_case.ts";
import { closeCode, RawWebSocket } from "./_raw_websocket.ts";
import { WsClient } from "./_ws_client.ts";

/** Pings sent one at a time until the rate limit disconnects, at most. */
const MAX_FLOOD = 2000;

export const closingCases: Case[] = [
  {
    name: "quit: a notice, then close 1000; the others see left; the name is free at once",
    async run({ ws, unique }) {
      const room = unique("room");
      await using bob = await WsClient.login(ws, unique("bob"));
      const annName = unique("ann");
      const ann = await WsClient.login(ws, annName);
      try {
        for (const client of [ann, bob]) {
          client.send({ type: "join", room });
          await client.expect(
            (e) => e.type === "presence" && e.room === room,
            `presence in ${room}`,
          );
        }
        const closed = await ann.quit();
        assert.equal(closed.code, 1000, `close code (reason ${JSON.stringify(closed.reason)})`);
        assert.ok(ann.inbox.seen.some((e) => e.type === "notice"), "a notice before the close");
      } finally {
        await ann[Symbol.asyncDispose]();
      }
      const left = await bob.expect((e) => e.type === "left" && e.room === room, "left");
      assert.equal(left.name, annName, "left.name");
      assert.ok(["leave", "disconnect"].includes(left.reason), `left.reason ${left.reason}`);
      await using again = await WsClient.login(ws, annName);
      assert.equal(again.name, annName, "the name could be taken again at once");
    },
  },
  {
    name: "close: a WebSocket protocol violation (a 126-byte ping) is closed with 1002",
    needs: "raw",
    async run({ ws }) {
      using raw = await RawWebSocket.open(ws);
      const hello = await raw.readFrame().catch((error) => {
        throw new Error(`before anything was sent: ${error.message}`);
      });
      assert.equal(hello?.opcode, 1, "the hello text frame comes first");
      // Control frames may carry at most 125 bytes (RFC 6455, 5.5).
      await raw.write(RawWebSocket.frame(0x9, new Uint8Array(126)));
      const opcodes: number[] = [];
      const next = () =>
        raw.readFrame().catch((error) => {
          const seen = opcodes.length === 0 ? "nothing" : `opcodes ${opcodes}`;
          throw new Error(`after a 126-byte ping, ${seen} then ${error.message}`);
        });
      for (let frame = await next(); frame !== null; frame = await next()) {
        opcodes.push(frame.opcode);
        if (frame.opcode !== 8) continue;
        assert.equal(closeCode(frame), 1002, "the close frame's code");
        return;
      }
      assert.fail(`the connection ended without a close frame (opcodes seen: ${opcodes})`);
    },
  },
  {
    name:
      "close: a client that keeps sending faster than its rate is told rate_limited, then closed 4029",
    async run({ ws, unique }) {
      await using client = await WsClient.login(ws, unique("flood"));
      let limited = 0;
      // One at a time, so nothing is sent after the server's close frame.
      for (let i = 0; i < MAX_FLOOD && client.socket.readyState === WebSocket.OPEN; i++) {
        const ref = `f${i}`;
        client.send({ type: "ping", ref });
        const reply = await client.inbox.take(
          (e) => (e.type === "pong" && e.ref === ref) || e.type === "error",
          `pong ${ref} or an error`,
        ).catch(() => undefined);
        if (reply === undefined) break; // closed (or silent): the wait below says which
        if (reply.type !== "error") continue;
        assert.equal(reply.code, "rate_limited", `error ${reply.code}: ${reply.message}`);
        limited++;
        // The last error says the close follows; a ping after the close frame would
        // have the TCP connection cut (1006) before the close code is read.
        if (/disconnect/i.test(reply.message ?? "")) break;
      }
      const closed = await client.expectClosed();
      assert.ok(limited > 0, "rate_limited errors came before the close");
      assert.equal(closed.code, 4029, `close code (reason ${JSON.stringify(closed.reason)})`);
    },
  },
];
