// Frames too big to hold: a frame whose header announces more than the limit
// is refused before its payload is buffered, and before login a connection
// may send only a small budget of bytes, whatever frames they make.
import assert from "node:assert/strict";
import { decodeBinaryFrame, encodeBinaryFrame } from "../core/mod.ts";
import { closeCodeOf, RawWebSocket, startTestServer, within, WsJsonClient } from "./_helpers.ts";
import { spawnCli } from "./_server_helpers.ts";

const MiB = 1024 * 1024;

/** A masked client frame header announcing `length` bytes, and no payload. */
function header(opcode: number, length: number): Uint8Array {
  const bytes = new Uint8Array(14);
  bytes[0] = 0x80 | opcode;
  bytes[1] = 0x80 | 127;
  new DataView(bytes.buffer).setBigUint64(2, BigInt(length));
  bytes.set([1, 2, 3, 4], 10);
  return bytes;
}

/** Writes up to `total` bytes of payload in 64 KiB writes, until the server stops taking them. */
async function pour(peer: RawWebSocket, total: number): Promise<number> {
  const chunk = new Uint8Array(64 * 1024);
  let sent = 0;
  try {
    while (sent < total) {
      sent += await peer.conn.write(chunk.subarray(0, Math.min(chunk.length, total - sent)));
    }
  } catch { /* reset or broken pipe: the server hung up */ }
  return sent;
}

/** Opens `count` raw WebSockets that have read their hello. */
async function openMany(port: number, count: number): Promise<RawWebSocket[]> {
  const peers = await Promise.all(
    Array.from({ length: count }, () => RawWebSocket.connect(port)),
  );
  for (const peer of peers) {
    assert.equal(peer.status, 101);
    assert.equal((await peer.readFrame())?.opcode, 1, "hello");
  }
  return peers;
}

/** Every peer is closed by the server; returns the close codes it sent (undefined: none). */
async function closedAll(peers: RawWebSocket[], ms: number): Promise<(number | undefined)[]> {
  return await Promise.all(peers.map(async (peer) => {
    const frames = await peer.readUntilClosed(ms);
    const close = frames.find((frame) => frame.opcode === 8);
    return close && closeCodeOf(close);
  }));
}

Deno.test("big frames: 32 connections announcing 60 MiB before login cost the server almost nothing", async () => {
  await using server = await spawnCli({ flags: ["--max-pending-per-address", "100"] });
  const before = await server.memoryKiB("VmRSS");

  // The header says 60 MiB (over every limit); 4 MiB of it follows, or as much as is taken.
  const huge = await openMany(server.httpPort, 32);
  const started = performance.now();
  const poured = await Promise.all(huge.map(async (peer) => {
    await peer.write(header(2, 60 * MiB));
    return await pour(peer, 4 * MiB);
  }));
  const codes = await closedAll(huge, 5000);
  const tookMs = performance.now() - started;
  for (const peer of huge) peer.close();
  for (const code of codes) if (code !== undefined) assert.equal(code, 1009);

  // Under the frame limit (1 MiB of the 1.4 MB allowed), but far over the 16 KiB a
  // connection may send before it logs in.
  const large = await openMany(server.httpPort, 32);
  await Promise.all(large.map(async (peer) => {
    await peer.write(header(2, MiB));
    await pour(peer, MiB);
  }));
  const budgetCodes = await closedAll(large, 5000);
  for (const peer of large) peer.close();
  for (const code of budgetCodes) if (code !== undefined) assert.equal(code, 1009);

  const grownMiB = ((await server.memoryKiB("VmHWM")) - before) / 1024;
  console.log(
    `big frames: peak RSS grew ${grownMiB.toFixed(1)} MiB; ${
      (poured.reduce((a, b) => a + b, 0) / MiB).toFixed(0)
    } MiB offered in ${tookMs.toFixed(0)} ms`,
  );
  // Buffered whole, the first wave alone would be 128 MiB.
  assert.ok(grownMiB < 24, `the server's peak RSS grew by ${grownMiB.toFixed(1)} MiB`);

  await using wes = await WsJsonClient.login(server.wsUrl, "wes");
  wes.send({ type: "ping", ref: "after" });
  assert.equal((await wes.expect("pong")).ref, "after");
});

Deno.test("big frames: a logged-in client's frame over the limit is closed 1009 at its header", async () => {
  await using server = await startTestServer({ maxFileBytes: 64 * 1024 });
  const limit = server.server.relay.limits;
  await using peer = await RawWebSocket.connect(server.httpPort);
  await peer.readFrame(); // hello
  await peer.sendFrame(JSON.stringify({ type: "login", name: "bigmouth" }));
  // The header alone, announcing one byte more than any frame may have.
  const over = Math.max(limit.maxFrameBytes, limit.maxFileBytes + 4099) + 1;
  await peer.write(header(2, over));
  const frames = await within(peer.readUntilClosed(), 2000, "the close, with no payload sent");
  const close = frames.find((frame) => frame.opcode === 8);
  assert.ok(close, "a close frame");
  assert.equal(closeCodeOf(close), 1009);
});

Deno.test("big frames: files up to the limit still travel whole, alone or in a batch", async () => {
  await using server = await startTestServer({ maxFileBytes: 256 * 1024 });
  await using ann = await WsJsonClient.login(server.wsUrl, "ann");
  await using bob = await WsJsonClient.login(server.wsUrl, "bob");
  // 200 KiB needs a 64-bit length in its frame header; 100 bytes a 7-bit one.
  const sizes = [200 * 1024, 100, 70_000, 3];
  for (const size of sizes) {
    const payload = new Uint8Array(size).map((_, i) => (i * 7 + size) % 256);
    ann.sendBinary(encodeBinaryFrame({ room: "lobby", file: { name: `f${size}.bin` } }, payload));
  }
  for (const size of sizes) {
    const item = await bob.expect((event) => event.binary !== undefined);
    const { header: head, payload } = decodeBinaryFrame(item.binary!);
    assert.equal((head.file as { size: number }).size, size);
    assert.ok(payload.every((byte, i) => byte === (i * 7 + size) % 256), `file of ${size} intact`);
  }
});
