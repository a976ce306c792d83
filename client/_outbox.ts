// What the caller sends while the client is reconnecting: kept in order and
// sent once the session is back, up to a bound, so a long outage cannot grow
// it without limit.

/** One message waiting to be sent, and the request it belongs to (if any). */
export interface Waiting {
  data: string | Uint8Array<ArrayBuffer>;
  ref?: string | undefined;
  /** Called once, just before it goes out. */
  onSend?: (() => void) | undefined;
}

/** Messages kept at most while disconnected. */
export const OUTBOX_MESSAGES = 1000;
/** Bytes (UTF-16 units for text) kept at most while disconnected. */
export const OUTBOX_BYTES = 16 << 20;

/** A bounded first-in, first-out queue of messages to send. */
export class Outbox {
  #items: Waiting[] = [];
  #bytes = 0;

  /** Keeps `item`; false when the outbox is full. */
  push(item: Waiting): boolean {
    if (this.#items.length >= OUTBOX_MESSAGES || this.#bytes + item.data.length > OUTBOX_BYTES) {
      return false;
    }
    this.#items.push(item);
    this.#bytes += item.data.length;
    return true;
  }

  /** Forgets the message of request `ref` (it was answered or gave up before it was sent). */
  drop(ref: string): void {
    const index = this.#items.findIndex((item) => item.ref === ref);
    if (index < 0) return;
    this.#bytes -= this.#items[index]!.data.length;
    this.#items.splice(index, 1);
  }

  /** Everything kept, oldest first, and empties the outbox. */
  take(): Waiting[] {
    const items = this.#items;
    this.#items = [];
    this.#bytes = 0;
    return items;
  }
}
