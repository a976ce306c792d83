// Keeping WebSocket peers alive: each is pinged once an interval, and cut when
// it has not answered (nor sent anything) by its next ping. The pings are
// spread over the interval in small slices, so thousands of peers never cost
// one long pause of the event loop (every peer at once took ~50 ms for 2,000,
// which every message in flight then waited for).

/** One peer as the keepalive sees it. */
export interface Pinged {
  /** Answered (or sent anything) since the last ping. */
  alive: boolean;
  ping(): void;
  cut(): void;
}

/** How often a slice of the peers is pinged, at most. */
const SLICE_MS = 250;

/** Pings every peer once per interval, a slice of them at a time. */
export class Keepalive<P extends Pinged> {
  #slots: Set<P>[];
  #slotOf = new Map<P, number>();
  #next = 0;
  #tick = 0;
  #timer: ReturnType<typeof setInterval>;
  #sliceMs: number;
  #lastTick: number;
  #graceUntil = 0;
  #intervalMs: number;

  /** Starts the timer; `intervalMs` is how often each peer is pinged. */
  constructor(intervalMs: number) {
    const slices = Math.max(1, Math.round(intervalMs / SLICE_MS));
    this.#intervalMs = intervalMs;
    this.#sliceMs = intervalMs / slices;
    this.#slots = Array.from({ length: slices }, () => new Set<P>());
    this.#lastTick = performance.now();
    this.#timer = setInterval(() => this.#ping(), this.#sliceMs);
  }

  /** Watches `peer` from now on. */
  add(peer: P): void {
    const slot = this.#next++ % this.#slots.length;
    this.#slots[slot]!.add(peer);
    this.#slotOf.set(peer, slot);
  }

  /** Stops watching `peer`. */
  delete(peer: P): void {
    const slot = this.#slotOf.get(peer);
    if (slot === undefined) return;
    this.#slotOf.delete(peer);
    this.#slots[slot]!.delete(peer);
  }

  /** Stops the timer. */
  stop(): void {
    clearInterval(this.#timer);
  }

  // When this timer itself ran late (the process was stopped, or its event
  // loop blocked), silence proves nothing: for one whole interval nobody is
  // cut, so every peer has been pinged again and could answer.
  #ping(): void {
    const now = performance.now();
    if (now - this.#lastTick > this.#sliceMs * 1.5 + 100) {
      this.#graceUntil = now + this.#intervalMs;
    }
    this.#lastTick = now;
    const cutting = now >= this.#graceUntil;
    const slot = this.#slots[this.#tick++ % this.#slots.length]!;
    for (const peer of [...slot]) {
      if (!peer.alive && cutting) {
        this.delete(peer);
        peer.cut();
        continue;
      }
      peer.alive = false;
      try {
        peer.ping();
      } catch { /* closing */ }
    }
  }
}
