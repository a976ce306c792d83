// A verified token's claims, turned into an Identity. jose has checked the
// signature, `exp` (a number, in the future) and `aud`/`iss`; what the relay
// relies on beyond that is checked here. Messages never quote the claims: they
// are the token's contents, and would reach the user's screen.
import type { Grant, Identity, RoomGrants } from "../core/auth.ts";
import { RelayError } from "../core/errors.ts";

/** Most entries a token's `rooms` claim may have. */
export const MAX_ROOM_GRANTS = 64;

/** Longest `sub`, in characters. */
export const MAX_SUBJECT_LENGTH = 256;
/** The latest `exp` a date can hold, in seconds since the epoch. */
const MAX_EXP = 8.64e12;

// Longer than any room name (32), with room for `*`s; a longer key is a mistake.
const MAX_PATTERN_LENGTH = 64;

const GRANTS: ReadonlySet<string> = new Set<Grant>(["join", "publish", "history"]);

function refuse(message: string): never {
  throw new RelayError("auth_failed", message);
}

/**
 * The identity a verified token's claims describe.
 *
 * @param claims The verified payload.
 * @returns The identity.
 * @throws {RelayError} `auth_failed` when a claim the relay relies on is malformed.
 */
export function identityFrom(claims: Record<string, unknown>): Identity {
  const { sub, name, exp } = claims;
  if (typeof sub !== "string" || sub.length === 0 || sub.length > MAX_SUBJECT_LENGTH) {
    refuse(`the token's sub claim must be a string of 1 to ${MAX_SUBJECT_LENGTH} characters`);
  }
  if (name !== undefined && typeof name !== "string") {
    refuse("the token's name claim must be a string");
  }
  // JSON reads 1e999 as Infinity, which jose takes as a number: a token that never expires.
  // Past 8.64e12 seconds no date can hold it (a JavaScript Date ends there).
  if (typeof exp !== "number" || !Number.isFinite(exp) || exp > MAX_EXP) {
    refuse("the token's exp claim is not a valid time");
  }
  const identity: Identity = {
    subject: sub,
    name: name ?? sub,
    admin: claims.admin === true,
    expires: exp * 1000,
  };
  if (claims.rooms !== undefined) identity.rooms = roomGrants(claims.rooms);
  return identity;
}

function roomGrants(rooms: unknown): RoomGrants {
  if (typeof rooms !== "object" || rooms === null || Array.isArray(rooms)) {
    refuse("the token's rooms claim must be an object mapping rooms to lists of grants");
  }
  const entries = Object.entries(rooms);
  if (entries.length > MAX_ROOM_GRANTS) {
    refuse(`the token's rooms claim has ${entries.length} entries; at most ${MAX_ROOM_GRANTS}`);
  }
  const grants = new Map<string, readonly Grant[]>();
  entries.forEach(([pattern, granted], index) => {
    const entry = `entry ${index + 1} of the token's rooms claim`;
    // Room names are NFC without a leading `#` (see validateRoom): keys must match them.
    const key = pattern.normalize("NFC").replace(/^#/, "");
    if (key.length === 0 || key.length > MAX_PATTERN_LENGTH) {
      refuse(`${entry} must name a room or pattern of 1 to ${MAX_PATTERN_LENGTH} characters`);
    }
    if (grants.has(key)) refuse(`${entry} names a room that an earlier entry names`);
    if (!Array.isArray(granted) || !granted.every((g) => GRANTS.has(g))) {
      refuse(`${entry} must be a list of "join", "publish" and "history"`);
    }
    grants.set(key, Object.freeze([...new Set(granted as Grant[])]));
  });
  // fromEntries defines own properties, so a "__proto__" key stays a plain key.
  return Object.freeze(Object.fromEntries(grants));
}
