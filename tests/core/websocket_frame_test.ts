import assert from "node:assert/strict";
import { type Frame, Outgoing, type ServerEvent, WireFormat } from "../../core/mod.ts";
import {
  joinWebSocketFrames,
  webSocketBinaryFrame,
  webSocketTextFrame,
} from "../../core/websocket_frame.ts";

/** Reads unmasked server frames back: [opcode, payload] for each. */
function readFrames(bytes: Uint8Array): [number, Uint8Array][] {
  const frames: [number, Uint8Array][] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  while (at < bytes.length) {
    assert.equal(bytes[at]! & 0x80, 0x80, "FIN set");
    const opcode = bytes[at]! & 0x0f;
    assert.equal(bytes[at + 1]! & 0x80, 0, "a server frame is not masked");
    let length = bytes[at + 1]! & 0x7f;
    at += 2;
    if (length === 126) {
      length = view.getUint16(at);
      at += 2;
    } else if (length === 127) {
      length = Number(view.getBigUint64(at));
      at += 8;
    }
    frames.push([opcode, bytes.subarray(at, at + length)]);
    at += length;
  }
  assert.equal(at, bytes.length, "no bytes left over");
  return frames;
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const asFrame = (data: Uint8Array<ArrayBuffer>): Frame => ({ data, bytes: data.length });

Deno.test("webSocketTextFrame() uses the 7, 16 and 64-bit lengths at their edges", () => {
  for (const length of [0, 125, 126, 65535, 65536, 70000]) {
    const payload = "é".repeat(Math.floor(length / 2)) + "x".repeat(length % 2);
    const frames = readFrames(webSocketTextFrame(payload));
    assert.equal(frames.length, 1);
    assert.equal(frames[0]![0], 1, "opcode text");
    assert.equal(frames[0]![1].length, length);
    assert.equal(text(frames[0]![1]), payload);
  }
  const binary = readFrames(webSocketBinaryFrame(new Uint8Array([1, 2, 3])));
  assert.deepEqual(binary.map(([op, data]) => [op, [...data]]), [[2, [1, 2, 3]]]);
});

Deno.test("Outgoing makes its WebSocket frame once, from the JSON frame", () => {
  const event: ServerEvent = { type: "notice", ts: 1, text: "hi 😀" };
  const out = new Outgoing(event);
  const frame = out.frame(WireFormat.WebSocketFrame)!;
  assert.ok(out.frame(WireFormat.WebSocketFrame) === frame, "made once");
  assert.equal(frame.bytes, (frame.data as Uint8Array).length);
  const [[opcode, payload]] = readFrames(frame.data as Uint8Array) as [[number, Uint8Array]];
  assert.equal(opcode, 1);
  assert.equal(text(payload), out.frame(WireFormat.JsonFrame)!.data);
  const file = new Outgoing({
    type: "message",
    id: "m",
    ts: 1,
    room: "lobby",
    from: "ann",
    file: { name: "a.bin", type: "application/octet-stream", size: 2 },
    data: new Uint8Array([9, 9]),
  });
  const [[fileOpcode, filePayload]] = readFrames(
    file.frame(WireFormat.WebSocketFrame)!.data as Uint8Array,
  ) as [[number, Uint8Array]];
  assert.equal(fileOpcode, 2, "a file is a binary frame");
  assert.deepEqual(filePayload, file.frame(WireFormat.JsonFrame)!.data);
});

Deno.test("joinWebSocketFrames() writes frames back to back, or joins text runs when batching", () => {
  const frames = [
    asFrame(webSocketTextFrame("a")),
    asFrame(webSocketTextFrame("b".repeat(200))),
    asFrame(webSocketBinaryFrame(new Uint8Array([7]))),
    asFrame(webSocketTextFrame("c")),
  ];
  const bytes = frames.reduce((sum, frame) => sum + frame.bytes, 0);
  const plain = readFrames(joinWebSocketFrames(frames, bytes, false));
  assert.deepEqual(plain.map(([op, data]) => [op, data.length]), [[1, 1], [1, 200], [2, 1], [
    1,
    1,
  ]]);
  const batched = readFrames(joinWebSocketFrames(frames, bytes, true));
  assert.deepEqual(batched.map(([op]) => op), [1, 2, 1]);
  assert.equal(text(batched[0]![1]), "a\n" + "b".repeat(200), "a short and a longer header joined");
  assert.equal(text(batched[2]![1]), "c");
  const one = frames[0]!;
  assert.ok(joinWebSocketFrames([one], one.bytes, true) === one.data, "one frame goes as it is");
});

Deno.test("joinWebSocketFrames() keeps batched frames at 256 KiB, and fits every header size", () => {
  // Payloads of 125 join past 126 and 65,536 bytes: the joined header is longer than each one's.
  for (const [size, count] of [[125, 2], [125, 600], [60_000, 3], [100 * 1024, 5]] as const) {
    const frames = Array.from(
      { length: count },
      (_, i) => asFrame(webSocketTextFrame(String(i % 10).repeat(size))),
    );
    const bytes = frames.reduce((sum, frame) => sum + frame.bytes, 0);
    const out = readFrames(joinWebSocketFrames(frames, bytes, true));
    const lines = out.flatMap(([, data]) => text(data).split("\n"));
    assert.equal(lines.length, count, `${count} x ${size}: every message once`);
    assert.ok(lines.every((line, i) => line === String(i % 10).repeat(size)), "in order");
    for (const [, data] of out) {
      assert.ok(data.length <= 256 * 1024 || !text(data).includes("\n"), "capped");
    }
  }
});
