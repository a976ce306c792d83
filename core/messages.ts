// What users say: room messages and private messages, their content checked
// once, their ids unique in the cluster, and private traffic limited per
// recipient so a crowd cannot drown one user.

import { then } from "./_maybe.ts";
import { overUtf8Limit } from "./_utf8.ts";
import type { Engine, MaybePromise, Member } from "./engine.ts";
import { RelayError } from "./errors.ts";
import type { RelayLimits } from "./limits.ts";
import { MAX_NAME_LENGTH, nameKey } from "./names.ts";
import { Outgoing } from "./outgoing.ts";
import type { Content, DirectEvent, MessageEvent } from "./protocol.ts";
import { RateLimiter, type RateLimits } from "./rate_limiter.ts";
import type { Rooms } from "./rooms.ts";
import { cleanText } from "./sanitize.ts";
import type { Session } from "./session.ts";
import type { RelayCounters } from "./counters.ts";
import type { Users } from "./users.ts";

const MEDIA_TYPE = /^[\w.+-]{1,64}\/[\w.+-]{1,64}$/;

type Said = Pick<MessageEvent, "text" | "action" | "file" | "data">;

/** What {@link Messages} needs from the relay. */
export interface MessagesHost {
  readonly limits: RelayLimits;
  readonly engine: Engine;
  readonly rooms: Rooms;
  readonly users: Users;
  readonly counters: RelayCounters;
  now(): number;
}

/** Room and private messages. */
export class Messages {
  #host: MessagesHost;
  #prefix: string;
  #sequence = 0;
  #directLimits: RateLimits;
  // Recipients on other nodes, by name key; forgotten once their buckets are full.
  #remote = new Map<string, RateLimiter>();

  constructor(host: MessagesHost) {
    this.#host = host;
    this.#prefix = host.engine.node + "-";
    const limits = host.limits;
    this.#directLimits = {
      messagesPerSecond: limits.directMessagesPerSecond,
      messageBurst: limits.rateMessageBurst,
      bytesPerSecond: limits.directBytesPerSecond,
      byteBurst: Math.max(limits.directBytesPerSecond, limits.maxFileBytes),
    };
  }

  /** A message id unique in the cluster: this node's id and a sequence number. */
  nextId(): string {
    return this.#prefix + (++this.#sequence).toString(36);
  }

  /** Says `content` in `room` (which `session` is in). */
  publish(session: Session, room: string, content: Content): void {
    this.#post(session.name!, room, content, session.echo ? undefined : session.id);
  }

  /**
   * Says `content` in `room` as `from`, for the server API: whoever is in the
   * room, on any node, receives it, and the room's history keeps it.
   */
  post(from: string, room: string, content: Content): MessageEvent {
    return this.#post(from, room, content, undefined);
  }

  #post(from: string, room: string, content: Content, except: string | undefined): MessageEvent {
    const said = this.#checked(content);
    const { rooms, now } = this.#host;
    rooms.admitBytes(room, said.data?.length ?? said.text!.length);
    const event: MessageEvent = {
      type: "message",
      id: this.nextId(),
      ts: now(),
      room,
      from,
      ...said,
    };
    const envelope = { to: "room" as const, room, event };
    const recorded = this.#host.engine.record(
      except === undefined ? envelope : { ...envelope, except },
    );
    if (recorded?.to === "room") rooms.deliver(room, recorded.event, recorded.except);
    this.#host.counters.published++;
    return event;
  }

  /** Sends `content` privately to the user named `rawTo`, wherever they are connected. */
  direct(session: Session | { name: string }, rawTo: string, content: Content): MaybePromise<void> {
    if ([...rawTo].length > MAX_NAME_LENGTH) {
      throw new RelayError("no_such_user", "no user has that name");
    }
    const key = nameKey(rawTo.normalize("NFC"));
    const said = this.#checked(content);
    const { users, engine } = this.#host;
    const local = users.local(key);
    if (local !== undefined) {
      this.#admit(local.directs ??= this.#limiter(), local.name!, said);
      return this.#send(
        session,
        { key, node: engine.node, session: local.id, name: local.name! },
        said,
      );
    }
    return then(engine.findName(key), (member) => {
      if (member === undefined) {
        throw new RelayError("no_such_user", `nobody called "${cleanText(rawTo)}" is online`);
      }
      let limiter = this.#remote.get(key);
      if (!limiter) this.#remote.set(key, limiter = this.#limiter());
      this.#admit(limiter, member.name, said);
      this.#send(session, { key, ...member }, said);
    });
  }

  /** Forgets limiters of remote recipients that have had nothing lately. */
  sweep(now: number): void {
    for (const [key, limiter] of this.#remote) {
      if (limiter.full(now)) this.#remote.delete(key);
    }
  }

  // The message goes into the recipient's private stream, and a copy into the sender's.
  #send(session: Session | { name: string }, to: Member & { key: string }, said: Said): void {
    this.#host.counters.directs++;
    const event: DirectEvent = {
      type: "direct",
      id: this.nextId(),
      ts: this.#host.now(),
      from: session.name!,
      to: to.name,
      ...said,
    };
    const { engine, users } = this.#host;
    const envelope = { to: "user" as const, key: to.key, node: to.node, session: to.session };
    const recorded = engine.record({ ...envelope, event });
    if (recorded !== undefined) users.local(to.key)?.deliver(new Outgoing(recorded.event));
    // The server API has no stream of its own to keep a copy in.
    if (!("id" in session) || to.session === session.id) return;
    const copy = engine.record({
      to: "user",
      key: nameKey(session.name!),
      node: engine.node,
      session: session.id,
      event: { ...event },
    });
    if (copy !== undefined) session.deliver(new Outgoing(copy.event));
  }

  #limiter(): RateLimiter {
    return new RateLimiter(this.#directLimits, this.#host.now());
  }

  #admit(limiter: RateLimiter, to: string, said: Said): void {
    if (limiter.take(said.data?.length ?? said.text!.length, this.#host.now())) return;
    throw new RelayError(
      "rate_limited",
      `${to} is receiving too many private messages right now; try again shortly`,
    );
  }

  #checked(content: Content): Said {
    const limits = this.#host.limits;
    if (content.kind === "text") {
      const text = cleanText(content.text, true);
      if (text.trim() === "") throw new RelayError("empty_message", "there is nothing to send");
      if (overUtf8Limit(text, limits.maxTextBytes)) {
        throw new RelayError("too_large", `a message may be at most ${limits.maxTextBytes} bytes`);
      }
      return content.action ? { text, action: true } : { text };
    }
    if (content.data.length > limits.maxFileBytes) {
      throw new RelayError("too_large", `a file may be at most ${limits.maxFileBytes} bytes`);
    }
    const baseName = content.name.split(/[\\/]/).at(-1) ?? "";
    const name = cleanText(baseName).replace(/^\.+/, "").slice(0, 128) || "file";
    const type = MEDIA_TYPE.test(content.type) ? content.type : "application/octet-stream";
    return { file: { name, type, size: content.data.length }, data: content.data };
  }
}
