// Shared generators and run settings for the fuzz suite. Private to tests/fuzz.

import fc from "npm:fast-check@4.10.2";

// --- run settings ------------------------------------------------------------

function envNumber(name: string): number | undefined {
  const raw = Deno.env.get(name);
  if (raw === undefined || raw.trim() === "") return undefined;
  const value = Number(raw);
  if (!Number.isSafeInteger(value)) throw new TypeError(`${name} must be an integer, got ${raw}`);
  return value;
}

/** Runs per property from `FUZZ_RUNS`, or undefined for each property's own default. */
export const FUZZ_RUNS: number | undefined = envNumber("FUZZ_RUNS");
/** Seed from `FUZZ_SEED`, to replay a failure fast-check reported. */
export const FUZZ_SEED: number | undefined = envNumber("FUZZ_SEED");

/**
 * Parameters for `fc.assert`: `FUZZ_RUNS` (scaled by `scale`, for properties whose
 * cases are much more expensive) or `defaultRuns`, and `FUZZ_SEED` when set.
 * fast-check prints the seed and path of any failure, so it can be replayed.
 */
export function fuzzParams<T>(defaultRuns: number, scale = 1): fc.Parameters<T> {
  const numRuns = FUZZ_RUNS === undefined
    ? defaultRuns
    : Math.max(1, Math.round(FUZZ_RUNS * scale));
  const params: fc.Parameters<T> = { numRuns };
  if (FUZZ_SEED !== undefined) params.seed = FUZZ_SEED;
  return params;
}

/**
 * The error codes docs/PROTOCOL.md lists under "Error codes", read at test time so a
 * code the core sends but the document does not list fails the fuzz.
 */
export function documentedErrorCodes(): string[] {
  const doc = Deno.readTextFileSync(new URL("../../docs/PROTOCOL.md", import.meta.url));
  const section = doc.split(/^## /m).find((part) => part.startsWith("Error codes"));
  if (section === undefined) throw new Error('docs/PROTOCOL.md has no "Error codes" section');
  const codes = [...section.matchAll(/^\| `([a-z_]+)` +\|/gm)].map((match) => match[1]!);
  if (codes.length === 0) throw new Error("no codes found in docs/PROTOCOL.md");
  return codes;
}

// --- bytes and framing ------------------------------------------------------------

export const IAC = 0xff;
export const SB = 0xfa;
export const SE = 0xf0;
export const WILL = 0xfb;
export const WONT = 0xfc;
export const DO = 0xfd;
export const DONT = 0xfe;
export const CR = 0x0d;
export const LF = 0x0a;
export const NUL = 0x00;

/** Any bytes at all. */
export function randomBytes(maxLength = 200): fc.Arbitrary<Uint8Array> {
  return fc.uint8Array({ maxLength });
}

/** Byte sequences that are not valid UTF-8 (or are, by accident, about as often as not). */
export function invalidUtf8(): fc.Arbitrary<number[]> {
  return fc.oneof(
    fc.constantFrom<number[]>(
      [0x80], // lone continuation byte
      [0xbf, 0x80],
      [0xc0, 0xaf], // overlong "/"
      [0xe0, 0x80, 0xaf], // overlong
      [0xed, 0xa0, 0x80], // UTF-16 surrogate
      [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
      [0xf8, 0x88, 0x80, 0x80, 0x80], // 5-byte form
      [0xfe],
      [0xc3], // truncated 2-byte
      [0xe2, 0x82], // truncated 3-byte
      [0xf0, 0x9f, 0x98], // truncated 4-byte
    ),
    fc.array(fc.integer({ min: 0x80, max: 0xfe }), { minLength: 1, maxLength: 6 }),
  );
}

const ESC = 0x1b;

/** Pieces of a TCP stream: data, line endings, telnet commands, UTF-8 and ANSI escapes. */
export function streamPiece(): fc.Arbitrary<number[]> {
  const dataByte = fc.integer({ min: 0, max: 0xfe }); // anything but IAC
  return fc.oneof(
    { arbitrary: fc.array(fc.integer({ min: 0x20, max: 0x7e }), { maxLength: 12 }), weight: 6 },
    { arbitrary: fc.array(dataByte, { maxLength: 8 }), weight: 2 },
    {
      arbitrary: fc.string({ unit: "grapheme", maxLength: 6 }).map((text) => [
        ...new TextEncoder().encode(text),
      ]),
      weight: 2,
    },
    { arbitrary: invalidUtf8(), weight: 2 },
    {
      arbitrary: fc.constantFrom<number[]>([LF], [CR, LF], [CR], [CR, NUL], [NUL], [CR, CR]),
      weight: 5,
    },
    // IAC WILL/WONT/DO/DONT option (the option may be any byte, even CR, LF or IAC)
    {
      arbitrary: fc.tuple(fc.constantFrom(WILL, WONT, DO, DONT), fc.integer({ min: 0, max: 255 }))
        .map(([verb, option]) => [IAC, verb, option]),
      weight: 3,
    },
    // IAC SB ... IAC SE, with arbitrary bytes (IAC doubled) inside
    {
      arbitrary: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 10 }).map((body) => [
        IAC,
        SB,
        ...body.flatMap((byte) => byte === IAC ? [IAC, IAC] : [byte]),
        IAC,
        SE,
      ]),
      weight: 2,
    },
    { arbitrary: fc.constant<number[]>([IAC, IAC]), weight: 2 }, // a literal 0xFF data byte
    // two-byte commands: NOP, DM, BRK, IP, AO, AYT, EC, EL, GA, and SE outside SB
    { arbitrary: fc.integer({ min: 0xf0, max: 0xf9 }).map((cmd) => [IAC, cmd]), weight: 2 },
    {
      arbitrary: fc.constantFrom<number[]>(
        [ESC, 0x5b, 0x32, 0x4a], // ESC [ 2 J (clear screen)
        [ESC, 0x5b, 0x33, 0x31, 0x6d], // ESC [ 31 m
        [ESC, 0x5d, 0x30, 0x3b, 0x78, 0x07], // OSC title
        [0xc2, 0x9b, 0x41], // 8-bit CSI as UTF-8
        [0x07, 0x08, 0x7f],
      ),
      weight: 1,
    },
  );
}

/** A TCP byte stream built from {@link streamPiece}s. */
export function byteStream(maxPieces = 40): fc.Arbitrary<Uint8Array> {
  return fc.array(streamPiece(), { maxLength: maxPieces }).map((pieces) =>
    Uint8Array.from(pieces.flat())
  );
}

/** Cut points for splitting a stream of `length` bytes: sorted, each in 0..length. */
export function cutPoints(maxCuts = 12): fc.Arbitrary<number[]> {
  return fc.array(fc.nat(), { maxLength: maxCuts });
}

/** Splits `bytes` at `cuts` (taken modulo length + 1), keeping empty chunks too. */
export function chunk(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = cuts.map((cut) => cut % (bytes.length + 1)).sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const point of points) {
    chunks.push(bytes.subarray(start, point));
    start = point;
  }
  chunks.push(bytes.subarray(start));
  return chunks;
}

// --- JSON --------------------------------------------------------------------

/** The request types protocol.ts decodes. */
export const REQUEST_TYPES = [
  "hello",
  "login",
  "nick",
  "join",
  "history",
  "resume",
  "leave",
  "publish",
  "direct",
  "presence",
  "rooms",
  "ping",
  "echo",
  "input",
  "help",
  "quit",
] as const;

/** Keys that poison naive object merges. */
export const POLLUTION_KEYS = ["__proto__", "constructor", "prototype"] as const;

/** Numbers JSON can write but JavaScript cannot hold exactly, as JSON text. */
export function hugeNumberText(): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constantFrom(
      "1e400",
      "-1e400",
      "1e-400",
      "123456789012345678901234567890",
      "9007199254740993",
      "-0",
      "0.1e999999999",
      "1" + "0".repeat(400),
    ),
    fc.bigInt({ min: -(10n ** 60n), max: 10n ** 60n }).map(String),
  );
}

/** Deeply nested arrays or objects, as JSON text (depth 1000 and more). */
export function deepJsonText(): fc.Arbitrary<string> {
  return fc.tuple(
    fc.integer({ min: 1000, max: 20000 }),
    fc.constantFrom("array", "object", "mixed"),
  ).map(([depth, kind]) => {
    if (kind === "array") return "[".repeat(depth) + "]".repeat(depth);
    if (kind === "object") return '{"a":'.repeat(depth) + "1" + "}".repeat(depth);
    return '{"__proto__":['.repeat(depth) + "null" + "]}".repeat(depth);
  });
}

/** Any JSON value, small. */
export function jsonValue(): fc.Arbitrary<unknown> {
  return fc.jsonValue({ maxDepth: 3 });
}

/** A value of the wrong type for most fields. */
export function wrongValue(): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.constantFrom(null, true, false, 0, -1, 1e308, [], {}, [""], { "": "" }),
    fc.integer(),
    fc.double(),
    fc.array(fc.string(), { maxLength: 3 }),
    fc.dictionary(fc.string({ maxLength: 4 }), fc.string({ maxLength: 4 }), { maxKeys: 3 }),
  );
}

/** Strings with control characters, ANSI escapes, bidi overrides and odd Unicode. */
export function nastyString(): fc.Arbitrary<string> {
  const piece = fc.oneof(
    { arbitrary: fc.string({ maxLength: 8 }), weight: 4 },
    { arbitrary: fc.string({ unit: "grapheme", maxLength: 4 }), weight: 2 },
    { arbitrary: fc.string({ unit: "binary", maxLength: 4 }), weight: 2 }, // lone surrogates
    {
      arbitrary: fc.constantFrom(
        "\x1b[2J",
        "\x1b[31m",
        "\x1b]0;owned\x07",
        "\x1bP1$r\x1b\\",
        "\x9b1;1H",
        "\x00",
        "\r",
        "\n",
        "\r\n",
        "\t",
        "\x07",
        "\x7f",
        "\u202e",
        "\u2066",
        "\u200b",
        "\ufeff",
        "\ud800",
        "e\u0301",
        "#",
        "/",
        "//",
        "{",
        " ",
      ),
      weight: 3,
    },
  );
  return fc.array(piece, { maxLength: 5 }).map((parts) => parts.join(""));
}

/** Strings that pass for names or rooms more often than random text does. */
export function nameLike(): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constantFrom("ann", "Ann", "ANN", "bob", "lobby", "#games", "games", "x".repeat(32)),
    fc.string({ unit: fc.constantFrom(..."abcABC_-é🙂"), minLength: 1, maxLength: 34 }),
    nastyString(),
  );
}

/** A `ref`: short, or around the 64-character limit where it stops being echoed. */
export function refValue(): fc.Arbitrary<string> {
  return fc.oneof(
    fc.string({ maxLength: 8 }),
    fc.string({ minLength: 60, maxLength: 70 }),
    fc.string({ minLength: 65, maxLength: 300 }),
  );
}

/** A field value: usually the right type, sometimes not. */
function fieldValue(right: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc.oneof({ arbitrary: right, weight: 3 }, { arbitrary: wrongValue(), weight: 1 });
}

/** An epoch: short strings, one around the 64-character limit, or empty. */
function epochValue(): fc.Arbitrary<string> {
  return fc.oneof(
    fc.string({ maxLength: 8 }),
    fc.constantFrom("", "k3x", "e".repeat(64), "e".repeat(65)),
  );
}

/**
 * A position (`{"offset", "epoch"}`), usually right, sometimes with a field
 * missing, of the wrong type, out of range, or with stray keys.
 */
export function positionValue(): fc.Arbitrary<unknown> {
  const offset = fc.oneof(
    { arbitrary: fc.nat({ max: 200 }), weight: 4 },
    {
      arbitrary: fc.constantFrom(-1, 1.5, Number.MAX_SAFE_INTEGER, 2 ** 53, "1", null),
      weight: 1,
    },
  );
  return fc.oneof(
    { arbitrary: fc.record({ offset, epoch: epochValue() }), weight: 4 },
    {
      arbitrary: fc.record({ offset, epoch: fieldValue(epochValue()) }, { requiredKeys: [] }),
      weight: 2,
    },
    {
      arbitrary: fc.tuple(fc.nat({ max: 50 }), epochValue(), fc.constantFrom(...POLLUTION_KEYS))
        .map(([o, e, key]) =>
          JSON.parse(`{"offset":${o},"epoch":${JSON.stringify(e)},"${key}":1}`)
        ),
      weight: 1,
    },
  );
}

/** Room-to-position maps for `resume`: a few rooms, poisonous keys, or more than 64. */
function positionsValue(): fc.Arbitrary<unknown> {
  return fc.oneof(
    {
      arbitrary: fc.dictionary(
        fc.oneof(nameLike(), fc.constantFrom(...POLLUTION_KEYS)),
        positionValue(),
        { maxKeys: 4 },
      ),
      weight: 4,
    },
    {
      arbitrary: fc.integer({ min: 60, max: 70 }).map((count) =>
        Object.fromEntries(
          Array.from({ length: count }, (_, i) => [`r${i}`, { offset: i, epoch: "e" }]),
        )
      ),
      weight: 1,
    },
  );
}

const REQUEST_FIELDS: Record<string, Record<string, fc.Arbitrary<unknown>>> = {
  login: { name: nameLike(), echo: fc.boolean() },
  nick: { name: nameLike() },
  join: {
    room: nameLike(),
    since: positionValue(),
    history: fc.oneof(fc.integer({ min: -2, max: 120 }), fc.constant(1e6)),
  },
  history: {
    room: nameLike(),
    since: positionValue(),
    limit: fc.oneof(fc.integer({ min: -2, max: 120 }), fc.constant(1e6)),
  },
  resume: {
    token: fc.oneof(
      fc.string({ maxLength: 8 }),
      fc.string({ unit: fc.constantFrom(..."0123456789abcdef"), minLength: 64, maxLength: 64 }),
    ),
    rooms: positionsValue(),
    direct: positionValue(),
    echo: fc.boolean(),
  },
  leave: { room: nameLike() },
  presence: { room: nameLike() },
  publish: {
    room: nameLike(),
    text: nastyString(),
    action: fc.boolean(),
    data: fc.uint8Array({ maxLength: 16 }).map((bytes) => bytes.toBase64()),
    file: fc.record({ name: nastyString(), type: nastyString() }, { requiredKeys: [] }),
  },
  direct: {
    to: nameLike(),
    text: nastyString(),
    action: fc.boolean(),
    data: fc.uint8Array({ maxLength: 16 }).map((bytes) => bytes.toBase64()),
    file: fc.record({ name: nastyString(), type: nastyString() }, { requiredKeys: [] }),
  },
  echo: { on: fc.boolean() },
  input: { line: nastyString() },
};

/**
 * A request object for one of the known types, with each field present or not,
 * right or wrong in type, plus a `ref` and stray or poisonous keys.
 */
export function mutatedRequest(): fc.Arbitrary<Record<string, unknown>> {
  return fc.constantFrom(...REQUEST_TYPES).chain((type) => {
    const fields = REQUEST_FIELDS[type] ?? {};
    const record: Record<string, fc.Arbitrary<unknown>> = {};
    for (const [key, arbitrary] of Object.entries(fields)) record[key] = fieldValue(arbitrary);
    return fc.tuple(
      fc.record(record, { requiredKeys: [] }),
      fc.option(fieldValue(refValue()), { nil: undefined }),
      fc.dictionary(
        fc.oneof(fc.constantFrom(...POLLUTION_KEYS), fc.string({ maxLength: 6 })),
        jsonValue(),
        { maxKeys: 3 },
      ),
    ).map(([values, ref, extra]) => {
      // Build with defineProperty so "__proto__" becomes an own key, as JSON.parse makes it.
      const request: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(extra)) define(request, key, value);
      define(request, "type", type);
      for (const [key, value] of Object.entries(values)) define(request, key, value);
      if (ref !== undefined) define(request, "ref", ref);
      return request;
    });
  });
}

function define(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    configurable: true,
    writable: true,
  });
}

/** JSON text the decoder must survive: valid-looking requests and every kind of junk. */
export function requestJsonText(): fc.Arbitrary<string> {
  return fc.oneof(
    { arbitrary: mutatedRequest().map((request) => JSON.stringify(request)), weight: 10 },
    {
      arbitrary: fc.tuple(fc.string({ maxLength: 12 }), jsonValue()).map(([type, value]) =>
        JSON.stringify({ type, value })
      ),
      weight: 2,
    }, // unknown types
    {
      arbitrary: fc.tuple(fc.constantFrom(...REQUEST_TYPES), hugeNumberText()).map((
        [type, number],
      ) =>
        `{"type":"${type}","name":${number},"room":${number},"on":${number},"ref":${number},` +
        `"limit":${number},"history":${number},"since":{"offset":${number},"epoch":"e"},` +
        `"token":${number},"rooms":{"lobby":{"offset":${number},"epoch":"e"}}}`
      ),
      weight: 2,
    },
    {
      arbitrary: fc.tuple(fc.constantFrom(...REQUEST_TYPES), deepJsonText()).map((
        [type, deep],
      ) =>
        `{"type":"${type}","name":${deep},"text":${deep},"file":${deep},"ref":${deep},` +
        `"since":${deep},"rooms":${deep}}`
      ),
      weight: 1,
    },
    { arbitrary: deepJsonText(), weight: 1 },
    {
      arbitrary: fc.tuple(fc.constantFrom(...POLLUTION_KEYS), fc.constantFrom(...REQUEST_TYPES))
        .map(([key, type]) =>
          `{"${key}":{"type":"${type}","polluted":true,"name":"x","room":"x","text":"x"},` +
          `"type":"${type}","file":{"${key}":{"name":"evil"}}}`
        ),
      weight: 2,
    },
    { arbitrary: jsonValue().map((value) => JSON.stringify(value)), weight: 2 },
    { arbitrary: fc.string({ maxLength: 40 }), weight: 2 }, // rarely JSON at all
    {
      arbitrary: mutatedRequest().chain((request) => {
        const text = JSON.stringify(request);
        return fc.nat({ max: text.length }).map((cut) => text.slice(0, cut)); // truncated
      }),
      weight: 1,
    },
  );
}

// --- text commands -------------------------------------------------------------

export const TEXT_COMMANDS = [
  "nick",
  "name",
  "join",
  "j",
  "leave",
  "part",
  "msg",
  "m",
  "who",
  "rooms",
  "list",
  "me",
  "history",
  "HISTORY",
  "echo",
  "help",
  "?",
  "quit",
  "exit",
  "JOIN",
  "Msg",
  "nope",
  "",
] as const;

/** A text-mode line: a command with random arguments, or plain text. */
export function textLine(): fc.Arbitrary<string> {
  const arg = fc.oneof(
    nameLike(),
    nastyString(),
    fc.constantFrom("on", "off", "ON", "", "0", "1", "20", "100", "999", "1000", "-1", "2x"),
  );
  return fc.oneof(
    {
      arbitrary: fc.tuple(
        fc.constantFrom("/", "//", " /", "/ "),
        fc.constantFrom(...TEXT_COMMANDS),
        fc.constantFrom(" ", "  ", "\t", "", "\u00a0"),
        fc.array(arg, { maxLength: 3 }),
      ).map(([slash, command, gap, args]) => slash + command + gap + args.join(" ")),
      weight: 4,
    },
    { arbitrary: nastyString(), weight: 2 },
    { arbitrary: fc.string({ maxLength: 30 }), weight: 1 },
  );
}

/** Bytes for a binary frame: random, or the right layout with a junk or valid header. */
export function binaryFrameBytes(): fc.Arbitrary<Uint8Array> {
  const header = fc.oneof(
    requestJsonText(),
    fc.record({
      room: fieldValue(nameLike()),
      to: fieldValue(nameLike()),
      ref: fieldValue(refValue()),
      file: fieldValue(fc.record({ name: nastyString(), type: nastyString() })),
    }, { requiredKeys: [] }).map((value) => JSON.stringify(value)),
  );
  const framed = fc.tuple(
    fc.constantFrom(1, 1, 1, 0, 2),
    header,
    fc.integer({ min: -3, max: 3 }),
    fc.uint8Array({ maxLength: 32 }),
  ).map(([version, text, lengthError, payload]) => {
    const head = new TextEncoder().encode(text);
    const length = Math.max(0, Math.min(0xffff, head.length + (lengthError > 1 ? lengthError : 0)));
    return Uint8Array.from([version, length >> 8, length & 0xff, ...head, ...payload]);
  });
  return fc.oneof(framed, randomBytes(64), fc.constant(new Uint8Array(0)));
}
