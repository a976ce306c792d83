import type { Frame } from "./outgoing.ts";

/**
 * A session's outbound frames, owned by the core and drained by the transport.
 * It counts the bytes it holds so the core can see a slow consumer.
 *
 * @example Draining a queue the way a transport does
 * ```ts
 * import { OutboundQueue } from "@crosswire/relay";
 * const queue = new OutboundQueue();
 * queue.push({ data: "hi", bytes: 2 });
 * const frames = queue.take();
 * if (frames.length !== 1 || queue.bytes !== 0) throw new Error("not drained");
 * ```
 */
export class OutboundQueue {
  #frames: Frame[] = [];
  #bytes = 0;

  /** Bytes queued and not yet taken by the transport. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Frames queued and not yet taken by the transport. */
  get length(): number {
    return this.#frames.length;
  }

  /**
   * Appends a frame. Returns true when the queue was empty before, which is
   * when the transport needs waking.
   */
  push(frame: Frame): boolean {
    this.#frames.push(frame);
    this.#bytes += frame.bytes;
    return this.#frames.length === 1;
  }

  /** Removes and returns everything queued, oldest first. */
  take(): Frame[] {
    const frames = this.#frames;
    this.#frames = [];
    this.#bytes = 0;
    return frames;
  }
}
