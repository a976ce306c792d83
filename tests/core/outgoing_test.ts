import assert from "node:assert/strict";
import {
  cleanText,
  decodeBinaryFrame,
  type Frame,
  OutboundQueue,
  Outgoing,
  type ServerEvent,
  WireFormat,
} from "../../core/mod.ts";

const decoder = new TextDecoder();

function textOf(frame: Frame | null): string {
  assert.ok(frame !== null && frame.data instanceof Uint8Array, "a byte frame");
  return decoder.decode(frame.data);
}

function rendered(event: ServerEvent): string {
  return textOf(new Outgoing(event).frame(WireFormat.TextLine));
}

const message: ServerEvent = {
  type: "message",
  id: "m1",
  ts: 1,
  room: "lobby",
  from: "ann",
  text: "héllo 😀 中",
};

Deno.test("Outgoing.frame() encodes each format once and returns the same Frame after", () => {
  const out = new Outgoing(message);
  for (const format of [WireFormat.TextLine, WireFormat.JsonLine, WireFormat.JsonFrame]) {
    const first = out.frame(format);
    assert.ok(first !== null);
    assert.ok(out.frame(format) === first, `format ${format} re-encoded`);
  }
  assert.notEqual(out.frame(WireFormat.JsonLine), out.frame(WireFormat.JsonFrame));
});

Deno.test("Outgoing.frame() gives a JSON text frame whose byte count is its UTF-8 length", () => {
  const frame = new Outgoing(message).frame(WireFormat.JsonFrame);
  assert.ok(frame !== null && typeof frame.data === "string");
  assert.deepEqual(JSON.parse(frame.data), message);
  assert.equal(frame.bytes, new TextEncoder().encode(frame.data).length);
  const lone = new Outgoing({ type: "notice", ts: 0, text: "\ud800x\udc00" });
  const loneFrame = lone.frame(WireFormat.JsonFrame)!;
  assert.equal(loneFrame.bytes, new TextEncoder().encode(loneFrame.data as string).length);
});

Deno.test("Outgoing.frame() gives a JSON line ending in a newline", () => {
  const frame = new Outgoing(message).frame(WireFormat.JsonLine);
  const text = textOf(frame);
  assert.ok(text.endsWith("}\n"));
  assert.equal(text.indexOf("\n"), text.length - 1, "one line only");
  assert.deepEqual(JSON.parse(text), message);
  assert.equal(frame!.bytes, (frame!.data as Uint8Array).length);
});

Deno.test("Outgoing.frame() sends a file as a binary frame or as base64 JSON", () => {
  const data = new Uint8Array([1, 2, 3]);
  const event: ServerEvent = {
    type: "message",
    id: "f1",
    ts: 2,
    room: "lobby",
    from: "ann",
    file: { name: "a.bin", type: "application/octet-stream", size: 3 },
    data,
  };
  const out = new Outgoing(event);
  const binary = out.frame(WireFormat.JsonFrame);
  assert.ok(binary !== null && binary.data instanceof Uint8Array);
  const { header, payload } = decodeBinaryFrame(binary.data);
  const { data: _data, ...rest } = event;
  assert.deepEqual(header, rest);
  assert.deepEqual(payload, data);
  assert.equal(binary.bytes, binary.data.length);
  assert.deepEqual(JSON.parse(textOf(out.frame(WireFormat.JsonLine))), { ...rest, data: "AQID" });
  assert.equal(
    textOf(out.frame(WireFormat.TextLine)),
    '-!- [lobby] ann shared a file: "a.bin" (3 B, application/octet-stream)\r\n',
  );
});

Deno.test("Outgoing.frame() shows nothing for hello in text mode", () => {
  const hello: ServerEvent = {
    type: "hello",
    protocol: 1,
    server: "x",
    limits: {
      maxLineBytes: 1,
      maxFrameBytes: 1,
      maxTextBytes: 1,
      maxFileBytes: 1,
      idleTimeoutMs: 1,
    },
  };
  assert.equal(new Outgoing(hello).frame(WireFormat.TextLine), null);
});

Deno.test("Outgoing.frame() renders text lines with CRLF and a prefix per line", () => {
  assert.equal(
    rendered({ ...message, text: "one\ntwo" }),
    "[lobby] ann: one\r\n[lobby] ann: two\r\n",
  );
  assert.equal(rendered({ ...message, text: "waves", action: true }), "[lobby] * ann waves\r\n");
  assert.equal(
    rendered({ type: "direct", id: "d", ts: 0, from: "ann", to: "bob", text: "hi" }),
    "[private ann -> bob] hi\r\n",
  );
});

Deno.test("Outgoing.frame() strips ANSI and control characters from text output", () => {
  const evil = "\x1b[2J\x1b[31mred\x1b[0m\x07\r\x9b1m!\u202e";
  assert.equal(rendered({ ...message, text: evil }), "[lobby] ann: red!\r\n");
  assert.equal(rendered({ type: "notice", ts: 0, text: evil }), "-!- red!\r\n");
  assert.equal(
    rendered({ type: "error", code: "bad_message", message: "bad\x1b]0;t\x07\nthing" }),
    "-!- error bad_message: bad thing\r\n",
  );
  const file = { name: "x\x1b[8m.png", type: "image/png\x07", size: 2048 };
  assert.equal(
    rendered({ type: "message", id: "f", ts: 0, room: "lobby", from: "ann", file }),
    '-!- [lobby] ann shared a file: "x.png" (2.0 KiB, image/png)\r\n',
  );
});

Deno.test("Outgoing.frame() renders room, presence and status events as text", () => {
  const cases: [ServerEvent, string][] = [
    [{ type: "joined", ts: 0, room: "r", name: "ann" }, "-!- [r] ann joined"],
    [{ type: "left", ts: 0, room: "r", name: "ann", reason: "leave" }, "-!- [r] ann left"],
    [
      { type: "left", ts: 0, room: "r", name: "ann", reason: "disconnect" },
      "-!- [r] ann disconnected",
    ],
    [{ type: "renamed", ts: 0, room: "r", from: "a", to: "b" }, "-!- [r] a is now b"],
    [{ type: "renamed", ts: 0, from: "a", to: "b" }, "-!- a is now b"],
    [{ type: "presence", room: "r", members: ["a", "b"], count: 2 }, "-!- [r] 2 here: a, b"],
    [{ type: "presence", room: "r", members: ["a"], count: 3 }, "-!- [r] 3 here: a and 2 more"],
    [{ type: "rooms", rooms: [], total: 0 }, "-!- No rooms."],
    [
      { type: "rooms", rooms: [{ name: "a", members: 1 }, { name: "b", members: 2 }], total: 2 },
      "-!- Rooms: a (1), b (2)",
    ],
    [
      { type: "rooms", rooms: [{ name: "a", members: 1 }], total: 5 },
      "-!- Rooms: a (1) and more; /rooms a lists those after a",
    ],
    [{ type: "pong", ts: 0 }, "-!- pong"],
    [
      { type: "welcome", session: "s", name: "ann", others: 1, rooms: ["lobby"], reclaim: "t" },
      "-!- Welcome, ann! 1 other user online. You are in lobby; type /help for commands.",
    ],
    [
      { type: "welcome", session: "s", name: "ann", others: 0, rooms: [], reclaim: "t" },
      "-!- Welcome, ann! 0 other users online. You are in no room; type /help for commands.",
    ],
  ];
  for (const [event, line] of cases) assert.equal(rendered(event), line + "\r\n");
});

Deno.test("OutboundQueue.push() reports the empty-to-non-empty edge and counts bytes", () => {
  const queue = new OutboundQueue();
  assert.equal(queue.push({ data: "ab", bytes: 2 }), true);
  assert.equal(queue.push({ data: new Uint8Array(5), bytes: 5 }), false);
  assert.equal(queue.bytes, 7);
  assert.equal(queue.length, 2);
  const frames = queue.take();
  assert.deepEqual(frames.map((frame) => frame.bytes), [2, 5]);
  assert.equal(queue.bytes, 0);
  assert.equal(queue.length, 0);
  assert.equal(queue.push({ data: "c", bytes: 1 }), true, "empty again after take()");
});

Deno.test("OutboundQueue.takeMessages() joins text runs when batching, keeps binary alone, caps frames", () => {
  const queue = new OutboundQueue();
  const text = (data: string) => ({ data, bytes: data.length });
  const binary = { data: new Uint8Array([1, 2, 3]), bytes: 3 };
  queue.push(text("a"));
  queue.push(text("b"));
  queue.push(binary);
  queue.push(text("c"));
  assert.deepEqual(queue.takeMessages(), ["a", "b", binary.data, "c"], "one per frame by default");
  queue.batchText = true;
  queue.push(text("a"));
  queue.push(text("b"));
  queue.push(binary);
  queue.push(text("c"));
  assert.deepEqual(queue.takeMessages(), ["a\nb", binary.data, "c"]);
  assert.equal(queue.bytes, 0);
  const big = "x".repeat(100 * 1024);
  for (let i = 0; i < 5; i++) queue.push(text(big));
  const frames = queue.takeMessages() as string[];
  assert.deepEqual(frames.map((frame) => frame.split("\n").length), [2, 2, 1]);
});

Deno.test("Outgoing.frame() keeps invisible characters out of text mode, not out of JSON", () => {
  const text = "a\u200db\ufe0fc\u00add\u2028e\u200ef\u200bg";
  const out = new Outgoing({ ...message, text: cleanText(text, true) });
  assert.equal(
    new TextDecoder().decode(out.frame(WireFormat.TextLine)!.data as Uint8Array),
    "[lobby] ann: abcd\r\n[lobby] ann: efg\r\n",
  );
  assert.equal(
    JSON.parse(out.frame(WireFormat.JsonFrame)!.data as string).text,
    "a\u200db\ufe0fc\u00add\nefg",
    "JSON keeps the joiners emoji need; bidi marks and zero-width spaces are gone for everyone",
  );
});

Deno.test("Outgoing.frame() marks a name that could mislead in text mode", () => {
  const line = (event: ServerEvent) =>
    new TextDecoder().decode(new Outgoing(event).frame(WireFormat.TextLine)!.data as Uint8Array);
  assert.equal(line({ ...message, from: "\u0430nn" }), "[lobby] \u0430nn(?): héllo 😀 中\r\n");
  assert.equal(line({ ...message, from: "ann" }), "[lobby] ann: héllo 😀 中\r\n");
  assert.equal(
    line({ type: "presence", room: "r", members: ["ann", "\u0430nn"], count: 2 }),
    "-!- [r] 2 here: ann, \u0430nn(?)\r\n",
  );
});

Deno.test("Outgoing.frame() wraps long text-mode lines itself, continuations indented", () => {
  const line = (event: ServerEvent) =>
    new TextDecoder().decode(new Outgoing(event).frame(WireFormat.TextLine)!.data as Uint8Array);
  const padding = " ".repeat(80 - "[lobby] bob: ".length);
  const text = line({ ...message, from: "bob", text: `${padding}-!- [lobby] ann left` });
  const lines = text.split("\r\n").filter(Boolean);
  assert.ok(lines.length >= 2);
  assert.ok(lines[0]!.startsWith("[lobby] bob: "));
  for (const rest of lines.slice(1)) assert.ok(rest.startsWith("    "), JSON.stringify(rest));
  assert.ok(!lines.some((each) => each.startsWith("-!-")), "no line starts in the server's voice");
  const wide = line({ ...message, text: "中".repeat(60) }).split("\r\n").filter(Boolean);
  assert.ok(wide.length === 2, "wide characters count two columns");
});
