// What a hostile stranger did to the relay, on real sockets against the real
// server: a crowd drowning one user, look-alike and forged names, costly
// requests, and lock-outs from a few addresses. Each of these failed before.

import assert from "node:assert/strict";
import { startTestServer, TcpLineClient, WsJsonClient } from "./_helpers.ts";

Deno.test("hardening: a crowd's private messages do not drop their reader, nor free its name", async () => {
  await using server = await startTestServer({ directMessagesPerSecond: 5 });
  await using victim = await WsJsonClient.login(server.wsUrl, "victim");
  const crowd: TcpLineClient[] = [];
  for (let i = 0; i < 20; i++) crowd.push(await TcpLineClient.login(server.tcpPort, `c${i}`));
  const text = "x".repeat(8000);
  await Promise.all(crowd.map(async (client) => {
    for (let i = 0; i < 20; i++) await client.send(`/msg victim ${text}`);
  }));
  // Every sender hears either its own copy or a refusal, for each of its 20.
  let refused = 0;
  for (const client of crowd) {
    for (let i = 0; i < 20; i++) {
      const line = await client.expect((l) =>
        l.startsWith("[private") || l.includes("receiving too many private messages")
      );
      if (!line.startsWith("[private")) refused++;
    }
  }
  assert.ok(refused > 300, `only ${refused} of 400 refused`);
  victim.send({ type: "ping", ref: "alive" });
  await victim.expect((e) => e.type === "pong" && e.ref === "alive");
  // Had it been dropped, its name would be held, not taken: try as an attacker would.
  await using thief = await WsJsonClient.open(server.wsUrl);
  thief.send({ type: "login", name: "victim" });
  assert.equal((await thief.expect("error")).code, "name_taken");
  for (const client of crowd) await client.close();
});

Deno.test("hardening: a dropped user's name is kept; only its reclaim secret takes it back", async () => {
  // Without resume, a dropped session ends at once and only its name is kept.
  await using server = await startTestServer({ resumeWindowMs: 0 });
  const ann = await WsJsonClient.login(server.wsUrl, "ann");
  const welcome = ann.inbox.seen.find((e) => e.type === "welcome")!;
  await ann.close();
  await using thief = await TcpLineClient.connect(server.tcpPort);
  await thief.expect("What's your name?");
  await thief.send("ann");
  assert.match(await thief.expect("error"), /name_taken: the name "ann" is kept/);
  await using back = await WsJsonClient.open(server.wsUrl);
  back.send({ type: "login", name: "ann", reclaim: welcome.reclaim });
  assert.equal((await back.expect("welcome")).name, "ann");
});

Deno.test("hardening: look-alike and blank names are refused over telnet", async () => {
  await using server = await startTestServer();
  await using ann = await TcpLineClient.login(server.tcpPort, "ann");
  await using other = await TcpLineClient.connect(server.tcpPort);
  await other.expect("What's your name?");
  for (const name of ["\u0430nn", "ann\ufe0f", "an\u034fn", "ＡＮＮ", "𝚊𝚗𝚗"]) {
    await other.send(name);
    assert.match(await other.expect("error"), /name_(taken|invalid)/, name);
  }
  for (const name of ["\u3164", "\u2800", "\u115f", "\uffa0"]) {
    await other.send(name);
    assert.match(await other.expect("error"), /name_invalid/, JSON.stringify(name));
  }
  await other.send("\u0430lice"); // free, but could mislead: marked for everyone
  await ann.expect("-!- [lobby] \u0430lice(?) joined");
});

Deno.test("hardening: /me cannot forge a leave, a rename or a notice for telnet users", async () => {
  await using server = await startTestServer();
  await using tess = await TcpLineClient.login(server.tcpPort, "tess");
  await using bob = await TcpLineClient.login(server.tcpPort, "bob");
  await bob.send("/me left");
  await bob.send("/me is now admin");
  await bob.send("/me disconnected");
  const forged = [
    await tess.expect("* bob left"),
    await tess.expect("* bob is now admin"),
    await tess.expect("* bob disconnected"),
  ];
  await bob.send("/quit");
  const real = await tess.expect("-!- [lobby] bob disconnected");
  for (const line of forged) {
    assert.ok(line.startsWith("[lobby] * bob "), line);
    assert.notEqual(line, real);
  }
});

Deno.test("hardening: a long room list is paged", async () => {
  await using server = await startTestServer({
    maxRoomsPerSession: 200,
    maxRoomsPerAddress: 1000,
    rateMessageBurst: 1000,
  });
  await using maker = await WsJsonClient.login(server.wsUrl, "maker");
  for (let i = 0; i < 150; i++) {
    maker.send({ type: "join", room: `room-${String(i).padStart(3, "0")}` });
    await maker.expect((e) =>
      e.type === "presence" && e.room === `room-${String(i).padStart(3, "0")}`
    );
  }
  maker.send({ type: "rooms", ref: "all" });
  const page = await maker.expect((e) => e.type === "rooms" && e.ref === "all");
  assert.equal(page.rooms.length, 100);
  assert.equal(page.total, 151);
  await using tess = await TcpLineClient.login(server.tcpPort, "tess");
  await tess.send("/rooms");
  assert.match(
    await tess.expect("Rooms:"),
    /and more; \/rooms room-018 lists those after room-018/,
  );
});

Deno.test("hardening: a few addresses cannot use up every room", async () => {
  await using server = await startTestServer({ maxRoomsPerAddress: 5, maxRooms: 8 });
  const greedy: TcpLineClient[] = [];
  for (let i = 0; i < 3; i++) {
    greedy.push(await TcpLineClient.connectFrom(server.tcpPort, "127.0.0.2"));
  }
  for (const [i, client] of greedy.entries()) {
    await client.expect("What's your name?");
    await client.send(`greedy${i}`);
    await client.expect("here:");
    for (let r = 0; r < 4; r++) await client.send(`/join g${i}-${r}`);
  }
  const refusals = (await Promise.all(
    greedy.map(async (client) => {
      let count = 0;
      for (let r = 0; r < 4; r++) {
        const line = await client.expect((l) => / here: |room_limit/.test(l));
        if (line.includes("room_limit")) count++;
      }
      return count;
    }),
  )).reduce((a, b) => a + b, 0);
  assert.equal(refusals, 7, "one address created 5 rooms, then was refused");
  await using honest = await TcpLineClient.connectFrom(server.tcpPort, "127.0.0.3");
  await honest.expect("What's your name?");
  await honest.send("honest");
  await honest.expect("here:");
  await honest.send("/join mine");
  await honest.expect("-!- [mine] 1 here: honest");
  for (const client of greedy) await client.close();
});
