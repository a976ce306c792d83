// Room history and resumed sessions: what a client that joins late or comes
// back after a dropped connection gets.

import assert from "node:assert/strict";
import type { Case } from "./_case.ts";
import type { Received } from "./_ws_client.ts";
import { WsClient } from "./_ws_client.ts";

/** Attempts at a resume that the server may not have parked yet. */
const RESUME_TRIES = 10;

export const resumeCases: Case[] = [
  {
    name:
      "history: join with history N gets a history header, then the last N messages with positions",
    async run({ ws, unique }) {
      const room = unique("room");
      await using bob = await WsClient.login(ws, unique("bob"), { echo: true });
      bob.send({ type: "join", room });
      await bob.expect((e) => e.type === "presence" && e.room === room, `presence in ${room}`);
      const texts = ["one", "two", "three"];
      const said: Received[] = [];
      for (const text of texts) {
        bob.send({ type: "publish", room, text });
        said.push(await bob.expect("message"));
      }
      for (const message of said) {
        assert.ok(Number.isSafeInteger(message.offset), `message.offset ${message.offset}`);
        assert.equal(typeof message.epoch, "string", "message.epoch is a string");
      }
      assert.deepEqual(
        said.map((m) => m.offset - said[0]!.offset),
        [0, 1, 2],
        "offsets count up by one",
      );
      await using carl = await WsClient.login(ws, unique("carl"));
      carl.send({ type: "join", room, history: 2, ref: "H" });
      const header = await carl.expect("history");
      assert.deepEqual(
        [header.room, header.count, header.ref, header.epoch, header.offset],
        [room, 2, "H", said[2]!.epoch, said[2]!.offset],
        "the history header",
      );
      for (const expected of said.slice(1)) {
        const replayed = await carl.expect("message");
        assert.deepEqual(
          [replayed.id, replayed.text, replayed.offset, replayed.epoch],
          [expected.id, expected.text, expected.offset, expected.epoch],
          "a replayed message, oldest first",
        );
      }
      bob.send({ type: "publish", room, text: "live" });
      const live = await carl.expect("message");
      assert.deepEqual([live.text, live.offset], ["live", said[2]!.offset + 1], "then live");
    },
  },
  {
    name: "resume: a dropped client's name stays taken; resume brings back its name and rooms",
    async run({ ws, unique }) {
      const room = unique("room");
      const annName = unique("ann");
      await using bob = await WsClient.login(ws, unique("bob"));
      bob.send({ type: "join", room });
      await bob.expect((e) => e.type === "presence" && e.room === room, `presence in ${room}`);
      const ann = await WsClient.connect(ws);
      let token: string;
      try {
        ann.send({ type: "login", name: annName });
        const welcome = await ann.expect("welcome");
        assert.equal(typeof welcome.resume, "string", "welcome.resume: a token to resume with");
        token = welcome.resume;
        ann.send({ type: "join", room });
        await ann.expect((e) => e.type === "presence" && e.room === room, `presence in ${room}`);
      } finally {
        await ann.close(); // dropped, not quit
      }
      await using other = await WsClient.connect(ws);
      other.send({ type: "login", name: annName, ref: "taken" });
      await other.expectError("name_taken", "taken");
      await using back = await WsClient.connect(ws);
      let resumed: Received | undefined;
      for (let attempt = 0; attempt < RESUME_TRIES && resumed === undefined; attempt++) {
        const ref = `resume${attempt}`;
        back.send({ type: "resume", token, ref });
        const reply = await back.expect(
          (e) => e.ref === ref && (e.type === "welcome" || e.type === "error"),
          `welcome or error with ref ${ref}`,
        );
        if (reply.type === "welcome") resumed = reply;
        // The server may not have seen the drop yet; a round trip elsewhere gives it time.
        else if (reply.code === "resume_failed") await bob.roundTrip();
        else assert.fail(`resume: error ${reply.code}: ${reply.message}`);
      }
      assert.ok(resumed, `resume_failed ${RESUME_TRIES} times`);
      back.name = annName;
      assert.deepEqual(
        [resumed.name, resumed.resumed, [...resumed.rooms].sort()],
        [annName, true, ["lobby", room].sort()],
        "the resumed welcome",
      );
      assert.notEqual(resumed.resume, token, "a new token replaces the used one");
      bob.send({ type: "publish", room, text: "welcome back" });
      const message = await back.expect("message");
      assert.deepEqual([message.room, message.text], [room, "welcome back"], "back in the room");
      await bob.roundTrip();
      assert.ok(
        !bob.inbox.seen.some((e) => e.type === "left" && e.name === annName),
        "nobody saw the dropped client leave",
      );
    },
  },
];
