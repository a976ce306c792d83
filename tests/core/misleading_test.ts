import assert from "node:assert/strict";
import { couldMislead, misleadingReason } from "../../core/misleading.ts";

Deno.test("couldMislead() flags the names of the look-alike attack", () => {
  const attack = [
    "\u0430nn", // Cyrillic а and Latin nn
    "ＡＮＮ", // fullwidth
    "𝚊𝚗𝚗", // mathematical monospace
    "ann\ufe0f", // variation selector (the relay refuses it; an older one may not)
    "an\u034fn",
    "\u3164",
    "\u2800",
  ];
  for (const name of attack) assert.ok(couldMislead(name), JSON.stringify(name));
});

Deno.test("couldMislead() flags mixed scripts and whole-script look-alikes of ASCII", () => {
  for (
    const name of [
      "ΑΝΝ", // all Greek, reads ANN
      "сосо", // all Cyrillic, reads coco
      "сосо😀",
      "Ꭺnn", // Cherokee and Latin
      "ɑnn", // Latin alpha
      "o\u2019brien", // right single quotation mark
      "ivan\u0438", // Latin and Cyrillic
      "αlpha", // Greek and Latin
      "ſam", // long s: NFKC changes it
    ]
  ) {
    assert.ok(couldMislead(name), JSON.stringify(name));
  }
});

Deno.test("couldMislead() leaves ordinary names alone", () => {
  // The Cyrillic-for-Latin swap is flagged; the ordinary names below, with or without
  // accents and in one script or Latin with CJK, are not.
  assert.ok(couldMislead("\u0430nn"));
  for (
    const name of [
      "ann",
      "AIice", // plain ASCII never misleads here (the relay's keys handle it)
      "b0b",
      "Zoë",
      "José",
      "Łukasz",
      "Straße",
      "名前",
      "Yuko田中", // Latin with CJK is allowed
      "иван", // Cyrillic with a letter that looks like no ASCII one
      "νικος",
      "नमस्ते",
      "😀",
    ]
  ) {
    assert.equal(couldMislead(name), false, JSON.stringify(name));
  }
});

Deno.test("misleadingReason() says why, and what the name looks like", () => {
  assert.equal(misleadingReason("ann"), undefined);
  assert.equal(
    misleadingReason("\u0430nn"),
    'It mixes Cyrillic and Latin letters. It looks like "ann" but is spelled with other characters.',
  );
  assert.match(
    misleadingReason("ＡＮＮ")!,
    /fullwidth, styled or compatibility characters: it reads "ANN"/,
  );
  assert.match(misleadingReason("ΑΝΝ")!, /looks like "ANN"/);
  assert.equal(misleadingReason("ann\u3164"), "It has invisible characters.");
});
