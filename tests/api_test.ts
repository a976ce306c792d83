// The server API (/api/...) on a real server: a backend with the key
// publishes, sends privately, reads rooms and presence, disconnects and
// bans, and WebSocket and telnet users see the effects; without the key
// nothing happens, and without --api-key the API is off.

import assert from "node:assert/strict";
import { Hono } from "hono";
import { decodeBinaryFrame, Relay } from "../core/mod.ts";
import { mountApi } from "../server/api.ts";
import {
  startServerWith,
  TcpLineClient,
  type TestServer,
  type WsItem,
  WsJsonClient,
} from "./_helpers.ts";

const KEY = "test-key-0123456789abcdef";

/** An API call's status and JSON body. */
interface Answer {
  status: number;
  // deno-lint-ignore no-explicit-any -- tests read arbitrary fields
  body: any;
  headers: Headers;
}

/** Calls the API on `server`: a body makes it a POST (a string is sent as it is). */
async function call(
  server: TestServer,
  path: string,
  body?: unknown,
  headers: Record<string, string> = { authorization: `Bearer ${KEY}` },
): Promise<Answer> {
  const init: RequestInit = body === undefined
    ? { headers }
    : { method: "POST", headers, body: typeof body === "string" ? body : JSON.stringify(body) };
  const response = await fetch(`http://127.0.0.1:${server.httpPort}${path}`, init);
  const text = await response.text();
  return {
    status: response.status,
    body: text === "" ? undefined : JSON.parse(text),
    headers: response.headers,
  };
}

function assertError(answer: Answer, status: number, code: string, message?: RegExp): void {
  assert.equal(answer.status, status, JSON.stringify(answer.body));
  assert.equal(answer.body?.error?.code, code, JSON.stringify(answer.body));
  if (message) assert.match(answer.body.error.message, message);
}

const isMessage = (id: string) => (item: WsItem) => item.type === "message" && item.id === id;

Deno.test("server API: refused without the key or with a wrong one", async () => {
  await using server = await startServerWith({ apiKey: KEY });
  const publish = { room: "lobby", text: "hi" };
  for (
    const headers of [
      {},
      { authorization: "Bearer wrong-key-0123456789" },
      { authorization: `Basic ${btoa(`user:${KEY}`)}` },
      { authorization: "Bearer " },
      { authorization: `Bearer ${KEY}x` },
    ]
  ) {
    for (const [path, body] of [["/api/publish", publish], ["/api/rooms", undefined]] as const) {
      const answer = await call(server, path, body, headers);
      assertError(answer, 401, "auth_failed");
      assert.match(answer.headers.get("www-authenticate") ?? "", /^Bearer/);
    }
  }
  // The key is never echoed back.
  const refused = await call(server, "/api/rooms", undefined, { authorization: "Bearer nope" });
  assert.ok(!JSON.stringify(refused.body).includes(KEY));
  // The right path with the wrong method says which method it takes.
  const wrongMethod = await call(server, "/api/publish");
  assertError(wrongMethod, 405, "method_not_allowed", /POST \/api\/publish/);
  assert.equal(wrongMethod.headers.get("allow"), "POST");
  assertError(await call(server, "/api/nothing"), 404, "not_found");
});

Deno.test("server API: without --api-key it is off, and says how to turn it on", async () => {
  await using server = await startServerWith({});
  const off = /^the server API is off: start the server with --api-key KEY$/;
  for (const path of ["/api/publish", "/api/direct", "/api/disconnect", "/api/ban", "/api/unban"]) {
    assertError(await call(server, path, { room: "lobby", text: "hi" }), 404, "not_found", off);
  }
  for (const path of ["/api/rooms", "/api/presence?room=lobby"]) {
    assertError(
      await call(server, path, undefined, { authorization: `Bearer ${KEY}` }),
      404,
      "not_found",
      off,
    );
  }
  // Only the API's own routes: /api/stats belongs to the metrics, open without a key.
  const stats = await fetch(`http://127.0.0.1:${server.httpPort}/api/stats`);
  await stats.body?.cancel();
  assert.equal(stats.status, 200);
});

Deno.test("mountApi() refuses a key no bearer token can carry, without showing it", () => {
  assert.throws(
    () => mountApi(new Hono(), new Relay(), "a key with spaces in it!"),
    (error: Error) =>
      error instanceof TypeError && /openssl rand/.test(error.message) &&
      !error.message.includes("spaces"),
  );
});

Deno.test("POST /api/publish: WebSocket and telnet users hear it, and history keeps it", async () => {
  await using server = await startServerWith({ apiKey: KEY });
  await using ann = await WsJsonClient.login(server.wsUrl, "ann");
  await using tom = await TcpLineClient.login(server.tcpPort, "tom");
  await ann.expect((e) => e.type === "joined" && e.name === "tom");

  const sent = await call(server, "/api/publish", { room: "lobby", text: "Deploy finished" });
  assert.equal(sent.status, 200);
  assert.equal(sent.body.room, "lobby");
  assert.equal(typeof sent.body.id, "string");
  assert.ok(Math.abs(sent.body.ts - Date.now()) < 60_000);
  const heard = await ann.expect(isMessage(sent.body.id));
  assert.equal(heard.from, "server");
  assert.equal(heard.text, "Deploy finished");
  assert.equal(heard.ts, sent.body.ts);
  await tom.expect("[lobby] server: Deploy finished");

  // Under another name, and as an action; a '#' before the room is dropped, as in IRC.
  const asBot = await call(server, "/api/publish", { room: "#lobby", text: "beep", from: "bot" });
  assert.equal(asBot.status, 200);
  assert.equal(asBot.body.room, "lobby");
  assert.equal((await ann.expect(isMessage(asBot.body.id))).from, "bot");
  await tom.expect("[lobby] bot: beep");
  const waves = await call(server, "/api/publish", { room: "lobby", text: "waves", action: true });
  assert.equal((await ann.expect(isMessage(waves.body.id))).action, true);
  await tom.expect("[lobby] * server waves");

  // A room nobody is in yet: its history keeps it for whoever comes.
  const early = await call(server, "/api/publish", { room: "news", text: "first!" });
  assert.equal(early.status, 200);

  ann.send({ type: "history", room: "lobby", limit: 10, ref: "h" });
  const history = await ann.expect((e) => e.type === "history" && e.ref === "h");
  assert.equal(history.count, 3);
  const kept = [];
  for (let n = 0; n < history.count; n++) kept.push(await ann.expect("message"));
  assert.deepEqual(kept.map((e) => [e.id, e.from]), [
    [sent.body.id, "server"],
    [asBot.body.id, "bot"],
    [waves.body.id, "server"],
  ]);
  ann.send({ type: "join", room: "news" });
  await ann.expect((e) => e.type === "presence" && e.room === "news");
  ann.send({ type: "history", room: "news", ref: "n" });
  assert.equal((await ann.expect((e) => e.type === "history" && e.ref === "n")).count, 1);
  const news = await ann.expect((e) => e.type === "message" && e.room === "news");
  assert.equal(news.id, early.body.id);
  assert.equal(news.text, "first!");
});

Deno.test("POST /api/publish: a file reaches WebSocket users as bytes, telnet users as a notice", async () => {
  await using server = await startServerWith({ apiKey: KEY });
  await using ann = await WsJsonClient.login(server.wsUrl, "ann");
  await using tom = await TcpLineClient.login(server.tcpPort, "tom");
  await ann.expect((e) => e.type === "joined" && e.name === "tom");
  const bytes = crypto.getRandomValues(new Uint8Array(3000));
  const sent = await call(server, "/api/publish", {
    room: "lobby",
    data: bytes.toBase64(),
    file: { name: "../../report.bin", type: "application/x-report" },
  });
  assert.equal(sent.status, 200, JSON.stringify(sent.body));
  const frame = await ann.expect((e) => e.binary !== undefined);
  const { header, payload } = decodeBinaryFrame(frame.binary!);
  assert.equal(header.id, sent.body.id);
  assert.equal(header.from, "server");
  assert.deepEqual(header.file, { name: "report.bin", type: "application/x-report", size: 3000 });
  assert.deepEqual(payload, bytes);
  await tom.expect((line) => line.includes("[lobby]") && line.includes("report.bin"));
  // Without name or type: defaults.
  const bare = await call(server, "/api/publish", { room: "lobby", data: "AAEC" });
  assert.equal(bare.status, 200);
  const plain = decodeBinaryFrame((await ann.expect((e) => e.binary !== undefined)).binary!);
  assert.deepEqual(plain.header.file, { name: "file", type: "application/octet-stream", size: 3 });
});

Deno.test("POST /api/publish: bad requests are 400 naming the field, big ones 413", async () => {
  await using server = await startServerWith({ apiKey: KEY, relay: { maxFileBytes: 3000 } });
  const frameLimit = server.server.relay.limits.maxFrameBytes;
  const publish = (body: unknown) => call(server, "/api/publish", body);
  assertError(await publish({ room: "no spaces allowed", text: "hi" }), 400, "room_invalid");
  assertError(await publish({ room: "lobby" }), 400, "bad_message", /"text"/);
  assertError(await publish({ text: "hi" }), 400, "bad_message", /"room" is missing/);
  assertError(
    await publish({ room: 7, text: "hi" }),
    400,
    "bad_message",
    /"room" must be a string/,
  );
  assertError(await publish({ room: "lobby", text: 7 }), 400, "bad_message", /"text"/);
  assertError(
    await publish({ room: "lobby", text: "hi", action: "yes" }),
    400,
    "bad_message",
    /"action"/,
  );
  assertError(
    await publish({ room: "lobby", text: "hi", frm: "bot" }),
    400,
    "bad_message",
    /"frm"/,
  );
  assertError(await publish({ room: "lobby", text: "hi", from: "no spaces" }), 400, "name_invalid");
  assertError(await publish({ room: "lobby", text: "  " }), 400, "empty_message");
  assertError(await publish({ room: "lobby", data: "@@@" }), 400, "bad_message", /base64/);
  assertError(
    await publish({ room: "lobby", text: "a", data: "AA==" }),
    400,
    "bad_message",
    /not both/,
  );
  assertError(
    await publish({ room: "lobby", data: "AA==", file: { name: 1 } }),
    400,
    "bad_message",
    /"file.name"/,
  );
  assertError(await publish("{not json"), 400, "bad_json");
  assertError(await publish("[1,2]"), 400, "bad_message", /object/);
  assertError(await publish("null"), 400, "bad_message", /object/);
  // A file over the file limit, inside the body limit: the relay's own too_large.
  const file = new Uint8Array(3001).toBase64();
  assertError(await publish({ room: "lobby", data: file }), 413, "too_large", /3000 bytes/);
  // A body over the frame limit is refused before it is read.
  const huge = JSON.stringify({ room: "lobby", text: "x".repeat(frameLimit) });
  assertError(await publish(huge), 413, "too_large", new RegExp(`${frameLimit} bytes`));
});

Deno.test("POST /api/publish: a large body full of structure is refused before it is parsed", async () => {
  await using server = await startServerWith({ apiKey: KEY });
  // 90 KB of empty arrays: within the body limit, far more costly to parse than a file.
  const nested = `{"room":"lobby","text":"x","pad":[${"[],".repeat(30_000)}[]]}`;
  const answer = await call(server, "/api/publish", nested);
  assertError(answer, 400, "bad_message", /must be a file/);
});

Deno.test("POST /api/direct: a user hears it privately; nobody online is 404", async () => {
  await using server = await startServerWith({ apiKey: KEY });
  await using ann = await WsJsonClient.login(server.wsUrl, "ann");
  await using tom = await TcpLineClient.login(server.tcpPort, "tom");
  const sent = await call(server, "/api/direct", { to: "ANN", text: "your build is green" });
  assert.equal(sent.status, 200);
  assert.deepEqual(sent.body, { ok: true });
  const heard = await ann.expect("direct");
  assert.equal(heard.from, "server");
  assert.equal(heard.to, "ann");
  assert.equal(heard.text, "your build is green");
  assert.equal(
    (await call(server, "/api/direct", { to: "tom", text: "hi", from: "ci" })).status,
    200,
  );
  await tom.expect("[private ci -> tom] hi");
  assertError(await call(server, "/api/direct", { to: "nobody", text: "hi" }), 404, "no_such_user");
  assertError(await call(server, "/api/direct", { text: "hi" }), 400, "bad_message", /"to"/);
});

Deno.test("GET /api/rooms and /api/presence show who is where", async () => {
  await using server = await startServerWith({ apiKey: KEY });
  await using ann = await WsJsonClient.login(server.wsUrl, "ann");
  await using tom = await TcpLineClient.login(server.tcpPort, "tom");
  ann.send({ type: "join", room: "games" });
  await ann.expect((e) => e.type === "joined" && e.room === "games");

  const rooms = await call(server, "/api/rooms");
  assert.equal(rooms.status, 200);
  assert.deepEqual(rooms.body, {
    rooms: [{ name: "games", members: 1 }, { name: "lobby", members: 2 }],
    total: 2,
  });
  assert.deepEqual((await call(server, "/api/rooms?limit=1")).body, {
    rooms: [{ name: "games", members: 1 }],
    total: 2,
  });
  assert.deepEqual((await call(server, "/api/rooms?after=games")).body.rooms, [
    { name: "lobby", members: 2 },
  ]);
  for (const limit of ["0", "1001", "ten", "-1", "1.5"]) {
    assertError(await call(server, `/api/rooms?limit=${limit}`), 400, "bad_message", /"limit"/);
  }

  const lobby = await call(server, "/api/presence?room=lobby");
  assert.equal(lobby.status, 200);
  assert.deepEqual(lobby.body, { room: "lobby", members: ["ann", "tom"], count: 2 });
  assert.deepEqual((await call(server, "/api/presence?room=%23games")).body, {
    room: "games",
    members: ["ann"],
    count: 1,
  });
  assert.deepEqual((await call(server, "/api/presence?room=empty")).body, {
    room: "empty",
    members: [],
    count: 0,
  });
  assertError(await call(server, "/api/presence"), 400, "bad_message", /"room"/);
  assertError(await call(server, "/api/presence?room=a%20b"), 400, "room_invalid");

  await tom.send("/quit");
  await tom.expectClosed();
  await ann.expect((e) => e.type === "left" && e.name === "tom");
  assert.deepEqual((await call(server, "/api/presence?room=lobby")).body.members, ["ann"]);
});

Deno.test("POST /api/disconnect: the user is closed with 4010 and the room sees it", async () => {
  await using server = await startServerWith({ apiKey: KEY });
  await using ann = await WsJsonClient.login(server.wsUrl, "ann");
  await using bob = await WsJsonClient.login(server.wsUrl, "bob");
  await using tom = await TcpLineClient.login(server.tcpPort, "tom");
  await ann.expect((e) => e.type === "joined" && e.name === "tom");

  const answer = await call(server, "/api/disconnect", { name: "bob", reason: "spam" });
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  assert.equal(answer.body.ok, true);
  assert.match(answer.body.message, /bob was kicked/);
  assert.equal((await bob.closed).code, 4010);
  const seen = await ann.expect("moderated");
  assert.equal(seen.action, "kick");
  assert.equal(seen.name, "bob");
  assert.equal(seen.by, "server");
  assert.equal(seen.reason, "spam");
  assert.equal(seen.room, "lobby");
  await tom.expect("-!- [lobby] bob was kicked by server (spam)");

  assertError(await call(server, "/api/disconnect", { name: "bob" }), 404, "no_such_user");
  assertError(await call(server, "/api/disconnect", { reason: "x" }), 400, "bad_message", /"name"/);
});

Deno.test("POST /api/ban and /api/unban: by name and by address", async () => {
  await using server = await startServerWith({ apiKey: KEY });
  await using ann = await WsJsonClient.login(server.wsUrl, "ann");
  const bob = await WsJsonClient.login(server.wsUrl, "bob");

  const banned = await call(server, "/api/ban", { target: "bob", minutes: 10, reason: "spam" });
  assert.equal(banned.status, 200, JSON.stringify(banned.body));
  assert.equal(banned.body.ok, true);
  assert.match(banned.body.message, /bob is banned until/);
  assert.equal((await bob.closed).code, 4011);
  const seen = await ann.expect("moderated");
  assert.equal(seen.action, "ban");
  assert.equal(seen.by, "server");
  const until = Date.parse(banned.body.message.match(/until (\S+?)\.?$/)[1]);
  assert.ok(Math.abs(until - (Date.now() + 10 * 60_000)) < 60_000);

  // The name (in any case) is refused at login.
  await using again = await WsJsonClient.open(server.wsUrl);
  again.send({ type: "login", name: "Bob" });
  assert.equal((await again.expect("error")).code, "banned");
  assert.equal((await again.closed).code, 4011);

  const lifted = await call(server, "/api/unban", { target: "bob" });
  assert.equal(lifted.status, 200);
  assert.match(lifted.body.message, /bob is no longer banned/);
  await using back = await WsJsonClient.login(server.wsUrl, "bob");

  // An address: whoever comes from it is closed at once, until the ban is lifted.
  assert.equal((await call(server, "/api/ban", { target: "127.0.0.2" })).status, 200);
  const fromThere = await TcpLineClient.connectFrom(server.tcpPort, "127.0.0.2");
  await fromThere.expect("banned");
  await fromThere.expectClosed();
  await fromThere.close();
  assert.equal((await call(server, "/api/unban", { target: "127.0.0.2" })).status, 200);
  await using welcome = await TcpLineClient.connectFrom(server.tcpPort, "127.0.0.2");
  await welcome.expect("What's your name?");

  assertError(
    await call(server, "/api/ban", { target: "bob", minutes: "ten" }),
    400,
    "bad_message",
    /"minutes"/,
  );
  assertError(
    await call(server, "/api/ban", { target: "bob", minutes: 0 }),
    400,
    "bad_message",
    /minutes/,
  );
  assertError(await call(server, "/api/ban", { minutes: 5 }), 400, "bad_message", /"target"/);
  assertError(await call(server, "/api/ban", { target: "no spaces" }), 400, "name_invalid");
  assertError(await call(server, "/api/unban", {}), 400, "bad_message", /"target"/);
  back.send({ type: "ping" });
  await back.expect("pong");
});

Deno.test("POST /api/publish: a room over its byte rate is 429 rate_limited", async () => {
  // Room buckets hold two largest files and refill at 1 byte a second: the third file waits.
  await using server = await startServerWith({
    apiKey: KEY,
    relay: { maxFileBytes: 1000, roomBytesPerSecond: 1 },
  });
  await using ann = await WsJsonClient.login(server.wsUrl, "ann");
  const file = { room: "lobby", data: new Uint8Array(1000).toBase64() };
  assert.equal((await call(server, "/api/publish", file)).status, 200);
  assert.equal((await call(server, "/api/publish", file)).status, 200);
  assertError(await call(server, "/api/publish", file), 429, "rate_limited", /lobby is busy/);
  for (let n = 0; n < 2; n++) await ann.expect((e) => e.binary !== undefined);
});

Deno.test("POST /api/publish: a streamed body over the limit is cut off with 413", async () => {
  await using server = await startServerWith({ apiKey: KEY, relay: { maxFileBytes: 3000 } });
  const limit = server.server.relay.limits.maxFrameBytes;
  // No Content-Length: the limit is counted as the body arrives.
  const chunk = new TextEncoder().encode("x".repeat(1024));
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent > limit + chunk.length) return controller.close();
      sent += chunk.length;
      controller.enqueue(chunk);
    },
  });
  const response = await fetch(`http://127.0.0.1:${server.httpPort}/api/publish`, {
    method: "POST",
    headers: { authorization: `Bearer ${KEY}` },
    body,
  });
  assert.equal(response.status, 413);
  assert.equal((await response.json()).error.code, "too_large");
});

Deno.test("mountApi(): a failure that is not the caller's is 500 with nothing inside shown", async () => {
  const relay = new Relay();
  const app = new Hono();
  mountApi(app, relay, KEY);
  relay.api.publish = () => {
    throw new Error("secret internals");
  };
  const reported: unknown[] = [];
  const consoleError = console.error;
  console.error = (...args: unknown[]) => void reported.push(...args);
  let response: Response;
  try {
    response = await app.request("/api/publish", {
      method: "POST",
      headers: { authorization: `Bearer ${KEY}` },
      body: JSON.stringify({ room: "lobby", text: "hi" }),
    });
  } finally {
    console.error = consoleError;
  }
  assert.equal(response.status, 500);
  const body = await response.json();
  assert.equal(body.error.code, "internal_error");
  assert.ok(!body.error.message.includes("secret internals"));
  assert.equal((reported[0] as Error).message, "secret internals");
  relay.close();
});
