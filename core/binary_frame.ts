// Binary WebSocket frames: [version 0x01][u16 header length][UTF-8 JSON header][payload].
// The JSON header names the room (or recipient), sender, message id and file.

import { RelayError } from "./errors.ts";

/** First byte of every binary frame. */
export const BINARY_FRAME_VERSION = 1;
/** Longest JSON header accepted, in bytes. */
export const MAX_BINARY_HEADER_BYTES = 4096;

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Builds a binary frame from a JSON-serialisable header and a payload, the
 * way a client shares a file without base64.
 *
 * @param header Names the room (or `to` recipient) and `file`; optional `ref`.
 * @param payload The file bytes, copied into the frame.
 * @returns `[0x01][u16 header length][UTF-8 JSON header][payload]`.
 * @throws {RelayError} `bad_frame` when the header is over 4096 bytes as JSON.
 *
 * @example Framing a file for a room
 * ```ts
 * import { encodeBinaryFrame } from "@crosswire/relay";
 * const frame = encodeBinaryFrame({ room: "lobby" }, new Uint8Array([7, 8]));
 * const headerLength = '{"room":"lobby"}'.length;
 * if (frame[0] !== 1 || frame[2] !== headerLength || frame.length !== 3 + headerLength + 2) {
 *   throw new Error("unexpected layout");
 * }
 * ```
 */
export function encodeBinaryFrame(header: object, payload: Uint8Array): Uint8Array<ArrayBuffer> {
  const head = encoder.encode(JSON.stringify(header));
  if (head.length > MAX_BINARY_HEADER_BYTES) {
    throw new RelayError(
      "bad_frame",
      `a binary frame header may be at most ${MAX_BINARY_HEADER_BYTES} bytes`,
    );
  }
  const frame = new Uint8Array(3 + head.length + payload.length);
  frame[0] = BINARY_FRAME_VERSION;
  frame[1] = head.length >> 8;
  frame[2] = head.length & 0xff;
  frame.set(head, 3);
  frame.set(payload, 3 + head.length);
  return frame;
}

/**
 * Splits a binary frame into its parsed header object and payload (a view, not
 * a copy). Throws `bad_frame` when the layout or header is wrong.
 *
 * @param frame A whole binary WebSocket message.
 * @returns The header, still unvalidated, and the payload bytes.
 * @throws {RelayError} `bad_frame` for a wrong version byte, header length or header JSON.
 *
 * @example A round trip, and a rejected frame
 * ```ts
 * import { decodeBinaryFrame, encodeBinaryFrame, RelayError } from "@crosswire/relay";
 * const { header, payload } = decodeBinaryFrame(
 *   encodeBinaryFrame({ to: "bob" }, new Uint8Array([1, 2, 3])),
 * );
 * if (header.to !== "bob" || payload.length !== 3) throw new Error("round trip failed");
 * try {
 *   decodeBinaryFrame(new Uint8Array([2, 0, 0]));
 *   throw new Error("a wrong version byte should be rejected");
 * } catch (error) {
 *   if (!(error instanceof RelayError) || error.code !== "bad_frame") throw error;
 * }
 * ```
 */
export function decodeBinaryFrame(
  frame: Uint8Array,
): { header: Record<string, unknown>; payload: Uint8Array } {
  if (frame.length < 3 || frame[0] !== BINARY_FRAME_VERSION) {
    throw new RelayError("bad_frame", "a binary frame must start with version byte 0x01");
  }
  const headerLength = (frame[1]! << 8) | frame[2]!;
  if (headerLength > MAX_BINARY_HEADER_BYTES || 3 + headerLength > frame.length) {
    throw new RelayError("bad_frame", "the binary frame's header length is wrong");
  }
  let header: unknown;
  try {
    header = JSON.parse(decoder.decode(frame.subarray(3, 3 + headerLength)));
  } catch (cause) {
    throw new RelayError("bad_frame", "the binary frame's header is not JSON", { cause });
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) {
    throw new RelayError("bad_frame", "the binary frame's header must be a JSON object");
  }
  return { header: header as Record<string, unknown>, payload: frame.subarray(3 + headerLength) };
}
