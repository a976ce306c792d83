// Node 20 gets Uint8Array.fromBase64 and toBase64 from runtimes/node/_polyfills.ts:
// they must agree with the built-ins (Deno's) on every input, valid or not.

import assert from "node:assert/strict";
import fc from "npm:fast-check@4.10.2";
import { fromBase64, toBase64 } from "../../runtimes/node/_polyfills.ts";

const RUNS = Number(Deno.env.get("FUZZ_RUNS") ?? 500);

/** What the built-in makes of `text`: its bytes, or the error's class name. */
function builtIn(text: string): number[] | string {
  try {
    return [...Uint8Array.fromBase64(text)];
  } catch (error) {
    return (error as Error).name;
  }
}

function polyfill(text: string): number[] | string {
  try {
    return [...fromBase64(text)];
  } catch (error) {
    return (error as Error).name;
  }
}

Deno.test("Node polyfill: toBase64 encodes as the built-in does, views included", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), fc.nat(8), (bytes, cut) => {
      const view = bytes.subarray(Math.min(cut, bytes.length));
      assert.equal(toBase64.call(view), view.toBase64());
    }),
    { numRuns: RUNS },
  );
});

Deno.test("Node polyfill: fromBase64 accepts and refuses what the built-in does", () => {
  const cases = [
    "",
    "AA",
    "AA==",
    "AA=",
    "AAA",
    "AAA=",
    "A",
    "A===",
    "AAAA=",
    "AB==",
    " A A\nA A\t",
    "AA==AA",
    "-_-_",
    "QUJD\r\nREVG",
    "=",
    "AA==\n",
  ];
  for (const text of cases) assert.deepEqual(polyfill(text), builtIn(text), JSON.stringify(text));
  const alphabet = "ABCab01+/=-_ \n\t".split("");
  fc.assert(
    fc.property(
      fc.array(fc.constantFrom(...alphabet), { maxLength: 12 }).map((chars) => chars.join("")),
      (text) => assert.deepEqual(polyfill(text), builtIn(text), JSON.stringify(text)),
    ),
    { numRuns: RUNS * 4 },
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      assert.deepEqual([...fromBase64(bytes.toBase64())], [...bytes]);
    }),
    { numRuns: RUNS },
  );
});
