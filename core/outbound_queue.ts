import { joinedBefore, remember } from "./_same_frames.ts";
import { outputBuffer } from "./_slab.ts";
import type { Frame } from "./outgoing.ts";

const encoder = new TextEncoder();
/** Largest batched text frame, in bytes (a single larger message still goes alone). */
const MAX_BATCH_BYTES = 256 * 1024;

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
  #takes = 0;
  /**
   * Set when the client asked for batching: {@link takeMessages} then joins
   * consecutive text frames into one, separated by newlines.
   * @default false
   */
  batchText = false;
  /**
   * @internal Where what the transport takes is counted (messages and bytes
   * out): once per drain, not once per frame queued.
   */
  meter: { messagesOut: number; bytesOut: number } | undefined;

  /** Bytes queued and not yet taken by the transport. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Frames queued and not yet taken by the transport. */
  get length(): number {
    return this.#frames.length;
  }

  /** How many times the transport has emptied the queue: it changes whenever it drains. */
  get takes(): number {
    return this.#takes;
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
    const meter = this.meter;
    if (meter !== undefined) {
      meter.messagesOut += this.#frames.length;
      meter.bytesOut += this.#bytes;
    }
    return this.drop();
  }

  /** Removes everything queued without sending it (the connection is gone or overflowed). */
  drop(): Frame[] {
    const frames = this.#frames;
    this.#frames = [];
    this.#bytes = 0;
    this.#takes++;
    return frames;
  }

  /**
   * For message transports: removes everything queued and returns what to send,
   * in order. Text frames are joined with "\n" when {@link batchText} is set;
   * binary frames always go alone.
   */
  takeMessages(): (string | Uint8Array<ArrayBuffer>)[] {
    const frames = this.take();
    if (!this.batchText || frames.length === 1) return frames.map((frame) => frame.data);
    const messages: (string | Uint8Array<ArrayBuffer>)[] = [];
    let run: string[] = [];
    let runBytes = 0;
    const endRun = () => {
      if (run.length > 0) messages.push(run.join("\n"));
      run = [];
      runBytes = 0;
    };
    for (const { data, bytes } of frames) {
      if (typeof data !== "string") {
        endRun();
        messages.push(data);
        continue;
      }
      // Bounded frames: a backlog becomes several large frames, not one huge one.
      if (runBytes + bytes > MAX_BATCH_BYTES) endRun();
      run.push(data);
      runBytes += bytes + 1;
    }
    endRun();
    return messages;
  }

  /** For byte streams: removes everything queued and returns it as one buffer, for one write. */
  takeBytes(): Uint8Array<ArrayBuffer> {
    const bytes = this.#bytes;
    const frames = this.take();
    const only = frames.length === 1 ? frames[0]!.data : undefined;
    if (only !== undefined && typeof only !== "string") return only;
    return joinedBefore(frames, "bytes") ?? remember(frames, "bytes", joinBytes(frames, bytes));
  }
}

// Strings (JSON frames, in tests) are encoded as they are copied.
function joinBytes(frames: readonly Frame[], bytes: number): Uint8Array<ArrayBuffer> {
  const out = outputBuffer(bytes);
  let at = 0;
  for (let i = 0; i < frames.length; i++) {
    const { data } = frames[i]!;
    if (typeof data === "string") {
      at += encoder.encodeInto(data, out.subarray(at)).written;
    } else {
      out.set(data, at);
      at += data.length;
    }
  }
  return out;
}
