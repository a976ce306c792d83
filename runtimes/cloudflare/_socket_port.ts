// The core's Port for one hibernatable WebSocket: what the relay queues goes
// out in one pass (a microtask after it queued, so a broadcast finishes first),
// a message a send(). Workers have no bufferedAmount: the runtime buffers what
// a slow peer has not read, and the relay's queue is always drained.

import type { OutboundQueue, Port } from "../../core/mod.ts";
import { closeReason } from "../../server/_ws_frames.ts";

/** A {@link Port} and how to stop using it once its socket is gone. */
export interface SocketPort extends Port {
  /** Forgets the queue; nothing more is written. */
  dispose(): void;
}

/**
 * Adapts a Workers WebSocket to the core's {@link Port}.
 *
 * @param ws The server end of the socket.
 * @param onBroken Called when a send throws: the socket is gone.
 */
export function socketPort(ws: WebSocket, onBroken: () => void): SocketPort {
  let queue: OutboundQueue | undefined;
  let scheduled = false;
  const write = () => {
    scheduled = false;
    if (!queue || queue.length === 0) return;
    try {
      for (const message of queue.takeMessages()) ws.send(message);
    } catch {
      queue = undefined;
      onBroken();
    }
  };
  return {
    framing: "frames",
    wake(pending) {
      queue = pending;
      if (scheduled) return;
      scheduled = true;
      queueMicrotask(write);
    },
    close(code, reason) {
      // After any write already scheduled, so the last notice goes out first.
      queueMicrotask(() => {
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
