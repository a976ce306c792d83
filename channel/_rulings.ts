// The bans, mutes and topics one node knows, as the nodes exchange them. There
// is no store to ask, so every node keeps them all and tells them in its full
// state; each is stamped when ruled, and of two rulings under one key the later
// stamp wins on every node. A lift (a ban or mute already over, a cleared
// topic) is kept a while too, as a tombstone: a node that missed it and tells
// its older state must not bring the ban back.

import { rulingKey } from "../core/mod.ts";
import { inForce, type KeptRuling } from "../core/_rulings.ts";

/** A kept ruling with its stamp: when it was ruled, on its node's clock. */
export interface StampedRuling {
  ruling: KeptRuling;
  at: number;
}

interface Entry extends StampedRuling {
  /** The ruling's JSON, to order two rulings with one stamp alike on every node. */
  json: string;
  /** When this node learned it, on its own clock. */
  seen: number;
}

/** Every kept ruling one node knows, lifts included for a while. */
export class RulingBook {
  #entries = new Map<string, Entry>();
  #now: () => number;
  #tombstoneMs: number;

  /**
   * @param now This node's clock, in ms since the epoch (rulings end on it).
   * @param tombstoneMs How long a lift (or a ban or mute that ran out) is remembered.
   */
  constructor(now: () => number, tombstoneMs: number) {
    this.#now = now;
    this.#tombstoneMs = tombstoneMs;
  }

  /**
   * Keeps `ruling` stamped `at`, unless the one kept under its key is later;
   * true when it was kept (news to this node), false when it was not.
   */
  keep(ruling: KeptRuling, at: number): boolean {
    const key = rulingKey(ruling);
    const json = JSON.stringify(ruling);
    const kept = this.#entries.get(key);
    if (kept && (kept.at > at || (kept.at === at && kept.json >= json))) return false;
    this.#entries.set(key, { ruling, at, json, seen: this.#now() });
    return true;
  }

  /** The stamp of the ruling kept under `ruling`'s key; -Infinity when there is none. */
  stampOf(ruling: KeptRuling): number {
    return this.#entries.get(rulingKey(ruling))?.at ?? -Infinity;
  }

  /** The bans and mutes not yet over, and the topics not cleared. */
  inForce(): KeptRuling[] {
    const now = this.#now();
    const rulings: KeptRuling[] = [];
    for (const { ruling } of this.#entries.values()) if (inForce(ruling, now)) rulings.push(ruling);
    return rulings;
  }

  /** Everything kept, lifts included, for a node's full state. */
  stamped(): StampedRuling[] {
    return [...this.#entries.values()].map(({ ruling, at }) => ({ ruling, at }));
  }

  /** Forgets lifts (and rulings that ran out) older than the tombstone time. */
  prune(): void {
    const now = this.#now();
    for (const [key, { ruling, seen }] of this.#entries) {
      if (inForce(ruling, now)) continue;
      const over = ruling.kind === "topic" ? seen : Math.max(seen, ruling.until);
      if (now - over >= this.#tombstoneMs) this.#entries.delete(key);
    }
  }
}
