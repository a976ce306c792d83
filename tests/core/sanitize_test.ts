import assert from "node:assert/strict";
import { cleanText } from "../../core/mod.ts";

Deno.test("cleanText() leaves ordinary text alone", () => {
  for (const text of ["hello", "Zoë says ¡hola! 中文 😀", "a -> b [x] {y} \\ ~"]) {
    assert.equal(cleanText(text), text);
  }
});

Deno.test("cleanText() removes CSI sequences", () => {
  assert.equal(cleanText("\x1b[31mred\x1b[0m"), "red");
  assert.equal(cleanText("\x1b[2J\x1b[1;1Hclear"), "clear");
  assert.equal(cleanText("\x1b[?25lhidden cursor"), "hidden cursor");
  assert.equal(cleanText("cut\x1b[31"), "cut");
});

Deno.test("cleanText() removes OSC strings ended by BEL or ST", () => {
  assert.equal(cleanText("a\x1b]0;evil title\x07b"), "ab");
  assert.equal(cleanText("a\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\b"), "alinkb");
});

Deno.test("cleanText() removes DCS strings, two-byte escapes and a lone ESC", () => {
  assert.equal(cleanText("a\x1bPq#0;2;0;0;0\x1b\\b"), "ab");
  assert.equal(cleanText("a\x1bcb\x1b7c"), "abc");
  assert.equal(cleanText("end\x1b"), "end");
});

Deno.test("cleanText() removes the 8-bit CSI and other C1 controls", () => {
  assert.equal(cleanText("a\x9b31mb"), "ab");
  assert.equal(cleanText("a\x85b\x9fc\x80d"), "abcd");
});

Deno.test("cleanText() removes C0 controls and DEL, keeping tabs as spaces", () => {
  assert.equal(cleanText("a\x00b\x07c\x08d\x7fe\rf"), "abcdef");
  assert.equal(cleanText("a\tb"), "a b");
});

Deno.test("cleanText() removes bidi overrides and isolates", () => {
  assert.equal(cleanText("abc\u202eevil\u202c"), "abcevil");
  assert.equal(cleanText("\u2066x\u2067y\u2068z\u2069\u202a\u202b\u202d"), "xyz");
});

Deno.test("cleanText() turns newlines into spaces unless multiline", () => {
  assert.equal(cleanText("one\ntwo\r\nthree"), "one two three");
  assert.equal(cleanText("one\ntwo\r\nthree", true), "one\ntwo\nthree");
});

Deno.test("cleanText() output never contains a control character", () => {
  const nasty = Array.from({ length: 0xa0 }, (_, i) => String.fromCharCode(i)).join("") +
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069";
  // deno-lint-ignore no-control-regex
  assert.doesNotMatch(cleanText(nasty + "tail"), /[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/);
  assert.ok(cleanText(nasty + "tail").endsWith("tail"));
});
