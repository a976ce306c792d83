// Characters that draw nothing: every Default_Ignorable_Code_Point (zero-width spaces and
// joiners, bidi marks, variation selectors, the combining grapheme joiner, the soft hyphen, the
// Hangul fillers U+115F, U+1160, U+3164 and U+FFA0, tag characters...) and the one other that
// fonts draw blank, the Braille pattern blank U+2800.

/** Matches one invisible or blank character. */
export const INVISIBLE: RegExp = /[\p{Default_Ignorable_Code_Point}\u2800]/u;

/** Matches every invisible or blank character, for `replace`. */
export const INVISIBLES: RegExp = /[\p{Default_Ignorable_Code_Point}\u2800]/gu;
