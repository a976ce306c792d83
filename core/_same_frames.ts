// In a broadcast every receiver's queue holds the same frames in the same
// order, so the buffer joined for the first receiver serves the rest: one copy
// per pass of the event loop, not one per receiver.

import type { Frame } from "./outgoing.ts";

let lastFrames: readonly Frame[] = [];
let lastKind = "";
let lastJoined: Uint8Array<ArrayBuffer> | undefined;

/** What the last {@link remember} joined, when `frames` are the same frames joined the same way. */
export function joinedBefore(
  frames: readonly Frame[],
  kind: string,
): Uint8Array<ArrayBuffer> | undefined {
  if (kind !== lastKind || frames.length !== lastFrames.length) return undefined;
  for (let i = 0; i < frames.length; i++) {
    if (frames[i] !== lastFrames[i]) return undefined;
  }
  return lastJoined;
}

/** Keeps `joined`, made from `frames` the `kind` way, for the next receiver. Returns it. */
export function remember(
  frames: readonly Frame[],
  kind: string,
  joined: Uint8Array<ArrayBuffer>,
): Uint8Array<ArrayBuffer> {
  lastFrames = frames;
  lastKind = kind;
  lastJoined = joined;
  return joined;
}
