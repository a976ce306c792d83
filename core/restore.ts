// Putting sessions back after their host slept: a runtime that may drop the
// relay from memory while its connections stay open (a Cloudflare Durable
// Object that hibernates) keeps a small snapshot with each connection and, on
// waking, makes each one a session again: same id, same name, same rooms,
// with nothing sent to anyone. Only what the snapshot names comes back.

import type { Identity } from "./auth.ts";
import { Ticket } from "./admission.ts";
import type { MaybePromise } from "./engine.ts";
import { CloseCode } from "./errors.ts";
import { nameKey, validateName, validateRoom } from "./names.ts";
import type { Relay } from "./relay.ts";
import type { Rooms } from "./rooms.ts";
import { type Port, Session, type SessionHost } from "./session.ts";
import type { Users } from "./users.ts";

/**
 * What a connection needs to become the same session again after the relay
 * that held it was dropped from memory. Plain data (structured-clone and JSON
 * safe), small enough for a Durable Object's WebSocket attachment.
 *
 * @example A snapshot of a logged-in session
 * ```ts
 * import { Relay, type SessionSnapshot, snapshotSession } from "./mod.ts";
 * const relay = new Relay();
 * const session = relay.connect({ framing: "frames", wake: () => {}, close: () => {} });
 * session.receiveText('{"type":"login","name":"ann"}');
 * const snapshot: SessionSnapshot | undefined = snapshotSession(session);
 * if (snapshot?.name !== "ann" || snapshot.rooms[0] !== "lobby") throw new Error("unexpected");
 * ```
 */
export interface SessionSnapshot {
  /** The format's version, so a newer host can read an older snapshot. */
  v: 1;
  /** The session's id (its private stream and resume keep it). */
  id: string;
  /** Its name; absent while it has not logged in. */
  name?: string;
  /** Its name's reclaim token (with `name`). */
  reclaim?: string;
  /** The token its client resumes it with after a drop, when it has one. */
  resume?: string;
  /** Its rooms, oldest first. */
  rooms: string[];
  /** The room its text-mode lines go to. */
  current?: string;
  /** Whether it receives its own room messages. */
  echo: boolean;
  /** Whether its client asked for batched text frames. */
  batch: boolean;
  /** The remote address it was admitted for, for the per-address limits. */
  address?: string;
  /** Who its token said it is, when it logged in with one. */
  identity?: Identity;
  /** Whether it gave the operator password. */
  oper?: boolean;
}

/**
 * The parts of a relay a restored session goes back into; from
 * {@link Relay.restoreHost}, for this file only.
 */
export interface RestoreHost {
  readonly session: SessionHost;
  readonly sessions: Set<Session>;
  readonly users: Users;
  readonly rooms: Rooms;
}

/**
 * Takes a snapshot of a live session, for {@link restoreSession}. Undefined
 * once the session has closed (there is nothing to bring back).
 *
 * @param session The session, as {@link Relay.connect} returned it.
 * @returns Plain data to keep with its connection.
 *
 * @example Echo and rooms are part of it
 * ```ts
 * import { Relay, snapshotSession } from "./mod.ts";
 * const relay = new Relay();
 * const session = relay.connect({ framing: "frames", wake: () => {}, close: () => {} });
 * session.receiveText('{"type":"login","name":"ann","echo":true}');
 * session.receiveText('{"type":"join","room":"den"}');
 * const snapshot = snapshotSession(session)!;
 * if (!snapshot.echo || snapshot.rooms.join() !== "lobby,den") throw new Error("unexpected");
 * ```
 */
export function snapshotSession(session: Session): SessionSnapshot | undefined {
  if (session.state === "closed") return undefined;
  const snapshot: SessionSnapshot = {
    v: 1,
    id: session.id,
    rooms: [...session.rooms],
    echo: session.echo,
    batch: session.outbound.batchText,
  };
  if (session.state === "ready" && session.name !== undefined) {
    snapshot.name = session.name;
    snapshot.reclaim = session.reclaim!;
    if (session.resume !== undefined) snapshot.resume = session.resume;
    if (session.currentRoom !== undefined) snapshot.current = session.currentRoom;
    if (session.identity !== undefined) snapshot.identity = session.identity;
    if (session.oper) snapshot.oper = true;
  } else {
    snapshot.rooms = [];
  }
  if (session.remoteAddress !== undefined) snapshot.address = session.remoteAddress;
  return snapshot;
}

/**
 * Makes a connection the session its snapshot describes, on a relay that
 * has just been created again: logged in under its name, in its rooms, with
 * no `hello` or `welcome` sent to it and no join told to anyone (nobody saw it
 * leave). A snapshot taken before login gives a session still to log in.
 *
 * Restore every connection before the relay handles any input, so names and
 * rooms are as they were when the first message arrives. A connection the
 * relay cannot take back (it is shutting down, a limit is reached, or the
 * name is somehow taken) is closed (1013 or 1008) and its session returned closed.
 *
 * @param relay The new relay.
 * @param port The connection's port, as for {@link Relay.connect}.
 * @param snapshot What {@link snapshotSession} took before the relay was dropped.
 * @returns The session, logged in as before.
 * @throws {TypeError} When `snapshot` is not a snapshot of this version.
 *
 * @example A relay made again takes its user back, quietly
 * ```ts
 * import { Relay, restoreSession, snapshotSession } from "./mod.ts";
 * const port = { framing: "frames" as const, wake: () => {}, close: () => {} };
 * const before = new Relay().connect(port);
 * before.receiveText('{"type":"login","name":"ann"}');
 * const snapshot = snapshotSession(before)!;
 * // The relay is gone; a new one takes the connection back.
 * const relay = new Relay();
 * const after = restoreSession(relay, port, snapshot);
 * if (after.name !== "ann" || after.id !== before.id || after.outbound.length !== 0) {
 *   throw new Error("not restored quietly");
 * }
 * if (relay.stats().users !== 1 || relay.roomList()[0]?.members !== 1) throw new Error("not back");
 * ```
 */
export function restoreSession(relay: Relay, port: Port, snapshot: SessionSnapshot): Session {
  if (snapshot?.v !== 1 || typeof snapshot.id !== "string" || !Array.isArray(snapshot.rooms)) {
    throw new TypeError("not a crosswire session snapshot (version 1)");
  }
  const host = relay.restoreHost();
  const ticket = relay.admit(snapshot.address);
  if (ticket === undefined) {
    const refused = new Session(host.session, port, Ticket.refused(snapshot.address));
    refused.close(CloseCode.tryAgainLater, "server busy");
    return refused;
  }
  const session = new Session(host.session, port, ticket);
  host.sessions.add(session);
  session.echo = snapshot.echo === true;
  session.outbound.batchText = snapshot.batch === true;
  if (snapshot.name === undefined || snapshot.reclaim === undefined) return session;

  const name = validateName(snapshot.name);
  const rooms = uniqueRooms(snapshot.rooms, relay.limits.maxRoomsPerSession);
  session.adopt({
    id: snapshot.id,
    name,
    reclaim: snapshot.reclaim,
    rooms,
    identity: snapshot.identity,
    oper: snapshot.oper,
  });
  if (snapshot.current !== undefined && session.rooms.has(snapshot.current)) {
    session.currentRoom = snapshot.current;
  }
  if (snapshot.resume !== undefined) session.resume = snapshot.resume;
  const engine = relay.engine;
  const member = { node: engine.node, session: session.id, name };
  // Logged in at once: its next message must find it as it was. The engine's
  // answers only matter when it refuses, which a fresh in-memory one never does.
  host.users.adopt(session);
  session.markReady();
  settle(engine.claimName(nameKey(name), member, snapshot.reclaim), (claim) => {
    if (claim.ok) return;
    session.close(CloseCode.policyViolation, "name taken", {
      type: "error",
      code: "name_taken",
      message: "your name was taken while the server was asleep; log in again",
    }, "quit");
  }, host.session.reportError);
  for (const room of rooms) {
    try {
      host.rooms.attach(session, room);
    } catch (error) {
      host.session.reportError(error); // over a room limit: it stays out of that one
      session.rooms.delete(room);
      continue;
    }
    settle(engine.join(room, member, relay.limits.maxPresenceMembers), () => {}, (error) => {
      host.session.reportError(error);
    });
  }
  return session;
}

// Valid room names, each once, at most `max`: a snapshot is data from outside the relay.
function uniqueRooms(rooms: unknown[], max: number): string[] {
  const kept = new Set<string>();
  for (const room of rooms) {
    if (kept.size >= max || typeof room !== "string") continue;
    try {
      kept.add(validateRoom(room));
    } catch { /* not a room: left out */ }
  }
  return [...kept];
}

// Runs `next` on a value now or later; a later failure goes to `failed`, never unhandled.
function settle<T>(
  value: MaybePromise<T>,
  next: (value: T) => void,
  failed: (error: unknown) => void,
): void {
  if (value instanceof Promise) value.then(next, failed);
  else next(value);
}
