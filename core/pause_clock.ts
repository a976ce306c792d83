// Time the relay was not running. When the process is stopped (SIGSTOP, a
// suspended VM) or its event loop is blocked, clients keep sending; none of
// that is their fault. Idle timers and deadlines leave the pause out, and input
// that waited in the sockets gets rate credit for it.

/** Sweeps come about once a second; a longer gap than this means a pause. */
const PAUSE_AFTER_MS = 3000;
/** The part of a gap that a normal sweep interval accounts for. */
const EXPECTED_GAP_MS = 1000;

/**
 * Counts how long the relay was paused, from the gaps between its sweeps. Only
 * a relay that is swept (every second, by one timer) detects pauses.
 */
export class PauseClock {
  #last: number | undefined;
  #paused = 0;
  #detect: boolean;

  /** @param detect Whether gaps count as pauses at all (false: `pausedMs` stays 0). */
  constructor(detect = true) {
    this.#detect = detect;
  }

  /** Milliseconds the relay has been paused since it started. */
  get pausedMs(): number {
    return this.#paused;
  }

  /** The sweep ran at `now`. */
  tick(now: number): void {
    this.observe(now);
    this.#last = now;
  }

  /**
   * Input arrived at `now`. After a pause, input that waited in the sockets is
   * often read before the late sweep runs; this sees the pause first.
   */
  observe(now: number): void {
    const last = this.#last;
    if (!this.#detect || last === undefined || now - last <= PAUSE_AFTER_MS) return;
    this.#paused += now - last - EXPECTED_GAP_MS;
    this.#last = now;
  }
}
