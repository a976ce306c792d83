// The binary frame layout of docs/PROTOCOL.md, written from the document and
// not imported from core, so the suite checks the wire and not the code:
// 0x01, a big-endian u16 header length, a UTF-8 JSON header, the payload.

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** Frames `payload` with a JSON header, as a client sends a file. */
export function binaryFrame(header: object, payload: Uint8Array): Uint8Array<ArrayBuffer> {
  const head = encoder.encode(JSON.stringify(header));
  const frame = new Uint8Array(3 + head.length + payload.length);
  frame[0] = 1;
  frame[1] = head.length >> 8;
  frame[2] = head.length & 0xff;
  frame.set(head, 3);
  frame.set(payload, 3 + head.length);
  return frame;
}

/** A binary frame from the server, split; throws with what is wrong with its layout. */
export function splitBinaryFrame(
  frame: Uint8Array,
): { header: Record<string, unknown>; payload: Uint8Array } {
  if (frame.length < 3 || frame[0] !== 1) {
    throw new Error(`a binary frame must start with 0x01, got [${frame.subarray(0, 3)}]`);
  }
  const length = (frame[1]! << 8) | frame[2]!;
  if (3 + length > frame.length) {
    throw new Error(`a binary frame's header length ${length} is past its end (${frame.length})`);
  }
  const header: unknown = JSON.parse(decoder.decode(frame.subarray(3, 3 + length)));
  if (typeof header !== "object" || header === null || Array.isArray(header)) {
    throw new Error(`a binary frame's header must be a JSON object, got ${JSON.stringify(header)}`);
  }
  return { header: header as Record<string, unknown>, payload: frame.subarray(3 + length) };
}

/** Bytes `0, 1, 2, ...` (mod 251, so no run repeats at a power of two), `size` of them. */
export function pattern(size: number, seed = 0): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i + seed) % 251;
  return bytes;
}

/** Base64 of `bytes`, as JSON-mode files carry them. */
export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}
