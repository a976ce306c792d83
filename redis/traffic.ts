// What crosses between nodes: outgoing envelopes gathered per channel and sent
// once per event-loop turn (one PUBLISH per channel, every channel in one
// pipeline), each payload numbered per channel so a receiver can count what
// it missed; kept messages gathered per stream and appended (and published)
// by one script call per stream per turn; moderation rulings kept and
// published by one script call per run of them; and incoming payloads checked
// for gaps and handed on.

import type { Redis } from "ioredis";
import type { Envelope, Recorded, Ruling } from "../core/mod.ts";
import { readRuling } from "../core/_rulings.ts";
import { decodePayload, encodeEnvelope, encodePayload, ruledFields } from "./codec.ts";

/** Largest number of envelopes in one PUBLISH (or one append). */
const MAX_BATCH = 256;

/** What {@link Traffic} tells its engine. */
export interface TrafficHost {
  /** This node's id: its own payloads are skipped when they come back. */
  readonly node: string;
  /** The key and channel prefix. */
  readonly prefix: string;
  /** What each stream keeps: messages, age in ms, bytes. */
  history(): { size: number; ttlMs: number; bytes: number };
  /** Messages `stream` keeps (a room's rules may say other than `history().size`). */
  historySize(stream: string): number;
  /** The command connection to publish on, when the link is up; undefined while it is down. */
  connection(): Redis | undefined;
  /** Whether this node still listens on `channel` (gaps count only there). */
  listening(channel: string): boolean;
  /** An envelope from another node (or a kept message of this one's, positioned). */
  deliver(envelope: Envelope): void;
  /** A ruling from another node, checked. */
  ruled(ruling: Ruling): void;
  /** Rulings of this node's that may not have been kept and sent (the link failed). */
  unruled(rulings: Ruling[]): void;
  /** One batch (one pipeline) was acknowledged by Redis after `seconds`. */
  published(seconds: number): void;
  /** Kept messages that could not be kept: this node delivers them, unpositioned. */
  unkept(envelopes: Recorded[]): void;
  /** A session parked here was resumed on another node. */
  resumedElsewhere(session: string): void;
  /** `count` payload's envelopes from another node never arrived here. */
  missed(count: number): void;
  /** Publishing failed: the link is in trouble. */
  failed(error: unknown): void;
}

type Batch =
  | { kind: "publish"; channel: string; envelopes: Envelope[] }
  | { kind: "record"; stream: string; channel: string; envelopes: Recorded[] }
  | { kind: "rule"; channel: string; rulings: Ruling[] };

type ScriptPipeline = {
  cwAppend(...args: (string | number)[]): unknown;
  cwRule(...args: (string | number)[]): unknown;
};

/** One node's pub/sub traffic. */
export class Traffic {
  #host: TrafficHost;
  // Everything sent this turn, in order; a batch grows while the same channel (or stream) follows.
  #outbox: Batch[] = [];
  #open = new Map<string, Batch>();
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
    const open = this.#open.get(channel);
    if (open?.kind === "publish" && open.envelopes.length < MAX_BATCH) {
      open.envelopes.push(envelope);
    } else {
      this.#queue(channel, { kind: "publish", channel, envelopes: [envelope] });
    }
  }

  /**
   * Queues a message to keep in `stream` and publish on `channel`; the
   * positioned message comes back through {@link receive}, to this node too.
   */
  record(stream: string, channel: string, envelope: Recorded): void {
    const open = this.#open.get(channel);
    if (open?.kind === "record" && open.stream === stream && open.envelopes.length < MAX_BATCH) {
      open.envelopes.push(envelope);
    } else {
      this.#queue(channel, { kind: "record", stream, channel, envelopes: [envelope] });
    }
  }

  /**
   * Queues a ruling for `channel`: kept in Redis (a kick is not) and
   * published to the other nodes by one script, with the rulings next to it.
   */
  rule(channel: string, ruling: Ruling): void {
    if (this.#host.connection() === undefined) return this.#host.unruled([ruling]);
    const open = this.#open.get(channel);
    if (open?.kind === "rule" && open.rulings.length < MAX_BATCH) {
      open.rulings.push(ruling);
    } else {
      this.#queue(channel, { kind: "rule", channel, rulings: [ruling] });
    }
  }

  #queue(channel: string, batch: Batch): void {
    // A new batch for a channel closes any other open one for it, keeping the order.
    this.#outbox.push(batch);
    this.#open.set(channel, batch);
    if (!this.#flushing) {
      this.#flushing = true;
      queueMicrotask(() => this.flush());
    }
  }

  /** Sends what is queued now (the engine also calls it before it leaves). */
  flush(): void {
    this.#flushing = false;
    if (this.#outbox.length === 0) return;
    const outbox = this.#outbox;
    this.#outbox = [];
    this.#open.clear();
    const host = this.#host;
    const connection = host.connection();
    const unkept: Recorded[] = [];
    const unruled: Ruling[] = [];
    let count = 0;
    for (const batch of outbox) {
      if (batch.kind === "publish") count += batch.envelopes.length;
      else if (connection !== undefined) continue;
      else if (batch.kind === "rule") unruled.push(...batch.rulings);
      else unkept.push(...batch.envelopes);
    }
    if (connection === undefined) {
      this.#dropped += count + unkept.length;
      if (unkept.length > 0) host.unkept(unkept);
      if (unruled.length > 0) host.unruled(unruled);
      return;
    }
    const pipeline = connection.pipeline();
    const scripts = pipeline as unknown as ScriptPipeline;
    const { ttlMs, bytes } = host.history();
    const now = Date.now();
    for (const batch of outbox) {
      if (batch.kind === "publish" || batch.kind === "rule") {
        const q = (this.#sequence.get(batch.channel) ?? 0) + 1;
        this.#sequence.set(batch.channel, q);
        if (batch.kind === "publish") {
          pipeline.publish(batch.channel, encodePayload({ o: host.node, q, e: batch.envelopes }));
        } else {
          const payload = JSON.stringify({ o: host.node, q, e: [], u: batch.rulings });
          scripts.cwRule(host.prefix, batch.channel, payload, ...ruledFields(batch.rulings, now));
        }
        continue;
      }
      const args: (string | number)[] = [];
      for (const envelope of batch.envelopes) {
        const event = envelope.event;
        args.push(encodeEnvelope(envelope), 128 + (event.data?.length ?? event.text?.length ?? 0));
      }
      scripts.cwAppend(
        host.prefix,
        batch.stream,
        batch.channel,
        host.node,
        host.historySize(batch.stream),
        ttlMs,
        bytes,
        ...args,
      );
    }
    const sent = performance.now();
    pipeline.exec().then((results) => {
      host.published((performance.now() - sent) / 1000);
      // A kept message whose script failed reaches this node's users at least.
      outbox.forEach((batch, i) => {
        const failed = results?.[i]?.[0];
        if (batch.kind === "record" && failed) unkept.push(...batch.envelopes);
        if (batch.kind === "rule" && failed) unruled.push(...batch.rulings);
      });
      if (unkept.length > 0) host.unkept(unkept);
      if (unruled.length > 0) host.unruled(unruled);
      if (unkept.length > 0 || unruled.length > 0) {
        host.failed(results?.find(([error]) => error)?.[0]);
      }
    }, (error) => {
      this.#dropped += count; // may have gone out; counted as possibly missed
      for (const batch of outbox) {
        if (batch.kind === "record") unkept.push(...batch.envelopes);
        if (batch.kind === "rule") unruled.push(...batch.rulings);
      }
      if (unkept.length > 0) host.unkept(unkept);
      if (unruled.length > 0) host.unruled(unruled);
      host.failed(error);
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
    if (payload.r !== undefined) return host.resumedElsewhere(payload.r);
    // Kept messages come back to their own node too: every node delivers them in stream order.
    if (payload.o === host.node && payload.f === undefined) return; // delivered here when published
    if (payload.o !== "" && payload.q !== undefined && host.listening(channel)) {
      let origins = this.#seen.get(channel);
      if (!origins) this.#seen.set(channel, origins = new Map());
      const last = origins.get(payload.o);
      if (last !== undefined && payload.q > last + 1) host.missed(payload.q - last - 1);
      origins.set(payload.o, payload.q);
    }
    if (Array.isArray(payload.u)) {
      for (const raw of payload.u) {
        const ruling = readRuling(raw);
        if (ruling) host.ruled(ruling);
      }
    }
    for (const envelope of payload.e) host.deliver(envelope);
  }

  /** This node stopped listening on `channel` (and publishing to it, for a room). */
  forget(channel: string): void {
    this.#seen.delete(channel);
    this.#sequence.delete(channel);
  }

  /** Counts a message that could not be sent (Redis is away). */
  lose(): void {
    this.#dropped++;
  }

  /** Envelopes that could not be sent since the last call; resets the count. */
  takeDropped(): number {
    const dropped = this.#dropped;
    this.#dropped = 0;
    return dropped;
  }
}
