import assert from "node:assert/strict";
import fc from "npm:fast-check@4.10.2";
import { decodeBinaryFrame, encodeBinaryFrame } from "../../core/binary_frame.ts";
import { type ErrorCode, RelayError } from "../../core/errors.ts";
import { type ClientRequest, decodeRequest } from "../../core/protocol.ts";
import { parseTextLine } from "../../core/text_commands.ts";
import {
  binaryFrameBytes,
  fuzzParams,
  mutatedRequest,
  nameLike,
  nastyString,
  POLLUTION_KEYS,
  randomBytes,
  requestJsonText,
  textLine,
} from "./_arbitraries.ts";

const PROTOTYPE_KEYS = Object.getOwnPropertyNames(Object.prototype).sort();

/** Object.prototype is exactly as it was, and a fresh object inherits nothing new. */
function assertNotPolluted(): void {
  assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), PROTOTYPE_KEYS);
  const fresh: Record<string, unknown> = {};
  for (const key of ["polluted", "type", "name", "room", "text", "ref", "evil"]) {
    assert.equal(fresh[key], undefined, `Object.prototype.${key} appeared`);
  }
  assert.equal(Object.getPrototypeOf(fresh), Object.prototype);
}

/** Calls `work`; anything thrown must be a RelayError with one of `codes`. */
function expectResultOrRelayError<T>(
  work: () => T,
  codes: readonly ErrorCode[],
): { value: T } | { error: RelayError } {
  try {
    return { value: work() };
  } catch (error) {
    assert.ok(
      error instanceof RelayError,
      `threw a non-RelayError: ${error instanceof Error ? error.stack : String(error)}`,
    );
    assert.ok(codes.includes(error.code), `unexpected code ${error.code}: ${error.message}`);
    assert.equal(typeof error.message, "string");
    if (error.ref !== undefined) {
      assert.equal(typeof error.ref, "string");
      assert.ok(error.ref.length <= 64, `ref of ${error.ref.length} characters kept`);
    }
    return { error };
  }
}

const FIELDS: Record<ClientRequest["type"], { required: string[]; optional: string[] }> = {
  hello: { required: [], optional: [] },
  login: { required: ["name"], optional: ["token", "echo", "reclaim"] },
  nick: { required: ["name"], optional: [] },
  join: { required: ["room"], optional: ["since", "history"] },
  history: { required: [], optional: ["room", "since", "limit"] },
  resume: { required: ["token"], optional: ["rooms", "direct", "echo"] },
  leave: { required: ["room"], optional: [] },
  publish: { required: ["room", "content"], optional: [] },
  direct: { required: ["to", "content"], optional: [] },
  presence: { required: ["room"], optional: [] },
  rooms: { required: [], optional: ["limit", "after"] },
  ping: { required: [], optional: [] },
  echo: { required: ["on"], optional: [] },
  input: { required: ["line"], optional: [] },
  help: { required: [], optional: [] },
  quit: { required: [], optional: [] },
  refresh: { required: ["token"], optional: [] },
  oper: { required: ["password"], optional: [] },
  kick: { required: ["name"], optional: ["reason"] },
  ban: { required: ["target"], optional: ["minutes", "reason"] },
  unban: { required: ["target"], optional: [] },
  mute: { required: ["name"], optional: ["minutes", "reason"] },
  unmute: { required: ["name"], optional: [] },
  topic: { required: ["room"], optional: ["text"] },
};

const STRING_FIELDS = new Set([
  "name",
  "room",
  "to",
  "line",
  "reclaim",
  "after",
  "token",
  "password",
  "target",
  "reason",
  "text",
]);

/** A decoded position: exactly a whole offset of 0 or more and an epoch of at most 64 characters. */
function assertPosition(value: unknown, where: string): void {
  assert.ok(typeof value === "object" && value !== null && !Array.isArray(value), where);
  assert.deepEqual(Object.keys(value).sort(), ["epoch", "offset"], `${where}: keys`);
  const { offset, epoch } = value as Record<string, unknown>;
  assert.ok(Number.isSafeInteger(offset) && (offset as number) >= 0, `${where}: offset ${offset}`);
  assert.ok(typeof epoch === "string" && epoch.length <= 64, `${where}: epoch`);
}

/** A decoded request has exactly the fields its type allows, each of the right type. */
function assertWellTyped(request: unknown): asserts request is ClientRequest {
  assert.ok(typeof request === "object" && request !== null && !Array.isArray(request));
  assert.equal(Object.getPrototypeOf(request), Object.prototype, "a plain object");
  const fields = request as Record<string, unknown>;
  const type = fields.type;
  assert.ok(typeof type === "string" && Object.hasOwn(FIELDS, type), `type ${String(type)}`);
  const shape = FIELDS[type as ClientRequest["type"]];
  const keys = Object.keys(fields);
  for (const key of keys) {
    assert.ok(
      key === "type" || key === "ref" || shape.required.includes(key) ||
        shape.optional.includes(key),
      `stray key ${JSON.stringify(key)} on ${type}`,
    );
  }
  for (const key of shape.required) assert.ok(Object.hasOwn(fields, key), `${type} lacks ${key}`);
  if (Object.hasOwn(fields, "ref")) {
    assert.equal(typeof fields.ref, "string");
    assert.ok((fields.ref as string).length <= 64);
  }
  for (const key of keys) {
    const value = fields[key];
    if (STRING_FIELDS.has(key)) assert.equal(typeof value, "string", `${type}.${key}`);
    if (key === "echo" || key === "on") assert.equal(typeof value, "boolean", `${type}.${key}`);
    if (key === "limit" || key === "history") {
      assert.ok(Number.isSafeInteger(value), `${type}.${key}`);
    }
    if (key === "since" || key === "direct") assertPosition(value, `${type}.${key}`);
  }
  if (Object.hasOwn(fields, "rooms")) {
    const rooms = fields.rooms;
    assert.ok(typeof rooms === "object" && rooms !== null && !Array.isArray(rooms), "rooms");
    const prototype = Object.getPrototypeOf(rooms);
    assert.ok(prototype === null || prototype === Object.prototype, "rooms: a plain map");
    const entries = Object.entries(rooms);
    assert.ok(entries.length <= 64, `rooms: ${entries.length} rooms`);
    for (const [room, position] of entries) assertPosition(position, `rooms[${room}]`);
  }
  if (Object.hasOwn(fields, "content")) {
    const content = fields.content as Record<string, unknown>;
    assert.ok(typeof content === "object" && content !== null);
    if (content.kind === "text") {
      assert.deepEqual(Object.keys(content).sort(), ["action", "kind", "text"]);
      assert.equal(typeof content.text, "string");
      assert.equal(typeof content.action, "boolean");
    } else {
      assert.equal(content.kind, "file");
      assert.deepEqual(Object.keys(content).sort(), ["data", "kind", "name", "type"]);
      assert.ok(content.data instanceof Uint8Array);
      assert.equal(typeof content.name, "string");
      assert.equal(typeof content.type, "string");
    }
  }
}

const DECODE_CODES: readonly ErrorCode[] = ["bad_json", "bad_message", "unknown_type"];

Deno.test("decodeRequest() returns a well-typed request or throws a RelayError (fuzz)", () => {
  fc.assert(
    fc.property(requestJsonText(), (json) => {
      const outcome = expectResultOrRelayError(() => decodeRequest(json), DECODE_CODES);
      if ("value" in outcome) assertWellTyped(outcome.value);
      assertNotPolluted();
    }),
    fuzzParams(1000),
  );
});

Deno.test("decodeRequest() survives random text and random bytes as UTF-8 (fuzz)", () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string({ unit: "binary", maxLength: 60 }),
        randomBytes(80).map((bytes) => new TextDecoder().decode(bytes)),
      ),
      (text) => {
        const outcome = expectResultOrRelayError(() => decodeRequest(text), DECODE_CODES);
        if ("value" in outcome) assertWellTyped(outcome.value);
      },
    ),
    fuzzParams(1000),
  );
});

Deno.test("decodeRequest() keeps the fields of a request whose fields are right (fuzz)", () => {
  const right = fc.record({
    type: fc.constantFrom("login", "nick", "join", "leave", "presence", "publish", "direct"),
    name: nameLike(),
    room: nameLike(),
    to: nameLike(),
    text: nastyString(),
    ref: fc.option(fc.string({ maxLength: 64 }), { nil: undefined }),
    pollution: fc.constantFrom(...POLLUTION_KEYS),
  });
  fc.assert(
    fc.property(right, ({ pollution, ref, ...fields }) => {
      const object: Record<string, unknown> = { ...fields, ...(ref === undefined ? {} : { ref }) };
      const json = JSON.stringify(object).replace(/^\{/, `{"${pollution}":{"type":"quit"},`);
      const request = decodeRequest(json);
      assertWellTyped(request);
      assert.equal(request.type, fields.type);
      assert.equal(request.ref, ref);
      if ("name" in request) assert.equal(request.name, fields.name);
      if ("room" in request) assert.equal(request.room, fields.room);
      if ("to" in request) assert.equal(request.to, fields.to);
      if ("content" in request) {
        assert.deepEqual(request.content, { kind: "text", text: fields.text, action: false });
      }
      assertNotPolluted();
    }),
    fuzzParams(500),
  );
});

Deno.test("decodeRequest() rejects every mutated request cleanly, and keeps ref (fuzz)", () => {
  fc.assert(
    fc.property(mutatedRequest(), (object) => {
      const json = JSON.stringify(object);
      const outcome = expectResultOrRelayError(() => decodeRequest(json), DECODE_CODES);
      const ref = object.ref;
      const readableRef = typeof ref === "string" && ref.length <= 64 ? ref : undefined;
      if ("value" in outcome) {
        assertWellTyped(outcome.value);
        assert.equal(outcome.value.ref, readableRef);
      } else {
        assert.equal(outcome.error.ref, readableRef, "an error carries the request's ref");
      }
      assertNotPolluted();
    }),
    fuzzParams(1000),
  );
});

const rightPosition = fc.record({
  offset: fc.oneof(fc.nat({ max: 1000 }), fc.constant(Number.MAX_SAFE_INTEGER)),
  epoch: fc.string({ maxLength: 64 }),
});

Deno.test("decodeRequest() keeps the positions of right join, history and resume requests (fuzz)", () => {
  const right = fc.oneof(
    fc.record({
      type: fc.constant("join"),
      room: nameLike(),
      since: rightPosition,
      history: fc.integer({ min: -5, max: 200 }),
    }, { requiredKeys: ["type", "room"] }),
    fc.record({
      type: fc.constant("history"),
      room: nameLike(),
      since: rightPosition,
      limit: fc.integer({ min: -5, max: 200 }),
    }, { requiredKeys: ["type"] }),
    fc.record({
      type: fc.constant("resume"),
      token: fc.string({ maxLength: 80 }),
      direct: rightPosition,
      echo: fc.boolean(),
    }, { requiredKeys: ["type", "token"] }),
  );
  // Rooms written by hand, so a "__proto__" room is an own key of the JSON object.
  const rooms = fc.option(
    fc.uniqueArray(
      fc.tuple(fc.oneof(nameLike(), fc.constantFrom(...POLLUTION_KEYS)), rightPosition),
      { maxLength: 64, selector: ([room]) => room },
    ),
    { nil: undefined },
  );
  fc.assert(
    fc.property(
      right,
      rooms,
      fc.option(fc.string({ maxLength: 64 }), { nil: undefined }),
      (fields, entries, ref) => {
        let json = JSON.stringify({ ...fields, ...(ref === undefined ? {} : { ref }) });
        if (fields.type === "resume" && entries !== undefined) {
          const map = entries.map(([room, at]) => `${JSON.stringify(room)}:${JSON.stringify(at)}`);
          json = json.replace(/^\{/, () => `{"rooms":{${map.join(",")}},`);
        }
        const decoded = decodeRequest(json);
        assertWellTyped(decoded);
        assert.deepEqual(
          JSON.parse(JSON.stringify(decoded)),
          JSON.parse(json),
          "every field kept, as it was",
        );
        if (decoded.type === "resume" && entries !== undefined) {
          assert.ok(decoded.rooms !== undefined);
          assert.deepEqual(
            Object.keys(decoded.rooms).sort(),
            entries.map(([room]) => room).sort(),
            "every room is an own key, __proto__ too",
          );
          for (const [room, at] of entries) assert.deepEqual({ ...decoded.rooms[room] }, { ...at });
        }
        assertNotPolluted();
      },
    ),
    fuzzParams(500),
  );
});

Deno.test("decodeRequest() refuses malformed positions with bad_message, keeping ref (fuzz)", () => {
  const badPosition = fc.oneof(
    fc.constantFrom<unknown>(
      null,
      0,
      "1",
      [],
      [1, "e"],
      {},
      { offset: 1 },
      { epoch: "e" },
      { offset: -1, epoch: "e" },
      { offset: 1.5, epoch: "e" },
      { offset: 2 ** 53, epoch: "e" },
      { offset: "1", epoch: "e" },
      { offset: 1, epoch: 1 },
      { offset: 1, epoch: null },
      { offset: 1, epoch: "e".repeat(65) },
    ),
  );
  const bad = fc.oneof(
    fc.tuple(fc.constantFrom("join", "history"), fc.constant("since"), badPosition),
    fc.tuple(fc.constant("resume"), fc.constant("direct"), badPosition),
    fc.tuple(fc.constant("resume"), fc.constant("rooms"), badPosition.map((p) => ({ lobby: p }))),
    fc.tuple(
      fc.constant("resume"),
      fc.constant("rooms"),
      fc.oneof(
        fc.constantFrom<unknown>(null, [], "lobby", 1, true),
        fc.integer({ min: 65, max: 80 }).map((count) =>
          Object.fromEntries(
            Array.from({ length: count }, (_, i) => [`r${i}`, { offset: 0, epoch: "" }]),
          )
        ),
      ),
    ),
  );
  fc.assert(
    fc.property(bad, fc.string({ maxLength: 64 }), ([type, key, value], ref) => {
      const request = { type, room: "lobby", token: "t", [key]: value, ref };
      const outcome = expectResultOrRelayError(() => decodeRequest(JSON.stringify(request)), [
        "bad_message",
      ]);
      assert.ok("error" in outcome, `accepted ${JSON.stringify(request)}`);
      assert.equal(outcome.error.ref, ref);
    }),
    fuzzParams(500),
  );
});

const TEXT_CODES: readonly ErrorCode[] = ["bad_message", "unknown_command", "not_in_room"];

Deno.test("parseTextLine() returns null, a well-typed request or a RelayError (fuzz)", () => {
  fc.assert(
    fc.property(
      textLine(),
      fc.option(fc.constantFrom("lobby", "games", "日本"), { nil: undefined }),
      (line, current) => {
        const outcome = expectResultOrRelayError(() => parseTextLine(line, current), TEXT_CODES);
        if ("value" in outcome) {
          const request = outcome.value;
          if (request === null) {
            assert.equal(line.trim(), "", "only a blank line is ignored");
          } else {
            assertWellTyped(request);
            assert.equal(request.ref, undefined, "text mode has no refs");
            if (request.type === "publish" && !line.startsWith("/")) {
              assert.equal(request.room, current);
              assert.deepEqual(request.content, { kind: "text", text: line, action: false });
            }
            if (request.type === "history") {
              assert.equal(request.room, current, "/history is about the current room");
              assert.ok(request.limit !== undefined && request.limit >= 1 && request.limit <= 100);
              assert.equal(request.since, undefined);
            }
            if (request.type === "join") {
              assert.equal(request.since, undefined, "text mode has no positions");
              assert.equal(request.history, undefined);
            }
            if (line.startsWith("//")) {
              assert.equal(request.type, "publish");
              assert.ok(request.type === "publish" && request.content.kind === "text");
              assert.equal(request.content.text, line.slice(1));
            }
          }
        } else if (outcome.error.code === "not_in_room") {
          assert.equal(current, undefined, "not_in_room only without a current room");
        }
        assertNotPolluted();
      },
    ),
    fuzzParams(1000),
  );
});

Deno.test("decodeBinaryFrame() returns a header object and payload or throws bad_frame (fuzz)", () => {
  fc.assert(
    fc.property(binaryFrameBytes(), (bytes) => {
      const outcome = expectResultOrRelayError(() => decodeBinaryFrame(bytes), ["bad_frame"]);
      if ("value" in outcome) {
        const { header, payload } = outcome.value;
        assert.ok(typeof header === "object" && header !== null && !Array.isArray(header));
        assert.ok(payload instanceof Uint8Array);
        const headerLength = (bytes[1]! << 8) | bytes[2]!;
        assert.equal(payload.length, bytes.length - 3 - headerLength);
        assert.deepEqual(payload, bytes.subarray(3 + headerLength));
      }
      assertNotPolluted();
    }),
    fuzzParams(1000),
  );
});

Deno.test("decodeBinaryFrame() inverts encodeBinaryFrame() (fuzz)", () => {
  fc.assert(
    fc.property(
      fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 5 }),
      fc.uint8Array({ maxLength: 64 }),
      (header, payload) => {
        const frame = encodeBinaryFrame(header, payload);
        const outcome = expectResultOrRelayError(() => decodeBinaryFrame(frame), ["bad_frame"]);
        if ("error" in outcome) {
          assert.ok(frame.length - 3 - payload.length > 4096, "only an oversized header fails");
          return;
        }
        assert.deepEqual(outcome.value.header, JSON.parse(JSON.stringify(header)));
        assert.deepEqual(outcome.value.payload, payload);
      },
    ),
    fuzzParams(500),
  );
});
