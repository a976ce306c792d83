import assert from "node:assert/strict";
import { LineDecoder } from "../../core/mod.ts";

const encoder = new TextEncoder();
const IAC = 0xff;
const SB = 0xfa;
const SE = 0xf0;
const WILL = 0xfb;
const DO = 0xfd;
const NOP = 0xf1;

/** Pushes every chunk and returns the lines seen and the last result. */
function run(decoder: LineDecoder, ...chunks: (string | number[])[]) {
  const lines: string[] = [];
  let result = "ok";
  for (const chunk of chunks) {
    const bytes = typeof chunk === "string" ? encoder.encode(chunk) : new Uint8Array(chunk);
    result = decoder.push(bytes, (line) => lines.push(line));
  }
  return { lines, result };
}

Deno.test("LineDecoder.push() splits on LF, CRLF and a lone CR", () => {
  const { lines, result } = run(new LineDecoder(100), "a\nb\r\nc\rd\n\ne");
  assert.deepEqual(lines, ["a", "b", "c", "d", ""]);
  assert.equal(result, "ok");
});

Deno.test("LineDecoder.push() keeps an unfinished line until its ending arrives", () => {
  const decoder = new LineDecoder(100);
  assert.deepEqual(run(decoder, "hel", "lo").lines, []);
  assert.equal(decoder.pendingBytes, 5);
  assert.deepEqual(run(decoder, " world\n").lines, ["hello world"]);
  assert.equal(decoder.pendingBytes, 0);
});

Deno.test("LineDecoder.push() treats a CRLF split across pushes as one ending", () => {
  const decoder = new LineDecoder(100);
  assert.deepEqual(run(decoder, "one\r").lines, ["one"]);
  assert.deepEqual(run(decoder, "\ntwo\r", "\n", "three\n").lines, ["two", "three"]);
});

Deno.test("LineDecoder.push() drops the NUL of a telnet CR NUL", () => {
  const { lines } = run(new LineDecoder(100), "a\r", [0], "b\r\n");
  assert.deepEqual(lines, ["a", "b"]);
  // A NUL not after CR is data.
  assert.deepEqual(run(new LineDecoder(100), "x\0y\n").lines, ["x\0y"]);
});

Deno.test("LineDecoder.push() decodes UTF-8 characters split across pushes", () => {
  const bytes = encoder.encode("é😀中\n");
  const decoder = new LineDecoder(100);
  const chunks = [...bytes].map((byte) => [byte]);
  assert.deepEqual(run(decoder, ...chunks).lines, ["é😀中"]);
  assert.deepEqual(run(new LineDecoder(100), [0xc3], [0xa9, 0x0a]).lines, ["é"]);
});

Deno.test("LineDecoder.push() replaces invalid UTF-8 with U+FFFD", () => {
  assert.deepEqual(run(new LineDecoder(100), [0x61, 0xc3, 0x0a]).lines, ["a\ufffd"]);
  assert.deepEqual(run(new LineDecoder(100), [0x80, 0x62, 0x0a]).lines, ["\ufffdb"]);
});

Deno.test("LineDecoder.push() strips telnet WILL/DO option negotiation", () => {
  const { lines } = run(
    new LineDecoder(100),
    [IAC, WILL, 0x01, 0x68, IAC, DO, 0x03, 0x69, IAC, NOP, 0x21, 0x0a],
  );
  assert.deepEqual(lines, ["hi!"]);
});

Deno.test("LineDecoder.push() strips telnet commands split across pushes", () => {
  const decoder = new LineDecoder(100);
  const { lines } = run(decoder, "a", [IAC], [WILL], [0x0a], "b\n");
  assert.deepEqual(lines, ["ab"], "the option byte 0x0a is not a line ending");
});

Deno.test("LineDecoder.push() strips a subnegotiation SB ... IAC SE", () => {
  const decoder = new LineDecoder(100);
  const sb = [IAC, SB, 0x1f, 0x00, 0x50, 0x0a, 0x0d, IAC, IAC, 0x18, IAC, SE];
  const { lines } = run(decoder, "x", sb.slice(0, 5), sb.slice(5), "y\n");
  assert.deepEqual(lines, ["xy"], "newlines and IAC IAC inside SB are part of it");
  assert.equal(decoder.pendingBytes, 0);
});

Deno.test("LineDecoder.push() turns IAC IAC into a literal 0xFF byte", () => {
  const decoder = new LineDecoder(100);
  run(decoder, [0x61, IAC, IAC]);
  assert.equal(decoder.pendingBytes, 2);
  // 0xFF alone is not UTF-8, so the decoded line carries U+FFFD where it was.
  assert.deepEqual(run(decoder, [0x62, 0x0a]).lines, ["a\ufffdb"]);
  assert.deepEqual(run(new LineDecoder(100), [IAC], [IAC], [0x0a]).lines, ["\ufffd"]);
});

Deno.test("LineDecoder.push() accepts a line of exactly maxLineBytes, ending not counted", () => {
  const decoder = new LineDecoder(8);
  const { lines, result } = run(decoder, "12345678\r\n", "abcdefgh\n");
  assert.equal(result, "ok");
  assert.deepEqual(lines, ["12345678", "abcdefgh"]);
});

Deno.test("LineDecoder.push() returns too_long past maxLineBytes and stops", () => {
  const decoder = new LineDecoder(8);
  const { lines, result } = run(decoder, "ok\n123456789\nlater\n");
  assert.equal(result, "too_long");
  assert.deepEqual(lines, ["ok"], "nothing after the long line is emitted");
  assert.equal(decoder.pendingBytes, 0);
  assert.deepEqual(run(decoder, "more\n"), { lines: [], result: "too_long" });
});

Deno.test("LineDecoder.push() never holds more than maxLineBytes", () => {
  const limit = 100;
  const decoder = new LineDecoder(limit);
  const chunk = new Uint8Array(7).fill(0x61);
  let result = "ok";
  let pushes = 0;
  while (result === "ok") {
    result = decoder.push(chunk, () => assert.fail("no line should end"));
    assert.ok(decoder.pendingBytes <= limit, `pending ${decoder.pendingBytes} > ${limit}`);
    assert.ok(++pushes < 100, "never reported too_long");
  }
  assert.equal(result, "too_long");
  assert.equal(pushes, Math.ceil((limit + 1) / 7));
  const huge = new LineDecoder(1024);
  assert.equal(huge.push(new Uint8Array(1 << 20).fill(0x62), () => {}), "too_long");
  assert.ok(huge.pendingBytes <= 1024);
});

Deno.test("LineDecoder.push() does not count telnet bytes against the limit", () => {
  const decoder = new LineDecoder(4);
  const { lines, result } = run(
    decoder,
    [IAC, WILL, 1, IAC, DO, 3, IAC, SB, 1, 2, 3, IAC, SE],
    "abcd\n",
  );
  assert.equal(result, "ok");
  assert.deepEqual(lines, ["abcd"]);
});

Deno.test("LineDecoder.push() applies a limit raised by onLine to the lines after it", () => {
  const decoder = new LineDecoder(4);
  const lines: string[] = [];
  const result = decoder.push(encoder.encode("{}\n0123456789\n"), (line) => {
    lines.push(line);
    decoder.maxLineBytes = 64;
  });
  assert.equal(result, "ok");
  assert.deepEqual(lines, ["{}", "0123456789"]);
});
