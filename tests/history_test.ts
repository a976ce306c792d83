// History and resume on the real server, over real sockets: a WebSocket client
// whose TCP connection is cut (no close frame) comes back with its token and
// gets exactly what it missed; a telnet user sees history on /join and /history.

import assert from "node:assert/strict";
import type { RelayOptions } from "../mod.ts";
import {
  CuttableClient,
  eventually,
  startTestServer,
  TcpLineClient,
  type WsItem,
  WsJsonClient,
} from "./_helpers.ts";

async function server(options: RelayOptions = {}) {
  return await startTestServer({ rateMessageBurst: 200, ...options });
}

Deno.test("history: a WebSocket cut off, 50 lines said meanwhile, back with its token: exactly those, then live", async () => {
  await using srv = await server();
  await using tess = await TcpLineClient.login(srv.tcpPort, "tess");
  const { client: ws, welcome } = await CuttableClient.login(srv.httpPort, "wes");
  await tess.expect("-!- [lobby] wes joined");
  await tess.send("before the cut");
  const seen = await ws.expect((e) => e.type === "message");
  assert.equal(seen.offset, 1);

  ws.cut();
  await eventually(() => srv.server.relay.stats().parked === 1, "the session to be kept");
  for (let i = 0; i < 50; i++) await tess.send(`missed ${i}`);
  await tess.send("/who");
  const who = await tess.expect("here:");
  assert.match(who, /2 here: tess, wes/, "the kept session is still in the room");

  await using back = await WsJsonClient.open(srv.wsUrl);
  back.send({
    type: "resume",
    token: welcome.resume,
    rooms: { lobby: { offset: seen.offset, epoch: seen.epoch } },
    ref: "r1",
  });
  const resumed = await back.expect("welcome");
  assert.equal(resumed.resumed, true);
  assert.equal(resumed.name, "wes");
  assert.equal(resumed.session, welcome.session);
  assert.notEqual(resumed.resume, welcome.resume, "a new token every time");
  const header = await back.expect("history");
  assert.deepEqual(
    { room: header.room, recovered: header.recovered, count: header.count, ref: header.ref },
    { room: "lobby", recovered: true, count: 50, ref: "r1" },
  );
  const missed: WsItem[] = [];
  for (let i = 0; i < 50; i++) missed.push(await back.expect("message"));
  assert.deepEqual(missed.map((m) => m.text), Array.from({ length: 50 }, (_, i) => `missed ${i}`));
  assert.deepEqual(missed.map((m) => m.offset), Array.from({ length: 50 }, (_, i) => i + 2));

  await tess.send("live again");
  const live = await back.expect("message");
  assert.equal(live.text, "live again");
  assert.equal(live.offset, 52, "no gap and no duplicate at the seam");
  // The telnet user never saw wes leave or join again.
  assert.ok(
    !tess.inbox.seen.some((line) =>
      /wes (disconnected|joined|left)/.test(line) && line !== "-!- [lobby] wes joined"
    ),
    tess.inbox.seen.join("\n"),
  );
  assert.equal(tess.inbox.seen.filter((line) => line === "-!- [lobby] wes joined").length, 1);
});

Deno.test("history: past the room's history, a resume says recovered: false and sends the latest", async () => {
  await using srv = await server({ historySize: 10 });
  await using tess = await TcpLineClient.login(srv.tcpPort, "tess");
  const { client: ws, welcome } = await CuttableClient.login(srv.httpPort, "wes");
  await tess.send("seen");
  const seen = await ws.expect((e) => e.type === "message");
  ws.cut();
  await eventually(() => srv.server.relay.stats().parked === 1, "the session to be kept");
  for (let i = 0; i < 30; i++) await tess.send(`line ${i}`);
  await tess.send("/who");
  await tess.expect("here:");

  await using back = await WsJsonClient.open(srv.wsUrl);
  back.send({ type: "resume", token: welcome.resume, rooms: { lobby: seen } });
  await back.expect("welcome");
  const header = await back.expect("history");
  assert.equal(header.recovered, false);
  assert.equal(header.count, 10);
  assert.equal(header.offset, 31);
  const latest: WsItem[] = [];
  for (let i = 0; i < 10; i++) latest.push(await back.expect("message"));
  assert.deepEqual(
    latest.map((m) => m.text),
    Array.from({ length: 10 }, (_, i) => `line ${i + 20}`),
  );
});

Deno.test("history: a telnet user sees the last lines on /join and asks for more with /history", async () => {
  await using srv = await server({ historyOnJoin: 3 });
  await using ann = await TcpLineClient.login(srv.tcpPort, "ann");
  await ann.send("/join dev");
  await ann.expect("here:");
  for (let i = 1; i <= 5; i++) await ann.send(`dev line ${i}`);
  await ann.send("/history 2");
  await ann.expect("-!- [dev] the last 2 messages (times in UTC):");
  assert.match(
    await ann.expect((line) => line.includes("dev line 4")),
    /^\[dev \d\d:\d\d\] ann: dev line 4$/,
  );
  assert.match(
    await ann.expect((line) => line.includes("dev line 5")),
    /^\[dev \d\d:\d\d\] ann: dev line 5$/,
  );

  await using bob = await TcpLineClient.login(srv.tcpPort, "bob");
  await bob.send("/join dev");
  await bob.expect("-!- [dev] 2 here: ann, bob");
  await bob.expect("-!- [dev] the last 3 messages (times in UTC):");
  for (let i = 3; i <= 5; i++) {
    assert.match(
      await bob.expect((line) => line.includes(`dev line ${i}`)),
      /^\[dev \d\d:\d\d\] ann: /,
    );
  }
  await bob.send("/history x");
  await bob.expect("-!- error bad_message: usage: /history [N]");
});

Deno.test("history: a resume after the window is resume_failed, and join with since still recovers", async () => {
  await using srv = await server({ resumeWindowMs: 0 });
  await using tess = await TcpLineClient.login(srv.tcpPort, "tess");
  const { client: ws, welcome } = await CuttableClient.login(srv.httpPort, "wes");
  assert.equal(welcome.resume, undefined, "no token when sessions are not kept");
  await tess.send("seen");
  const seen = await ws.expect((e) => e.type === "message");
  ws.cut();
  await tess.expect("-!- [lobby] wes disconnected");
  await tess.send("after");

  await using back = await WsJsonClient.open(srv.wsUrl);
  back.send({ type: "resume", token: "whatever" });
  assert.equal((await back.expect("error")).code, "resume_failed");
  back.send({ type: "login", name: "wes", reclaim: welcome.reclaim });
  await back.expect("welcome");
  back.send({
    type: "join",
    room: "lobby",
    since: { offset: seen.offset, epoch: seen.epoch },
    ref: "j",
  });
  const header = await back.expect("history");
  assert.equal(header.recovered, true);
  assert.equal(header.count, 1);
  assert.equal((await back.expect("message")).text, "after");
});
