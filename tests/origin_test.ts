// Cross-site WebSocket hijacking: which browser origins may open /ws.
import assert from "node:assert/strict";
import { RawWebSocket, startServerWith, type TestServer } from "./_helpers.ts";

// Upgrades over a raw socket, since a WebSocket API cannot choose its Origin header.
async function upgradeStatus(server: TestServer, origin?: string): Promise<number> {
  await using peer = await RawWebSocket.connect(
    server.httpPort,
    origin === undefined ? {} : { Origin: origin },
  );
  if (peer.status === 101) {
    const hello = await peer.readFrame();
    assert.equal(hello?.opcode, 1, "an accepted socket is greeted with hello");
    assert.equal(JSON.parse(new TextDecoder().decode(hello.payload)).type, "hello");
  }
  return peer.status;
}

Deno.test("origin check: an upgrade from another site is refused with 403 origin_denied", async () => {
  await using server = await startServerWith({});
  await using peer = await RawWebSocket.connect(server.httpPort, {
    Origin: "https://evil.example",
  });
  assert.equal(peer.status, 403);
  const length = Number(peer.headers.get("content-length"));
  assert.ok(length > 0, "the refusal carries a body");
  const body = JSON.parse(new TextDecoder().decode(await peer.readBytes(length)));
  assert.equal(body.error.code, "origin_denied");
  assert.equal(server.server.relay.stats().sessions, 0, "no session was created");
});

Deno.test("origin check: same origin and no Origin header are allowed", async () => {
  await using server = await startServerWith({});
  assert.equal(await upgradeStatus(server, `http://127.0.0.1:${server.httpPort}`), 101);
  assert.equal(await upgradeStatus(server), 101);
  // Same host name but another port is another origin.
  assert.equal(await upgradeStatus(server, `http://127.0.0.1:${server.httpPort + 1}`), 403);
  assert.equal(await upgradeStatus(server, "null"), 403);
});

Deno.test("origin check: allowOrigins lets the listed origins in and no others", async () => {
  await using server = await startServerWith({ allowOrigins: ["https://app.example"] });
  assert.equal(await upgradeStatus(server, "https://app.example"), 101);
  assert.equal(await upgradeStatus(server, "https://evil.example"), 403);
  assert.equal(await upgradeStatus(server, "http://app.example"), 403, "the scheme counts");
  assert.equal(await upgradeStatus(server), 101);
});

Deno.test('origin check: allowOrigins ["*"] allows any origin', async () => {
  await using server = await startServerWith({ allowOrigins: ["*"] });
  assert.equal(await upgradeStatus(server, "https://evil.example"), 101);
  assert.equal(await upgradeStatus(server, "https://app.example"), 101);
});
