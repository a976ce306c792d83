// Colours in one conversation (web/_colors.ts): apart while colours are free,
// stable while nobody else takes them, the name's own when all are in use.

import assert from "node:assert/strict";
import { assignColors, colorIn, type Colors, PALETTE_SIZE } from "../web/_colors.ts";
import { colorSlot } from "../web/_format.ts";

/** `count` names whose own colour is `slot` (a bounded search). */
function namesWithSlot(slot: number, count: number, prefix = "n"): string[] {
  const found: string[] = [];
  for (let i = 0; i < 10_000 && found.length < count; i++) {
    if (colorSlot(`${prefix}${i}`) === slot) found.push(`${prefix}${i}`);
  }
  assert.equal(found.length, count, `found ${count} names with colour ${slot}`);
  return found;
}

/** One name per colour, the first of each found. */
function onePerSlot(): string[] {
  return Array.from({ length: PALETTE_SIZE }, (_, slot) => namesWithSlot(slot, 1, "p")[0]!);
}

function slots(colors: Colors, names: readonly string[]): number[] {
  return names.map((name) => colorIn(colors, name));
}

Deno.test("assignColors() keeps names whose colours differ on their own colours", () => {
  const names = onePerSlot().slice(0, 4);
  const colors = assignColors(new Map(), names);
  assert.deepEqual(slots(colors, names), names.map(colorSlot));
});

Deno.test("assignColors() gives a newcomer whose colour is taken the next free one", () => {
  const [a, b, c] = namesWithSlot(3, 3);
  const colors = assignColors(new Map(), [a!, b!, c!]);
  assert.deepEqual(slots(colors, [a!, b!, c!]), [3, 4, 5]);
  // Past the end of the palette it wraps around to the first free colour.
  const [x, y] = namesWithSlot(PALETTE_SIZE - 1, 2);
  assert.deepEqual(slots(assignColors(new Map(), [x!, y!]), [x!, y!]), [PALETTE_SIZE - 1, 0]);
});

Deno.test("assignColors() puts `me` on its own colour, wherever it is listed", () => {
  const [first, me] = namesWithSlot(2, 2);
  const before = assignColors(new Map(), [first!]);
  const colors = assignColors(before, [first!, me!], me);
  assert.equal(colorIn(colors, me!), 2);
  assert.notEqual(colorIn(colors, first!), 2, "the other moves aside");
});

Deno.test("assignColors() keeps colours as people come and go, and remembers who left", () => {
  const [a, b] = namesWithSlot(5, 2);
  const other = onePerSlot()[1]!;
  let colors = assignColors(new Map(), [a!, b!]);
  assert.deepEqual(slots(colors, [a!, b!]), [5, 6]);
  // a leaves: b keeps its colour rather than flipping back to its own.
  colors = assignColors(colors, [b!, other]);
  assert.deepEqual(slots(colors, [b!, other]), [6, 1]);
  // a's earlier messages keep a's colour, which no longer holds a place.
  assert.equal(colorIn(colors, a!), 5);
  // a comes back: its old colour is free, so it has it again.
  colors = assignColors(colors, [b!, other, a!]);
  assert.equal(colorIn(colors, a!), 5);
  // Names are matched regardless of case.
  assert.equal(colorIn(colors, a!.toUpperCase()), 5);
});

Deno.test("assignColors() falls back to a name's own colour once all are in use", () => {
  const everyone = onePerSlot();
  const [extra] = namesWithSlot(4, 1, "x");
  const colors = assignColors(new Map(), [...everyone, extra!]);
  assert.deepEqual(slots(colors, everyone), everyone.map(colorSlot));
  assert.equal(colorIn(colors, extra!), 4);
});

Deno.test("assignColors() returns the same map when nothing changed", () => {
  const names = onePerSlot().slice(0, 3);
  const colors = assignColors(new Map(), names);
  assert.equal(assignColors(colors, names), colors);
  assert.equal(assignColors(colors, [...names].reverse()), colors);
  assert.notEqual(assignColors(colors, [...names, "zed"]), colors);
});

Deno.test("assignColors() remembers a bounded number of names no longer present", () => {
  let colors: Colors = new Map();
  for (let i = 0; i < 200; i++) colors = assignColors(colors, [`gone${i}`]);
  assert.ok(colors.size <= 65, `remembers ${colors.size} names`);
  assert.ok(colors.has("gone199"), "the newest are kept");
});
