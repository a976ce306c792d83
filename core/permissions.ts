// Who may do what where: the rooms a token grants, the server's room rules
// (private, read-only), and mutes. Checked before a request is handled, in
// text mode, JSON mode and IRC alike (they all become the same requests).

import { type Grant, grantsFor } from "./auth.ts";
import { RelayError } from "./errors.ts";
import { LOBBY } from "./rooms.ts";
import { policyFor, type RoomPolicies, type RoomPolicy } from "./policies.ts";
import type { ClientRequest } from "./protocol.ts";
import type { Session } from "./session.ts";
import { validateRoom } from "./names.ts";

/** What {@link Permissions} needs from the relay. */
export interface PermissionsHost {
  readonly policies: RoomPolicies;
  /** When `session`'s mute ends, if it is muted. */
  mutedUntil(session: Session): number | undefined;
  now(): number;
}

/** Room grants, room rules and mutes. */
export class Permissions {
  #host: PermissionsHost;
  #rules: boolean;

  constructor(host: PermissionsHost) {
    this.#host = host;
    this.#rules = Object.keys(host.policies).length > 0;
  }

  /** The rules for `room`, if any. */
  policy(room: string): RoomPolicy | undefined {
    return this.#rules ? policyFor(this.#host.policies, room) : undefined;
  }

  /** Throws `forbidden` or `muted` when `session` may not make `request`. */
  check(session: Session, request: ClientRequest): void {
    switch (request.type) {
      case "join":
      case "presence":
      case "topic":
        return this.#require(session, validateRoom(request.room), "join");
      case "history":
        if (request.room !== undefined) {
          this.#require(session, validateRoom(request.room), "history");
        }
        return;
      case "publish": {
        const room = validateRoom(request.room);
        this.#require(session, room, "publish");
        if (!session.admin && this.policy(room)?.readOnly) {
          throw new RelayError(
            "forbidden",
            `${room} is read-only: only admins and the server post there`,
          );
        }
        return this.#notMuted(session);
      }
      case "direct":
        return this.#notMuted(session);
      case "nick":
        if (session.identity !== undefined) {
          throw new RelayError("forbidden", "your name comes from your token; it cannot change");
        }
        return;
    }
  }

  /** True when `session` may do `grant` in `room` (joining, posting or reading history). */
  may(session: Session, room: string, grant: Grant): boolean {
    if (session.admin) return true;
    const rooms = session.identity?.rooms;
    const granted = rooms === undefined ? undefined : grantsFor(rooms, room);
    if (rooms !== undefined) return granted?.includes(grant) === true;
    // Without room grants, anyone may do anything but enter a private room.
    return !this.policy(room)?.private;
  }

  /** The rooms a user lands in at login: the lobby, and the rooms their token names. */
  firstRooms(session: Session, max: number): string[] {
    const rooms = this.may(session, LOBBY, "join") ? [LOBBY] : [];
    for (const [pattern, granted] of Object.entries(session.identity?.rooms ?? {})) {
      if (rooms.length >= max) break;
      if (pattern.includes("*") || !granted.includes("join") || rooms.includes(pattern)) continue;
      try {
        rooms.push(validateRoom(pattern));
      } catch { /* a token may name a room no one can join; it is skipped */ }
    }
    return rooms;
  }

  #require(session: Session, room: string, grant: Grant): void {
    if (this.may(session, room, grant)) return;
    const what = grant === "join"
      ? "join"
      : grant === "publish"
      ? "post in"
      : "read the history of";
    const why = session.identity?.rooms === undefined
      ? `${room} is private`
      : "your token does not allow it";
    throw new RelayError("forbidden", `you may not ${what} ${room}: ${why}`);
  }

  #notMuted(session: Session): void {
    const until = this.#host.mutedUntil(session);
    if (until === undefined || session.admin) return;
    const minutes = Math.max(1, Math.ceil((until - this.#host.now()) / 60_000));
    throw new RelayError(
      "muted",
      `you are muted for ${minutes} more minute${minutes === 1 ? "" : "s"}`,
    );
  }
}
