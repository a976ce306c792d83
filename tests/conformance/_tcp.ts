// The TCP endpoint: a telnet-style user in text mode, chatting with
// WebSocket users; and JSON mode after a JSON first line.

import assert from "node:assert/strict";
import type { Case } from "./_case.ts";
import { TcpClient } from "./_tcp_client.ts";
import { WsClient } from "./_ws_client.ts";

export const tcpCases: Case[] = [
  {
    name:
      "text mode: a greeting asks for a name; a taken or invalid one gets an error line and the question again",
    needs: "tcp",
    async run({ ws, tcp, unique }) {
      await using wes = await WsClient.login(ws, unique("wes"));
      await using tess = await TcpClient.connect(tcp!);
      const greeting = await tess.expect(() => true);
      assert.match(greeting, /^-!- .*What's your name\?$/, "the greeting");
      await tess.send(wes.name!.toUpperCase());
      assert.match(await tess.expect("error"), /^-!- error name_taken: /, "a taken name");
      await tess.expect("What's your name?");
      await tess.send("has space");
      assert.match(await tess.expect("error"), /^-!- error name_invalid: /, "an invalid name");
      await tess.expect("What's your name?");
      const name = unique("tess");
      await tess.send(name);
      assert.match(
        await tess.expect("Welcome"),
        new RegExp(`^-!- Welcome, ${name}! \\d+ other users? online\\.`),
        "the welcome line",
      );
      assert.match(
        await tess.expect("here:"),
        new RegExp(`^-!- \\[lobby\\] \\d+ here: .*${name}`),
        "who is in the lobby",
      );
      tess.name = name;
      const joined = await wes.expect((e) => e.type === "joined" && e.name === name, "joined");
      assert.equal(joined.room, "lobby", "the WebSocket user sees the telnet user join");
    },
  },
  {
    name: "text mode and WebSocket: a telnet user and a WebSocket user chat in one room, both ways",
    needs: "tcp",
    async run({ ws, tcp, unique }) {
      const room = unique("dev");
      await using tess = await TcpClient.login(tcp!, unique("tess"));
      await using wes = await WsClient.login(ws, unique("wes"));
      wes.send({ type: "join", room });
      await wes.expect((e) => e.type === "presence" && e.room === room, `presence in ${room}`);
      await tess.send(`/join ${room}`);
      const joined = await wes.expect((e) => e.type === "joined" && e.room === room, "joined");
      assert.equal(joined.name, tess.name, "wes sees tess join");
      await tess.expect(`-!- [${room}] `);
      await tess.send("hello from telnet");
      const message = await wes.expect("message");
      assert.deepEqual(
        [message.room, message.from, message.text],
        [room, tess.name, "hello from telnet"],
        "a telnet line as a message event",
      );
      wes.send({ type: "publish", room, text: "hello from the web" });
      assert.equal(
        await tess.expect("hello from the web"),
        `[${room}] ${wes.name}: hello from the web`,
        "a WebSocket message as a line",
      );
      wes.send({ type: "publish", room, text: "waves", action: true });
      assert.equal(await tess.expect("waves"), `[${room}] * ${wes.name} waves`, "an action");
      wes.send({ type: "direct", to: tess.name, text: "private hi" });
      assert.equal(
        await tess.expect("private hi"),
        `[private ${wes.name} -> ${tess.name}] private hi`,
        "a private message as a line",
      );
      await tess.send(`/msg ${wes.name} back at you`);
      const direct = await wes.expect((e) => e.type === "direct" && e.from === tess.name);
      assert.equal(direct.text, "back at you", "/msg as a direct event");
      wes.send({ type: "leave", room });
      assert.equal(await tess.expect(" left"), `-!- [${room}] ${wes.name} left`, "a leave");
    },
  },
  {
    name: "text mode: a line over maxLineBytes gets line_too_long, then the connection closes",
    needs: "tcp",
    async run({ tcp, unique, limits }) {
      await using tess = await TcpClient.login(tcp!, unique("tess"));
      await tess.write("x".repeat(limits.maxLineBytes + 1) + "\r\n");
      assert.match(await tess.expect("error"), /^-!- error line_too_long: /, "the error line");
      await tess.expectClosed();
    },
  },
  {
    name: "TCP JSON mode: a JSON first line switches the connection to one JSON object per line",
    needs: "tcp",
    async run({ ws, tcp, unique }) {
      await using wes = await WsClient.login(ws, unique("wes"));
      await using jay = await TcpClient.connect(tcp!);
      const name = unique("jay");
      await jay.send(JSON.stringify({ type: "login", name, ref: "J1" }));
      const json = (line: string) => line.startsWith("{");
      const hello = JSON.parse(await jay.expect(json));
      assert.deepEqual([hello.type, hello.protocol], ["hello", 1], "hello first");
      const welcome = JSON.parse(await jay.expect(json));
      assert.deepEqual([welcome.type, welcome.name, welcome.ref], ["welcome", name, "J1"]);
      wes.send({ type: "publish", room: "lobby", text: "hi jay" });
      const message = JSON.parse(await jay.expect((line) => line.includes('"message"')));
      assert.deepEqual([message.from, message.text], [wes.name, "hi jay"], "a message line");
      await jay.send("{not json");
      const error = JSON.parse(await jay.expect((line) => line.includes('"error"')));
      assert.equal(error.code, "bad_json", "bad JSON in JSON mode");
      await jay.send(JSON.stringify({ type: "quit" }));
      await jay.expectClosed();
      await wes.expect((e) => e.type === "left" && e.name === name, `left for ${name}`);
    },
  },
];
