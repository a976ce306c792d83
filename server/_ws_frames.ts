// Outgoing WebSocket data frames, written by the server itself rather than by
// `ws`, which sends each message as its own two writes with objects around
// them. Here a connection gathers what it sends in one turn (a writer
// draining its queue) and writes it at the end of the turn: small frames
// copied into one buffer, anything larger with its payloads uncopied. Control frames
// (ping, pong, close) stay with `ws`, on the same socket, in order.

import { Buffer } from "node:buffer";
import type { Socket } from "node:net";

const TEXT = 0x81; // FIN + opcode 1
const BINARY = 0x82; // FIN + opcode 2

// A broadcast sends one string to many sockets in a row: encode it once.
let lastText: string | undefined;
let lastBytes: Uint8Array = new Uint8Array(0);
function textBytes(text: string): Uint8Array {
  if (text !== lastText) {
    lastText = text;
    lastBytes = Buffer.from(text, "utf8");
  }
  return lastBytes;
}

/** Turns whose frames add up to more are written without copying the payloads. */
const MAX_COPY_BYTES = 64 * 1024;

function headerBytes(length: number): number {
  return length < 126 ? 2 : length < 65536 ? 4 : 10;
}

// RFC 6455 5.2, from a server: FIN and opcode, then the length in 7, 7+16 or
// 7+64 bits, and no mask.
function writeHeader(out: Uint8Array, at: number, first: number, length: number): number {
  out[at] = first;
  if (length < 126) {
    out[at + 1] = length;
    return at + 2;
  }
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  if (length < 65536) {
    out[at + 1] = 126;
    view.setUint16(at + 2, length);
    return at + 4;
  }
  out[at + 1] = 127;
  view.setBigUint64(at + 2, BigInt(length));
  return at + 10;
}

/** The frames one connection sends, gathered for one turn. */
export class FrameWriter {
  #socket: Socket;
  #open: () => boolean;
  #firsts: number[] = [];
  #payloads: Uint8Array[] = [];
  #bytes = 0;
  #flush = () => this.flush();

  /**
   * @param socket The upgraded connection.
   * @param open Whether data frames may still go out (no close frame sent yet).
   */
  constructor(socket: Socket, open: () => boolean) {
    this.#socket = socket;
    this.#open = open;
  }

  /** Queues one message as a text (string) or binary frame, for the end of this turn. */
  send(data: string | Uint8Array | ArrayBuffer): void {
    if (this.#firsts.length === 0) queueMicrotask(this.#flush);
    const payload = typeof data === "string"
      ? textBytes(data)
      : data instanceof ArrayBuffer
      ? new Uint8Array(data)
      : data;
    this.#firsts.push(typeof data === "string" ? TEXT : BINARY);
    this.#payloads.push(payload);
    this.#bytes += headerBytes(payload.length) + payload.length;
  }

  /** Writes what was gathered now (before a close frame, say). */
  flush(): void {
    const firsts = this.#firsts;
    const payloads = this.#payloads;
    const bytes = this.#bytes;
    if (firsts.length === 0) return;
    this.#firsts = [];
    this.#payloads = [];
    this.#bytes = 0;
    const socket = this.#socket;
    if (!this.#open() || socket.destroyed) return;
    if (firsts.length > 1 && bytes <= MAX_COPY_BYTES) {
      // Small frames: copied into one buffer, one write.
      const out = Buffer.allocUnsafe(bytes);
      let at = 0;
      for (let i = 0; i < firsts.length; i++) {
        const payload = payloads[i]!;
        at = writeHeader(out, at, firsts[i]!, payload.length);
        out.set(payload, at);
        at += payload.length;
      }
      socket.write(out);
      return;
    }
    // One frame, or a backlog too big to copy: each payload as it is, one writev.
    socket.cork();
    for (let i = 0; i < firsts.length; i++) {
      const payload = payloads[i]!;
      const header = Buffer.allocUnsafe(headerBytes(payload.length));
      writeHeader(header, 0, firsts[i]!, payload.length);
      socket.write(header);
      socket.write(payload);
    }
    socket.uncork();
  }
}
