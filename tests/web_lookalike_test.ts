// The page's look-alike warnings: the tooltip text and the "(?)" in running text.

import assert from "node:assert/strict";
import { lookalikeWarning, markedName } from "../web/_format.ts";
import { APP_JS, STYLE_CSS } from "../server/_web_assets.ts";

Deno.test("lookalikeWarning() explains a name that could mislead, and only such a name", () => {
  assert.equal(lookalikeWarning("ann"), undefined);
  assert.equal(lookalikeWarning("Zoë"), undefined);
  const warning = lookalikeWarning("\u0430nn");
  assert.ok(warning);
  assert.match(warning, /^This name could be mistaken for another\. /);
  assert.match(warning, /mixes Cyrillic and Latin letters/);
  assert.match(warning, /looks like "ann"/);
});

Deno.test("markedName() adds (?) like the terminal client", () => {
  assert.equal(markedName("ann"), "ann");
  assert.equal(markedName("\u0430nn"), "\u0430nn(?)");
  assert.equal(markedName("𝚊𝚗𝚗"), "𝚊𝚗𝚗(?)");
});

Deno.test("the built page marks look-alike names and stays small", () => {
  assert.match(APP_JS, /lookalike-badge/);
  assert.match(STYLE_CSS, /\.lookalike-badge/);
  // The page carries only the ASCII look-alike table, not the full confusables data (41 KB).
  assert.ok(!APP_JS.includes("y:13.13,3:56.1b.6f4"), "the full confusables data is bundled");
  // The page and the client library it bundles (reconnect, resume, replays) together.
  assert.ok(APP_JS.length < 160_000, `app.js is ${APP_JS.length} bytes`);
});
