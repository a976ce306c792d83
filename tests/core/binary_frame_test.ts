import assert from "node:assert/strict";
import {
  BINARY_FRAME_VERSION,
  decodeBinaryFrame,
  encodeBinaryFrame,
  RelayError,
} from "../../core/mod.ts";
import { MAX_BINARY_HEADER_BYTES } from "../../core/binary_frame.ts";

const encoder = new TextEncoder();

function rawFrame(version: number, headerLength: number, rest: Uint8Array | string): Uint8Array {
  const body = typeof rest === "string" ? encoder.encode(rest) : rest;
  const frame = new Uint8Array(3 + body.length);
  frame.set([version, headerLength >> 8, headerLength & 0xff]);
  frame.set(body, 3);
  return frame;
}

function badFrame(frame: Uint8Array): RelayError {
  try {
    decodeBinaryFrame(frame);
  } catch (error) {
    assert.ok(error instanceof RelayError, `not a RelayError: ${String(error)}`);
    assert.equal(error.code, "bad_frame");
    return error;
  }
  assert.fail("expected bad_frame");
}

Deno.test("encodeBinaryFrame() writes version, big-endian header length, header, payload", () => {
  const header = { room: "lobby", pad: "p".repeat(300) };
  const payload = new Uint8Array([1, 2, 3]);
  const frame = encodeBinaryFrame(header, payload);
  const head = encoder.encode(JSON.stringify(header));
  assert.equal(frame[0], BINARY_FRAME_VERSION);
  assert.equal((frame[1]! << 8) | frame[2]!, head.length);
  assert.ok(head.length > 255, "the high byte is exercised");
  assert.deepEqual(frame.subarray(3, 3 + head.length), head);
  assert.deepEqual(frame.subarray(3 + head.length), payload);
  assert.equal(frame.length, 3 + head.length + 3);
});

Deno.test("decodeBinaryFrame() round-trips what encodeBinaryFrame() wrote", () => {
  const header = { type: "message", room: "lobby", file: { name: "é.png", size: 4 } };
  const payload = new Uint8Array([0, 255, 128, 7]);
  const decoded = decodeBinaryFrame(encodeBinaryFrame(header, payload));
  assert.deepEqual(decoded.header, header);
  assert.deepEqual(decoded.payload, payload);
  const empty = decodeBinaryFrame(encodeBinaryFrame({}, new Uint8Array()));
  assert.deepEqual(empty, { header: {}, payload: new Uint8Array() });
});

Deno.test("decodeBinaryFrame() returns the payload as a view, not a copy", () => {
  const frame = encodeBinaryFrame({ a: 1 }, new Uint8Array([5, 6]));
  const { payload } = decodeBinaryFrame(frame);
  assert.equal(payload.buffer, frame.buffer);
  frame[frame.length - 1] = 9;
  assert.equal(payload[1], 9);
});

Deno.test("decodeBinaryFrame() rejects a short frame or a wrong version", () => {
  badFrame(new Uint8Array());
  badFrame(new Uint8Array([1, 0]));
  badFrame(rawFrame(0, 2, "{}"));
  badFrame(rawFrame(2, 2, "{}"));
});

Deno.test("decodeBinaryFrame() rejects a header length past the frame or the cap", () => {
  badFrame(rawFrame(1, 3, "{}"));
  const big = "{" + `"a":"${"x".repeat(MAX_BINARY_HEADER_BYTES)}"` + "}";
  badFrame(rawFrame(1, encoder.encode(big).length, big));
  const atCap = `{"a":"${"x".repeat(MAX_BINARY_HEADER_BYTES - 8)}"}`;
  assert.equal(encoder.encode(atCap).length, MAX_BINARY_HEADER_BYTES);
  assert.equal(decodeBinaryFrame(rawFrame(1, MAX_BINARY_HEADER_BYTES, atCap)).payload.length, 0);
});

Deno.test("decodeBinaryFrame() rejects a header that is not a JSON object", () => {
  const notJson = badFrame(rawFrame(1, 3, "{x}"));
  assert.ok(notJson.cause instanceof SyntaxError, "the parse error is chained");
  badFrame(rawFrame(1, 2, new Uint8Array([0xc3, 0x28]))); // invalid UTF-8
  badFrame(rawFrame(1, 2, "[]"));
  badFrame(rawFrame(1, 4, "null"));
  badFrame(rawFrame(1, 2, "42"));
  badFrame(rawFrame(1, 0, ""));
});

Deno.test("decodeBinaryFrame() keeps __proto__ as an own key and pollutes nothing", () => {
  const json = '{"__proto__":{"polluted":1},"room":"x"}';
  const { header } = decodeBinaryFrame(rawFrame(1, json.length, json));
  assert.equal(header.room, "x");
  assert.ok(Object.hasOwn(header, "__proto__"));
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});
