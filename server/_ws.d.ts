// The part of npm `ws` (8.x) the server uses, typed against Deno's own
// `node:` types. `@types/ws` would bring a second copy of `@types/node`, whose
// IncomingMessage and Duplex are not the ones `node:http` gives us.

import type { Buffer } from "node:buffer";
import type { EventEmitter } from "node:events";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";

/** One server-side WebSocket connection. */
export declare class WebSocket extends EventEmitter {
  static readonly CONNECTING: 0;
  static readonly OPEN: 1;
  static readonly CLOSING: 2;
  static readonly CLOSED: 3;
  /** Bytes handed to `send()` that are not on the wire yet. */
  readonly bufferedAmount: number;
  readonly protocol: string;
  readonly readyState: 0 | 1 | 2 | 3;
  binaryType: "nodebuffer" | "arraybuffer" | "fragments";
  send(
    data: string | Uint8Array,
    options?: { binary?: boolean; compress?: boolean; fin?: boolean },
    callback?: (error?: Error) => void,
  ): void;
  ping(data?: Uint8Array, mask?: boolean, callback?: (error?: Error) => void): void;
  close(code?: number, reason?: string | Uint8Array): void;
  terminate(): void;
  pause(): void;
  resume(): void;
  on(event: "message", listener: (data: Buffer, isBinary: boolean) => void): this;
  on(event: "close", listener: (code: number, reason: Buffer) => void): this;
  on(event: "error", listener: (error: Error) => void): this;
  on(event: "pong" | "ping", listener: (data: Buffer) => void): this;
}

/** Options of `new WebSocketServer()` that the server sets. */
export interface ServerOptions {
  noServer: true;
  /** Largest message, and largest frame, accepted; more closes with 1009 at the header. */
  maxPayload: number;
  perMessageDeflate: false;
  clientTracking: boolean;
  /** How long to wait for the peer's close frame before destroying the socket. */
  closeTimeout?: number;
  skipUTF8Validation?: boolean;
  allowSynchronousEvents?: boolean;
  autoPong?: boolean;
  maxPendingAutoPongs?: number;
  maxBufferedChunks?: number;
  maxFragments?: number;
}

/** Completes WebSocket handshakes on sockets the HTTP server hands over. */
export declare class WebSocketServer extends EventEmitter {
  constructor(options: ServerOptions);
  handleUpgrade(
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    callback: (ws: WebSocket, request: IncomingMessage) => void,
  ): void;
  close(callback?: (error?: Error) => void): void;
}
