// Peers that log in and then never read: what the slow-consumer tests hold
// open against a server on any runtime.

import assert from "node:assert/strict";

const encoder = new TextEncoder();

// A masked client text frame (RFC 6455 section 5.2), short payloads only.
function maskedTextFrame(text: string): Uint8Array {
  const payload = encoder.encode(text);
  assert.ok(payload.length < 126);
  const mask = crypto.getRandomValues(new Uint8Array(4));
  const frame = new Uint8Array(6 + payload.length);
  frame.set([0x81, 0x80 | payload.length, ...mask]);
  payload.forEach((byte, i) => frame[6 + i] = byte ^ mask[i % 4]!);
  return frame;
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array) {
  for (let offset = 0; offset < bytes.length;) offset += await conn.write(bytes.subarray(offset));
}

/** A WebSocket peer that logs in and then never reads another byte. */
export async function stalledWebSocket(port: number, name: string): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await writeAll(
    conn,
    encoder.encode(
      `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${btoa("0123456789abcdef")}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    ),
  );
  const buffer = new Uint8Array(1024);
  const count = await conn.read(buffer);
  assert.match(new TextDecoder().decode(buffer.subarray(0, count ?? 0)), /^HTTP\/1\.1 101/);
  await writeAll(conn, maskedTextFrame(JSON.stringify({ type: "login", name })));
  return conn;
}

/** A telnet-style peer that logs in and then never reads. */
export async function stalledTcp(port: number, name: string): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await writeAll(conn, encoder.encode(`${name}\r\n`));
  return conn;
}
