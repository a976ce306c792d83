import { RelayError } from "./errors.ts";

/** Longest user or room name, in characters (code points). */
export const MAX_NAME_LENGTH = 32;

// Visible characters only: no controls, format characters, separators or whitespace.
const VISIBLE_NAME = /^[^\p{C}\p{Z}\s]+$/u;

function checkName(kind: "name" | "room", raw: string): string {
  const name = raw.normalize("NFC");
  const length = [...name].length;
  if (length === 0 || length > MAX_NAME_LENGTH || !VISIBLE_NAME.test(name)) {
    const what = kind === "name" ? "a name" : "a room name";
    throw new RelayError(
      kind === "name" ? "name_invalid" : "room_invalid",
      `${what} must be 1-${MAX_NAME_LENGTH} visible characters with no spaces`,
    );
  }
  return name;
}

/** Validates a user name and returns its normal form; throws `name_invalid`. */
export function validateName(raw: string): string {
  return checkName("name", raw);
}

/**
 * Validates a room name and returns its normal form; throws `room_invalid`.
 * A leading `#` is dropped so IRC habits (`/join #games`) work.
 */
export function validateRoom(raw: string): string {
  return checkName("room", raw.startsWith("#") ? raw.slice(1) : raw);
}

/** The key under which names are unique: case-insensitive. */
export function nameKey(name: string): string {
  return name.toLowerCase();
}
