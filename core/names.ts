import { RelayError } from "./errors.ts";
import { skeleton } from "./confusables.ts";
import { INVISIBLE } from "./_invisible.ts";

/** Longest user or room name, in characters (code points). */
export const MAX_NAME_LENGTH = 32;

/** Most combining marks a name may stack on one character. */
export const MAX_STACKED_MARKS = 4;

// Visible characters only: no controls, format characters, separators or whitespace.
const VISIBLE_NAME = /^[^\p{C}\p{Z}\s]+$/u;
const LEADING_MARK = /^\p{M}/u;
// Marks piled on one character spill over the lines above and below ("Zalgo" text).
const STACKED_MARKS = new RegExp(`\\p{M}{${MAX_STACKED_MARKS + 1}}`, "u");

function codePoint(char: string): string {
  return `U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;
}

function checkName(kind: "name" | "room", raw: string): string {
  const name = raw.normalize("NFC");
  const what = kind === "name" ? "a name" : "a room name";
  const invalid = (why: string) =>
    new RelayError(kind === "name" ? "name_invalid" : "room_invalid", `${what} ${why}`);
  const length = [...name].length;
  if (length === 0 || length > MAX_NAME_LENGTH || !VISIBLE_NAME.test(name)) {
    throw invalid(`must be 1-${MAX_NAME_LENGTH} visible characters with no spaces`);
  }
  const invisible = INVISIBLE.exec(name);
  if (invisible) {
    throw invalid(`must not contain invisible or blank characters (${codePoint(invisible[0])})`);
  }
  const mark = LEADING_MARK.exec(name);
  if (mark) throw invalid(`must not start with a combining mark (${codePoint(mark[0])})`);
  if (STACKED_MARKS.test(name)) {
    throw invalid(`must not stack more than ${MAX_STACKED_MARKS} combining marks on a character`);
  }
  return name;
}

/**
 * Validates a user name and returns its normal form (NFC); throws `name_invalid`.
 *
 * A name is 1-32 code points after NFC with no controls, format characters, separators or
 * whitespace, no invisible or blank characters (any Default_Ignorable_Code_Point, such as
 * variation selectors, the combining grapheme joiner and the Hangul fillers, and the Braille
 * blank U+2800), no combining mark first and no more than 4 combining marks in a row.
 *
 * @param raw The name as typed.
 * @returns The name in NFC.
 * @throws {RelayError} `name_invalid` when the name breaks a rule.
 */
export function validateName(raw: string): string {
  return checkName("name", raw);
}

/**
 * Validates a room name and returns its normal form; throws `room_invalid`.
 * A leading `#` is dropped so IRC habits (`/join #games`) work; otherwise the rules are
 * those of {@link validateName}.
 *
 * @param raw The room name as typed.
 * @returns The room name in NFC, without a leading `#`.
 * @throws {RelayError} `room_invalid` when the name breaks a rule.
 */
export function validateRoom(raw: string): string {
  return checkName("room", raw.startsWith("#") ? raw.slice(1) : raw);
}

/**
 * The key under which names are unique: two names with the same key cannot be online at once,
 * and `/msg` finds a user by it. It is case-insensitive and catches look-alikes:
 *
 *     nameKey(name) = lower(skeleton(lower(upper(NFKC(name)))))
 *
 * where `lower` and `upper` are `toLowerCase()` and `toUpperCase()` (together a full case fold:
 * `ß` and `ss`, `ς` and `σ` match) and `skeleton` is UTS #39's (see `core/confusables.ts`).
 * So `ann`, `ANN`, `аnn` (Cyrillic а), `ＡＮＮ`, `𝚊𝚗𝚗`, `ann` with U+FE0F and `b0b`/`bob` share
 * a key. Folding case first loses what only capitals show (`I` looks like `l`, Greek `Ν` like
 * `N`): `AIice` (capital i) and `Alice` have different keys.
 *
 * @param name A valid name.
 * @returns The key.
 */
export function nameKey(name: string): string {
  return skeleton(name.normalize("NFKC").toUpperCase().toLowerCase()).toLowerCase();
}
