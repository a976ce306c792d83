import assert from "node:assert/strict";
import { codeOf } from "../_fakes.ts";
import { nameKey, validateName, validateRoom } from "../../core/mod.ts";

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
