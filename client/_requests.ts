// Requests waiting for their replies, matched by `ref` (or, for replies that
// carry none such as `left` and `renamed`, by what they say), each with a
// timeout.

import type { ServerEvent } from "../core/protocol.ts";
import { CrosswireClientError } from "./errors.ts";
import { refOf } from "./_decode.ts";

/** How one request recognises its reply. */
export interface ReplyMatcher<T> {
  /** The value to resolve with, or undefined when `event` is not the reply (yet). */
  accept(event: ServerEvent): T | undefined;
  /** Also offer events without this ref (`left` and `renamed` carry none). @default false */
  unreffed?: boolean;
  /** Rejects with `timeout` after this long, in ms. */
  timeoutMs: number;
  /** What was asked, for the timeout's message. */
  what: string;
}

interface Pending {
  accept(event: ServerEvent): unknown;
  unreffed: boolean;
  resolve(value: unknown): void;
  reject(error: CrosswireClientError): void;
  timer: ReturnType<typeof setTimeout>;
  /** The connection it was sent on; undefined while it waits to be sent. */
  sentOn: number | undefined;
}

/** The requests waiting for a reply. */
export class Requests {
  #pending = new Map<string, Pending>();
  #next = 0;

  /** A ref no other request of this client has. */
  newRef(): string {
    return `c${(++this.#next).toString(36)}`;
  }

  /** Waits for the reply to the request `ref`; it rejects with the server's error, or `timeout`. */
  add<T>(ref: string, matcher: ReplyMatcher<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(ref, {
        accept: matcher.accept,
        unreffed: matcher.unreffed ?? false,
        resolve: resolve as (value: unknown) => void,
        reject,
        timer: setTimeout(
          () =>
            this.settle(ref, new CrosswireClientError("timeout", `no reply to ${matcher.what}`)),
          matcher.timeoutMs,
        ),
        sentOn: undefined,
      });
    });
  }

  /** True while `ref` waits for its reply. */
  has(ref: string): boolean {
    return this.#pending.has(ref);
  }

  /** Notes that `ref` went out on connection `connection`. */
  sent(ref: string, connection: number): void {
    const pending = this.#pending.get(ref);
    if (pending) pending.sentOn = connection;
  }

  /** Resolves (with a value) or rejects (with an error) the request `ref`, once. */
  settle(ref: string, outcome: CrosswireClientError | { value: unknown }): void {
    const pending = this.#pending.get(ref);
    if (!pending) return;
    this.#pending.delete(ref);
    clearTimeout(pending.timer);
    if (outcome instanceof CrosswireClientError) pending.reject(outcome);
    else pending.resolve(outcome.value);
  }

  /** Offers `event` to the request it answers: its error rejects it, its reply resolves it. */
  match(event: ServerEvent): void {
    const ref = refOf(event);
    const own = ref === undefined ? undefined : this.#pending.get(ref);
    if (own && ref !== undefined) {
      if (event.type === "error") {
        return this.settle(ref, new CrosswireClientError(event.code, event.message));
      }
      const value = own.accept(event);
      if (value !== undefined) return this.settle(ref, { value });
    }
    for (const [key, pending] of this.#pending) {
      if (!pending.unreffed || key === ref) continue;
      const value = pending.accept(event);
      if (value !== undefined) this.settle(key, { value });
    }
  }

  /** Rejects every request sent on connection `connection` (its replies are lost with it). */
  rejectSentOn(connection: number, error: CrosswireClientError): void {
    for (const [ref, pending] of [...this.#pending]) {
      if (pending.sentOn === connection) this.settle(ref, error);
    }
  }

  /** Rejects every request. */
  rejectAll(error: CrosswireClientError): void {
    for (const ref of [...this.#pending.keys()]) this.settle(ref, error);
  }
}
