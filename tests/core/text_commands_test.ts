import assert from "node:assert/strict";
import { codeOf } from "../_fakes.ts";
import { RelayError } from "../../core/mod.ts";
import { parseTextLine } from "../../core/text_commands.ts";

Deno.test("parseTextLine() returns null for a blank line", () => {
  assert.equal(parseTextLine("", "lobby"), null);
  assert.equal(parseTextLine("  \t ", "lobby"), null);
});

Deno.test("parseTextLine() says plain text in the current room", () => {
  assert.deepEqual(parseTextLine("hello there", "games"), {
    type: "publish",
    room: "games",
    content: { kind: "text", text: "hello there", action: false },
  });
});

Deno.test("parseTextLine() sends //text as text starting with a slash", () => {
  assert.deepEqual(parseTextLine("//shrug", "lobby"), {
    type: "publish",
    room: "lobby",
    content: { kind: "text", text: "/shrug", action: false },
  });
});

Deno.test("parseTextLine() refuses plain text with no current room", () => {
  assert.equal(codeOf(() => parseTextLine("hi", undefined)), "not_in_room");
  assert.equal(codeOf(() => parseTextLine("/me waves", undefined)), "not_in_room");
  assert.equal(codeOf(() => parseTextLine("/who", undefined)), "not_in_room");
  assert.equal(codeOf(() => parseTextLine("/leave", undefined)), "not_in_room");
});

Deno.test("parseTextLine() parses /nick and /name", () => {
  assert.deepEqual(parseTextLine("/nick  bob  ", "lobby"), { type: "nick", name: "bob" });
  assert.deepEqual(parseTextLine("/NAME bob", "lobby"), { type: "nick", name: "bob" });
  assert.equal(codeOf(() => parseTextLine("/nick", "lobby")), "bad_message");
});

Deno.test("parseTextLine() parses /join and /j", () => {
  assert.deepEqual(parseTextLine("/join #games", "lobby"), { type: "join", room: "#games" });
  assert.deepEqual(parseTextLine("/j games", undefined), { type: "join", room: "games" });
  assert.equal(codeOf(() => parseTextLine("/join   ", "lobby")), "bad_message");
});

Deno.test("parseTextLine() parses /leave and /part, defaulting to the current room", () => {
  assert.deepEqual(parseTextLine("/leave", "games"), { type: "leave", room: "games" });
  assert.deepEqual(parseTextLine("/part lobby", "games"), { type: "leave", room: "lobby" });
});

Deno.test("parseTextLine() parses /msg and /m with the text kept whole", () => {
  assert.deepEqual(parseTextLine("/msg bob hello  there ", "lobby"), {
    type: "direct",
    to: "bob",
    content: { kind: "text", text: "hello  there", action: false },
  });
  assert.deepEqual(parseTextLine("/m bob hi", undefined), {
    type: "direct",
    to: "bob",
    content: { kind: "text", text: "hi", action: false },
  });
  assert.equal(codeOf(() => parseTextLine("/msg bob", "lobby")), "bad_message");
  assert.equal(codeOf(() => parseTextLine("/msg", "lobby")), "bad_message");
});

Deno.test("parseTextLine() parses /who, /rooms and /list", () => {
  assert.deepEqual(parseTextLine("/who", "games"), { type: "presence", room: "games" });
  assert.deepEqual(parseTextLine("/who lobby", undefined), { type: "presence", room: "lobby" });
  assert.deepEqual(parseTextLine("/rooms", undefined), { type: "rooms", limit: 20 });
  assert.deepEqual(parseTextLine("/list", undefined), { type: "rooms", limit: 20 });
  assert.deepEqual(parseTextLine("/rooms m", undefined), { type: "rooms", limit: 20, after: "m" });
});

Deno.test("parseTextLine() parses /me as an action in the current room", () => {
  assert.deepEqual(parseTextLine("/me waves hello", "games"), {
    type: "publish",
    room: "games",
    content: { kind: "text", text: "waves hello", action: true },
  });
  assert.equal(codeOf(() => parseTextLine("/me", "games")), "bad_message");
});

Deno.test("parseTextLine() parses /echo on, off and bare", () => {
  assert.deepEqual(parseTextLine("/echo", "lobby"), { type: "echo", on: true });
  assert.deepEqual(parseTextLine("/echo on", "lobby"), { type: "echo", on: true });
  assert.deepEqual(parseTextLine("/echo off", "lobby"), { type: "echo", on: false });
  assert.equal(codeOf(() => parseTextLine("/echo maybe", "lobby")), "bad_message");
});

Deno.test("parseTextLine() parses /help, /?, /quit and /exit", () => {
  assert.deepEqual(parseTextLine("/help", undefined), { type: "help" });
  assert.deepEqual(parseTextLine("/?", undefined), { type: "help" });
  assert.deepEqual(parseTextLine("/quit", undefined), { type: "quit" });
  assert.deepEqual(parseTextLine("/EXIT now", undefined), { type: "quit" });
});

Deno.test("parseTextLine() rejects unknown commands with unknown_command", () => {
  assert.equal(codeOf(() => parseTextLine("/dance", "lobby")), "unknown_command");
  assert.equal(codeOf(() => parseTextLine("/", "lobby")), "unknown_command");
  assert.throws(
    () => parseTextLine("/" + "x".repeat(100), "lobby"),
    (error) => error instanceof RelayError && error.message.length < 80,
    "the echoed command is cut short",
  );
});
