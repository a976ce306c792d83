// JSON too costly to parse for its size: many keys or long arrays of empty
// objects in a large message, where a file (the one large thing a client
// sends) is a few fields and one long base64 string.

/** JSON messages longer than this must be files: a few fields and one long base64 string. */
const LARGE_MESSAGE = 64 * 1024;
/** Structure in a large message: a file request has a few dozen marks; 125,000 keys have 500,000. */
const MAX_LARGE_STRUCTURE = 256;

/**
 * True for a JSON text over 64 KiB with more structure than a file request
 * has: parse it and it would cost far more than its bytes suggest. Base64 has
 * no quote, brace, bracket, comma or colon, so counting them finds such texts
 * before parsing.
 */
export function tooStructured(json: string): boolean {
  if (json.length <= LARGE_MESSAGE) return false;
  let marks = 0;
  for (let i = 0; i < json.length; i++) {
    switch (json.charCodeAt(i)) {
      case 0x22: // "
      case 0x2c: // ,
      case 0x3a: // :
      case 0x5b: // [
      case 0x7b: // {
        if (++marks > MAX_LARGE_STRUCTURE) return true;
    }
  }
  return false;
}
