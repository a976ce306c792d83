// Liveness from the client's side: a ping every interval keeps a quiet client
// from being closed as idle, and a ping still unanswered a whole interval
// later means the server is gone, even when the socket has not noticed (a
// dead peer sends no FIN).

/** Pings on an interval while a connection is up; one timer at most. */
export class Keepalive {
  #timer: ReturnType<typeof setInterval> | undefined;
  #awaiting = false;

  /**
   * Starts (or restarts) pinging every `everyMs`; `dead` is called once a
   * ping is still unanswered at the next one. 0 or less does nothing.
   */
  start(everyMs: number, ping: () => Promise<unknown>, dead: () => void): void {
    this.stop();
    if (!(everyMs > 0)) return;
    this.#timer = setInterval(() => {
      if (this.#awaiting) {
        this.stop();
        return dead();
      }
      this.#awaiting = true;
      ping().then(() => this.#awaiting = false, () => {});
    }, everyMs);
  }

  /** Stops pinging; an answer still on its way no longer counts. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#awaiting = false;
  }
}
