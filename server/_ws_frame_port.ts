// The core's Port for a WebSocket whose socket the server writes itself (the
// node:http server's `ws` sockets): the core queues whole frames, and a
// connection writes everything one pass of the event loop queued for it in one
// write, whether the messages came in a burst or one at a time.

import type { WSContext } from "hono/ws";
import type { OutboundQueue, Port } from "../core/mod.ts";
import { joinWebSocketFrames } from "../core/websocket_frame.ts";
import { flushSoon } from "./_flush_soon.ts";
import { closeReason, type FrameWriter } from "./_ws_frames.ts";

/** Bytes a socket may hold unsent before the core's queue keeps the backlog. */
const SOCKET_HIGH_WATER_BYTES = 1024 * 1024;

/**
 * A {@link Port} writing `writer`'s socket; `ws` closes it (the close frame
 * goes out after every data frame queued before it).
 */
export function framePort(
  ws: WSContext,
  writer: FrameWriter,
  onBroken: () => void,
): Port & { dispose(): void } {
  let queue: OutboundQueue | undefined;
  let scheduled = false;
  let congested = false;
  const write = () => {
    if (!queue || queue.length === 0 || congested) return;
    // A peer that stops reading: the backlog stays in the core's queue, where it
    // counts against the slow-consumer limit, until the socket drains.
    if (writer.buffered > SOCKET_HIGH_WATER_BYTES) {
      congested = true;
      writer.onDrain(drained);
      return;
    }
    const bytes = queue.bytes;
    try {
      writer.write(joinWebSocketFrames(queue.take(), bytes, queue.batchText));
    } catch {
      onBroken();
    }
  };
  // Bound once per connection so the per-message path allocates nothing.
  const flush = () => {
    scheduled = false;
    write();
  };
  const drained = () => {
    congested = false;
    write();
  };
  return {
    framing: "websocket",
    wake(pending) {
      queue = pending;
      if (scheduled || congested) return;
      scheduled = true;
      flushSoon(flush);
    },
    close(code, reason) {
      // After any write already scheduled, so the last notice goes out first.
      queueMicrotask(() => {
        congested = false;
        write();
        queue = undefined;
        try {
          ws.close(code, closeReason(reason));
        } catch { /* already closed */ }
      });
    },
    dispose() {
      queue = undefined;
    },
  };
}
