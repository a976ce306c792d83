// deno-lint-ignore-file no-control-regex -- stripping control characters is the point of this file
// Text that reaches a terminal must not be able to move, clear or recolour it, nor reorder or
// hide what it shows.

// CSI, OSC, DCS/SOS/PM/APC strings, two-byte escapes, and the 8-bit CSI.
const ANSI_SEQUENCE =
  /\x1b\[[0-?]*[ -/]*[@-~]?|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[PX^_][^\x1b]*(?:\x1b\\)?|\x1b[ -~]?|\x9b[0-?]*[ -/]*[@-~]?/g;
// C0 (but tab and newline), DEL, C1; the bidi marks ALM, LRM and RLM, and the overrides and
// isolates that reorder what follows; the zero-width space, word joiner, invisible operators and
// the deprecated format controls U+206A-U+206F; the BOM (zero-width no-break space); the
// interlinear annotation controls, which can hide text.
const CONTROL_CHARS =
  /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b\u200e\u200f\u202a-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]/g;
// Line and paragraph separators end a line like "\n".
const LINE_SEPARATORS = /[\u2028\u2029]/g;
// Anything above, tab and newline included: one test keeps clean text on the fast path.
const NEEDS_CLEANING =
  /[\x00-\x1f\x7f-\x9f\u061c\u200b\u200e\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]/;

/**
 * Removes ANSI escape sequences, control characters, bidi marks, overrides and isolates, and
 * invisible format characters (U+200B, U+2060-U+206F, U+FEFF, U+FFF9-U+FFFB). Tabs become
 * spaces; newlines (and U+2028, U+2029) stay as `"\n"` only when `multiline` is set, else
 * become spaces. Joiners (ZWJ, ZWNJ) and variation selectors stay: emoji and some scripts
 * need them.
 *
 * @param text Text from a peer.
 * @param multiline Whether to keep line breaks.
 * @returns The text, safe to print.
 */
export function cleanText(text: string, multiline = false): string {
  // Fast path: most chat text has nothing to strip.
  if (!NEEDS_CLEANING.test(text)) return text;
  const cleaned = text.replace(ANSI_SEQUENCE, "").replace(/\t/g, " ")
    .replace(LINE_SEPARATORS, "\n").replace(CONTROL_CHARS, "");
  return multiline ? cleaned : cleaned.replace(/\n/g, " ");
}

const IGNORABLE = /\p{Default_Ignorable_Code_Point}/u;
const IGNORABLES = /\p{Default_Ignorable_Code_Point}/gu;

/**
 * Removes every Default_Ignorable_Code_Point, for terminals that draw them as boxes or
 * spaces, or not at all: ZWJ, ZWNJ, variation selectors, the soft hyphen, the combining
 * grapheme joiner, the Hangul fillers, tag characters, bidi marks. Emoji sequences fall
 * apart into their pieces. Apply it after {@link cleanText}; it does not remove controls.
 *
 * @param text Text to print on a terminal.
 * @returns The text without default-ignorable characters.
 */
export function terminalSafe(text: string): string {
  return IGNORABLE.test(text) ? text.replace(IGNORABLES, "") : text;
}
