// Two token buckets: one counts messages, one counts bytes.

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

/** The most rate credit a pause can give: this many seconds of the sustained rate. */
const MAX_CREDIT_SECONDS = 30;

/** Admits or refuses messages by rate. Time comes from the caller. */
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
    this.#refill(now);
    if (this.#messages < 1 || this.#bytes < bytes) return false;
    this.#messages -= 1;
    this.#bytes -= bytes;
    return true;
  }

  /**
   * Counts `bytes` the peer caused without refusing anything now, such as a
   * large reply it asked for: later messages wait for the bucket to refill.
   */
  charge(bytes: number, now: number): void {
    this.#refill(now);
    this.#bytes = Math.max(this.#bytes - bytes, -this.#limits.byteBurst);
  }

  /**
   * Allows what `seconds` of the sustained rate would have, on top of a full
   * bucket (at most 30 seconds' worth in all): input that queued up while the
   * relay was paused still passes.
   */
  credit(seconds: number, now: number): void {
    this.#refill(now);
    const limits = this.#limits;
    // What a pause lets pile up, not a licence to flood: at most MAX_CREDIT_SECONDS' worth.
    const credited = Math.min(seconds, MAX_CREDIT_SECONDS);
    this.#messages = Math.max(
      this.#messages,
      Math.min(
        this.#messages + credited * limits.messagesPerSecond,
        MAX_CREDIT_SECONDS * limits.messagesPerSecond,
      ),
    );
    this.#bytes = Math.max(
      this.#bytes,
      Math.min(
        this.#bytes + credited * limits.bytesPerSecond,
        MAX_CREDIT_SECONDS * limits.bytesPerSecond,
      ),
    );
  }

  /** True when both buckets are full: forgetting this limiter changes nothing. */
  full(now: number): boolean {
    this.#refill(now);
    return this.#messages >= this.#limits.messageBurst && this.#bytes >= this.#limits.byteBurst;
  }

  #refill(now: number): void {
    const limits = this.#limits;
    const seconds = Math.max(0, now - this.#last) / 1000;
    this.#last = now;
    if (seconds === 0) return;
    // A credit may have filled a bucket past its burst; refilling never takes it away.
    if (this.#messages < limits.messageBurst) {
      this.#messages = Math.min(
        limits.messageBurst,
        this.#messages + seconds * limits.messagesPerSecond,
      );
    }
    if (this.#bytes < limits.byteBurst) {
      this.#bytes = Math.min(limits.byteBurst, this.#bytes + seconds * limits.bytesPerSecond);
    }
  }
}
