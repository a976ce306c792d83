// Moderation: kicks, bans, mutes and topics, decided by admins (or the server
// API) on any node and applied by every node to its own sessions. Bans and
// mutes are kept (with their end) by the engine, so they hold across the
// cluster and for nodes that start later.

import { then } from "./_maybe.ts";
import { addressKey } from "./admission.ts";
import { bump, type RelayCounters } from "./counters.ts";
import { type Engine, type MaybePromise, type Ruling, rulingKey } from "./engine.ts";
import { CloseCode, RelayError } from "./errors.ts";
import { nameKey, validateName, validateRoom } from "./names.ts";
import type { AdminRequest, ModeratedEvent, TopicEvent } from "./protocol_admin.ts";
import { MAX_MINUTES } from "./protocol_admin.ts";
import type { Reply } from "./reply.ts";
import type { Rooms } from "./rooms.ts";
import { cleanText } from "./sanitize.ts";
import type { Session } from "./session.ts";
import type { Users } from "./users.ts";

/** A ban or mute lasts this long unless the moderator says. */
const DEFAULT_MINUTES = 60;

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
const IPV6 = /^\[?[0-9a-f]*:[0-9a-f:.]*\]?$/i;

type Kept = Exclude<Ruling, { kind: "kick" }>;
type Sanction = Extract<Ruling, { kind: "ban" | "mute" }>;

/** What a moderation request did, in words (the reply, or the server API's answer). */
export interface Outcome {
  /** One line for the moderator. */
  text: string;
  /** The event the target's rooms see, when there is one. */
  event?: ModeratedEvent | TopicEvent;
}

/** What {@link Moderation} needs from the relay. */
export interface ModerationHost {
  readonly engine: Engine;
  readonly users: Users;
  readonly rooms: Rooms;
  readonly counters: RelayCounters;
  /** This node's sessions, logged in or not. */
  sessions(): Iterable<Session>;
  now(): number;
}

/** Kicks, bans, mutes and topics. */
export class Moderation {
  #host: ModerationHost;
  // Both by rulingKey: `ban:name:KEY`, `ban:address:ADDRESS`, `mute:name:KEY`.
  #bans = new Map<string, Sanction>();
  #mutes = new Map<string, Sanction>();
  #topics = new Map<string, Extract<Ruling, { kind: "topic" }>>();

  constructor(host: ModerationHost) {
    this.#host = host;
  }

  /** The kept rulings a starting node reads from the engine. */
  load(rulings: Ruling[]): void {
    for (const ruling of rulings) this.#keep(ruling);
  }

  /** A ruling from another node: applied to this node's sessions. */
  ruled(ruling: Ruling): void {
    this.#apply(ruling);
  }

  /** Why a connection from `address` is refused, when its address is banned. */
  addressBan(address: string | undefined): RelayError | undefined {
    if (address === undefined || this.#bans.size === 0) return undefined;
    return this.#banError(this.#bans.get(`ban:address:${addressKey(address)}`));
  }

  /** Why a login as `rawName` is refused, when the name is banned. */
  nameBan(rawName: string): RelayError | undefined {
    if (this.#bans.size === 0) return undefined;
    let key: string;
    try {
      key = nameKey(validateName(rawName));
    } catch {
      return undefined; // the login itself will say what is wrong with the name
    }
    return this.#banError(this.#bans.get(`ban:name:${key}`));
  }

  /** When `session`'s mute ends, if it is muted now. */
  mutedUntil(session: Session): number | undefined {
    if (this.#mutes.size === 0 || session.name === undefined) return undefined;
    const mute = this.#mutes.get(`mute:name:${nameKey(session.name)}`);
    return mute !== undefined && mute.until > this.#host.now() ? mute.until : undefined;
  }

  /** The room's topic, for someone who joins it. */
  topic(room: string): TopicEvent | undefined {
    const topic = this.#topics.get(room);
    return topic === undefined
      ? undefined
      : { type: "topic", ts: topic.ts, room, text: topic.text, by: topic.by };
  }

  /** Forgets bans and mutes that ran out. */
  sweep(now: number): void {
    for (const [key, ban] of this.#bans) if (ban.until <= now) this.#bans.delete(key);
    for (const [key, mute] of this.#mutes) if (mute.until <= now) this.#mutes.delete(key);
  }

  /**
   * A user's moderation request: anyone may ask for a topic; the rest is for
   * admins (`forbidden` otherwise). Replies with what was done.
   */
  request(
    reply: Reply,
    request: Exclude<AdminRequest, { type: "refresh" | "oper" }>,
  ): MaybePromise<void> {
    const session = reply.session;
    const asking = request.type === "topic" && request.text === undefined;
    if (!asking && !session.admin) {
      throw new RelayError(
        "forbidden",
        `only admins may ${request.type === "topic" ? "set a topic" : request.type}`,
      );
    }
    return then(this.act(session.name!, request), (outcome) => {
      reply.send(
        outcome.event?.type === "topic"
          ? outcome.event
          : { type: "notice", ts: this.#host.now(), text: outcome.text },
      );
    });
  }

  /**
   * Does what a moderator asked: `by` is their name (or `server`). Admin
   * rights are the caller's to check. Throws `no_such_user`, `bad_message`.
   */
  act(
    by: string,
    request: Exclude<AdminRequest, { type: "refresh" | "oper" }>,
  ): MaybePromise<Outcome> {
    const now = this.#host.now();
    const reason = request.type === "kick" || request.type === "ban" || request.type === "mute"
      ? request.reason === undefined ? undefined : cleanText(request.reason).slice(0, 300)
      : undefined;
    const extra = reason === undefined || reason === "" ? {} : { reason };
    switch (request.type) {
      case "kick":
        return then(this.#online(request.name), (name) => {
          this.#rule({ kind: "kick", target: { name: nameKey(name) }, by, ...extra });
          return { text: `${name} was kicked.` };
        });
      case "mute":
        return then(this.#online(request.name), (name) => {
          const until = now + minutes(request.minutes) * 60_000;
          this.#rule({ kind: "mute", target: { name: nameKey(name) }, until, by, ...extra });
          return { text: `${name} is muted until ${new Date(until).toISOString()}.` };
        });
      case "unmute": {
        const name = validateName(request.name);
        this.#rule({ kind: "mute", target: { name: nameKey(name) }, until: 0, by });
        return { text: `${name} may speak again.` };
      }
      case "ban":
      case "unban": {
        const target = banTarget(request.target);
        const until = request.type === "unban" ? 0 : now + minutes(request.minutes) * 60_000;
        this.#rule({ kind: "ban", target: target.ruling, until, by, ...extra });
        return {
          text: until === 0
            ? `${target.shown} is no longer banned.`
            : `${target.shown} is banned until ${new Date(until).toISOString()}.`,
        };
      }
      case "topic": {
        const room = validateRoom(request.room);
        if (request.text === undefined) {
          const topic = this.topic(room);
          return topic === undefined
            ? { text: `${room} has no topic.` }
            : { text: `Topic of ${room}: ${topic.text} (set by ${topic.by})`, event: topic };
        }
        const text = cleanText(request.text).slice(0, 300);
        this.#rule({ kind: "topic", room, text, by, ts: now });
        return { text: text === "" ? `The topic of ${room} was cleared.` : `Topic set.` };
      }
    }
  }

  // A ruling made here: kept and sent by the engine, applied here.
  #rule(ruling: Ruling): void {
    bump(this.#host.counters.moderation, ruling.kind);
    this.#host.engine.rule(ruling);
    this.#apply(ruling);
  }

  #apply(ruling: Ruling): void {
    this.#keep(ruling);
    switch (ruling.kind) {
      case "kick":
      case "ban":
        if (ruling.kind === "ban" && ruling.until <= this.#host.now()) return;
        for (const session of this.#targets(ruling.target)) this.#remove(session, ruling);
        return;
      case "mute":
        for (const session of this.#targets(ruling.target)) {
          this.#tell(session, this.#event(ruling, session.name!));
        }
        return;
      case "topic":
        // Every node tells its own members: the ruling reached each of them.
        this.#host.rooms.deliver(ruling.room, {
          type: "topic",
          ts: ruling.ts,
          room: ruling.room,
          text: ruling.text,
          by: ruling.by,
        });
        return;
    }
  }

  #keep(ruling: Ruling): void {
    if (ruling.kind === "kick") return;
    const now = this.#host.now();
    if (ruling.kind === "topic") {
      if (ruling.text === "") this.#topics.delete(ruling.room);
      else this.#topics.set(ruling.room, ruling);
      return;
    }
    const map = ruling.kind === "ban" ? this.#bans : this.#mutes;
    if (ruling.until <= now) map.delete(rulingKey(ruling));
    else map.set(rulingKey(ruling), ruling);
  }

  // This node's sessions a ruling is about: the name's holder, or everyone from the address.
  *#targets(target: { name: string } | { address: string }): Iterable<Session> {
    if ("name" in target) {
      const session = this.#host.users.local(target.name);
      if (session !== undefined && session.state === "ready") yield session;
      return;
    }
    for (const session of [...this.#host.sessions()]) {
      const address = session.remoteAddress;
      if (address !== undefined && addressKey(address) === target.address) yield session;
    }
  }

  // Everyone in the user's rooms (on every node) sees it; then the connection closes.
  #remove(session: Session, ruling: Extract<Ruling, { kind: "kick" | "ban" }>): void {
    const shown = "address" in ruling.target && session.name === undefined
      ? ruling.target.address
      : session.name ?? "someone";
    if (session.name !== undefined) this.#tell(session, this.#event(ruling, shown));
    const because = ruling.reason === undefined ? "" : `: ${ruling.reason}`;
    const error = ruling.kind === "kick"
      ? new RelayError("kicked", `you were kicked by ${ruling.by}${because}`, {
        closeCode: CloseCode.kicked,
      })
      : new RelayError(
        "banned",
        `you are banned until ${new Date(ruling.until).toISOString()} by ${ruling.by}${because}`,
        { closeCode: CloseCode.banned },
      );
    session.fail(error);
  }

  // The event goes to each of the user's rooms (everyone there, on every node), or to them alone.
  #tell(session: Session, event: ModeratedEvent): void {
    const rooms = this.#host.rooms;
    if (session.rooms.size === 0) return void session.send(event);
    for (const room of session.rooms) rooms.publish(room, { ...event, room });
  }

  #event(ruling: Sanction | Extract<Ruling, { kind: "kick" }>, name: string): ModeratedEvent {
    const lifted = ruling.kind !== "kick" && ruling.until <= this.#host.now();
    const action = ruling.kind === "kick"
      ? "kick"
      : ruling.kind === "ban"
      ? lifted ? "unban" : "ban"
      : lifted
      ? "unmute"
      : "mute";
    return {
      type: "moderated",
      ts: this.#host.now(),
      action,
      name,
      by: ruling.by,
      ...(ruling.reason === undefined ? {} : { reason: ruling.reason }),
      ...(ruling.kind === "kick" || lifted ? {} : { until: ruling.until }),
    };
  }

  #banError(ban: Sanction | undefined): RelayError | undefined {
    if (ban === undefined || ban.until <= this.#host.now()) return undefined;
    return new RelayError("banned", `you are banned until ${new Date(ban.until).toISOString()}`, {
      closeCode: CloseCode.banned,
    });
  }

  // The name of the user online as `raw` (on any node); `no_such_user` when nobody is.
  #online(raw: string): MaybePromise<string> {
    return then(this.#host.users.find(raw), (name) => {
      if (name === undefined) {
        throw new RelayError("no_such_user", `nobody called "${cleanText(raw)}" is online`);
      }
      return name;
    });
  }
}

function minutes(asked: number | undefined): number {
  if (asked === undefined) return DEFAULT_MINUTES;
  if (!(asked > 0 && asked <= MAX_MINUTES)) {
    throw new RelayError("bad_message", `minutes must be above 0 and at most ${MAX_MINUTES}`);
  }
  return asked;
}

// An IP address bans everyone from it (an IPv6 address, its /64); anything else is a name.
function banTarget(raw: string): {
  ruling: { name: string } | { address: string };
  shown: string;
} {
  const trimmed = raw.trim();
  if (IPV4.test(trimmed) || (IPV6.test(trimmed) && trimmed.split(":").length > 2)) {
    const address = addressKey(trimmed);
    return { ruling: { address }, shown: address };
  }
  const name = validateName(trimmed);
  return { ruling: { name: nameKey(name) }, shown: name };
}
