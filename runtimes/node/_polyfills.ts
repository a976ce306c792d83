// What the core uses that Node 20 lacks: Uint8Array.fromBase64 and
// Uint8Array.prototype.toBase64 (file data in JSON frames; Node 25 has both).
// Imported first by the Node entry point, before any module that calls them.

import { Buffer } from "node:buffer";

// After ASCII whitespace is dropped: the alphabet, then at most two "=".
const BASE64 = /^([A-Za-z0-9+/]*)(={0,2})$/;

/**
 * Uint8Array.fromBase64 as the built-in does it with its default options:
 * whitespace skipped, padding optional but exact when present, anything else
 * a SyntaxError. Exported for its test.
 */
export function fromBase64(input: unknown): Uint8Array {
  if (typeof input !== "string") throw new TypeError("Uint8Array.fromBase64 expects a string");
  const match = BASE64.exec(input.replace(/[\t\n\f\r ]/g, ""));
  const body = match?.[1] ?? "";
  const padding = match?.[2] ?? "";
  const rest = body.length % 4;
  if (!match || rest === 1 || (padding.length > 0 && rest + padding.length !== 4)) {
    throw new SyntaxError("not valid base64");
  }
  // A copy: Buffer.from may hand out a slice of its shared pool.
  return new Uint8Array(Buffer.from(body, "base64"));
}

/** Uint8Array.prototype.toBase64 with its default options. Exported for its test. */
export function toBase64(this: Uint8Array): string {
  return Buffer.from(this.buffer, this.byteOffset, this.byteLength).toString("base64");
}

if (typeof (Uint8Array as { fromBase64?: unknown }).fromBase64 !== "function") {
  Object.defineProperty(Uint8Array, "fromBase64", {
    value: fromBase64,
    writable: true,
    configurable: true,
  });
}
if (typeof (Uint8Array.prototype as { toBase64?: unknown }).toBase64 !== "function") {
  Object.defineProperty(Uint8Array.prototype, "toBase64", {
    value: toBase64,
    writable: true,
    configurable: true,
  });
}
