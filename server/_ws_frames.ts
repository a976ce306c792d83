// Writing WebSocket data frames straight to the upgraded socket, rather than
// through `ws`, which sends each message as its own two writes with objects
// around them. The core queues whole frames, made once per event however many
// receive it (WireFormat.WebSocketFrame); a connection writes what queued up in
// one pass of the event loop with one write. Control frames (ping, pong,
// close) stay with `ws`, on the same socket, in order.

import type { Socket } from "node:net";
import { webSocketBinaryFrame, webSocketTextFrame } from "../core/websocket_frame.ts";

/** The socket under one WebSocket, for whole frames. */
export class FrameWriter {
  #socket: Socket;
  #open: () => boolean;

  /**
   * @param socket The upgraded connection.
   * @param open Whether data frames may still go out (no close frame sent yet).
   */
  constructor(socket: Socket, open: () => boolean) {
    this.#socket = socket;
    this.#open = open;
  }

  /** Bytes written and not yet taken by the operating system. */
  get buffered(): number {
    return this.#socket.writableLength;
  }

  /** Writes whole frames now, unless the connection is closing. */
  write(frames: Uint8Array): void {
    if (!this.#open() || this.#socket.destroyed) return;
    this.#socket.write(frames);
  }

  /** Sends one message as a text (string) or binary frame. */
  send(data: string | Uint8Array | ArrayBuffer): void {
    this.write(
      typeof data === "string"
        ? webSocketTextFrame(data)
        : webSocketBinaryFrame(data instanceof ArrayBuffer ? new Uint8Array(data) : data),
    );
  }

  /** Calls `listener` once the socket has written everything it buffered. */
  onDrain(listener: () => void): void {
    this.#socket.once("drain", listener);
  }
}

/** A close reason cut to the 123 bytes a close frame has room for. */
export function closeReason(reason: string): string {
  const bytes = new TextEncoder().encode(reason);
  return bytes.length <= 123 ? reason : new TextDecoder().decode(bytes.subarray(0, 120)) + "...";
}

// The writer under each `ws` socket the hub opened, for the app's port to find.
const writers = new WeakMap<object, FrameWriter>();

/** Records that frames for `raw` (a `ws` WebSocket) may go straight to `writer`. */
export function registerFrameWriter(raw: object, writer: FrameWriter): void {
  writers.set(raw, writer);
}

/** The writer for `raw` (a WSContext's raw socket), when the server owns its bytes. */
export function frameWriterOf(raw: unknown): FrameWriter | undefined {
  return typeof raw === "object" && raw !== null ? writers.get(raw) : undefined;
}
