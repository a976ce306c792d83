/**
 * The seam between the client and a connection, which each transport fills.
 *
 * @module
 */

/**
 * What a transport delivers to the client.
 *
 * @example A receiver that collects what arrives
 * ```ts
 * import type { TransportReceiver } from "@crosswire/relay/client";
 * const texts: string[] = [];
 * const receiver: TransportReceiver = {
 *   text: (data) => void texts.push(data),
 *   binary: () => {},
 *   closed: () => {},
 * };
 * receiver.text('{"type":"pong","ts":1}');
 * if (texts.length !== 1) throw new Error("not received");
 * ```
 */
export interface TransportReceiver {
  /** A JSON text message (a WebSocket text frame or one TCP line). */
  text(data: string): void;
  /** A binary WebSocket frame. */
  binary(data: Uint8Array): void;
  /** The connection ended. Called once. */
  closed(code: number, reason: string): void;
}

/**
 * The seam between the client and a connection: send text or bytes, close,
 * and hand what arrives to a receiver. Transports stay thin; the client decides.
 *
 * @example A transport that records what it sends
 * ```ts
 * import type { Transport, TransportReceiver } from "@crosswire/relay/client";
 * const sent: (string | Uint8Array)[] = [];
 * let receiver: TransportReceiver | undefined;
 * const transport: Transport = {
 *   binaryFrames: false,
 *   start: (r) => void (receiver = r),
 *   send: (data) => void sent.push(data),
 *   close: () => receiver?.closed(1000, ""),
 * };
 * transport.send('{"type":"ping"}');
 * if (sent.length !== 1) throw new Error("not sent");
 * ```
 */
export interface Transport {
  /** True when files can go as binary frames; false sends them as base64 JSON. */
  readonly binaryFrames: boolean;
  /** Starts delivering to `receiver`, including anything that arrived before. Called once. */
  start(receiver: TransportReceiver): void;
  /** Sends one JSON text message, or a binary frame when {@link binaryFrames} is true. */
  send(data: string | Uint8Array<ArrayBuffer>): void;
  /** Closes after what was sent is written; the receiver's `closed` follows. */
  close(): void;
}
