// What crosses between nodes: outgoing envelopes gathered per channel and sent
// once per event-loop turn (one PUBLISH per channel, every channel in one
// pipeline), each payload numbered per channel so a receiver can count what
// it missed; and incoming payloads checked for gaps and handed on.

import type { Redis } from "ioredis";
import type { Envelope } from "../core/mod.ts";
import { decodePayload, encodePayload } from "./codec.ts";

/** Largest number of envelopes in one PUBLISH. */
const MAX_BATCH = 256;

/** What {@link Traffic} tells its engine. */
export interface TrafficHost {
  /** This node's id: its own payloads are skipped when they come back. */
  readonly node: string;
  /** The command connection to publish on, when the link is up; undefined while it is down. */
  connection(): Redis | undefined;
  /** Whether this node still listens on `channel` (gaps count only there). */
  listening(channel: string): boolean;
  /** An envelope from another node. */
  deliver(envelope: Envelope): void;
  /** `count` payload's envelopes from another node never arrived here. */
  missed(count: number): void;
  /** Publishing failed: the link is in trouble. */
  failed(error: unknown): void;
}

/** One node's pub/sub traffic. */
export class Traffic {
  #host: TrafficHost;
  #outbox = new Map<string, Envelope[]>();
  #flushing = false;
  #sequence = new Map<string, number>();
  #seen = new Map<string, Map<string, number>>();
  #dropped = 0;

  constructor(host: TrafficHost) {
    this.#host = host;
  }

  /** Queues `envelope` for `channel`; everything queued in one turn goes in one round trip. */
  send(channel: string, envelope: Envelope): void {
    if (this.#host.connection() === undefined) {
      this.#dropped++;
      return;
    }
    const queued = this.#outbox.get(channel);
    if (queued) queued.push(envelope);
    else this.#outbox.set(channel, [envelope]);
    if (!this.#flushing) {
      this.#flushing = true;
      queueMicrotask(() => this.flush());
    }
  }

  /** Sends what is queued now (the engine also calls it before it leaves). */
  flush(): void {
    this.#flushing = false;
    if (this.#outbox.size === 0) return;
    const outbox = this.#outbox;
    this.#outbox = new Map();
    const connection = this.#host.connection();
    let count = 0;
    for (const envelopes of outbox.values()) count += envelopes.length;
    if (connection === undefined) {
      this.#dropped += count;
      return;
    }
    const pipeline = connection.pipeline();
    for (const [channel, envelopes] of outbox) {
      for (let start = 0; start < envelopes.length; start += MAX_BATCH) {
        const q = (this.#sequence.get(channel) ?? 0) + 1;
        this.#sequence.set(channel, q);
        const e = envelopes.slice(start, start + MAX_BATCH);
        pipeline.publish(channel, encodePayload({ o: this.#host.node, q, e }));
      }
    }
    pipeline.exec().catch((error) => {
      this.#dropped += count; // may have gone out; counted as possibly missed
      this.#host.failed(error);
    });
  }

  /** A payload arrived on `channel`. */
  receive(channel: string, text: string): void {
    let payload;
    try {
      payload = decodePayload(text);
    } catch {
      return; // not ours: another program publishing under our prefix
    }
    const host = this.#host;
    if (payload.o === host.node) return; // delivered here already, when published
    if (payload.o !== "" && payload.q !== undefined && host.listening(channel)) {
      let origins = this.#seen.get(channel);
      if (!origins) this.#seen.set(channel, origins = new Map());
      const last = origins.get(payload.o);
      if (last !== undefined && payload.q > last + 1) host.missed(payload.q - last - 1);
      origins.set(payload.o, payload.q);
    }
    for (const envelope of payload.e) host.deliver(envelope);
  }

  /** This node stopped listening on `channel` (and publishing to it, for a room). */
  forget(channel: string): void {
    this.#seen.delete(channel);
    this.#sequence.delete(channel);
  }

  /** Envelopes that could not be sent since the last call; resets the count. */
  takeDropped(): number {
    const dropped = this.#dropped;
    this.#dropped = 0;
    return dropped;
  }
}
