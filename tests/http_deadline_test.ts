// HTTP deadlines: a socket that never finishes its request head is closed
// (408) within the deadline, and counts against the connection limits while
// it is open; so do keep-alive connections, until they sit idle too long.
import assert from "node:assert/strict";
import { RawWebSocket, startServerWith, within, WsJsonClient } from "./_helpers.ts";
import { rawHttp } from "./_server_helpers.ts";

const encoder = new TextEncoder();

/** Reads until the server hangs up; returns what it sent and how long that took. */
async function untilClosed(conn: Deno.Conn, ms: number): Promise<{ text: string; ms: number }> {
  const started = performance.now();
  const buffer = new Uint8Array(4096);
  let text = "";
  const read = async () => {
    try {
      for (let n = await conn.read(buffer); n !== null; n = await conn.read(buffer)) {
        text += new TextDecoder().decode(buffer.subarray(0, n));
      }
    } catch { /* a reset ends it too */ }
  };
  await within(read(), ms, "the server to close the connection");
  return { text, ms: performance.now() - started };
}

Deno.test("HTTP deadlines: a socket that never sends its request head is counted, then closed with 408", async () => {
  await using server = await startServerWith({
    headersTimeoutSeconds: 1,
    tcpPort: null,
    relay: { maxConnections: 2 },
  });
  using silent = await Deno.connect({ hostname: "127.0.0.1", port: server.httpPort });
  using slow = await Deno.connect({ hostname: "127.0.0.1", port: server.httpPort });
  // Half a request head, and never the rest.
  await slow.write(encoder.encode("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "));

  // The two hold both places: the next socket is refused at once.
  const busy = await rawHttp(server.httpPort, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  assert.equal(busy.status, 503);
  assert.equal(JSON.parse(busy.body).error.code, "server_busy");

  const [first, second] = await Promise.all([untilClosed(silent, 4000), untilClosed(slow, 4000)]);
  for (const closed of [first, second]) {
    assert.match(closed.text, /^(HTTP\/1\.1 408 |$)/, "408, or just closed");
    assert.ok(closed.ms < 2500, `closed after ${closed.ms.toFixed(0)} ms (deadline 1 s)`);
  }
  // Its place is free again.
  await using wes = await WsJsonClient.login(server.wsUrl, "wes");
  assert.equal(wes.inbox.seen.find((event) => event.type === "welcome")?.name, "wes");
});

Deno.test("HTTP deadlines: an idle keep-alive connection is closed after the idle timeout", async () => {
  await using server = await startServerWith({ httpIdleSeconds: 1, tcpPort: null });
  using conn = await Deno.connect({ hostname: "127.0.0.1", port: server.httpPort });
  await conn.write(encoder.encode("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  const closed = await untilClosed(conn, 5000);
  assert.match(closed.text, /^HTTP\/1\.1 200 /);
  assert.ok(closed.ms < 3500, `closed after ${closed.ms.toFixed(0)} ms (idle timeout 1 s)`);
});

Deno.test("HTTP deadlines: an upgraded WebSocket is not cut by the HTTP deadlines", async () => {
  await using server = await startServerWith({
    headersTimeoutSeconds: 1,
    requestTimeoutSeconds: 1,
    httpIdleSeconds: 1,
    tcpPort: null,
  });
  await using peer = await RawWebSocket.connect(server.httpPort);
  assert.equal(peer.status, 101);
  await peer.readFrame(); // hello
  await peer.sendFrame(JSON.stringify({ type: "login", name: "patient" }));
  await new Promise((resolve) => setTimeout(resolve, 2500));
  await peer.sendFrame(JSON.stringify({ type: "ping", ref: "late" }));
  for (let frame = await peer.readFrame(); frame; frame = await peer.readFrame()) {
    if (frame.opcode !== 1) continue;
    const event = JSON.parse(new TextDecoder().decode(frame.payload));
    if (event.type === "pong") return assert.equal(event.ref, "late");
  }
  assert.fail("the connection closed before the pong");
});
