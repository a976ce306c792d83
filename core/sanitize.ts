// deno-lint-ignore-file no-control-regex -- stripping control characters is the point of this file
// Text that reaches a terminal must not be able to move, clear or recolour it.

// CSI, OSC, DCS/SOS/PM/APC strings, two-byte escapes, and the 8-bit CSI.
const ANSI_SEQUENCE =
  /\x1b\[[0-?]*[ -/]*[@-~]?|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[PX^_][^\x1b]*(?:\x1b\\)?|\x1b[ -~]?|\x9b[0-?]*[ -/]*[@-~]?/g;
// C0 (but tab and newline), DEL, C1, and the bidi overrides that reorder what follows.
const CONTROL_CHARS = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Removes ANSI escape sequences and control characters. Tabs become spaces;
 * newlines stay only when `multiline` is set.
 */
export function cleanText(text: string, multiline = false): string {
  // Fast path: most chat text has nothing to strip.
  if (!/[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/.test(text)) return text;
  const cleaned = text.replace(ANSI_SEQUENCE, "").replace(/\t/g, " ").replace(CONTROL_CHARS, "");
  return multiline ? cleaned : cleaned.replace(/\n/g, " ");
}
