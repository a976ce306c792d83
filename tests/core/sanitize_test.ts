import assert from "node:assert/strict";
import { cleanText } from "../../core/mod.ts";
import { terminalSafe } from "../../core/sanitize.ts";

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

Deno.test("cleanText() removes bidi marks, zero-width spaces and invisible operators", () => {
  assert.equal(cleanText("a\u200eb\u200fc\u061cd"), "abcd"); // LRM, RLM, ALM
  assert.equal(cleanText("zero\u200bwidth"), "zerowidth");
  assert.equal(cleanText("word\u2060joiner"), "wordjoiner");
  assert.equal(cleanText("x\u2061y\u2062z\u2063w\u2064v"), "xyzwv");
  assert.equal(cleanText("\ufeffbom"), "bom");
  assert.equal(cleanText("a\u206ab\u206fc"), "abc"); // deprecated format controls
  assert.equal(cleanText("shown\ufff9hidden\ufffatext\ufffb"), "shownhiddentext");
});

Deno.test("cleanText() turns line and paragraph separators into newlines or spaces", () => {
  assert.equal(cleanText("one\u2028two\u2029three", true), "one\ntwo\nthree");
  assert.equal(cleanText("one\u2028two\u2029three"), "one two three");
});

Deno.test("cleanText() keeps joiners and variation selectors that emoji and scripts need", () => {
  const family = "\u{1f468}\u200d\u{1f469}\u200d\u{1f467}";
  const heart = "\u2764\ufe0f";
  const persian = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"; // ZWNJ
  assert.equal(cleanText(`${family}\u200b${heart}\u200e${persian}`), family + heart + persian);
});

Deno.test("cleanText() output never contains a bidi mark or an invisible format character", () => {
  const nasty = "\u061c\u200b\u200e\u200f\u2028\u2029\u2060\u2061\u2062\u2063\u2064\ufeff";
  const pattern = /[\u061c\u200b\u200e\u200f\u2028\u2029\u2060-\u2064\ufeff]/;
  assert.doesNotMatch(cleanText(nasty + "tail"), pattern);
  assert.doesNotMatch(cleanText(nasty + "tail", true), pattern);
  assert.ok(cleanText(nasty + "tail").endsWith("tail"));
});

Deno.test("terminalSafe() removes every default-ignorable character", () => {
  assert.equal(terminalSafe("plain text 😀"), "plain text 😀");
  assert.equal(terminalSafe("\u2764\ufe0f"), "\u2764"); // variation selector
  assert.equal(terminalSafe("\u{1f468}\u200d\u{1f469}"), "\u{1f468}\u{1f469}"); // ZWJ
  assert.equal(terminalSafe("a\u200cb"), "ab"); // ZWNJ
  assert.equal(terminalSafe("soft\u00adhyphen"), "softhyphen");
  assert.equal(terminalSafe("\u3164\u115f\u1160\uffa0x"), "x"); // Hangul fillers
  assert.equal(terminalSafe("c\u034fg\u180bj"), "cgj"); // CGJ, Mongolian selector
  assert.equal(terminalSafe("tag\u{e0041}\u{e007f}"), "tag");
  assert.equal(terminalSafe("\u200ertl\u200f"), "rtl");
  assert.doesNotMatch(
    terminalSafe("\u00ad\u034f\u061c\u115f\u17b4\u180e\u200b\u2060\u3164\ufe00\ufeff\u{1d173}"),
    /\p{Default_Ignorable_Code_Point}/u,
  );
});
