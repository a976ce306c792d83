import assert from "node:assert/strict";
import fc from "npm:fast-check@4.10.2";
import { LineDecoder, type PushResult } from "../../core/line_decoder.ts";
import {
  byteStream,
  chunk,
  CR,
  cutPoints,
  DONT,
  fuzzParams,
  IAC,
  LF,
  NUL,
  randomBytes,
  SB,
  SE,
  WILL,
} from "./_arbitraries.ts";

const utf8 = new TextDecoder();

interface Outcome {
  lines: string[];
  /** Index of the chunk whose push returned "too_long", or -1. */
  failedAt: number;
  /** Every push result, in order. */
  results: PushResult[];
  /** pendingBytes after each push. */
  pending: number[];
}

function run(chunks: readonly Uint8Array[], maxLineBytes: number): Outcome {
  const decoder = new LineDecoder(maxLineBytes);
  const lines: string[] = [];
  const results: PushResult[] = [];
  const pending: number[] = [];
  let failedAt = -1;
  chunks.forEach((piece, index) => {
    const result = decoder.push(piece, (line) => lines.push(line));
    results.push(result);
    pending.push(decoder.pendingBytes);
    if (result === "too_long" && failedAt === -1) failedAt = index;
  });
  return { lines, failedAt, results, pending };
}

/** Telnet negotiation removed, the way RFC 854 reads: what is left is data. */
function stripTelnet(bytes: Uint8Array): number[] {
  const data: number[] = [];
  let i = 0;
  while (i < bytes.length) {
    const byte = bytes[i++]!;
    if (byte !== IAC) {
      data.push(byte);
      continue;
    }
    if (i >= bytes.length) break;
    const command = bytes[i++]!;
    if (command === IAC) data.push(IAC);
    else if (command >= WILL && command <= DONT) i++; // skip the option byte
    else if (command === SB) {
      // to the first IAC SE; IAC IAC inside is an escaped data byte of the subnegotiation
      while (i < bytes.length) {
        if (bytes[i] === IAC && i + 1 < bytes.length) {
          if (bytes[i + 1] === SE) {
            i += 2;
            break;
          }
          i += 2;
        } else i++;
      }
    }
  }
  return data;
}

interface Expected {
  /** Each complete line's bytes. */
  lines: number[][];
  /** Bytes of the unfinished last line. */
  rest: number[];
  /** True when some line passes the limit before it ends. */
  tooLong: boolean;
}

/** Reference split: LF, CRLF or lone CR end a line; CR NUL is a bare CR. */
function expectedLines(bytes: Uint8Array, maxLineBytes: number): Expected {
  const data = stripTelnet(bytes);
  const lines: number[][] = [];
  let current: number[] = [];
  for (let i = 0; i < data.length; i++) {
    const byte = data[i]!;
    const previous = i > 0 ? data[i - 1] : undefined;
    if (byte === CR || byte === LF) {
      if (byte === LF && previous === CR) continue;
      lines.push(current);
      current = [];
    } else if (byte === NUL && previous === CR) {
      continue;
    } else {
      current.push(byte);
      if (current.length > maxLineBytes) return { lines, rest: [], tooLong: true };
    }
  }
  return { lines, rest: current, tooLong: false };
}

const maxLineBytes = fc.oneof(
  fc.integer({ min: 0, max: 8 }),
  fc.integer({ min: 9, max: 300 }),
  fc.constant(8192),
);

Deno.test("LineDecoder.push() never throws on random bytes (fuzz)", () => {
  fc.assert(
    fc.property(fc.array(randomBytes(), { maxLength: 8 }), maxLineBytes, (chunks, max) => {
      run(chunks, max);
    }),
    fuzzParams(500),
  );
});

Deno.test("LineDecoder.push() is chunking-invariant (fuzz)", () => {
  fc.assert(
    fc.property(byteStream(), cutPoints(), maxLineBytes, (bytes, cuts, max) => {
      const whole = run([bytes], max);
      const split = run(chunk(bytes, cuts), max);
      assert.deepEqual(split.lines, whole.lines);
      assert.equal(split.failedAt >= 0, whole.failedAt >= 0, "too_long in one and not the other");
      if (whole.failedAt === -1) assert.equal(split.pending.at(-1), whole.pending.at(-1));
      // Byte by byte, the hardest split of all.
      const bytewise = run([...bytes].map((byte) => Uint8Array.of(byte)), max);
      assert.deepEqual(bytewise.lines, whole.lines);
    }),
    fuzzParams(500),
  );
});

Deno.test("LineDecoder.push() matches a reference telnet and line splitter (fuzz)", () => {
  fc.assert(
    fc.property(byteStream(), cutPoints(), maxLineBytes, (bytes, cuts, max) => {
      const expected = expectedLines(bytes, max);
      const actual = run(chunk(bytes, cuts), max);
      assert.deepEqual(
        actual.lines,
        expected.lines.map((line) => utf8.decode(Uint8Array.from(line))),
      );
      assert.equal(actual.failedAt >= 0, expected.tooLong, "too_long exactly when a line is over");
      if (!expected.tooLong) assert.equal(actual.pending.at(-1), expected.rest.length);
    }),
    fuzzParams(500),
  );
});

Deno.test("LineDecoder lines never hold CR, LF or negotiation bytes (fuzz)", () => {
  // Options and subnegotiation bodies are drawn from a byte no data carries (0x01),
  // so any 0x01 in a line is leaked negotiation.
  const negotiation = fc.oneof(
    fc.constantFrom(WILL, WILL + 1, WILL + 2, DONT).map((verb) => [IAC, verb, 0x01]),
    fc.nat({ max: 6 }).map((n) => [IAC, SB, ...new Array(n).fill(0x01), IAC, SE]),
    fc.integer({ min: 0xf1, max: 0xf9 }).filter((cmd) => cmd !== SB).map((cmd) => [IAC, cmd]),
  );
  const data = fc.array(fc.integer({ min: 0x02, max: 0xfe }), { maxLength: 6 });
  const ending = fc.constantFrom([LF], [CR, LF], [CR], [CR, NUL]);
  const stream = fc.array(fc.oneof(negotiation, data, ending), { maxLength: 40 })
    .map((pieces) => Uint8Array.from(pieces.flat()));
  fc.assert(
    fc.property(stream, cutPoints(), (bytes, cuts) => {
      const { lines } = run(chunk(bytes, cuts), 8192);
      for (const line of lines) {
        assert.ok(
          !["\r", "\n", "\x01"].some((c) => line.includes(c)),
          `line ${JSON.stringify(line)} leaks`,
        );
      }
    }),
    fuzzParams(500),
  );
});

Deno.test("LineDecoder.pendingBytes never exceeds maxLineBytes (fuzz)", () => {
  fc.assert(
    fc.property(byteStream(60), cutPoints(20), maxLineBytes, (bytes, cuts, max) => {
      const decoder = new LineDecoder(max);
      for (const piece of chunk(bytes, cuts)) {
        decoder.push(piece, () => {
          assert.equal(decoder.pendingBytes, 0, "a line is handed over with its buffer reset");
        });
        assert.ok(decoder.pendingBytes <= max, `${decoder.pendingBytes} > ${max}`);
      }
    }),
    fuzzParams(500),
  );
});

Deno.test("LineDecoder.push() reports too_long exactly at the byte past the limit (fuzz)", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 64 }),
      fc.integer({ min: -3, max: 3 }),
      fc.constantFrom([LF], [CR, LF], [CR], []),
      cutPoints(),
      (max, delta, ending, cuts) => {
        const length = Math.max(0, max + delta);
        const bytes = Uint8Array.from([...new Array(length).fill(0x61), ...ending]);
        const outcome = run(chunk(bytes, cuts), max);
        const over = length > max;
        assert.equal(outcome.failedAt >= 0, over, `length ${length}, max ${max}`);
        if (over) {
          assert.deepEqual(outcome.lines, []);
          // Once failed, every later push says so too, and holds nothing.
          assert.ok(outcome.results.slice(outcome.failedAt).every((r) => r === "too_long"));
          assert.equal(outcome.pending.at(-1), 0);
        } else {
          assert.deepEqual(outcome.lines, ending.length > 0 ? ["a".repeat(length)] : []);
        }
      },
    ),
    fuzzParams(500),
  );
});

Deno.test("LineDecoder.push() honours a limit raised from onLine (fuzz)", () => {
  // Session raises the limit after a JSON first line; later lines use the new one.
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 32 }),
      fc.integer({ min: 33, max: 4096 }),
      fc.integer({ min: 0, max: 4200 }),
      cutPoints(),
      (low, high, length, cuts) => {
        const decoder = new LineDecoder(low);
        const lines: string[] = [];
        const bytes = Uint8Array.from([0x7b, LF, ...new Array(length).fill(0x62), LF]);
        let failed = false;
        for (const piece of chunk(bytes, cuts)) {
          const result = decoder.push(piece, (line) => {
            lines.push(line);
            decoder.maxLineBytes = high;
          });
          failed ||= result === "too_long";
        }
        assert.equal(failed, length > high);
        if (!failed) assert.deepEqual(lines, ["{", "b".repeat(length)]);
      },
    ),
    fuzzParams(300),
  );
});
