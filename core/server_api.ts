// What a backend may do through the server API: say something in a room or to
// a user (as the server, or under a name it picks), look at rooms and
// presence, disconnect and ban. No session: the backend is trusted by its key.

import { then } from "./_maybe.ts";
import type { MaybePromise, Presence, RoomPage } from "./engine.ts";
import { RelayError } from "./errors.ts";
import type { Messages } from "./messages.ts";
import type { Moderation } from "./moderation.ts";
import { validateName, validateRoom } from "./names.ts";
import type { Content, MessageEvent } from "./protocol.ts";
import type { Engine } from "./engine.ts";

/** The name the server API speaks under unless told another. */
export const SERVER_NAME = "server";

/**
 * What to say through the server API: text, or a file's bytes with its name
 * and media type.
 *
 * @example
 * ```ts
 * import type { ApiContent } from "@crosswire/relay";
 * const text: ApiContent = { text: "Deploy finished" };
 * const file: ApiContent = { data: new Uint8Array([1, 2]), name: "a.bin" };
 * if (!("text" in text) || !("data" in file)) throw new Error("unexpected content");
 * ```
 */
export type ApiContent =
  | { text: string; action?: boolean }
  | { data: Uint8Array; name?: string; type?: string };

/** What {@link ServerApi} needs from the relay. */
export interface ServerApiHost {
  readonly engine: Engine;
  readonly messages: Messages;
  readonly moderation: Moderation;
  readonly maxPresenceMembers: number;
}

/**
 * The relay as a backend drives it (the server's `/api` routes call it): no
 * user session, no rate limit but the rooms' own, no room or read-only rule.
 *
 * @example A backend posts into a room
 * ```ts
 * import { type Port, Relay } from "@crosswire/relay";
 * const port: Port = { framing: "frames", wake: () => {}, close: () => {} };
 * const relay = new Relay();
 * const ann = relay.connect(port);
 * ann.receiveText('{"type":"login","name":"ann"}');
 * ann.outbound.take();
 * const sent = relay.api.publish("lobby", { text: "Deploy finished" });
 * const got = JSON.parse(ann.outbound.take()[0]!.data as string);
 * if (got.text !== "Deploy finished" || got.from !== "server" || got.id !== sent.id) {
 *   throw new Error("not delivered");
 * }
 * ```
 */
export class ServerApi {
  #host: ServerApiHost;

  /** @internal Made by the relay. */
  constructor(host: ServerApiHost) {
    this.#host = host;
  }

  /**
   * Says `content` in `room` as `from` (default `server`): every member on
   * every node receives it, and the room's history keeps it.
   */
  publish(room: string, content: ApiContent, from = SERVER_NAME): MessageEvent {
    return this.#host.messages.post(validateName(from), validateRoom(room), asContent(content));
  }

  /** Sends `content` privately to the user `to`, wherever connected; `no_such_user` otherwise. */
  direct(to: string, content: ApiContent, from = SERVER_NAME): MaybePromise<void> {
    return this.#host.messages.direct({ name: validateName(from) }, to, asContent(content));
  }

  /** Rooms with members, sorted by name, after `after`, at most `limit` (1 to 1000). */
  rooms(limit = 100, after?: string): MaybePromise<RoomPage> {
    return this.#host.engine.rooms(Math.min(Math.max(Math.trunc(limit) || 1, 1), 1000), after);
  }

  /** Who is in `room`, on every node. */
  presence(room: string): MaybePromise<Presence> {
    return this.#host.engine.presence(validateRoom(room), this.#host.maxPresenceMembers);
  }

  /** Disconnects the user `name` (close 4010 `kicked`); `no_such_user` when nobody has it. */
  disconnect(name: string, reason?: string): MaybePromise<string> {
    const request = reason === undefined
      ? { type: "kick" as const, name }
      : { type: "kick" as const, name, reason };
    return then(this.#host.moderation.act(SERVER_NAME, request), (outcome) => outcome.text);
  }

  /**
   * Bans a name or an address for `minutes` (default 60) on every node:
   * whoever has it is disconnected (close 4011 `banned`), and new logins or
   * connections are refused until it ends.
   */
  ban(target: string, options: { minutes?: number; reason?: string } = {}): MaybePromise<string> {
    return then(
      this.#host.moderation.act(SERVER_NAME, { type: "ban", target, ...options }),
      (outcome) => outcome.text,
    );
  }

  /** Lifts a ban on a name or an address. */
  unban(target: string): MaybePromise<string> {
    return then(
      this.#host.moderation.act(SERVER_NAME, { type: "unban", target }),
      (outcome) => outcome.text,
    );
  }
}

function asContent(content: ApiContent): Content {
  if ("text" in content && typeof content.text === "string") {
    return { kind: "text", text: content.text, action: content.action === true };
  }
  if ("data" in content && content.data instanceof Uint8Array) {
    return {
      kind: "file",
      data: content.data,
      name: content.name ?? "file",
      type: content.type ?? "application/octet-stream",
    };
  }
  throw new RelayError("bad_message", 'give "text", or "data" (base64) for a file');
}
