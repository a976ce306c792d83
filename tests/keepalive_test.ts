// Liveness: WebSocket pings drop peers that stop answering, and the relay's
// idle timeout drops clients that stop talking, on both transports.
import assert from "node:assert/strict";
import {
  closeCodeOf,
  RawWebSocket,
  startServerWith,
  startTestServer,
  TcpLineClient,
  WAIT_MS,
  within,
  WsJsonClient,
} from "./_helpers.ts";

const decoder = new TextDecoder();

Deno.test("keepalive: a WebSocket peer that never answers pings is closed; a live one stays", async () => {
  await using server = await startServerWith({ keepaliveSeconds: 1 });
  await using wes = await WsJsonClient.login(server.wsUrl, "wes");
  await using mute = await RawWebSocket.connect(server.httpPort);
  assert.equal(mute.status, 101);
  await mute.sendFrame(JSON.stringify({ type: "login", name: "mute" }));
  await wes.expect((event) => event.type === "joined" && event.name === "mute");
  const silentSince = Date.now();
  const frames = await mute.readUntilClosed(4000);
  const lasted = Date.now() - silentSince;
  const texts = frames.filter((frame) => frame.opcode === 1)
    .map((frame) => JSON.parse(decoder.decode(frame.payload)).type);
  assert.ok(texts.includes("welcome"), `the login went through: ${texts}`);
  assert.ok(frames.some((frame) => frame.opcode === 9), "the server pinged");
  const close = frames.find((frame) => frame.opcode === 8);
  if (close) assert.equal(closeCodeOf(close), 1001);
  assert.ok(lasted < 4000, `closed after ${lasted} ms`);
  const left = await wes.expect((event) => event.type === "left" && event.name === "mute");
  assert.equal(left.reason, "disconnect");

  // The Deno client answers pings by itself: still here well past the interval.
  await new Promise((resolve) => setTimeout(resolve, 2000));
  assert.equal(wes.socket.readyState, WebSocket.OPEN);
  wes.send({ type: "ping", ref: "still" });
  assert.equal((await wes.expect("pong")).ref, "still");
  assert.equal(server.server.relay.stats().users, 1);
});

Deno.test("idle timeout: a silent TCP client is told idle_timeout and closed", async () => {
  await using server = await startTestServer({ idleTimeoutMs: 300 });
  await using tom = await TcpLineClient.login(server.tcpPort, "tom");
  const line = await tom.expect("! idle_timeout", 2000);
  assert.match(line, /^! idle_timeout: /);
  await tom.expectClosed(2000);
});

Deno.test("idle timeout: a silent WebSocket client gets idle_timeout and close code 4001", async () => {
  await using server = await startTestServer({ idleTimeoutMs: 300 });
  await using wes = await WsJsonClient.login(server.wsUrl, "wes");
  const error = await wes.expect("error", 2000);
  assert.equal(error.code, "idle_timeout");
  const closed = await within(wes.closed, 2000, "the close");
  assert.equal(closed.code, 4001);
});

Deno.test("idle timeout: clients that keep talking stay connected", async () => {
  await using server = await startTestServer({ idleTimeoutMs: 300 });
  await using wes = await WsJsonClient.login(server.wsUrl, "wes");
  await using tom = await TcpLineClient.login(server.tcpPort, "tom");
  // Four times the timeout, one request every 100 ms from each.
  const until = Date.now() + 1200;
  for (let round = 0; Date.now() < until; round++) {
    wes.send({ type: "ping", ref: `p${round}` });
    await tom.send("/rooms");
    assert.equal((await wes.expect("pong", WAIT_MS)).ref, `p${round}`);
    await tom.expect("Rooms:");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.equal(wes.socket.readyState, WebSocket.OPEN);
  assert.ok(!tom.inbox.ended, "the TCP client is still connected");
  assert.ok(!tom.inbox.seen.some((line) => line.includes("idle_timeout")));
  assert.ok(!wes.inbox.seen.some((event) => event.code === "idle_timeout"));
  assert.equal(server.server.relay.stats().users, 2);
});
