// DNS rebinding: a page whose domain was pointed at this server sends its own
// domain in Host (and, being same-origin to itself, in Origin). Only hosts
// that cannot be rebound, or that were allowed, are answered.
import assert from "node:assert/strict";
import { closeCodeOf, RawWebSocket, startServerWith, type TestServer } from "./_helpers.ts";
import { rawHttp } from "./_server_helpers.ts";

async function get(server: TestServer, path: string, host: string) {
  return await rawHttp(
    server.httpPort,
    `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
  );
}

Deno.test("Host check: a rebound domain gets 403 host_denied on every path, upgrades included", async () => {
  await using server = await startServerWith({ tcpPort: null });
  const evil = `evil.example:${server.httpPort}`;
  for (const path of ["/", "/healthz", "/app.js", "/nowhere"]) {
    const response = await get(server, path, evil);
    assert.equal(response.status, 403, path);
    const body = JSON.parse(response.body);
    assert.equal(body.error.code, "host_denied");
    assert.match(body.error.message, /--allowed-host evil\.example/);
  }
  // The rebinding page's WebSocket: Origin and Host agree, both naming its domain.
  const upgrade = await rawHttp(
    server.httpPort,
    [
      "GET /ws HTTP/1.1",
      `Host: ${evil}`,
      `Origin: http://${evil}`,
      "Upgrade: websocket",
      "Connection: Upgrade",
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
      "Sec-WebSocket-Version: 13",
      "",
      "",
    ].join("\r\n"),
  );
  assert.equal(upgrade.status, 403);
  assert.equal(JSON.parse(upgrade.body).error.code, "host_denied");
  assert.equal(server.server.relay.stats().sessions, 0);
});

Deno.test("Host check: localhost, its subdomains and IP literals are answered", async () => {
  await using server = await startServerWith({ tcpPort: null });
  const port = server.httpPort;
  for (
    const host of [`localhost:${port}`, "chat.localhost", `127.0.0.1:${port}`, "[::1]", "10.1.2.3"]
  ) {
    assert.equal((await get(server, "/healthz", host)).status, 200, host);
  }
  for (const host of ["localhost.evil.example", "127.0.0.1.nip.io", "0x7f.1"]) {
    assert.equal((await get(server, "/healthz", host)).status, 403, host);
  }
});

Deno.test("Host check: allowedHosts, the hosts of allowOrigins, and * let more in", async () => {
  {
    await using server = await startServerWith({
      tcpPort: null,
      allowedHosts: ["chat.example", "*.example.org"],
      allowOrigins: ["https://app.example.net"],
    });
    for (const host of ["chat.example", "CHAT.example:443", "a.example.org", "app.example.net"]) {
      assert.equal((await get(server, "/healthz", host)).status, 200, host);
    }
    for (const host of ["example.org", "chat.example.evil", "evil.example"]) {
      assert.equal((await get(server, "/healthz", host)).status, 403, host);
    }
  }
  await using open = await startServerWith({ tcpPort: null, allowedHosts: ["*"] });
  assert.equal((await get(open, "/healthz", "anything.example")).status, 200);
});

Deno.test("Close reasons: a 1 MiB close reason from a peer is not echoed back", async () => {
  await using server = await startServerWith({ tcpPort: null });
  await using peer = await RawWebSocket.connect(server.httpPort);
  await peer.readFrame(); // hello
  const reason = new Uint8Array(1024 * 1024 + 2).fill(0x61);
  reason.set([0x03, 0xe8]); // code 1000, then the reason
  await peer.sendFrame(reason, 8).catch(() => {});
  const frames = await peer.readUntilClosed();
  for (const frame of frames) {
    assert.ok(frame.payload.length <= 125, `a ${frame.payload.length}-byte frame came back`);
  }
  const close = frames.find((frame) => frame.opcode === 8);
  if (close) assert.notEqual(closeCodeOf(close), 1000, "an oversized close frame is an error");
});
