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
import { spawnCli } from "./_server_helpers.ts";

const decoder = new TextDecoder();

Deno.test("keepalive: a WebSocket peer that never answers pings is closed; a live one stays", async () => {
  // No session kept for a resume: the others see the dropped peer leave at once.
  await using server = await startServerWith({ keepaliveSeconds: 1, relay: { resumeWindowMs: 0 } });
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
  const line = await tom.expect("error idle_timeout", 2000);
  assert.match(line, /^-!- error idle_timeout: /);
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

// A server that was stopped (SIGSTOP, a suspended VM) wakes to find every pong
// late; its keepalive timer ran late too, and knows that proves nothing.
Deno.test("keepalive: after the server was stopped for 4 s, clients that answer pings stay and lose nothing", async () => {
  await using server = await spawnCli({ flags: ["--keepalive", "1"] });
  await using pat = await RawWebSocket.connect(server.httpPort);
  assert.equal(pat.status, 101);
  await pat.sendFrame(JSON.stringify({ type: "login", name: "pat" }));
  // Reads everything, answers every ping, and keeps the chat messages.
  const said: string[] = [];
  let closedBy: number | undefined | "eof";
  let pings = 0;
  let secondPing = () => {};
  const pingedTwice = new Promise<void>((resolve) => secondPing = resolve);
  const pump = (async () => {
    try {
      for (let frame = await pat.readFrame(60_000); frame; frame = await pat.readFrame(60_000)) {
        if (frame.opcode === 9) {
          await pat.sendFrame(frame.payload, 10);
          if (++pings === 2) secondPing();
        } else if (frame.opcode === 8) closedBy = closeCodeOf(frame);
        else if (frame.opcode === 1) {
          const event = JSON.parse(decoder.decode(frame.payload));
          if (event.type === "message") said.push(event.text);
        }
      }
    } catch { /* closed by the test */ }
    closedBy ??= "eof";
  })();
  await using wes = await WsJsonClient.login(server.wsUrl, "wes");
  assert.equal(wes.inbox.seen.find((event) => event.type === "presence")?.count, 2);

  // A server that has been up a while: its timers have run (the keepalive's twice).
  await within(pingedTwice, WAIT_MS, "two pings");
  // While it sleeps, wes talks at an honest 15 messages a second (the sustained
  // limit is 20); it all waits in the socket and arrives at once on waking.
  Deno.kill(server.pid, "SIGSTOP");
  try {
    for (let n = 0; n < 60; n++) {
      wes.send({ type: "publish", room: "lobby", text: `said while it slept ${n}` });
      await new Promise((resolve) => setTimeout(resolve, 1000 / 15));
    }
  } finally {
    Deno.kill(server.pid, "SIGCONT");
  }
  // Two more ping rounds after waking.
  await new Promise((resolve) => setTimeout(resolve, 2500));
  assert.equal(closedBy, undefined, "the server closed the client that answers pings");
  assert.equal(wes.socket.readyState, WebSocket.OPEN);
  assert.deepEqual(said, Array.from({ length: 60 }, (_, n) => `said while it slept ${n}`));
  assert.ok(!wes.inbox.seen.some((event) => event.type === "error"), "no message was refused");
  await pat.sendFrame(JSON.stringify({ type: "publish", room: "lobby", text: "good morning" }));
  const heard = await wes.expect("message");
  assert.deepEqual([heard.from, heard.text], ["pat", "good morning"]);
  pat.close();
  await pump;
});
