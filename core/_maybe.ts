// Continuing after a value that may arrive now or later: the in-memory engine
// answers synchronously, and a relay on it must not wait a turn for nothing.

import type { MaybePromise } from "./engine.ts";

/** Calls `next` with `value` at once, or once it resolves when it is a promise. */
export function then<T, R>(value: MaybePromise<T>, next: (value: T) => R): R | Promise<Awaited<R>> {
  return value instanceof Promise ? value.then(next) as Promise<Awaited<R>> : next(value);
}
