// Avatar and name colours in one conversation. Each name has a colour of its
// own (`colorSlot`, a hash), but with eight colours two people in a room of
// three already share one about a third of the time. So a room hands them out:
// a name keeps its colour while nobody else present has it, a newcomer whose
// own colour is taken gets the next free one, and only when all eight are in
// use do two people share a colour. Pure, for tests/web_colors_test.ts.

import { colorSlot } from "./_format.ts";

/** How many colours the style sheet has (`.c0` to `.c7`). */
export const PALETTE_SIZE = 8;
/** Names no longer present whose colour is remembered (their earlier messages keep it). */
const REMEMBERED_ABSENT = 64;

/** Colour slots by lower-case name. */
export type Colors = ReadonlyMap<string, number>;

/** The colour slot of `name` in `colors`, else the name's own. */
export function colorIn(colors: Colors, name: string): number {
  return colors.get(name.toLowerCase()) ?? colorSlot(name);
}

/**
 * Colours for `members` (in the order they are listed), starting from `previous`:
 *
 * 0. `me`, when a member, has its own colour, so ours is the same in every room;
 * 1. a member keeps its previous colour unless someone earlier has it;
 * 2. everyone else takes their own colour when free, else the first free one
 *    after it; when none is free, their own colour;
 * 3. names no longer present keep theirs, without holding it, up to a bound.
 *
 * Returns `previous` itself when nothing changed.
 */
export function assignColors(
  previous: Colors,
  members: readonly string[],
  me?: string,
): Colors {
  const order = members.map((name) => name.toLowerCase());
  const result = new Map<string, number>();
  const used = new Set<number>();
  const own = me?.toLowerCase();
  if (own !== undefined && order.includes(own)) {
    result.set(own, colorSlot(own));
    used.add(colorSlot(own));
  }
  for (const name of order) {
    const slot = previous.get(name);
    if (slot === undefined || used.has(slot) || result.has(name)) continue;
    result.set(name, slot);
    used.add(slot);
  }
  for (const name of order) {
    if (result.has(name)) continue;
    const slot = freeSlot(colorSlot(name), used);
    result.set(name, slot);
    used.add(slot);
  }
  const absent = [...previous].filter(([name]) => !result.has(name));
  for (const [name, slot] of absent.slice(-REMEMBERED_ABSENT)) result.set(name, slot);
  return sameColors(previous, result) ? previous : result;
}

/** `wanted` when free, else the first free slot after it, else `wanted`. */
function freeSlot(wanted: number, used: ReadonlySet<number>): number {
  for (let step = 0; step < PALETTE_SIZE; step++) {
    const slot = (wanted + step) % PALETTE_SIZE;
    if (!used.has(slot)) return slot;
  }
  return wanted;
}

function sameColors(a: Colors, b: Colors): boolean {
  if (a.size !== b.size) return false;
  for (const [name, slot] of a) if (b.get(name) !== slot) return false;
  return true;
}
