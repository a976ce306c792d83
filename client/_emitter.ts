// Listeners by event type, each call contained (a throwing listener never
// breaks the client), and a backlog: events that arrive after `welcome` but
// before the caller had a chance to listen (joined, presence, a replay) wait
// until the first listener, the first request, or the next task.

import type { ClientEvent, ClientEventOf, ClientEventType } from "./events.ts";

type Listener = (event: ClientEvent) => void;

/** Delivers client events to listeners, holding them until someone can listen. */
export class Emitter {
  #listeners = new Map<ClientEventType, Set<Listener>>();
  #backlog: ClientEvent[] | undefined = [];
  #ready = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #onError: (error: unknown) => void;

  constructor(onError: (error: unknown) => void) {
    this.#onError = onError;
  }

  /** Adds a listener; returns the function that removes it. */
  on<T extends ClientEventType>(type: T, listener: (event: ClientEventOf<T>) => void): () => void {
    const set = this.#listeners.get(type) ?? new Set<Listener>();
    this.#listeners.set(type, set);
    const entry = listener as Listener;
    set.add(entry);
    // A microtask later, so every listener added in the same turn sees the backlog.
    if (this.#backlog && this.#ready) queueMicrotask(() => this.release());
    return () => void set.delete(entry);
  }

  /** Delivers `event` now, or keeps it in the backlog. */
  emit(event: ClientEvent): void {
    if (this.#backlog) {
      this.#backlog.push(event);
      return;
    }
    for (const type of [event.type, "*"] as const) {
      for (const listener of this.#listeners.get(type) ?? []) {
        try {
          listener(event);
        } catch (error) {
          this.#onError(error);
        }
      }
    }
  }

  /** The caller has the client now: the backlog goes out by the next task at the latest. */
  ready(): void {
    if (this.#ready) return;
    this.#ready = true;
    this.#timer = setTimeout(() => this.release(), 0);
  }

  /** Delivers the backlog (once the caller has the client), and everything after it at once. */
  release(): void {
    if (!this.#ready) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const backlog = this.#backlog;
    if (!backlog) return;
    this.#backlog = undefined;
    for (const event of backlog) this.emit(event);
  }

  /** Nobody will ever have the client (it failed to connect): drop what was held. */
  discard(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#backlog) this.#backlog = [];
  }
}
