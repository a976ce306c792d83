// One page of a room listing, for engines that keep every room in memory
// (the in-memory engine, the BroadcastChannel engine's replica).

import type { RoomPage } from "./engine.ts";

/** Code-unit order, the same on every node: room names sort alike everywhere. */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The rooms of `sorted` (sorted by {@link compareNames}) after `after`, at
 * most `limit`, each with its member count.
 */
export function roomPage(
  sorted: readonly string[],
  limit: number,
  after: string | undefined,
  members: (room: string) => number,
): RoomPage {
  let start = 0;
  if (after !== undefined) {
    let high = sorted.length;
    while (start < high) {
      const middle = (start + high) >>> 1;
      if (compareNames(sorted[middle]!, after) <= 0) start = middle + 1;
      else high = middle;
    }
  }
  const rooms = sorted.slice(start, start + limit).map((name) => ({
    name,
    members: members(name),
  }));
  return { rooms, total: sorted.length };
}
