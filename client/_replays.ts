// Requests whose replies are replays (`history`, and `join` with `since` or
// `history`): each is registered with the streams when it goes out, so its
// `history` reply and the messages after it are handled as the request wants,
// and it settles once the replay is over.

import type { PresenceEvent } from "../core/protocol.ts";
import { CrosswireClientError } from "./errors.ts";
import type { JoinOptions } from "./options.ts";
import type { Sender } from "./_sender.ts";
import type { Expectation, ReplayResult, Streams } from "./_streams.ts";

/** What a replay request needs: a way to send, and the streams its replay goes to. */
export interface ReplayContext {
  readonly sender: Sender;
  readonly streams: Streams;
}

/**
 * Sends `message` (a `history` request) and resolves with its replay, handled
 * as `expectation` says. `internal` requests are the client's own: they go out
 * at once and their replies are not delivered.
 */
export function requestReplay(
  { sender, streams }: ReplayContext,
  message: Record<string, unknown>,
  room: string | undefined,
  expectation: Expectation,
  internal: boolean,
): Promise<ReplayResult> {
  const ref = sender.newRef();
  const reply = sender.request<ReplayResult>(ref, message, {
    accept: () => undefined, // settled when the replay is over
    ...(internal ? { quiet: () => true } : {}),
    // Expected from when it goes out: a request still waiting is not lost with a connection.
    onSend: () =>
      streams.expect(ref, room, {
        ...expectation,
        done: (result) => sender.settle(ref, result ? { value: result } : lostReply(message)),
      }),
  });
  reply.catch((error) => streams.cancel(ref, isTimeout(error)));
  return reply;
}

/**
 * Joins `room`. With `since`, what the room said after it is delivered and the
 * promise resolves after the replay; with `history`, the last messages are
 * delivered; with neither, the last message is asked for only to learn the
 * room's position (it came before the join, so it is not delivered).
 * `internal` joins go out at once (the client getting its session back).
 */
export async function requestJoin(
  { sender, streams }: ReplayContext,
  room: string,
  options: JoinOptions,
  internal: boolean,
): Promise<{ presence: PresenceEvent; replay: ReplayResult | undefined }> {
  const { since, history } = options;
  const ref = sender.newRef();
  const expectation: Expectation = since
    ? { kind: "recover", since }
    : history
    ? { kind: "recover" }
    : { kind: "baseline" };
  let presence: PresenceEvent | undefined;
  let replay: ReplayResult | undefined;
  let replayed = since === undefined;
  const message = {
    type: "join",
    room,
    ...(since ? { since } : {}),
    // 0 asks for no message, only the room's position (the replay's header).
    history: history ?? 0,
  };
  const reply = sender.request<PresenceEvent>(ref, message, {
    accept: (event) => {
      if (event.type !== "presence") return undefined;
      presence = event;
      return replayed ? event : undefined;
    },
    ...(internal ? { quiet: () => false } : {}),
    onSend: () =>
      streams.expect(ref, roomKey(room), {
        ...expectation,
        done: (result) => {
          replay = result;
          replayed = true;
          if (presence) sender.settle(ref, { value: presence });
        },
      }),
  });
  reply.catch((error) => streams.cancel(ref, isTimeout(error)));
  return { presence: await reply, replay };
}

/** A room's name as the relay keeps it: without a leading `#`, NFC-normalised. */
export function roomKey(room: string): string {
  return (room.startsWith("#") ? room.slice(1) : room).normalize("NFC");
}

function lostReply(message: Record<string, unknown>): CrosswireClientError {
  return new CrosswireClientError(
    "connection_lost",
    `no reply to ${String(message.type)}: the connection dropped`,
  );
}

function isTimeout(error: unknown): boolean {
  return error instanceof CrosswireClientError && error.code === "timeout";
}
