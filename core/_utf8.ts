// UTF-8 sizes of strings without encoding them.

/** Bytes `text` takes as UTF-8. */
export function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) continue;
    if (code < 0x800) bytes += 1;
    else if (code >= 0xd800 && code <= 0xdbff) i++, bytes += 2; // surrogate pair: 4 bytes for 2 units
    else bytes += 2;
  }
  return bytes;
}

/** True when `text` is over `max` bytes as UTF-8; cheap when the length alone decides. */
export function overUtf8Limit(text: string, max: number): boolean {
  if (text.length > max) return true;
  return text.length * 3 > max && utf8Length(text) > max;
}
