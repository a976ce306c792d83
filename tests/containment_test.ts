// Peers that misbehave on purpose: whatever one does, the server keeps serving
// everyone else, its counts stay right, and nothing becomes an unhandled rejection.
import assert from "node:assert/strict";
import {
  closeCodeOf,
  eventually,
  RawWebSocket,
  startTestServer,
  TcpLineClient,
  type TestServer,
  WAIT_MS,
  within,
  WsJsonClient,
} from "./_helpers.ts";
import { healthz } from "./_server_helpers.ts";

const encoder = new TextEncoder();
// Enough headroom that the flood below is never rate limited.
const RELAY = {
  rateMessagesPerSecond: 100_000,
  rateMessageBurst: 100_000,
  rateBytesPerSecond: 1 << 30,
};

/** Deterministic "random" bytes (xorshift), so a failure can be replayed. */
function noise(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    bytes[i] = state & 0xff;
  }
  return bytes;
}

async function sessionsBecome(server: TestServer, count: number): Promise<void> {
  const stats = () => server.server.relay.stats();
  try {
    await eventually(() => stats().sessions === count, `${count} sessions`);
  } catch (error) {
    throw new Error(`${(error as Error).message}; stats now ${JSON.stringify(stats())}`);
  }
}

/** A fresh TCP and WebSocket client log in and chat both ways. */
async function stillServing(server: TestServer): Promise<void> {
  await using tess = await TcpLineClient.login(server.tcpPort, "tess");
  await using webb = await WsJsonClient.login(server.wsUrl, "webb");
  await tess.send("can you hear me");
  const heard = await webb.expect("message");
  assert.deepEqual([heard.from, heard.text], ["tess", "can you hear me"]);
  webb.send({ type: "publish", room: "lobby", text: "loud and clear" });
  await tess.expect("[lobby] webb: loud and clear");
}

/** Logs in over a bare socket that the test then stops reading. */
async function rawTcpLogin(port: number, name: string): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const buffer = new Uint8Array(4096);
  let seen = "";
  await conn.write(encoder.encode(`${name}\r\n`));
  while (!seen.includes(" here: ")) {
    const count = await within(conn.read(buffer), WAIT_MS, "the welcome");
    if (count === null) throw new Error(`closed before the welcome: ${seen}`);
    seen += new TextDecoder().decode(buffer.subarray(0, count));
  }
  return conn;
}

Deno.test("containment: a TCP peer reset in the middle of a large write", async () => {
  await using server = await startTestServer(RELAY);
  await using ann = await WsJsonClient.login(server.wsUrl, "ann");
  const victim = await rawTcpLogin(server.tcpPort, "victim");
  await ann.expect((event) => event.type === "joined" && event.name === "victim");
  // Fill the victim's socket buffers, then close with unread data (a reset)
  // while more keeps coming.
  const text = "x".repeat(8000);
  for (let i = 0; i < 200; i++) ann.send({ type: "publish", room: "lobby", text });
  // Read the start of the flood, so the server is surely writing, and leave the rest unread.
  const buffer = new Uint8Array(16 * 1024);
  for (let got = 0; got < 64 * 1024;) {
    const count = await within(victim.read(buffer), WAIT_MS, "the flood to start");
    if (count === null) throw new Error("the server closed the victim too early");
    got += count;
  }
  victim.close();
  for (let i = 0; i < 200; i++) ann.send({ type: "publish", room: "lobby", text });
  const left = await ann.expect((event) => event.type === "left" && event.name === "victim");
  assert.equal(left.reason, "disconnect");
  await sessionsBecome(server, 1);
  ann.send({ type: "ping", ref: "after" });
  assert.equal((await ann.expect("pong")).ref, "after");
  await stillServing(server);
});

Deno.test("containment: a half-closed TCP peer's last line is delivered and it is cleaned up", async () => {
  await using server = await startTestServer();
  await using ann = await WsJsonClient.login(server.wsUrl, "ann");
  await using hal = await TcpLineClient.login(server.tcpPort, "hal");
  await hal.send("my last words");
  await hal.conn.closeWrite();
  const said = await ann.expect("message");
  assert.deepEqual([said.from, said.text], ["hal", "my last words"]);
  const left = await ann.expect((event) => event.type === "left" && event.name === "hal");
  assert.equal(left.reason, "disconnect");
  await hal.expectClosed();
  await sessionsBecome(server, 1);
  await stillServing(server);
});

Deno.test("containment: a WebSocket peer that sends frames and vanishes", async () => {
  // Vanished peers leave at once here (not kept for a resume): their leaves are checked.
  await using server = await startTestServer({ resumeWindowMs: 0 });
  await using ann = await WsJsonClient.login(server.wsUrl, "ann");
  for (let round = 0; round < 5; round++) {
    const ghost = await RawWebSocket.connect(server.httpPort);
    assert.equal(ghost.status, 101);
    assert.equal((await ghost.readFrame())?.opcode, 1, "hello");
    await ghost.write(
      new Uint8Array([
        ...RawWebSocket.encodeFrame(JSON.stringify({ type: "login", name: `ghost${round}` }), 1),
        ...RawWebSocket.encodeFrame(
          JSON.stringify({ type: "publish", room: "lobby", text: `boo ${round}` }),
          1,
        ),
      ]),
    );
    ghost.close();
    const said = await ann.expect("message");
    assert.deepEqual([said.from, said.text], [`ghost${round}`, `boo ${round}`]);
    await ann.expect((event) => event.type === "left" && event.name === `ghost${round}`);
  }
  await sessionsBecome(server, 1);
  await stillServing(server);
});

Deno.test("containment: garbage instead of an HTTP request on the HTTP port", async () => {
  await using server = await startTestServer();
  for (
    const junk of [noise(2048, 7), encoder.encode("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\r\n\r\n")]
  ) {
    using conn = await Deno.connect({ hostname: "127.0.0.1", port: server.httpPort });
    await conn.write(junk);
    const reply = new Uint8Array(4096);
    let text = "";
    for (let count: number | null = 0; count !== null;) {
      count = await within(conn.read(reply).catch(() => null), WAIT_MS, "the server to hang up");
      if (count !== null) text += new TextDecoder().decode(reply.subarray(0, count));
    }
    assert.ok(text === "" || text.startsWith("HTTP/1.1 400"), `unexpected reply: ${text}`);
  }
  assert.equal(server.server.relay.stats().sessions, 0);
  await stillServing(server);
});

Deno.test("containment: a truncated WebSocket frame header, then the peer goes away", async () => {
  await using server = await startTestServer();
  const cases = [
    new Uint8Array([0x81]), // first byte only
    new Uint8Array([0x81, 0xfe, 0x01]), // 16-bit length cut short
    new Uint8Array([0x81, 0xff, 0, 0, 0]), // 64-bit length cut short
    new Uint8Array([0x81, 0x85, 1, 2]), // mask cut short
    new Uint8Array([0x81, 0xfe, 0x04, 0x00, 1, 2, 3, 4, 0x7b]), // 1024-byte payload, 1 sent
  ];
  for (const bytes of cases) {
    await using peer = await RawWebSocket.connect(server.httpPort);
    assert.equal(peer.status, 101);
    await peer.readFrame(); // hello
    await peer.write(bytes);
    await sessionsBecome(server, 1);
    await peer.conn.closeWrite();
    await peer.readUntilClosed();
    await sessionsBecome(server, 0);
  }
  await stillServing(server);
});

Deno.test("containment: random bytes after a valid handshake close only that peer", async () => {
  await using server = await startTestServer();
  await using ann = await WsJsonClient.login(server.wsUrl, "ann");
  for (let seed = 1; seed <= 8; seed++) {
    await using peer = await RawWebSocket.connect(server.httpPort);
    assert.equal(peer.status, 101);
    await peer.readFrame(); // hello
    await peer.write(noise(4096, seed));
    // The server may read on, waiting for a frame the noise announced; ending
    // our side must still end the session either way.
    const closedByServer = await within(
      peer.readUntilClosed(2000).then((frames) => frames, () => undefined),
      2500,
      "the read to finish",
    );
    if (closedByServer) {
      const close = closedByServer.find((frame) => frame.opcode === 8);
      if (close) assert.notEqual(closeCodeOf(close), 1000, "noise is not a normal close");
    } else {
      await peer.conn.closeWrite();
      await peer.readUntilClosed();
    }
    await sessionsBecome(server, 1);
  }
  ann.send({ type: "ping", ref: "alive" });
  assert.equal((await ann.expect("pong")).ref, "alive");
  await stillServing(server);
});

Deno.test("containment: after all of it, /healthz counts match the clients still connected", async () => {
  await using server = await startTestServer(RELAY);
  await using ann = await TcpLineClient.login(server.tcpPort, "ann");
  // One of each misbehaviour, all at once.
  const victim = await rawTcpLogin(server.tcpPort, "victim");
  const hal = await TcpLineClient.login(server.tcpPort, "hal");
  const ghost = await RawWebSocket.connect(server.httpPort);
  const noisy = await RawWebSocket.connect(server.httpPort);
  const garbage = await Deno.connect({ hostname: "127.0.0.1", port: server.httpPort });
  await ann.send("x".repeat(8000));
  victim.close();
  await hal.send("bye");
  await hal.conn.closeWrite();
  await ghost.sendFrame(JSON.stringify({ type: "login", name: "ghost" }));
  ghost.close();
  await noisy.write(noise(1024, 99));
  await noisy.conn.closeWrite();
  await garbage.write(noise(512, 5));
  garbage.close();
  await ann.expect("[lobby] hal: bye");
  await hal.expectClosed();
  await hal.close();
  await noisy.readUntilClosed();
  noisy.close();
  await sessionsBecome(server, 1);
  await using webb = await WsJsonClient.login(server.wsUrl, "webb");
  await ann.send("/join games");
  await ann.expect("[games] 1 here: ann");
  const stats = await healthz(server.httpPort);
  assert.deepEqual(
    [stats.status, stats.node.sessions, stats.node.users, stats.node.rooms],
    ["ok", 2, 2, 2],
    JSON.stringify(stats),
  );
  webb.send({ type: "publish", room: "lobby", text: "hi ann" });
  await ann.expect("[lobby] webb: hi ann");
});
