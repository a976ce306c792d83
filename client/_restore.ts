// Getting a session back on a new connection: `resume` with the token and
// the last position seen in each room and in the private stream; when the
// relay no longer has the session, `login` (reclaiming the name) and `join`
// each room again from its position. Live messages wait meanwhile, so the
// replays come first and nothing is delivered twice.

import type { JoinOptions } from "./options.ts";
import type { Position, PresenceEvent, WelcomeEvent } from "../core/protocol.ts";
import { CrosswireClientError } from "./errors.ts";
import type { GapEvent, Recovery, ResumedEvent } from "./events.ts";
import type { ReplayResult, Streams } from "./_streams.ts";

// Failures of the connection itself, rather than the relay's answer.
const CLIENT_FAILURES = new Set([
  "connect_failed",
  "connection_closed",
  "connection_lost",
  "timeout",
]);

/** What the client knows of its session, kept across connections. */
export interface SessionState {
  /** The name it has (or had). */
  name: string;
  /** The secret that takes the name back after the session ended. */
  reclaim: string;
  /** The secret that resumes the session; empty when there is none. */
  token: string;
  /** The rooms it is in, the one joined last at the end. */
  rooms: string[];
}

/** What restoring needs from the client. */
export interface RestoreHost {
  readonly state: SessionState;
  readonly streams: Streams;
  /** How long replays may take before what has not come is a gap. */
  readonly requestTimeoutMs: number;
  /** A ref no other request has. */
  newRef(): string;
  /** The token to log in with, fresh when the app gives a function; undefined without one. */
  token(): Promise<string | undefined>;
  /** Sends `login` or `resume` with `ref` and waits for `welcome`. */
  handshake(ref: string, message: Record<string, unknown>): Promise<WelcomeEvent>;
  /** Joins a room on the connection being set up. */
  join(
    room: string,
    options: JoinOptions,
  ): Promise<{ presence: PresenceEvent; replay: ReplayResult | undefined }>;
  /** Leaves a room on the connection being set up. */
  leave(room: string): Promise<void>;
  /** Asks for what a room said after `since`, delivered in order. */
  recover(room: string, since: Position): Promise<ReplayResult | undefined>;
  /** Delivers a gap to the listeners. */
  gap(event: GapEvent): void;
  /** Throws `connection_lost` unless `connection` is still the current one. */
  check(connection: number): void;
}

/**
 * Logs in on connection `connection`: resumes when there is a token, else (or
 * when that fails) logs in; with `restoring` (after a drop, or from a saved
 * session) joins the rooms again. Returns the `resumed` event to deliver
 * (undefined for a plain first login). Live messages stay paused: the caller
 * lets them through once it is done.
 */
export async function restore(
  host: RestoreHost,
  connection: number,
  restoring: boolean,
): Promise<ResumedEvent | undefined> {
  const { state, streams } = host;
  const rooms = [...state.rooms];
  const direct = streams.position(undefined);
  if (restoring) streams.pause(); // live messages wait for the replays
  if (state.token !== "") {
    const resumed = await resume(host, connection, rooms, direct);
    if (resumed) return resumed;
  }
  // Asked for only when it is needed: a resumed session keeps its token.
  const token = await host.token();
  host.check(connection);
  const welcome = await host.handshake(host.newRef(), {
    type: "login",
    // With a token the relay takes the name from it; the name asked for is ignored.
    name: state.name,
    ...(token === undefined ? {} : { token }),
    echo: true,
    ...(state.reclaim === "" ? {} : { reclaim: state.reclaim }),
  });
  if (!restoring) {
    streams.set(undefined, welcome.direct);
    return undefined;
  }
  return await rejoin(host, connection, welcome, rooms, direct);
}

async function resume(
  host: RestoreHost,
  connection: number,
  rooms: string[],
  direct: Position | undefined,
): Promise<ResumedEvent | undefined> {
  const { state, streams } = host;
  const ref = host.newRef();
  const positions = rooms.flatMap((room) => {
    const position = streams.position(room);
    return position ? [[room, position] as const] : [];
  });
  const results = new Map<string | undefined, ReplayResult | undefined>();
  const replays: Promise<void>[] = [];
  // Expected before asking: the replays may come in the same frame as the welcome.
  const expect = (room: string | undefined, since: Position) =>
    replays.push(
      new Promise((resolve) =>
        streams.expect(ref, room, {
          kind: "recover",
          since,
          done: (result) => resolve(void results.set(room, result)),
        })
      ),
    );
  for (const [room, since] of positions) expect(room, since);
  if (direct) expect(undefined, direct);
  let welcome: WelcomeEvent;
  try {
    welcome = await host.handshake(ref, {
      type: "resume",
      token: state.token,
      rooms: Object.fromEntries(positions),
      ...(direct ? { direct } : {}),
      echo: true,
    });
  } catch (error) {
    streams.cancel(ref, false);
    // `resume_failed`, or a relay that does not know `resume`: log in instead.
    if (!(error instanceof CrosswireClientError) || CLIENT_FAILURES.has(error.code)) throw error;
    state.token = "";
    return undefined;
  }
  // Rooms the session is no longer in get no replay.
  const kept = new Set(welcome.rooms);
  streams.cancel(ref, false, (room) => room !== undefined && !kept.has(room));
  await settled(host, replays, ref);
  host.check(connection);
  // The relay joins again the rooms whose membership lapsed meanwhile (their
  // node died), after the welcome and without a replay: ask for one.
  const lapsed = positions.filter(([room]) => !kept.has(room) && state.rooms.includes(room));
  await Promise.all(
    lapsed.map(([room, since]) =>
      host.recover(room, since).then((result) => void results.set(room, result), () => {})
    ),
  );
  host.check(connection);
  for (const room of rooms) if (!state.rooms.includes(room)) streams.forget(room);
  return {
    type: "resumed",
    session: true,
    rooms: state.rooms.map((room) => ({ room, ...recovery(results.get(room)) })),
    ...(direct ? { direct: recovery(results.get(undefined)) } : {}),
  };
}

// After a fresh login that replaces a lost session: the private stream is new
// (what the old one missed is gone), and the rooms are joined again.
async function rejoin(
  host: RestoreHost,
  connection: number,
  welcome: WelcomeEvent,
  rooms: string[],
  direct: Position | undefined,
): Promise<ResumedEvent> {
  const { state, streams } = host;
  if (direct) host.gap({ type: "gap", reason: "expired" });
  streams.set(undefined, welcome.direct);
  const results = new Map<string, ReplayResult | undefined>();
  const steps = rooms.map((room) => {
    const since = streams.position(room);
    return host.join(room, since ? { since } : {}).then(
      (joined) => void results.set(room, joined.replay),
      () => {}, // its error event says why
    );
  });
  for (const room of welcome.rooms) {
    if (!rooms.includes(room)) steps.push(host.leave(room).catch(() => {}));
  }
  await Promise.all(steps);
  host.check(connection);
  return {
    type: "resumed",
    session: false,
    rooms: state.rooms.map((room) => ({ room, ...recovery(results.get(room)) })),
    ...(direct ? { direct: { recovered: false, count: 0 } } : {}),
  };
}

// Waits for replays, but not forever: whatever has not come in time is a gap.
async function settled(host: RestoreHost, replays: Promise<unknown>[], ref: string) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(() => resolve(host.streams.cancel(ref, true)), host.requestTimeoutMs);
  });
  try {
    await Promise.race([Promise.all(replays), late]);
  } finally {
    clearTimeout(timer);
  }
}

function recovery(result: ReplayResult | undefined): Recovery {
  return { recovered: result?.recovered ?? false, count: result?.count ?? 0 };
}
