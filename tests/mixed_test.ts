import assert from "node:assert/strict";
import { startTestServer, TcpLineClient, WAIT_MS, within, WsJsonClient } from "./_helpers.ts";

Deno.test("Mixed: a TCP user and a WebSocket user see each other's messages, joins and leaves", async () => {
  await using server = await startTestServer();
  await using tess = await TcpLineClient.login(server.tcpPort, "tess");
  const wes = await WsJsonClient.login(server.wsUrl, "wes");
  const joined = await tess.expect("-!- [lobby] wes joined");
  assert.equal(joined, "-!- [lobby] wes joined");
  wes.send({ type: "join", room: "dev" });
  await wes.expect((e) => e.type === "presence" && e.room === "dev");
  await tess.send("/join dev");
  assert.equal((await wes.expect((e) => e.type === "joined" && e.name === "tess")).room, "dev");
  await tess.send("hello from telnet");
  const message = await wes.expect("message");
  assert.deepEqual([message.room, message.from, message.text], [
    "dev",
    "tess",
    "hello from telnet",
  ]);
  wes.send({ type: "publish", room: "dev", text: "hello from the web" });
  assert.equal(await tess.expect("hello from the web"), "[dev] wes: hello from the web");
  wes.send({ type: "publish", room: "dev", text: "I am waving", action: true });
  assert.equal(await tess.expect("waving"), "[dev] * wes I am waving");
  wes.send({ type: "direct", to: "tess", text: "private hi" });
  assert.equal(await tess.expect("private hi"), "[private wes -> tess] private hi");
  await tess.send("/msg wes back at you");
  assert.equal(
    (await wes.expect((e) => e.type === "direct" && e.from === "tess")).text,
    "back at you",
  );
  wes.send({ type: "leave", room: "dev" });
  await tess.expect("-!- [dev] wes left");
  // Closing without quit keeps the session for a resume; quit leaves at once.
  wes.send({ type: "quit" });
  await wes.close();
  await tess.expect("-!- [lobby] wes disconnected");
});

// Each client sends `perClient` numbered messages; every other client must get
// all of them exactly once, in each sender's order.
Deno.test("Mixed: 50 TCP and WebSocket clients exchange messages with nothing lost, duplicated or reordered", async () => {
  await using server = await startTestServer();
  const clientCount = 50;
  const perClient = 20;
  const expected = (clientCount - 1) * perClient;
  type Received = Map<string, number[]>;
  const tcp: { name: string; client: TcpLineClient; received: Received }[] = [];
  const ws: { name: string; client: WsJsonClient; received: Received }[] = [];
  for (let i = 0; i < clientCount; i++) {
    const name = `user${i}`;
    if (i % 2 === 0) {
      tcp.push({
        name,
        client: await TcpLineClient.login(server.tcpPort, name),
        received: new Map(),
      });
    } else {ws.push({
        name,
        client: await WsJsonClient.login(server.wsUrl, name),
        received: new Map(),
      });}
  }
  const record = (received: Received, from: string, text: string) => {
    const match = /^m(\d+)$/.exec(text);
    if (!match) return;
    const list = received.get(from) ?? [];
    list.push(Number(match[1]));
    received.set(from, list);
  };
  const count = (received: Received) =>
    [...received.values()].reduce((sum, list) => sum + list.length, 0);
  // Everyone has joined: wait until the last login was announced to all.
  const lastName = `user${clientCount - 1}`;
  for (const { client } of tcp) await client.expect(`-!- [lobby] ${lastName} joined`, WAIT_MS);
  const tcpDone = tcp.map(async ({ client, received }) => {
    while (count(received) < expected) {
      const line = await client.expect((line) => line.startsWith("[lobby] user"), 20_000);
      const match = /^\[lobby\] (user\d+): (.*)$/.exec(line);
      if (match) record(received, match[1]!, match[2]!);
    }
  });
  const wsDone = ws.map(async ({ client, received }) => {
    while (count(received) < expected) {
      const event = await client.expect("message", 20_000);
      record(received, event.from, event.text);
    }
  });
  for (let n = 0; n < perClient; n++) {
    for (const { client } of tcp) await client.send(`m${n}`);
    for (const { client } of ws) client.send({ type: "publish", room: "lobby", text: `m${n}` });
  }
  await within(Promise.all([...tcpDone, ...wsDone]), 30_000, "every message to arrive");
  const inOrder = Array.from({ length: perClient }, (_, n) => n);
  for (const { name, received } of [...tcp, ...ws]) {
    assert.equal(received.size, clientCount - 1, `${name} heard from every other client`);
    assert.ok(!received.has(name), `${name} did not receive its own messages`);
    for (const [from, list] of received) {
      assert.deepEqual(list, inOrder, `${name} got ${from}'s messages once, in order`);
    }
  }
  await Promise.all([
    ...tcp.map(({ client }) => client.close()),
    ...ws.map(({ client }) => client.close()),
  ]);
});
