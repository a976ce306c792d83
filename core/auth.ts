/**
 * Who a user is, as a verified token says: the identity an {@link Authenticator}
 * returns, and what it grants. The core never parses tokens itself: a verifier
 * (the JWT one in `@crosswire/relay/jwt`, or your own) turns a token into an
 * {@link Identity}.
 *
 * @module
 */

/**
 * What a token may allow in a room: being there, saying something, reading
 * what was said before.
 *
 * @example
 * ```ts
 * import type { Grant } from "@crosswire/relay";
 * const readOnly: Grant[] = ["join", "history"];
 * if (readOnly.includes("publish")) throw new Error("read only");
 * ```
 */
export type Grant = "join" | "publish" | "history";

/**
 * Rooms a token grants, by name or by pattern (`*` matches any run of
 * characters: `support-*`), each with what it allows.
 *
 * @example
 * ```ts
 * import type { RoomGrants } from "@crosswire/relay";
 * const grants: RoomGrants = { "support-*": ["join", "publish", "history"], news: ["join"] };
 * if (grants.news?.[0] !== "join") throw new Error("unexpected grants");
 * ```
 */
export type RoomGrants = Readonly<Record<string, readonly Grant[]>>;

/**
 * A verified user: the token's subject and name, what it grants, and when it
 * stops being valid.
 *
 * @example
 * ```ts
 * import type { Identity } from "@crosswire/relay";
 * const ann: Identity = {
 *   subject: "user-17",
 *   name: "ann",
 *   admin: false,
 *   expires: Date.now() + 3_600_000,
 *   rooms: { "support-*": ["join", "publish"] },
 * };
 * if (ann.expires <= Date.now()) throw new Error("expired");
 * ```
 */
export interface Identity {
  /** Who the token is about (its `sub`): a refresh must be about the same subject. */
  subject: string;
  /** The name the user goes by: the token's `name`, else its `sub`. */
  name: string;
  /**
   * Rooms the token grants. When present, the user may do in a room only what
   * a matching entry allows (the first entry in order whose pattern matches);
   * when absent, what anyone may do.
   */
  rooms?: RoomGrants;
  /** True when the token makes its holder an admin (moderation, read-only rooms). */
  admin: boolean;
  /** When the token stops being valid, in milliseconds since the epoch. */
  expires: number;
}

/**
 * Turns a token into an {@link Identity}, or throws a `RelayError` with code
 * `auth_failed` saying why (never repeating the token).
 *
 * @example A stand-in that accepts one fixed token
 * ```ts
 * import { type Authenticator, Relay, RelayError } from "@crosswire/relay";
 * const authenticate: Authenticator = (token) => {
 *   if (token !== "letmein") throw new RelayError("auth_failed", "unknown token");
 *   return Promise.resolve({ subject: "u1", name: "ann", admin: false, expires: Date.now() + 60_000 });
 * };
 * const relay = new Relay({ authenticate });
 * if (relay.limits.tokenGraceMs !== 30_000) throw new Error("unexpected grace");
 * ```
 */
export type Authenticator = (token: string) => Promise<Identity>;

/**
 * Whether `pattern` (a room name, or one with `*` for any run of characters)
 * matches `room`.
 *
 * @param pattern A room name or pattern, such as `support-*`.
 * @param room A room name.
 * @returns True when it matches.
 *
 * @example
 * ```ts
 * import { roomMatches } from "@crosswire/relay";
 * if (!roomMatches("support-*", "support-eu") || roomMatches("support-*", "news")) {
 *   throw new Error("unexpected match");
 * }
 * ```
 */
export function roomMatches(pattern: string, room: string): boolean {
  if (!pattern.includes("*")) return pattern === room;
  const parts = pattern.split("*");
  const first = parts[0]!;
  const last = parts.at(-1)!;
  if (room.length < first.length + last.length) return false;
  if (!room.startsWith(first) || !room.endsWith(last)) return false;
  let at = first.length;
  const end = room.length - last.length;
  for (let i = 1; i < parts.length - 1; i++) {
    const found = room.indexOf(parts[i]!, at);
    if (found < 0 || found + parts[i]!.length > end) return false;
    at = found + parts[i]!.length;
  }
  return true;
}

/**
 * What `grants` allow in `room`: the first entry whose pattern matches, in
 * order (exact names are tried before patterns); undefined when none does.
 *
 * @param grants A token's room grants.
 * @param room A room name.
 * @returns What is granted there, or undefined.
 *
 * @example
 * ```ts
 * import { grantsFor } from "@crosswire/relay";
 * const grants = { "support-*": ["join", "publish"], "support-vip": ["join"] } as const;
 * if (grantsFor(grants, "support-vip")?.length !== 1) throw new Error("exact names first");
 * if (grantsFor(grants, "news") !== undefined) throw new Error("not granted");
 * ```
 */
export function grantsFor(grants: RoomGrants, room: string): readonly Grant[] | undefined {
  if (Object.hasOwn(grants, room)) return grants[room];
  for (const [pattern, granted] of Object.entries(grants)) {
    if (pattern.includes("*") && roomMatches(pattern, room)) return granted;
  }
  return undefined;
}
