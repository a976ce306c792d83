import assert from "node:assert/strict";
import { decodeBinaryFrame, encodeBinaryFrame } from "../core/mod.ts";
import { startTestServer, TcpLineClient, WsJsonClient } from "./_helpers.ts";
import { healthz } from "./_server_helpers.ts";

Deno.test("HTTP: GET /ws without upgrade headers is 426 with a JSON error", async () => {
  await using server = await startTestServer();
  const response = await fetch(`http://127.0.0.1:${server.httpPort}/ws`);
  assert.equal(response.status, 426);
  const body = await response.json();
  assert.equal(body.error.code, "upgrade_required");
});

Deno.test("HTTP: GET /healthz counts sessions and rooms; GET / says how to connect", async () => {
  await using server = await startTestServer();
  await using ann = await WsJsonClient.login(server.wsUrl, "ann");
  await ann.send({ type: "join", room: "games" });
  await ann.expect((event) => event.type === "presence" && event.room === "games");
  const stats = await healthz(server.httpPort);
  assert.deepEqual([stats.status, stats.node.sessions, stats.node.users, stats.node.rooms], [
    "ok",
    1,
    1,
    2,
  ]);
  const index = await (await fetch(`http://127.0.0.1:${server.httpPort}/`)).text();
  assert.match(index, new RegExp(`ws://127\\.0\\.0\\.1:${server.httpPort}/ws`));
  assert.match(index, new RegExp(`telnet 127\\.0\\.0\\.1 ${server.tcpPort}`));
});

Deno.test("WebSocket: hello, login, welcome with ref, and chat between two clients", async () => {
  await using server = await startTestServer();
  await using ann = await WsJsonClient.open(server.wsUrl);
  const hello = await ann.expect("hello");
  assert.equal(hello.protocol, 1);
  assert.equal(hello.limits.maxLineBytes, 8192);
  ann.send({ type: "login", name: "ann", ref: "L1" });
  const welcome = await ann.expect("welcome");
  assert.equal(welcome.ref, "L1");
  assert.equal(welcome.others, 0);
  await using bob = await WsJsonClient.login(server.wsUrl, "bob", true);
  bob.send({ type: "publish", room: "lobby", text: "hi all" });
  const seen = await ann.expect("message");
  assert.deepEqual([seen.room, seen.from, seen.text], ["lobby", "bob", "hi all"]);
  const echoed = await bob.expect("message");
  assert.equal(echoed.id, seen.id, "echo carries the same server id");
  ann.send({ type: "direct", to: "bob", text: "psst" });
  assert.equal((await bob.expect("direct")).text, "psst");
  assert.equal((await ann.expect("direct")).to, "bob");
  ann.send({ type: "ping", ref: "p" });
  assert.equal((await ann.expect("pong")).ref, "p");
  ann.send({ type: "rooms" });
  assert.deepEqual((await ann.expect("rooms")).rooms, [{ name: "lobby", members: 2 }]);
});

Deno.test("WebSocket: bad input gets stable error codes and the connection stays up", async () => {
  await using server = await startTestServer();
  await using ann = await WsJsonClient.login(server.wsUrl, "ann");
  const cases: [string, string][] = [
    ["not json", "bad_json"],
    ["[1,2]", "bad_message"],
    ['{"type":42}', "bad_message"],
    ['{"type":"teleport"}', "unknown_type"],
    ['{"type":"publish","room":"lobby"}', "bad_message"],
    ['{"type":"publish","room":"nowhere","text":"x"}', "not_in_room"],
    ['{"type":"join","room":"has space"}', "room_invalid"],
    ['{"type":"direct","to":"nobody","text":"x"}', "no_such_user"],
    ['{"type":"login","name":"again"}', "already_logged_in"],
    ['{"type":"publish","room":"lobby","text":"   "}', "empty_message"],
    ['{"type":"publish","room":"lobby","text":"x","__proto__":{"polluted":true}}', ""],
  ];
  for (const [input, code] of cases) {
    ann.send(input.replace("}", ',"ref":"case"}').replace(/^not json$/, "not json"));
    if (code === "") continue;
    const error = await ann.expect("error");
    assert.equal(error.code, code, `input ${input}`);
  }
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  ann.send({ type: "ping" });
  await ann.expect("pong");
});

Deno.test("WebSocket: a frame over the size limit closes with 1009", async () => {
  // Sessions closed by the server leave at once here (not kept for a resume).
  await using server = await startTestServer({
    maxFileBytes: 1024,
    maxFrameBytes: 2048,
    resumeWindowMs: 0,
  });
  await using bob = await WsJsonClient.login(server.wsUrl, "bob");
  const ann = await WsJsonClient.login(server.wsUrl, "ann");
  ann.send({ type: "publish", room: "lobby", text: "x".repeat(4096) });
  const error = await ann.expect("error");
  assert.equal(error.code, "too_large");
  const closed = await ann.closed;
  assert.equal(closed.code, 1009);
  await bob.expect((event) => event.type === "left" && event.name === "ann");
});

Deno.test("WebSocket: a binary frame reaches WebSocket members as binary and TCP members as a notice", async () => {
  await using server = await startTestServer();
  await using ann = await WsJsonClient.login(server.wsUrl, "ann");
  await using bob = await WsJsonClient.login(server.wsUrl, "bob");
  await using tess = await TcpLineClient.login(server.tcpPort, "tess");
  const payload = new Uint8Array(3000).map((_, i) => i % 256);
  ann.sendBinary(
    encodeBinaryFrame(
      { room: "lobby", file: { name: "../../etc/cat.png", type: "image/png" } },
      payload,
    ),
  );
  const received = await bob.expect((item) => item.binary !== undefined);
  const { header, payload: got } = decodeBinaryFrame(received.binary!);
  assert.equal(header.type, "message");
  assert.equal(header.room, "lobby");
  assert.equal(header.from, "ann");
  assert.equal(typeof header.id, "string");
  assert.deepEqual(header.file, { name: "cat.png", type: "image/png", size: 3000 });
  assert.deepEqual(got, payload);
  assert.match(
    await tess.expect("shared"),
    /^-!- \[lobby\] ann shared a file: "cat\.png" \(2\.9 KiB, image\/png\)/,
  );
  ann.sendBinary(new Uint8Array([9, 9, 9]));
  assert.equal((await ann.expect("error")).code, "bad_frame");
});

Deno.test("WebSocket: a direct binary frame reaches only its recipient", async () => {
  await using server = await startTestServer();
  await using ann = await WsJsonClient.login(server.wsUrl, "ann");
  await using bob = await WsJsonClient.login(server.wsUrl, "bob");
  await using carl = await WsJsonClient.login(server.wsUrl, "carl");
  ann.sendBinary(encodeBinaryFrame({ to: "bob", file: { name: "a.bin" } }, new Uint8Array([1, 2])));
  const received = await bob.expect((item) => item.binary !== undefined);
  assert.equal(decodeBinaryFrame(received.binary!).header.to, "bob");
  carl.send({ type: "ping" });
  await carl.expect("pong");
  assert.ok(!carl.inbox.seen.some((item) => item.binary !== undefined));
});

Deno.test("WebSocket: a client that asks for batching gets several messages per frame, in order", async () => {
  await using server = await startTestServer();
  await using tess = await TcpLineClient.login(server.tcpPort, "tess");
  const socket = new WebSocket(server.wsUrl);
  const frames: string[] = [];
  let notify = () => {};
  socket.onmessage = (event) => {
    frames.push(event.data as string);
    notify();
  };
  const closed = new Promise((resolve) => socket.onclose = resolve);
  await new Promise((resolve) => socket.onopen = resolve);
  const messages = () =>
    frames.flatMap((frame) => frame.split("\n")).map((json) => JSON.parse(json));
  const until = (test: () => boolean) =>
    new Promise<void>((resolve) => {
      notify = () => test() && resolve();
      notify();
    });
  socket.send(JSON.stringify({ type: "hello", batch: true }));
  socket.send(JSON.stringify({ type: "login", name: "bat" }));
  await until(() => messages().some((m) => m.type === "presence"));
  // welcome, joined and presence were produced together, so they share one frame.
  const loginFrame = frames.find((frame) => frame.includes('"welcome"'))!;
  assert.deepEqual(loginFrame.split("\n").map((json) => JSON.parse(json).type), [
    "welcome",
    "joined",
    "presence",
  ]);
  await tess.write("one\ntwo\nthree\n");
  await until(() => messages().filter((m) => m.type === "message").length === 3);
  assert.deepEqual(messages().filter((m) => m.type === "message").map((m) => m.text), [
    "one",
    "two",
    "three",
  ]);
  socket.close();
  await closed;
});
