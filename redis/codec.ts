// Envelopes on the wire between nodes: JSON, with file bytes as base64. One
// payload carries every envelope a node had for one channel in one turn (or
// every moderation ruling: those go on the `all` channel in their own payloads).

import { type Envelope, type Ruling, rulingKey } from "../core/mod.ts";
import { inForce, isKept } from "../core/_rulings.ts";

/** What one PUBLISH carries: the origin node, its sequence on this channel, the envelopes. */
export interface Payload {
  /** Origin node id; empty for the reaper's events. */
  o: string;
  /** The origin's sequence number on this channel, counting up by one per payload. */
  q?: number;
  /** The envelopes, in the order they were published. */
  e: Envelope[];
  /** Kept messages: their stream's epoch ... */
  p?: string;
  /** ... and the first one's offset (each next one is one more). */
  f?: number;
  /** A session parked on the receiving node was resumed elsewhere. */
  r?: string;
  /** Moderation rulings, in order (unchecked here: each is checked before it is applied). */
  u?: unknown[];
}

/**
 * What the `rulings` hash gets for `rulings`, in order: each kept one's key
 * and its JSON, or '' when it lifts (a ban or mute over at `now`, a cleared
 * topic). Kicks are not kept.
 */
export function ruledFields(rulings: readonly Ruling[], now: number): string[] {
  const fields: string[] = [];
  for (const ruling of rulings) {
    if (!isKept(ruling)) continue;
    fields.push(rulingKey(ruling), inForce(ruling, now) ? JSON.stringify(ruling) : "");
  }
  return fields;
}

/** One envelope as JSON, file bytes in base64. */
export function encodeEnvelope(envelope: Envelope): string {
  if (!hasData(envelope)) return JSON.stringify(envelope);
  const event = envelope.event as { data: Uint8Array };
  return JSON.stringify({ ...envelope, event: { ...event, data: event.data.toBase64() } });
}

/** One envelope from JSON; throws on anything that is not one. */
export function decodeEnvelope(text: string): Envelope {
  const envelope = JSON.parse(text) as Envelope;
  if (typeof envelope !== "object" || envelope === null || typeof envelope.event !== "object") {
    throw new TypeError("not a crosswire envelope");
  }
  withBytes(envelope);
  return envelope;
}

function withBytes(envelope: Envelope): void {
  const event = envelope.event as { type: string; data?: unknown };
  if ((event.type === "message" || event.type === "direct") && typeof event.data === "string") {
    event.data = Uint8Array.fromBase64(event.data);
  }
}

function hasData(envelope: Envelope): boolean {
  const event = envelope.event;
  return (event.type === "message" || event.type === "direct") && event.data !== undefined;
}

/** Encodes one payload; file bytes become base64 strings. */
export function encodePayload(payload: Payload): string {
  if (!payload.e.some(hasData)) return JSON.stringify(payload);
  return JSON.stringify({
    ...payload,
    e: payload.e.map((envelope) => {
      if (!hasData(envelope)) return envelope;
      const event = envelope.event as { data: Uint8Array };
      return { ...envelope, event: { ...event, data: event.data.toBase64() } };
    }),
  });
}

/** Decodes one payload; throws on anything that is not one (the caller counts it). */
export function decodePayload(text: string): Payload {
  const payload = JSON.parse(text) as Payload;
  if (typeof payload !== "object" || payload === null || !Array.isArray(payload.e)) {
    throw new TypeError("not a crosswire payload");
  }
  const { p: epoch, f: first } = payload;
  payload.e.forEach((envelope, i) => {
    withBytes(envelope);
    if (typeof epoch === "string" && typeof first === "number") {
      const event = envelope.event as { offset?: number; epoch?: string };
      event.offset = first + i;
      event.epoch = epoch;
    }
  });
  return payload;
}
