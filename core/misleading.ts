// Which names a reader could take for someone else's. The relay refuses a name whose key
// (nameKey in names.ts) matches one online; a name that passes can still pose as someone who is
// offline now, or as a plain-ASCII name, so the page and the terminal client mark it. This file
// is bundled into the page: it uses only the small ASCII table, not the full confusables data.

import { ASCII_LOOKALIKES } from "./_lookalikes_data.ts";
import { INVISIBLE, INVISIBLES } from "./_invisible.ts";

let lookalikes: Map<number, string> | undefined;

// Non-ASCII character -> the ASCII text it looks like.
function asciiLookalikes(): Map<number, string> {
  if (lookalikes) return lookalikes;
  lookalikes = new Map();
  for (const [prototype, deltas] of Object.entries(ASCII_LOOKALIKES)) {
    let point = 0;
    for (const delta of deltas.split(" ")) {
      point += parseInt(delta, 36);
      lookalikes.set(point, prototype);
    }
  }
  return lookalikes;
}

// Scripts told apart when looking for a mix. Han, Hiragana, Katakana, Bopomofo and Hangul count
// as one ("CJK") that may mix with Latin, as UTS #39's Highly Restrictive level allows; letters of
// scripts not listed count as "another script", so two of those are not told apart.
const SCRIPTS = [
  "Latin",
  "Greek",
  "Cyrillic",
  "Armenian",
  "Georgian",
  "Cherokee",
  "Coptic",
  "Hebrew",
  "Arabic",
  "Syriac",
  "Thaana",
  "Nko",
  "Devanagari",
  "Bengali",
  "Gurmukhi",
  "Gujarati",
  "Oriya",
  "Tamil",
  "Telugu",
  "Kannada",
  "Malayalam",
  "Sinhala",
  "Thai",
  "Lao",
  "Tibetan",
  "Myanmar",
  "Khmer",
  "Ethiopic",
  "Mongolian",
  "Lisu",
  "Canadian_Aboriginal",
  "Tifinagh",
  "Vai",
];
const CJK = /[\p{sc=Han}\p{sc=Hiragana}\p{sc=Katakana}\p{sc=Bopomofo}\p{sc=Hangul}]/u;
// Characters shared by all scripts (digits, punctuation, symbols, combining marks).
const SHARED = /[\p{sc=Common}\p{sc=Inherited}]/u;
const LETTER_OR_DIGIT = /[\p{L}\p{N}]/u;
let scriptPattern: RegExp | undefined;

function scriptOf(char: string): string | undefined {
  if (SHARED.test(char)) return undefined;
  if (CJK.test(char)) return "CJK";
  scriptPattern ??= new RegExp(`^(?:${SCRIPTS.map((s) => `(\\p{sc=${s}})`).join("|")})$`, "u");
  const match = scriptPattern.exec(char);
  if (!match) return "another script";
  return SCRIPTS[match.slice(1).findIndex((group) => group !== undefined)]!.replace("_", " ");
}

/** The scripts of a name's letters, when it mixes some that UTS #39 would not allow together. */
function mixedScripts(name: string): string[] | undefined {
  const scripts = new Set<string>();
  for (const char of name) {
    const script = scriptOf(char);
    if (script !== undefined) scripts.add(script);
  }
  if (scripts.size < 2) return undefined;
  if (scripts.size === 2 && scripts.has("Latin") && scripts.has("CJK")) return undefined;
  return [...scripts];
}

/** The ASCII text a name looks like, when it uses characters that look like ASCII ones. */
function asciiLookalike(name: string): string | undefined {
  const table = asciiLookalikes();
  let looksLike = "";
  let borrowed = false;
  let letterOutside = false;
  for (const char of name.normalize("NFD")) {
    const point = char.codePointAt(0)!;
    const ascii = point < 0x80 ? char : table.get(point);
    if (ascii !== undefined) {
      borrowed ||= point >= 0x80;
      looksLike += ascii;
    } else {
      // A letter or digit with no ASCII look-alike (и, ü's diaeresis is a mark) gives it away.
      letterOutside ||= LETTER_OR_DIGIT.test(char);
      looksLike += char;
    }
  }
  return borrowed && !letterOutside ? looksLike.normalize("NFC") : undefined;
}

/**
 * Why `name` could be mistaken for another name, as a sentence for a tooltip or a note; or
 * `undefined` when it could not. A name could mislead when it
 *
 * - has invisible characters (Default_Ignorable_Code_Point or blank ones; the relay refuses
 *   those, but an older server may not);
 * - is changed by NFKC: fullwidth `ＡＮＮ`, styled `𝚊𝚗𝚗`, ligatures, superscripts;
 * - mixes scripts: letters of more than one script, except Latin with Chinese, Japanese or
 *   Korean (so `аnn`, with a Cyrillic а, mixes Cyrillic and Latin);
 * - or is made of ASCII and of non-ASCII characters that look like ASCII, with no other letter
 *   or digit to give it away: all-Cyrillic `асе` looks like `ace`, `o’brien` like `o'brien`.
 *
 * Plain-ASCII names never mislead this way (the relay's key already folds `0`/`O` and the like).
 * Only confusables whose look-alike is ASCII are known here, to keep the page small.
 *
 * @param name A user name.
 * @returns The reason, or `undefined`.
 */
export function misleadingReason(name: string): string | undefined {
  if (/^[\x20-\x7e]*$/.test(name)) return undefined;
  const reasons: string[] = [];
  let visible = name;
  if (INVISIBLE.test(name)) {
    reasons.push("It has invisible characters.");
    visible = name.replace(INVISIBLES, "");
  }
  const folded = visible.normalize("NFKC");
  if (folded !== visible) {
    reasons.push(`It uses fullwidth, styled or compatibility characters: it reads "${folded}".`);
  }
  const scripts = mixedScripts(visible);
  if (scripts) reasons.push(`It mixes ${scripts.join(" and ")} letters.`);
  const ascii = asciiLookalike(folded);
  if (ascii !== undefined && ascii !== folded) {
    reasons.push(`It looks like "${ascii}" but is spelled with other characters.`);
  }
  return reasons.length === 0 ? undefined : reasons.join(" ");
}

/**
 * Whether `name` could be mistaken for another name: see {@link misleadingReason} for the rule.
 * The page and the terminal client mark such names, the terminal client as `аnn(?)`.
 *
 * @param name A user name.
 * @returns `true` when the name should be shown with a warning.
 */
export function couldMislead(name: string): boolean {
  return misleadingReason(name) !== undefined;
}
