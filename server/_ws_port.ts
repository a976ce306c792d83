// The core's Port for one WebSocket upgraded through Hono's helper (any
// runtime's WSContext). Through the runtime's WebSocket, an idle socket writes
// at once, a busy one batches what queues up, and a congested one leaves the
// backlog in the core's queue; a socket the server writes itself goes to
// _ws_frame_port.ts.

import type { WSContext } from "hono/ws";
import type { OutboundQueue, Port } from "../core/mod.ts";
import { framePort } from "./_ws_frame_port.ts";
import { closeReason, frameWriterOf } from "./_ws_frames.ts";

/** Bytes a WebSocket may hold unsent before the core's queue takes the backlog. */
const SOCKET_HIGH_WATER_BYTES = 1024 * 1024;
const CONGESTED_RETRY_MS = 20;
/** Output still buffered above which a socket batches instead of writing at once. */
const BATCH_ABOVE_BYTES = 4096;

// Sockets whose last write is still in flight wait here, all of them for one
// shared timer, so what the next messages queue goes out in one frame each.
let deferred: (() => void)[] = [];
function flushDeferred(): void {
  const flushes = deferred;
  deferred = [];
  for (const flush of flushes) flush();
}
function defer(flush: () => void): void {
  if (deferred.push(flush) === 1) setTimeout(flushDeferred, 0);
}

/**
 * Adapts one upgraded socket to the core's {@link Port}: straight to the socket
 * when the server owns its bytes (see {@link framePort}), else through the
 * runtime's WebSocket.
 */
export function websocketPort(
  ws: WSContext,
  bufferedAmount: (ws: { readonly raw?: unknown }) => number,
  onBroken: () => void,
): Port & { dispose(): void } {
  const writer = frameWriterOf(ws.raw);
  return writer ? framePort(ws, writer, onBroken) : messagePort(ws, bufferedAmount, onBroken);
}

/** A browser-style socket's `bufferedAmount` (Deno's, npm `ws`'s); 0 where there is none. */
export function standardBufferedAmount(ws: { readonly raw?: unknown }): number {
  return (ws.raw as { bufferedAmount?: number } | undefined)?.bufferedAmount ?? 0;
}

/**
 * A {@link Port} through the runtime's WebSocket, a message a `send()`. An idle
 * socket writes at once; a busy one (its last write still buffered) batches
 * what queues up.
 */
function messagePort(
  ws: WSContext,
  bufferedAmount: (ws: { readonly raw?: unknown }) => number,
  onBroken: () => void,
): Port & { dispose(): void } {
  let queue: OutboundQueue | undefined;
  let scheduled = false;
  let waiting = false;
  let retry: ReturnType<typeof setTimeout> | undefined;
  const write = (force: boolean) => {
    if (!queue || queue.length === 0) return;
    const buffered = bufferedAmount(ws);
    // A peer that stops reading: keep the backlog in the core's queue, where it
    // is counted against the slow-consumer limit, and look again shortly.
    if (buffered > SOCKET_HIGH_WATER_BYTES) {
      retry ??= setTimeout(retryWrite, CONGESTED_RETRY_MS);
      return;
    }
    if (buffered > BATCH_ABOVE_BYTES && !force) {
      if (!waiting) defer(writeDeferred);
      waiting = true;
      return;
    }
    try {
      for (const message of queue.takeMessages()) ws.send(message);
    } catch {
      onBroken();
    }
  };
  // Bound once per connection so the per-message path allocates nothing.
  const writeSoon = () => {
    scheduled = false;
    write(false);
  };
  const writeDeferred = () => {
    waiting = false;
    write(true);
  };
  const retryWrite = () => {
    retry = undefined;
    write(false);
  };
  const dispose = () => {
    clearTimeout(retry);
    retry = undefined;
    queue = undefined;
  };
  return {
    framing: "frames",
    wake(pending) {
      queue = pending;
      if (scheduled || waiting || retry !== undefined) return;
      scheduled = true;
      queueMicrotask(writeSoon);
    },
    close(code, reason) {
      // After any write already scheduled, so the last notice goes out first.
      queueMicrotask(() => {
        write(true);
        dispose(); // also cancels a congestion retry

        try {
          ws.close(code, closeReason(reason));
        } catch { /* already closed */ }
      });
    },
    dispose,
  };
}

export function messageBytes(data: unknown): Uint8Array | undefined {
  // A Node Buffer (what npm ws delivers) is a Uint8Array whose slice() is a view, not a
  // copy: the core gets a plain view of the same bytes, so no Buffer behaviour reaches it.
  if (data instanceof Uint8Array) {
    return data.constructor === Uint8Array
      ? data
      : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) {
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }
  return undefined;
}
