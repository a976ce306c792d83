import assert from "node:assert/strict";
import { RawWebSocket, startTestServer, TcpLineClient, WsJsonClient } from "./_helpers.ts";

Deno.test("Limits: over maxConnections a TCP client gets one busy line and a WebSocket handshake 503", async () => {
  await using server = await startTestServer({ maxConnections: 2 });
  await using ann = await TcpLineClient.login(server.tcpPort, "ann");
  await using bob = await WsJsonClient.login(server.wsUrl, "bob");
  const tcp = await TcpLineClient.connect(server.tcpPort);
  await tcp.expectClosed();
  assert.deepEqual(tcp.inbox.seen, ["-!- error server_busy: server busy, try again later"]);
  // Refused when its socket is accepted, before any WebSocket exists.
  await using refused = await RawWebSocket.connect(server.httpPort);
  assert.equal(refused.status, 503);
  assert.equal(refused.headers.get("connection"), "close");
  const body = await refused.readBytes(Number(refused.headers.get("content-length")));
  assert.equal(JSON.parse(new TextDecoder().decode(body)).error.code, "server_busy");
  await tcp.close();
  // The refused ones did not count: a slot frees when someone leaves.
  await ann.close();
  await bob.expect((event) => event.type === "left" && event.name === "ann");
  await using carl = await TcpLineClient.login(server.tcpPort, "carl");
  assert.ok(carl.inbox.seen.some((line) => line.includes("Welcome, carl!")));
});

Deno.test("Limits: maxConnectionsPerAddress refuses a second connection from one address", async () => {
  await using server = await startTestServer({ maxConnectionsPerAddress: 1 });
  await using ann = await WsJsonClient.login(server.wsUrl, "ann");
  const second = await TcpLineClient.connect(server.tcpPort);
  assert.equal(
    await second.expect("server_busy"),
    "-!- error server_busy: server busy, try again later",
  );
  await second.expectClosed();
  await second.close();
  ann.send({ type: "ping" });
  await ann.expect("pong");
});

Deno.test("Limits: the rate limit drops excess with an error, then disconnects sustained abuse", async () => {
  await using server = await startTestServer({
    rateMessagesPerSecond: 1,
    rateMessageBurst: 5,
    rateAbuseLimit: 10,
  });
  await using bob = await WsJsonClient.login(server.wsUrl, "bob");
  const ann = await TcpLineClient.login(server.tcpPort, "ann"); // login used 1 of the 5
  await ann.write("m1\nm2\nm3\nm4\nm5\nm6\n");
  for (const n of [1, 2, 3, 4]) assert.equal((await bob.expect("message")).text, `m${n}`);
  assert.match(await ann.expect("rate_limited"), /^-!- error rate_limited: slow down/);
  await ann.write(Array.from({ length: 20 }, (_, i) => `flood${i}\n`).join(""));
  assert.match(await ann.expect("too long"), /^-!- error rate_limited: too many messages too fast/);
  await ann.expectClosed();
  await bob.expect((event) => event.type === "left" && event.name === "ann");
  assert.ok(
    !bob.inbox.seen.some((event) =>
      event.type === "message" && event.text !== "m1" &&
      !/^m[2-4]$/.test(event.text)
    ),
  );
  await ann.close();

  const wes = await WsJsonClient.login(server.wsUrl, "wes");
  // One at a time: a WebSocket peer that keeps sending after the server's close
  // frame gets its TCP connection cut instead of a clean close.
  let reply;
  for (let i = 0; i < 30 && !/too many/.test(reply?.message ?? ""); i++) {
    wes.send({ type: "ping" });
    reply = await wes.expect((event) => event.type === "pong" || event.type === "error");
  }
  assert.match(reply?.message, /too many messages too fast/);
  assert.equal((await wes.closed).code, 4029);
});

Deno.test("Limits: rooms per user, rooms on the server, and names listed in presence", async () => {
  await using server = await startTestServer({
    maxRoomsPerSession: 2,
    maxRooms: 3,
    maxPresenceMembers: 2,
  });
  await using ann = await WsJsonClient.login(server.wsUrl, "ann");
  await using bob = await WsJsonClient.login(server.wsUrl, "bob");
  await using carl = await WsJsonClient.login(server.wsUrl, "carl");
  ann.send({ type: "join", room: "a" });
  await ann.expect((event) => event.type === "presence" && event.room === "a");
  ann.send({ type: "join", room: "b" });
  assert.equal((await ann.expect("error")).code, "too_many_rooms");
  bob.send({ type: "join", room: "b" });
  await bob.expect((event) => event.type === "presence" && event.room === "b");
  carl.send({ type: "join", room: "c" });
  assert.equal((await carl.expect("error")).code, "room_limit");
  carl.send({ type: "presence", room: "lobby" });
  const presence = await carl.expect("presence");
  assert.equal(presence.count, 3);
  assert.equal(presence.members.length, 2);
  carl.send({ type: "nick", name: "x".repeat(33) });
  assert.equal((await carl.expect("error")).code, "name_invalid");
});

Deno.test("Limits: rooms over maxAnnouncedRoomSize stop announcing joins and leaves to everyone", async () => {
  await using server = await startTestServer({ maxAnnouncedRoomSize: 2, resumeWindowMs: 0 });
  await using ann = await WsJsonClient.login(server.wsUrl, "ann");
  await using bob = await WsJsonClient.login(server.wsUrl, "bob");
  await ann.expect((event) => event.type === "joined" && event.name === "bob");
  await using carl = await WsJsonClient.login(server.wsUrl, "carl");
  assert.ok(carl.inbox.seen.some((event) => event.type === "joined" && event.name === "carl"));
  assert.equal(carl.inbox.seen.find((event) => event.type === "presence")?.count, 3);
  const dave = await WsJsonClient.login(server.wsUrl, "dave");
  await dave.close();
  carl.send({ type: "leave", room: "lobby" });
  await carl.expect((event) => event.type === "left" && event.name === "carl");
  ann.send({ type: "presence", room: "lobby" });
  assert.equal((await ann.expect("presence")).count, 2);
  // Two members again: announcements resume.
  bob.send({ type: "leave", room: "lobby" });
  await ann.expect((event) => event.type === "left" && event.name === "bob");
  const notices = ann.inbox.seen.filter((e) => e.type === "joined" || e.type === "left")
    .map((e) => `${e.type} ${e.name}`);
  assert.deepEqual(notices, ["joined ann", "joined bob", "left bob"]);
});
