// Streams of positioned messages kept in this process: each room's and each
// session's private one. A message gets the next offset of its stream; a
// stream keeps its latest messages within a count, an age and a byte budget,
// and all streams together within a total, the oldest anywhere going first.
// A room's stream may keep another count than the rest, as the relay's rules
// for that room say.

import { utf8Length } from "./_utf8.ts";
import type { EngineHost, HistoryLimits, HistoryRead } from "./engine.ts";
import type { DirectEvent, MessageEvent, Position } from "./protocol.ts";

type Kept = MessageEvent | DirectEvent;

interface Entry {
  /** Let go when the entry leaves its stream (the order list may still point at the entry). */
  event: Kept | undefined;
  readonly offset: number;
  readonly ts: number;
  readonly bytes: number;
  gone: boolean;
}

class Stream {
  readonly name: string;
  readonly epoch: string;
  offset = 0;
  bytes = 0;
  lastTs = 0;
  // Kept entries are entries[head..]; the slots before are emptied at once, and the
  // array is compacted as the head moves.
  entries: (Entry | undefined)[] = [];
  head = 0;

  constructor(name: string, epoch: string) {
    this.name = name;
    this.epoch = epoch;
  }

  get first(): Entry | undefined {
    return this.entries[this.head];
  }

  get size(): number {
    return this.entries.length - this.head;
  }

  /** Drops the oldest kept entry (and lets its message go at once); returns its bytes. */
  shift(): number {
    const entry = this.entries[this.head]!;
    this.entries[this.head++] = undefined;
    entry.gone = true;
    entry.event = undefined;
    this.bytes -= entry.bytes;
    if (this.head > 64 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
    return entry.bytes;
  }
}

/** The bytes a message costs to keep: its text or file, and a little for the rest. */
function sizeOf(event: Kept): number {
  return 128 + (event.data?.length ?? (event.text === undefined ? 0 : utf8Length(event.text)));
}

/**
 * The messages a stream keeps when the host's rules say so for its room
 * (`r:ROOM`); undefined for a private stream, or a room the rules leave at the
 * default. A size that is not a count, or a host that throws, means the default.
 */
export function roomHistorySize(host: EngineHost | undefined, stream: string): number | undefined {
  if (!stream.startsWith("r:") || host?.historySize === undefined) return undefined;
  let size;
  try {
    size = host.historySize(stream.slice(2));
  } catch {
    return undefined;
  }
  return typeof size === "number" && Number.isSafeInteger(size) && size >= 0 ? size : undefined;
}

/** Positioned streams in memory. */
export class MemoryHistory {
  #limits: HistoryLimits;
  #now: () => number;
  #sizeOf: (stream: string) => number | undefined;
  #streams = new Map<string, Stream>();
  #epochPrefix: string;
  #epochs = 0;
  // Every kept entry in the order kept, with its stream, for the total budget.
  #order: { stream: Stream; entry: Entry }[] = [];
  #orderHead = 0;
  #total = 0;
  #kept = 0;

  /**
   * @param sizeOf Messages stream `name` keeps when not `limits.size` (asked
   * at each append and trim, so a change of the rules applies at once).
   */
  constructor(
    limits: HistoryLimits,
    now: () => number,
    sizeOf: (stream: string) => number | undefined = () => undefined,
  ) {
    this.#limits = limits;
    this.#now = now;
    this.#sizeOf = sizeOf;
    this.#epochPrefix = Math.random().toString(36).slice(2, 8);
  }

  /** Bytes kept in all streams. */
  get bytes(): number {
    return this.#total;
  }

  /** Gives `event` the next position in `name` and keeps it; returns the position. */
  append(name: string, event: Kept): Position {
    const stream = this.#stream(name);
    const offset = ++stream.offset;
    event.offset = offset;
    event.epoch = stream.epoch;
    const now = this.#now();
    stream.lastTs = now;
    const size = this.#size(stream);
    if (size > 0) {
      // A file that is a view into a larger buffer (a whole socket read) would keep all of it.
      // Copied with the constructor: a Node Buffer (what npm ws delivers) is a Uint8Array
      // whose slice() is another view of the same memory, not a copy.
      const data = event.data;
      if (data !== undefined && data.byteLength !== data.buffer.byteLength) {
        event.data = new Uint8Array(data);
      }
      const bytes = sizeOf(event);
      const entry: Entry = { event, offset, ts: now, bytes, gone: false };
      stream.entries.push(entry);
      stream.bytes += bytes;
      this.#total += bytes;
      this.#kept++;
      this.#order.push({ stream, entry });
      this.#trim(stream, now, size);
      this.#trimTotal();
    } else if (stream.size > 0) {
      this.#trim(stream, now, 0); // the rules changed to keep nothing: what was kept goes
    }
    return { offset, epoch: stream.epoch };
  }

  /**
   * The messages of `name` after `since` when it still keeps every one of them
   * (at most `limit`); else its latest `limit`, not recovered.
   */
  read(name: string, since: Position | undefined, limit: number): HistoryRead {
    const stream = this.#stream(name);
    this.#trim(stream, this.#now(), this.#size(stream));
    const latest = { offset: stream.offset, epoch: stream.epoch };
    if (since !== undefined && since.epoch === stream.epoch && since.offset <= stream.offset) {
      const missed = stream.offset - since.offset;
      const firstKept = stream.first?.offset ?? stream.offset + 1;
      if (missed <= limit && since.offset + 1 >= firstKept) {
        return { recovered: true, latest, events: this.#latest(stream, missed) };
      }
    }
    return { recovered: false, latest, events: this.#latest(stream, limit) };
  }

  /** Forgets a stream and everything it kept. */
  drop(name: string): void {
    const stream = this.#streams.get(name);
    if (!stream) return;
    while (stream.size > 0) this.#shift(stream);
    this.#streams.delete(name);
  }

  /**
   * Trims every stream, and forgets those with nothing kept and nothing said
   * for an hour (or the ttl, if longer): a quiet room keeps its epoch a while,
   * so a client that missed nothing in it is told so.
   */
  sweep(now: number): void {
    const quiet = Math.max(this.#limits.ttlMs, 3_600_000);
    for (const [name, stream] of this.#streams) {
      this.#trim(stream, now, this.#size(stream));
      if (stream.size === 0 && now - stream.lastTs >= quiet) {
        this.#streams.delete(name);
      }
    }
    this.#compactOrder();
  }

  #stream(name: string): Stream {
    let stream = this.#streams.get(name);
    if (!stream) {
      stream = new Stream(name, `${this.#epochPrefix}${(++this.#epochs).toString(36)}`);
      // A stream first read (before anything is said in it) counts as used now.
      stream.lastTs = this.#now();
      this.#streams.set(name, stream);
    }
    return stream;
  }

  #latest(stream: Stream, count: number): Kept[] {
    const start = Math.max(stream.head, stream.entries.length - count);
    const events: Kept[] = [];
    for (let i = start; i < stream.entries.length; i++) events.push(stream.entries[i]!.event!);
    return events;
  }

  #size(stream: Stream): number {
    return this.#sizeOf(stream.name) ?? this.#limits.size;
  }

  #trim(stream: Stream, now: number, size: number): void {
    const { bytes, ttlMs } = this.#limits;
    const oldest = now - ttlMs;
    let first = stream.first;
    while (
      first !== undefined &&
      (stream.size > size || stream.bytes > bytes || first.ts <= oldest)
    ) {
      this.#shift(stream);
      first = stream.first;
    }
  }

  // The oldest entries anywhere go until all streams fit the total.
  #trimTotal(): void {
    const order = this.#order;
    while (this.#total > this.#limits.totalBytes && this.#orderHead < order.length) {
      const { stream, entry } = order[this.#orderHead++]!;
      // Entries leave their stream in order, so a live one here is its stream's first.
      if (!entry.gone && stream.first === entry) this.#shift(stream);
    }
    this.#compactOrder();
  }

  #shift(stream: Stream): void {
    this.#total -= stream.shift();
    this.#kept--;
  }

  // The order list holds entries long gone from streams trimmed on their own;
  // it is rebuilt once they outnumber the kept ones, so it stays in proportion.
  #compactOrder(): void {
    const order = this.#order;
    while (this.#orderHead < order.length && order[this.#orderHead]!.entry.gone) {
      this.#orderHead++;
    }
    const listed = order.length - this.#orderHead;
    if (listed > 1024 && listed > 2 * this.#kept) {
      this.#order = order.slice(this.#orderHead).filter(({ entry }) => !entry.gone);
      this.#orderHead = 0;
    } else if (this.#orderHead > 1024 && this.#orderHead * 2 > order.length) {
      this.#order = order.slice(this.#orderHead);
      this.#orderHead = 0;
    }
  }
}
