// Awaiting what a server sends: a queue of received items whose takes are
// matched by a predicate and bounded in time, so a case fails with what it
// expected and what it got instead of hanging.

/** How long any one awaited event may take, whatever the runtime. */
export const WAIT_MS = 5000;

/** Rejects after `ms` unless `promise` settles first; always clears its timer. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Items received on one connection, in order, with awaitable matched takes. */
export class Inbox<T> {
  /** Everything received so far, for checks on what did (not) arrive. */
  readonly seen: T[] = [];
  #unread: T[] = [];
  #ended: string | undefined;
  #waiters: (() => void)[] = [];
  #describe: (item: T) => string;
  #owner: () => string;

  /** `describe` renders an item and `owner` names the connection, for failure messages. */
  constructor(describe: (item: T) => string, owner: () => string) {
    this.#describe = describe;
    this.#owner = owner;
  }

  /** Adds a received item. */
  push(item: T): void {
    this.seen.push(item);
    this.#unread.push(item);
    this.#wake();
  }

  /** No more items will come; `why` ends the failure message of a take still waiting. */
  end(why: string): void {
    this.#ended ??= why;
    this.#wake();
  }

  /**
   * Takes the first unread item that `match` accepts, dropping the unread items
   * before it. `refuse` fails the take at once when an item it names arrives
   * first (it returns why, such as an unexpected error event).
   */
  async take(
    match: (item: T) => boolean,
    what: string,
    refuse: (item: T) => string | undefined = () => undefined,
    ms: number = WAIT_MS,
  ): Promise<T> {
    const search = async (): Promise<T> => {
      // Bounded: each pass either returns, throws, or waits for a new item or the end.
      while (true) {
        while (this.#unread.length > 0) {
          const item = this.#unread.shift()!;
          if (match(item)) return item;
          const refused = refuse(item);
          if (refused !== undefined) throw new Error(`expected ${what}, but ${refused}`);
        }
        if (this.#ended !== undefined) {
          throw new Error(`expected ${what}, but ${this.#ended}`);
        }
        await new Promise<void>((resolve) => this.#waiters.push(resolve));
      }
    };
    try {
      return await within(search(), ms, what);
    } catch (error) {
      const message = `${this.#owner()}: ${(error as Error).message}`;
      throw new Error(`${message}\n  last received:\n${this.recent()}`);
    }
  }

  /** The last few items, one per line, for failure messages. */
  recent(count = 8): string {
    const items = this.seen.slice(-count).map((item) => `    ${this.#describe(item)}`);
    return items.length === 0 ? "    (nothing)" : items.join("\n");
  }

  #wake(): void {
    for (const waiter of this.#waiters.splice(0)) waiter();
  }
}
