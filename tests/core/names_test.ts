import assert from "node:assert/strict";
import { codeOf } from "../_fakes.ts";
import { nameKey, validateName, validateRoom } from "../../core/mod.ts";
import { MAX_STACKED_MARKS } from "../../core/names.ts";
import { RelayError } from "../../core/errors.ts";

function messageOf(work: () => unknown): string {
  try {
    work();
  } catch (error) {
    assert.ok(error instanceof RelayError);
    return error.message;
  }
  assert.fail("expected a RelayError");
}

Deno.test("validateName() accepts 1-32 visible characters", () => {
  for (const name of ["a", "ann", "Zoë", "名前", "a_b-c.d", "x".repeat(32), "😀".repeat(32)]) {
    assert.equal(validateName(name), name);
  }
});

Deno.test("validateName() rejects empty, long, spaced and invisible names", () => {
  const bad = [
    "",
    "x".repeat(33),
    "😀".repeat(33),
    "two words",
    " lead",
    "trail ",
    "tab\t",
    "new\nline",
    "esc\x1b[31m",
    "bell\x07",
    "del\x7f",
    "c1\x9b",
    "nbsp\u00a0x",
    "ideo\u3000x",
    "zero\u200bwidth",
    "bidi\u202ex",
    "soft\u00adhyphen",
  ];
  for (const name of bad) {
    assert.equal(codeOf(() => validateName(name)), "name_invalid", JSON.stringify(name));
  }
});

Deno.test("validateName() returns the NFC form and counts its characters", () => {
  assert.equal(validateName("Zoe\u0308"), "Zo\u00eb");
  // 32 decomposed characters are 64 code points but 32 once composed.
  assert.equal(validateName("e\u0301".repeat(32)), "\u00e9".repeat(32));
});

Deno.test("validateRoom() drops one leading # and uses room_invalid", () => {
  assert.equal(validateRoom("#games"), "games");
  assert.equal(validateRoom("games"), "games");
  assert.equal(validateRoom("##x"), "#x");
  assert.equal(codeOf(() => validateRoom("#")), "room_invalid");
  assert.equal(codeOf(() => validateRoom("two words")), "room_invalid");
  assert.equal(codeOf(() => validateRoom("#" + "r".repeat(33))), "room_invalid");
  assert.equal(validateRoom("#" + "r".repeat(32)), "r".repeat(32));
});

Deno.test("nameKey() makes names unique case-insensitively", () => {
  assert.equal(nameKey("Ann"), nameKey("aNN"));
  assert.equal(nameKey("ZOË"), nameKey("zoë"));
  assert.notEqual(nameKey("ann"), nameKey("anne"));
});

Deno.test("validateName() rejects invisible and blank names with name_invalid", () => {
  const bad = [
    "\u3164", // Hangul filler
    "\u2800", // Braille pattern blank
    "\u115f", // Hangul choseong filler
    "\uffa0", // halfwidth Hangul filler
    "\u1160\u1160", // Hangul jungseong filler
    "\u3164ann",
    "ann\ufe0f", // variation selector 16
    "an\u034fn", // combining grapheme joiner
    "ann\u{e0100}", // variation selector 17
    "ann\u180b", // Mongolian free variation selector
    "ann\u17b4", // Khmer inherent vowel
    "a\u2800b",
  ];
  for (const name of bad) {
    assert.equal(codeOf(() => validateName(name)), "name_invalid", JSON.stringify(name));
  }
  assert.match(
    messageOf(() => validateName("\u3164")),
    /invisible or blank characters \(U\+3164\)/,
  );
  assert.match(messageOf(() => validateName("ann\ufe0f")), /\(U\+FE0F\)/);
});

Deno.test("validateName() rejects a leading combining mark and stacked marks", () => {
  assert.equal(codeOf(() => validateName("\u0301ann")), "name_invalid");
  assert.equal(codeOf(() => validateName("\u20dd")), "name_invalid");
  assert.match(messageOf(() => validateName("\u0301ann")), /start with a combining mark/);
  const zalgo = "x" + "\u0300\u0301\u0302\u0303\u0304\u0305".slice(0, MAX_STACKED_MARKS + 1);
  assert.equal(codeOf(() => validateName(zalgo)), "name_invalid");
  assert.match(messageOf(() => validateName(zalgo)), /more than 4 combining marks/);
  // Ordinary marks, and up to four in a row, are fine.
  const four = "x\u0300\u0301\u0302\u0303";
  for (const name of [four, "Zoë", "Nguyễn", "नमस्ते", "ร้าน", "👍🏽", "аnn"]) {
    assert.equal(validateName(name), name.normalize("NFC"), JSON.stringify(name));
  }
});

Deno.test("validateRoom() applies the invisible-character rules with room_invalid", () => {
  for (const room of ["#\u3164", "\u2800", "games\ufe0f", "#\u0301x"]) {
    assert.equal(codeOf(() => validateRoom(room)), "room_invalid", JSON.stringify(room));
  }
  assert.match(messageOf(() => validateRoom("#\u3164")), /^a room name must not contain/);
});

Deno.test("nameKey() gives look-alikes of a name the same key", () => {
  const ann = nameKey("ann");
  const lookalikes = [
    "\u0430nn", // Cyrillic а
    "\u0410NN", // Cyrillic А
    "ann\ufe0f", // variation selector
    "an\u034fn", // combining grapheme joiner
    "ＡＮＮ", // fullwidth
    "𝚊𝚗𝚗", // mathematical monospace
    "ɑnn", // Latin alpha
    "ANN",
    "Ann",
  ];
  for (const name of lookalikes) assert.equal(nameKey(name), ann, JSON.stringify(name));
  assert.equal(nameKey("b0b"), nameKey("BOB"));
  assert.equal(nameKey("paypa1"), nameKey("раураl"));
  assert.notEqual(nameKey("ann"), nameKey("anne"));
  assert.notEqual(nameKey("ann"), nameKey("bob"));
  assert.notEqual(nameKey("Zoë"), nameKey("Zoe"));
});

Deno.test("nameKey() stays case-insensitive beyond ASCII", () => {
  const pairs = [
    ["ZOË", "zoë"],
    ["STRASSE", "straße"],
    ["ΑΝΝΑ", "αννα"],
    ["ΟΔΥΣΣΕΥΣ", "οδυσσευς"],
    ["НИНА", "нина"],
    ["KIM", "kim"],
    ["Ǆemal", "džemal"],
  ];
  for (const [upper, lower] of pairs) assert.equal(nameKey(upper!), nameKey(lower!), upper);
  // Not only "I" and "l": "i" keeps its own key once case is folded.
  assert.notEqual(nameKey("kim"), nameKey("klm"));
});
