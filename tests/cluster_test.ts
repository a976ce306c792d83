// A cluster as users run it: redis-server and several `main.ts --redis` processes
// on free ports, a telnet user, a WebSocket user and the terminal client on
// different nodes, and the faults: a node killed, a node stopped, Redis gone.

import assert from "node:assert/strict";
import {
  CuttableClient,
  eventually,
  health,
  SpawnedProcess,
  TcpLineClient,
  WsJsonClient,
} from "./_helpers.ts";
import { cliNode, redisMissing, startRedis } from "./_redis.ts";

const ignore = redisMissing();
const CLI = new URL("../client/mod.ts", import.meta.url).pathname;

function newPrefix(): string {
  return `c${crypto.randomUUID().slice(0, 8)}:`;
}

Deno.test({
  name: "cluster: telnet, WebSocket and terminal users on three nodes share rooms",
  ignore,
}, async () => {
  await using redis = await startRedis();
  const prefix = newPrefix();
  // Hundreds of messages at once: lift the per-client rate, which is not what is tested here.
  const fast = ["--rate", "10000", "--rate-burst", "10000"];
  await using a = await cliNode(redis, prefix, fast);
  await using b = await cliNode(redis, prefix, fast);
  await using c = await cliNode(redis, prefix, fast);
  await using tess = await TcpLineClient.login(a.tcpPort, "tess");
  await using wes = await WsJsonClient.login(b.wsUrl, "wes");
  await tess.expect("-!- [lobby] wes joined");
  await using cli = SpawnedProcess.deno(
    ["run", "-A", CLI, "--url", c.wsUrl, "--name", "carl"],
    { stdin: true },
  );
  await cli.expect("3 here:");
  await tess.expect("-!- [lobby] carl joined");
  await wes.expect((e) => e.type === "joined" && e.name === "carl");

  // One after the other: a node hears a room's events once its subscription to the room is
  // in place, which takes a round trip after its first member joins (two first joins at
  // once on two nodes may miss each other's join event; presence is exact either way).
  await tess.send("/join games");
  await tess.expect("-!- [games] 1 here: tess");
  wes.send({ type: "join", room: "games" });
  await tess.expect("-!- [games] wes joined");
  await tess.send("hello from telnet");
  const heard = await wes.expect((e) => e.type === "message" && e.room === "games");
  assert.equal(heard.text, "hello from telnet");
  wes.send({ type: "publish", room: "lobby", text: "hi all" });
  await tess.expect("[lobby] wes: hi all");
  await cli.expect("wes: hi all");

  // Private messages and renames cross nodes too.
  await cli.write("/msg tess psst from C\n");
  await tess.expect("[private carl -> tess] psst from C");
  wes.send({ type: "nick", name: "wesley" });
  await tess.expect("-!- [lobby] wes is now wesley");
  await cli.write("/who\n");
  await cli.expect(/3 here: .*wesley/);

  // Per-sender order, nothing lost or doubled: 300 from telnet and 300 from WebSocket at once.
  const fromTess = Array.from({ length: 300 }, (_, i) => `t${i}`);
  for (const text of fromTess) await tess.send(text);
  for (let i = 0; i < 300; i++) wes.send({ type: "publish", room: "lobby", text: `w${i}` });
  const gotByWes: string[] = [];
  await eventually(
    async () => {
      const item = await wes.expect((e) => e.type === "message" && e.from === "tess");
      gotByWes.push(item.text);
      return gotByWes.length === 300;
    },
    "300 messages from tess",
    20_000,
  );
  assert.deepEqual(gotByWes, fromTess);
  const gotByTess: string[] = [];
  await eventually(
    async () => {
      const line = await tess.expect((l) => l.startsWith("[lobby] wesley: w"));
      gotByTess.push(line.slice("[lobby] wesley: ".length));
      return gotByTess.length === 300;
    },
    "300 messages from wesley",
    20_000,
  );
  assert.deepEqual(gotByTess, Array.from({ length: 300 }, (_, i) => `w${i}`));

  const report = await health(b.httpPort);
  assert.equal(report.backplane, "redis");
  assert.equal(report.state, "up");
  assert.deepEqual((report.cluster as Record<string, number>).nodes, 3);
});

Deno.test({
  name: "cluster: a node killed with SIGKILL: its users leave within the timeout",
  ignore,
}, async () => {
  await using redis = await startRedis();
  const prefix = newPrefix();
  await using a = await cliNode(redis, prefix);
  const b = await cliNode(redis, prefix);
  await using ann = await WsJsonClient.login(a.wsUrl, "ann");
  const bob = await TcpLineClient.login(b.tcpPort, "bob");
  await ann.expect((e) => e.type === "joined" && e.name === "bob");
  const killed = Date.now();
  b.child.kill("SIGKILL");
  await b.child.status;
  await b[Symbol.asyncDispose]();
  const left = await ann.expect((e) => e.type === "left" && e.name === "bob", 10_000);
  assert.equal(left.reason, "disconnect");
  const seconds = (Date.now() - killed) / 1000;
  assert.ok(seconds <= 6, `left after ${seconds} s; the node timeout is 5 s`);
  await bob.close();
  // The name is free again, on any node.
  await using again = await WsJsonClient.login(a.wsUrl, "bob");
  const presence = await (async () => {
    again.send({ type: "presence", room: "lobby", ref: "p" });
    return await again.expect((e) => e.type === "presence" && e.ref === "p");
  })();
  assert.equal(presence.count, 2);
});

Deno.test({
  name: "cluster: a node stopped with SIGTERM announces its users' leaves at once",
  ignore,
}, async () => {
  await using redis = await startRedis();
  const prefix = newPrefix();
  await using a = await cliNode(redis, prefix);
  const b = await cliNode(redis, prefix);
  await using ann = await WsJsonClient.login(a.wsUrl, "ann");
  await using bob = await WsJsonClient.login(b.wsUrl, "bob");
  await ann.expect((e) => e.type === "joined" && e.name === "bob");
  const stopped = Date.now();
  await b[Symbol.asyncDispose](); // SIGTERM, then waits for the exit
  await ann.expect((e) => e.type === "left" && e.name === "bob", 3000);
  assert.ok(Date.now() - stopped < 3000);
  await bob.closed;
});

Deno.test({
  name: "cluster: Redis stopped and started again: nodes stay up, say so, and rejoin",
  ignore,
}, async () => {
  await using redis = await startRedis();
  const prefix = newPrefix();
  await using a = await cliNode(redis, prefix);
  await using b = await cliNode(redis, prefix);
  await using tess = await TcpLineClient.login(a.tcpPort, "tess");
  await using tom = await TcpLineClient.login(a.tcpPort, "tom");
  await using wes = await WsJsonClient.login(b.wsUrl, "wes");
  await tess.expect("-!- [lobby] wes joined");

  await redis.kill();
  await tess.expect("link to the other crosswire nodes is down");
  await eventually(async () => {
    const response = await fetch(`http://127.0.0.1:${a.httpPort}/healthz`);
    const body = await response.json();
    return response.status === 503 && body.status === "degraded" && body.backplane === "redis";
  }, "/healthz to answer 503 while Redis is away");
  await tess.send("only here");
  await tom.expect("[lobby] tess: only here");

  await redis.restart();
  const back = await tess.expect("link to the other crosswire nodes is back", 10_000);
  assert.match(back, /1 message said here could not reach them/);
  await eventually(async () => (await health(b.httpPort)).status === "ok", "b healthy");
  await tess.send("across again");
  const message = await wes.expect((e) => e.type === "message" && e.text === "across again");
  assert.equal(message.from, "tess");
  wes.send({ type: "presence", room: "lobby", ref: "p" });
  const presence = await wes.expect((e) => e.type === "presence" && e.ref === "p");
  assert.equal(presence.count, 3, "names and presence were put back after the restart");
});

Deno.test(
  { name: "cluster: Redis unreachable at startup: one clear line and exit 1", ignore },
  async () => {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (listener.addr as Deno.NetAddr).port;
    listener.close(); // nothing listens there now
    await using server = SpawnedProcess.deno([
      "run",
      "-A",
      "main.ts",
      "--port",
      "0",
      "--tcp-port",
      "0",
      "--redis",
      `redis://:secret@127.0.0.1:${port}`,
      "--redis-wait",
      "1",
    ]);
    const status = await server.status(15_000);
    assert.equal(status.code, 1);
    const errors = server.stderr.seen;
    assert.equal(errors.length, 1, errors.join("\n"));
    assert.match(
      errors[0]!,
      /^crosswire: cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\/? after 1 s/,
    );
    assert.ok(!errors[0]!.includes("secret"));
  },
);

Deno.test({
  name: "cluster: a WebSocket user cut off from node A resumes on node B with nothing lost",
  ignore,
}, async () => {
  await using redis = await startRedis();
  const prefix = newPrefix();
  const fast = ["--rate-burst", "200"];
  await using a = await cliNode(redis, prefix, fast);
  await using b = await cliNode(redis, prefix, fast);
  await using tess = await TcpLineClient.login(b.tcpPort, "tess");
  const { client: wes, welcome } = await CuttableClient.login(a.httpPort, "wes");
  await tess.expect("-!- [lobby] wes joined");
  await tess.send("before");
  const seen = await wes.expect((e) => e.type === "message");

  wes.cut();
  await eventually(
    async () => (await health(a.httpPort) as { node: { parked: number } }).node.parked === 1,
    "node A to keep the session",
  );
  for (let i = 0; i < 50; i++) await tess.send(`missed ${i}`);
  // Asked after them on the same connection, answered once they are all kept.
  await tess.send("/who");
  await tess.expect("here:");

  await using back = await WsJsonClient.open(b.wsUrl);
  back.send({ type: "resume", token: welcome.resume, rooms: { lobby: seen } });
  const resumed = await back.expect("welcome");
  assert.equal(resumed.resumed, true);
  const header = await back.expect("history");
  assert.equal(header.recovered, true);
  assert.equal(header.count, 50);
  const missed: string[] = [];
  for (let i = 0; i < 50; i++) missed.push((await back.expect("message")).text);
  assert.deepEqual(missed, Array.from({ length: 50 }, (_, i) => `missed ${i}`));
  await tess.send("live");
  const live = await back.expect("message");
  assert.equal(live.text, "live");
  assert.equal(live.offset, seen.offset + 51);
  await eventually(
    async () => (await health(a.httpPort) as { node: { parked: number } }).node.parked === 0,
    "node A to hear the session moved",
  );
  assert.ok(!tess.inbox.seen.some((line) => line.includes("wes disconnected")));
});
