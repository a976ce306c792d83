// What crosses between nodes on the BroadcastChannels, and the checks every
// received message passes before anything acts on it. Messages are
// structured-cloned (no JSON): a Uint8Array stays one. Anything that is not
// exactly one of these shapes is dropped without a word: another program may
// share the channel names, and a node of another version may send more.

import { isId, isObj, isTextUpTo, isTime, type Obj } from "../core/_wire_guards.ts";
import type { Envelope, Parked, Ruling } from "../core/mod.ts";
import { isKept, readRuling } from "../core/_rulings.ts";
import type { StampedRuling } from "./_rulings.ts";

/** The wire version; a batch of any other version is ignored. */
export const WIRE_VERSION = 1;

/** Items one posted message carries at most (a burst is split into several). */
export const MAX_BATCH = 256;

/** One posted message: the sender, its sequence on the cluster channel, the items. */
export interface Batch {
  v: typeof WIRE_VERSION;
  /** The sending node's id. */
  o: string;
  /** On the cluster channel: counts up by one per batch, so a gap shows a lost batch. */
  q?: number;
  m: unknown[];
}

/** A node's own names, memberships and parked sessions, as it tells them in full. */
export interface NodeState {
  names: {
    key: string;
    session: string;
    name: string;
    token: string;
    /** When the claim was made, on the claiming node's clock: earlier claims win. */
    at: number;
    /** Set while the name is only kept for a dropped user: the ms left. */
    holdMs?: number;
  }[];
  rooms: { room: string; members: { session: string; name: string; at: number }[] }[];
  parked: { token: string; parked: Parked; ms: number }[];
  /**
   * Every kept ruling the node knows (not only its own: rulings are the
   * cluster's), lifts included, so a node that starts later learns them.
   */
  rulings?: StampedRuling[];
}

/** Items on the cluster channel, which every node hears. */
export type ClusterItem =
  /** A node starting (or back from a pause): its state; everyone answers with theirs. */
  | { t: "hello"; state: NodeState }
  /** A node's state, for the node `to` (in the cluster stream, so later items apply after it). */
  | { t: "state"; to: string; state: NodeState }
  | { t: "beat" }
  /** The node leaves: whatever it still holds goes. */
  | { t: "bye" }
  | { t: "claim"; key: string; session: string; name: string; token: string; at: number }
  /** A name freed (`ms` 0) or kept for its token for `ms`. */
  | { t: "release"; key: string; session: string; ms: number }
  | { t: "join"; room: string; session: string; name: string; at: number }
  | { t: "leave"; room: string; session: string }
  | { t: "rename"; room: string; session: string; name: string }
  | { t: "park"; token: string; parked: Parked; ms: number }
  /** A parked session is no longer to be had (resumed on its node, or ended). */
  | { t: "unpark"; token: string }
  /** A session parked here moved to another node: forget what this node held for it. */
  | { t: "moved"; session: string; token: string }
  /** A notice for every user. */
  | { t: "all"; event: Extract<Envelope, { to: "all" }>["event"] }
  /** A moderation ruling; a kept one (not a kick) is stamped when it was ruled. */
  | { t: "rule"; ruling: Ruling; at?: number }
  /**
   * Hand me the session parked under `token` (node `to`, or whichever node has
   * it when the asker has not heard of it yet); answer with `taken` and the same id.
   */
  | { t: "take"; to?: string; token: string; id: number };

/** What a node tells about a parked session it hands over. */
export interface Handover {
  parked: Parked;
  /** When its name was claimed (the claim keeps its place in a race). */
  at: number;
  /** Rooms it is still in, each with when it joined (presence keeps its order). */
  kept: { room: string; at: number }[];
}

/** Items on one node's own channel: for that node alone. */
export type NodeItem =
  /** A private message for a session on this node. */
  | { t: "dm"; e: Extract<Envelope, { to: "user" }> }
  /** Send me your state (I missed something of yours, or never heard you). */
  | { t: "sync" }
  /** The answer to a `take`: the session, or nothing when the node does not have it. */
  | { t: "taken"; id: number; handover?: Handover };

/** The longest text accepted in an event (the relay's own limits are far lower). */
const MAX_TEXT = 16 * 1024 * 1024;

function isText(value: unknown): value is string {
  return isTextUpTo(value, MAX_TEXT);
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

function optional(value: unknown, check: (value: unknown) => boolean): boolean {
  return value === undefined || check(value);
}

/** The batch, when `data` is one of ours from another node; else undefined. */
export function readBatch(data: unknown, self: string): Batch | undefined {
  if (!isObj(data) || data.v !== WIRE_VERSION || !isId(data.o) || data.o === self) return;
  if (!Array.isArray(data.m) || data.m.length > MAX_BATCH) return;
  if (!optional(data.q, isCount)) return;
  return data as unknown as Batch;
}

// Content common to room and private messages: text, or a file with its bytes.
function isSaid(event: Obj): boolean {
  if (!isId(event.id) || !isTime(event.ts) || !isId(event.from)) return false;
  if (!optional(event.action, (v) => typeof v === "boolean")) return false;
  if (event.data === undefined) return isText(event.text) && event.file === undefined;
  const file = event.file;
  return event.data instanceof Uint8Array && event.text === undefined && isObj(file) &&
    isId(file.name) && isId(file.type) && isCount(file.size);
}

/** True when `event` is an event a room's envelope may carry, for `room`. */
function isRoomEvent(event: unknown, room: string): boolean {
  if (!isObj(event)) return false;
  switch (event.type) {
    case "message":
      return event.room === room && isSaid(event);
    case "joined":
      return event.room === room && isTime(event.ts) && isId(event.name);
    case "left":
      return event.room === room && isTime(event.ts) && isId(event.name) &&
        (event.reason === "leave" || event.reason === "disconnect");
    case "renamed":
      return optional(event.room, (v) => v === room) && isTime(event.ts) && isId(event.from) &&
        isId(event.to);
    case "notice":
      return isTime(event.ts) && isText(event.text);
    case "moderated":
      return optional(event.room, (v) => v === room) && isModerated(event);
    case "topic":
      return event.room === room && isTime(event.ts) && isText(event.text) && isId(event.by);
    default:
      return false;
  }
}

const ACTIONS: readonly unknown[] = ["kick", "ban", "unban", "mute", "unmute"];

// What a moderator did (a room's copy, or one for a user or everyone).
function isModerated(event: Obj): boolean {
  return isTime(event.ts) && ACTIONS.includes(event.action) && isId(event.name) &&
    isId(event.by) && optional(event.reason, isText) && optional(event.until, isTime) &&
    optional(event.room, isId);
}

// What may go to every user: a notice, or what a moderator did.
function isNotice(event: unknown): boolean {
  if (!isObj(event)) return false;
  if (event.type === "moderated") return isModerated(event);
  return event.type === "notice" && isTime(event.ts) && isText(event.text);
}

/** The room envelope in `item`, when it is one for `room`; else undefined. */
export function readRoomEnvelope(
  item: unknown,
  room: string,
): Extract<Envelope, { to: "room" }> | undefined {
  if (!isObj(item) || item.to !== "room" || item.room !== room) return;
  if (!optional(item.except, isId) || !isRoomEvent(item.event, room)) return;
  return item as unknown as Extract<Envelope, { to: "room" }>;
}

const GRANTS: readonly unknown[] = ["join", "publish", "history"];

// Who a token said a parked session's user is: it decides what the user may do.
function isIdentity(value: unknown): boolean {
  if (!isObj(value)) return false;
  const { rooms } = value;
  return isId(value.subject) && isId(value.name) && typeof value.admin === "boolean" &&
    isTime(value.expires) &&
    (rooms === undefined ||
      (isObj(rooms) &&
        Object.values(rooms).every((grants) =>
          Array.isArray(grants) && grants.every((grant) => GRANTS.includes(grant))
        )));
}

function isParked(value: unknown): value is Parked {
  if (!isObj(value)) return false;
  return isId(value.node) && isId(value.session) && isId(value.name) && isId(value.key) &&
    isId(value.reclaim) && typeof value.echo === "boolean" && Array.isArray(value.rooms) &&
    value.rooms.every(isId) && optional(value.identity, isIdentity) &&
    optional(value.oper, (v) => typeof v === "boolean");
}

// The well-formed kept rulings of a state's list (a malformed one is left out, not the state).
function readStamped(value: unknown): StampedRuling[] {
  if (!Array.isArray(value)) return [];
  const rulings: StampedRuling[] = [];
  for (const entry of value) {
    if (!isObj(entry) || !isTime(entry.at)) continue;
    const ruling = readRuling(entry.ruling);
    if (ruling && isKept(ruling)) rulings.push({ ruling, at: entry.at });
  }
  return rulings;
}

// A checked state, its rulings rebuilt from the well-formed ones.
function withRulings(state: NodeState): NodeState {
  const { rulings } = state;
  return rulings === undefined ? state : { ...state, rulings: readStamped(rulings) };
}

function isState(value: unknown): value is NodeState {
  if (!isObj(value)) return false;
  const { names, rooms, parked } = value;
  if (!Array.isArray(names) || !Array.isArray(rooms) || !Array.isArray(parked)) return false;
  return names.every((n) =>
    isObj(n) && isId(n.key) && isId(n.session) && isId(n.name) && isId(n.token) &&
    isTime(n.at) && optional(n.holdMs, isTime)
  ) &&
    rooms.every((r) =>
      isObj(r) && isId(r.room) && Array.isArray(r.members) &&
      r.members.every((m) => isObj(m) && isId(m.session) && isId(m.name) && isTime(m.at))
    ) &&
    parked.every((p) => isObj(p) && isId(p.token) && isParked(p.parked) && isTime(p.ms));
}

/** The cluster item in `item`, when it is a well-formed one; else undefined. */
export function readClusterItem(item: unknown): ClusterItem | undefined {
  if (!isObj(item)) return;
  switch (item.t) {
    case "hello":
      return isState(item.state) ? { t: "hello", state: withRulings(item.state) } : undefined;
    case "state":
      return isId(item.to) && isState(item.state)
        ? { t: "state", to: item.to, state: withRulings(item.state) }
        : undefined;
    case "rule": {
      const ruling = readRuling(item.ruling);
      if (!ruling) return;
      if (!isKept(ruling)) return { t: "rule", ruling };
      return isTime(item.at) ? { t: "rule", ruling, at: item.at } : undefined;
    }
  }
  const ok = (() => {
    switch (item.t) {
      case "beat":
      case "bye":
        return true;
      case "claim":
        return isId(item.key) && isId(item.session) && isId(item.name) && isId(item.token) &&
          isTime(item.at);
      case "release":
        return isId(item.key) && isId(item.session) && isTime(item.ms);
      case "join":
        return isId(item.room) && isId(item.session) && isId(item.name) && isTime(item.at);
      case "leave":
        return isId(item.room) && isId(item.session);
      case "rename":
        return isId(item.room) && isId(item.session) && isId(item.name);
      case "park":
        return isId(item.token) && isParked(item.parked) && isTime(item.ms);
      case "unpark":
        return isId(item.token);
      case "moved":
        return isId(item.session) && isId(item.token);
      case "all":
        return isNotice(item.event);
      case "take":
        return optional(item.to, isId) && isId(item.token) && isCount(item.id);
      default:
        return false;
    }
  })();
  return ok ? item as unknown as ClusterItem : undefined;
}

/** The node item in `item`, when it is a well-formed one for node `self`; else undefined. */
export function readNodeItem(item: unknown, self: string): NodeItem | undefined {
  if (!isObj(item)) return;
  switch (item.t) {
    case "dm": {
      const e = item.e;
      if (!isObj(e) || e.to !== "user" || e.node !== self || !isId(e.key)) return;
      if (!isId(e.session) || !isObj(e.event) || e.event.type !== "direct") return;
      if (!isId(e.event.to) || !isSaid(e.event)) return;
      return item as unknown as NodeItem;
    }
    case "sync":
      return item as unknown as NodeItem;
    case "taken": {
      if (!isCount(item.id)) return;
      const h = item.handover;
      if (h === undefined) return item as unknown as NodeItem;
      if (!isObj(h) || !isParked(h.parked) || !isTime(h.at) || !Array.isArray(h.kept)) return;
      if (!h.kept.every((k) => isObj(k) && isId(k.room) && isTime(k.at))) return;
      return item as unknown as NodeItem;
    }
    default:
      return;
  }
}
