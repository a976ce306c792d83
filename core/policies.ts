/**
 * Rules for rooms, from the server's configuration: read-only rooms, private
 * rooms, member limits and history sizes. A room no rule names behaves as any
 * room does.
 *
 * @module
 */
import { roomMatches } from "./auth.ts";

/**
 * The rules for one room (or every room a pattern matches).
 *
 * @example An announcements room
 * ```ts
 * import type { RoomPolicy } from "@crosswire/relay";
 * const announcements: RoomPolicy = { readOnly: true, history: 500 };
 * if (!announcements.readOnly) throw new Error("read only");
 * ```
 */
export interface RoomPolicy {
  /** Only admins and the server API may publish here. @default false */
  readOnly?: boolean;
  /** Only tokens that grant this room (and admins) may join, see or read it. @default false */
  private?: boolean;
  /** Members at most, across the cluster; more are refused with `room_full`. @default unlimited */
  maxMembers?: number;
  /** Messages kept for history and resume in this room. @default the relay's `historySize` */
  history?: number;
}

/**
 * Room rules by room name or pattern (`*` matches any run of characters).
 * An exact name wins over patterns; among patterns, the first that matches.
 *
 * @example
 * ```ts
 * import { policyFor, type RoomPolicies } from "@crosswire/relay";
 * const rooms: RoomPolicies = { announcements: { readOnly: true }, "staff-*": { private: true } };
 * if (!policyFor(rooms, "staff-eu")?.private) throw new Error("staff rooms are private");
 * if (policyFor(rooms, "lobby") !== undefined) throw new Error("the lobby has no rules");
 * ```
 */
export type RoomPolicies = Readonly<Record<string, RoomPolicy>>;

/**
 * The rules for `room`, or undefined when none name it.
 *
 * @param policies The configured room rules.
 * @param room A room name.
 * @returns Its rules, or undefined.
 *
 * @example
 * ```ts
 * import { policyFor } from "@crosswire/relay";
 * if (policyFor({ "a*": { maxMembers: 2 } }, "ab")?.maxMembers !== 2) throw new Error("no match");
 * ```
 */
export function policyFor(policies: RoomPolicies, room: string): RoomPolicy | undefined {
  if (Object.hasOwn(policies, room)) return policies[room];
  for (const [pattern, policy] of Object.entries(policies)) {
    if (pattern.includes("*") && roomMatches(pattern, room)) return policy;
  }
  return undefined;
}
