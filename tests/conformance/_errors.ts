// Errors: bad input gets a stable code (with the request's ref when it has
// one) and the connection stays up.

import assert from "node:assert/strict";
import type { Case } from "./_case.ts";
import { WsClient } from "./_ws_client.ts";

export const errorCases: Case[] = [
  {
    name:
      "errors: bad JSON, wrong shapes and unknown types get their codes; the connection stays up",
    async run({ ws, unique }) {
      await using client = await WsClient.login(ws, unique("ann"));
      const room = unique("room");
      // [what is sent, the error code, whether it carries a readable ref]
      const cases: [string, string, boolean][] = [
        ["not json", "bad_json", false],
        ['{"type":"publish"', "bad_json", false],
        ["[1,2]", "bad_message", false],
        ['"just a string"', "bad_message", false],
        ['{"type":42,"ref":"E1"}', "bad_message", true],
        ['{"ref":"E2"}', "bad_message", true],
        ['{"type":"teleport","ref":"E3"}', "unknown_type", true],
        ['{"type":"publish","room":"lobby","ref":"E4"}', "bad_message", true],
        ['{"type":"publish","room":"lobby","text":7,"ref":"E5"}', "bad_message", true],
        ['{"type":"join","ref":"E6"}', "bad_message", true],
        ['{"type":"direct","text":"x","ref":"E7"}', "bad_message", true],
        ['{"type":"rooms","limit":"ten","ref":"E8"}', "bad_message", true],
        [`{"type":"publish","room":"${room}","text":"x","ref":"E9"}`, "not_in_room", true],
      ];
      for (const [input, code, hasRef] of cases) {
        client.send(input);
        const error = await client.expectError(code).catch((error) => {
          throw new Error(`sent ${input}: ${error.message}`);
        });
        if (hasRef) assert.equal(error.ref, JSON.parse(input).ref, `the ref of ${input}`);
        assert.equal(typeof error.message, "string", `error.message for ${input}`);
      }
      await client.roundTrip();
      assert.equal(client.socket.readyState, WebSocket.OPEN, "still connected");
    },
  },
  {
    name: "errors: a request's own prototype fields are not merged into the server's objects",
    async run({ ws, unique }) {
      await using ann = await WsClient.login(ws, unique("ann"));
      await using bob = await WsClient.login(ws, unique("bob"));
      ann.send(`{"type":"publish","room":"lobby","text":"x","__proto__":{"polluted":true}}`);
      const message = await bob.expect((e) => e.type === "message" && e.from === ann.name);
      assert.equal(message.text, "x", "the message");
      assert.equal(message.polluted, undefined, "no field from __proto__");
      await ann.roundTrip();
    },
  },
];
