// The token a client logs in with: a fixed string (replaced by one a refresh
// got accepted), or the app's function, asked for a fresh one before each
// login and when the relay says the token ran out.

import { CrosswireClientError } from "./errors.ts";
import type { TokenSource } from "./options.ts";

/** The client's token, as the `token` option gives it. */
export class Tokens {
  #source: TokenSource | undefined;
  #latest: string | undefined;

  /** @param source The `token` option. */
  constructor(source: TokenSource | undefined) {
    this.#source = source;
    if (typeof source === "string") this.#latest = source;
  }

  /** Whether the client logs in with a token. */
  get present(): boolean {
    return this.#source !== undefined;
  }

  /** Whether a new token can be had (the option is a function). */
  get renewable(): boolean {
    return typeof this.#source === "function";
  }

  /**
   * The token for a login or a refresh: a fresh one from the app's function,
   * else the latest known (undefined without a token). The function's own
   * failure is passed on as it is: it may be worth another try later.
   */
  async next(): Promise<string | undefined> {
    const source = this.#source;
    if (typeof source !== "function") return this.#latest;
    const token: unknown = await source();
    if (typeof token !== "string" || token === "") {
      throw new CrosswireClientError("auth_failed", "the token function gave no token");
    }
    return this.#latest = token;
  }

  /** The relay accepted `token` in a refresh: a later login uses it (unless a function gives another). */
  accepted(token: string): void {
    this.#latest = token;
  }
}
