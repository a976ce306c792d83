// Base64 for file data in JSON mode, with fallbacks for runtimes that lack
// Uint8Array.prototype.toBase64 and Uint8Array.fromBase64 (older browsers).

/** The bytes as base64. */
export function toBase64(bytes: Uint8Array): string {
  if (typeof bytes.toBase64 === "function") return bytes.toBase64();
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/** The bytes of a base64 text; throws when it is not base64. */
export function fromBase64(text: string): Uint8Array {
  if (typeof Uint8Array.fromBase64 === "function") return Uint8Array.fromBase64(text);
  return Uint8Array.from(atob(text), (char) => char.charCodeAt(0));
}
