import assert from "node:assert/strict";
import { CONFUSABLES_UNICODE_VERSION, skeleton } from "../../core/confusables.ts";

Deno.test("skeleton() maps look-alikes to one prototype (UTS #39)", () => {
  assert.equal(CONFUSABLES_UNICODE_VERSION, "13.0.0");
  assert.equal(skeleton("раураl"), skeleton("paypal")); // Cyrillic р, а, у
  assert.equal(skeleton("\u0430nn"), "ann");
  assert.equal(skeleton("ΑΝΝ"), "ANN");
  assert.equal(skeleton("m"), "rn");
  assert.equal(skeleton("0"), "O");
  assert.equal(skeleton("AIice"), skeleton("Alice"));
  assert.notEqual(skeleton("ann"), skeleton("anne"));
  // Text with no confusables stays as it is.
  for (const text of ["ann", "bob", "名前", "😀"]) assert.equal(skeleton(text), text);
});

Deno.test("skeleton() drops default-ignorable characters and works on NFD", () => {
  assert.equal(skeleton("ann\ufe0f"), "ann");
  assert.equal(skeleton("an\u034fn"), "ann");
  assert.equal(skeleton("a\u200dn\u3164n"), "ann");
  assert.equal(skeleton("Zo\u00eb"), skeleton("Zoe\u0308"));
  assert.equal(skeleton("\u00e9"), "e\u0301");
});
