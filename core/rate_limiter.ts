// Two token buckets per session: one counts messages, one counts bytes.

/** Limits for {@link RateLimiter}. */
export interface RateLimits {
  /** Messages per second, sustained. */
  messagesPerSecond: number;
  /** Messages that may arrive at once after a quiet spell. */
  messageBurst: number;
  /** Bytes per second, sustained. */
  bytesPerSecond: number;
  /** Bytes that may arrive at once; at least one largest message. */
  byteBurst: number;
}

/** Admits or refuses inbound messages by rate. Time comes from the caller. */
export class RateLimiter {
  #limits: RateLimits;
  #messages: number;
  #bytes: number;
  #last: number;

  constructor(limits: RateLimits, now: number) {
    this.#limits = limits;
    this.#messages = limits.messageBurst;
    this.#bytes = limits.byteBurst;
    this.#last = now;
  }

  /** True when a message of `bytes` may pass now; it is then counted. */
  take(bytes: number, now: number): boolean {
    const limits = this.#limits;
    const seconds = Math.max(0, now - this.#last) / 1000;
    this.#last = now;
    this.#messages = Math.min(
      limits.messageBurst,
      this.#messages + seconds * limits.messagesPerSecond,
    );
    this.#bytes = Math.min(limits.byteBurst, this.#bytes + seconds * limits.bytesPerSecond);
    if (this.#messages < 1 || this.#bytes < bytes) return false;
    this.#messages -= 1;
    this.#bytes -= bytes;
    return true;
  }
}
