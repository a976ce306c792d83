// Server-to-client WebSocket frames (RFC 6455 section 5.2) made once per event:
// FIN, the opcode, the payload length in 7, 7+16 or 7+64 bits, no mask, then
// the payload. A transport that owns its socket writes them as they are.

import { joinedBefore, remember } from "./_same_frames.ts";
import { outputBuffer } from "./_slab.ts";
import { utf8Length } from "./_utf8.ts";
import type { Frame } from "./outgoing.ts";

const TEXT = 0x81; // FIN + opcode 1
const BINARY = 0x82; // FIN + opcode 2
/** Largest batched text frame's payload, in bytes (a single larger message still goes alone). */
const MAX_BATCH_BYTES = 256 * 1024;
const NEWLINE = 0x0a;

const encoder = new TextEncoder();

function headerLength(payloadLength: number): number {
  return payloadLength < 126 ? 2 : payloadLength < 65536 ? 4 : 10;
}

function writeHeader(out: Uint8Array, first: number, length: number): number {
  out[0] = first;
  if (length < 126) {
    out[1] = length;
    return 2;
  }
  if (length < 65536) {
    out[1] = 126;
    out[2] = length >>> 8;
    out[3] = length & 0xff;
    return 4;
  }
  out[1] = 127;
  // Lengths stay far below 2^53: the high bytes of the 64 bits are zero.
  const high = Math.floor(length / 0x1_0000_0000);
  out[2] =
    out[3] =
    out[4] =
    out[5] =
      0;
  out[4] = (high >>> 8) & 0xff;
  out[5] = high & 0xff;
  out[6] = length >>> 24;
  out[7] = (length >>> 16) & 0xff;
  out[8] = (length >>> 8) & 0xff;
  out[9] = length & 0xff;
  return 10;
}

/** A whole text frame carrying `text`. */
export function webSocketTextFrame(text: string): Uint8Array<ArrayBuffer> {
  const length = utf8Length(text);
  const out = new Uint8Array(headerLength(length) + length);
  encoder.encodeInto(text, out.subarray(writeHeader(out, TEXT, length)));
  return out;
}

/** A whole binary frame carrying `payload` (copied). */
export function webSocketBinaryFrame(payload: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(headerLength(payload.length) + payload.length);
  out.set(payload, writeHeader(out, BINARY, payload.length));
  return out;
}

// Where a frame made above keeps its payload.
function payloadStart(frame: Uint8Array): number {
  const code = frame[1]! & 0x7f;
  return code < 126 ? 2 : code === 126 ? 4 : 10;
}

/**
 * Everything in `frames` (each a whole frame from this file) as one buffer for
 * one write. With `batchText`, each run of text frames becomes one text frame
 * whose payloads are joined by "\n", up to 256 KiB a frame; binary frames stay
 * alone. `bytes` is the frames' total size.
 */
export function joinWebSocketFrames(
  frames: readonly Frame[],
  bytes: number,
  batchText: boolean,
): Uint8Array<ArrayBuffer> {
  if (frames.length === 1) return frames[0]!.data as Uint8Array<ArrayBuffer>;
  const kind = batchText ? "ws-batch" : "ws";
  return joinedBefore(frames, kind) ?? remember(frames, kind, join(frames, bytes, batchText));
}

function join(
  frames: readonly Frame[],
  bytes: number,
  batchText: boolean,
): Uint8Array<ArrayBuffer> {
  if (!batchText) {
    const out = outputBuffer(bytes);
    let at = 0;
    for (let i = 0; i < frames.length; i++) {
      const data = frames[i]!.data as Uint8Array;
      out.set(data, at);
      at += data.length;
    }
    return out;
  }
  // A run of n frames loses n headers of 2 or more bytes, gains one of at most 10
  // and n-1 newlines: never more than 8 bytes a frame over the frames' own size.
  const out = outputBuffer(bytes + 8 * frames.length);
  let at = 0;
  let i = 0;
  while (i < frames.length) {
    const first = frames[i]!.data as Uint8Array;
    if (first[0] !== TEXT) {
      out.set(first, at);
      at += first.length;
      i++;
      continue;
    }
    // The run: text frames while their joined payloads fit in one batch.
    let end = i;
    let payload = -1;
    while (end < frames.length) {
      const data = frames[end]!.data as Uint8Array;
      if (data[0] !== TEXT) break;
      const next = payload + 1 + data.length - payloadStart(data);
      if (end > i && next > MAX_BATCH_BYTES) break;
      payload = next;
      end++;
    }
    let to = at + writeHeader(out.subarray(at), TEXT, payload);
    for (let j = i; j < end; j++) {
      const data = frames[j]!.data as Uint8Array;
      if (j > i) out[to++] = NEWLINE;
      const start = payloadStart(data);
      out.set(data.subarray(start), to);
      to += data.length - start;
    }
    at = to;
    i = end;
  }
  return out.subarray(0, at);
}
