// The cluster as one node sees it: every node's names, room memberships and
// parked sessions, this node's own included. Each node is the authority for
// its own entries and tells the others of every change; here they are merged
// into one view that answers claims, presence and the room list at once.

import type { NodeState } from "./_wire.ts";
import { compareNames, roomPage } from "../core/room_page.ts";
import type { Member, Parked, Presence, RoomPage } from "../core/mod.ts";

/** One node's claim on a name. */
export interface NameHolder {
  readonly node: string;
  readonly session: string;
  name: string;
  token: string;
  /** When it was claimed, on the claiming node's clock: of two live claims, the earlier wins. */
  readonly at: number;
  /** Set while the name is only kept for a dropped user: until when, on this node's clock. */
  heldUntil: number | undefined;
  /** True once this node told its relay it lost this claim (told once). */
  lost?: boolean;
}

/** One session in one room. */
export interface RoomMember {
  node: string;
  readonly session: string;
  name: string;
  /** When it joined, on its node's clock. */
  at: number;
}

/** A parked session, with its node and until when it may be resumed (this node's clock). */
export interface ParkedEntry {
  readonly node: string;
  readonly parked: Parked;
  readonly until: number;
}

/** What this node knows of one node. */
export class NodeRecord {
  readonly id: string;
  /** When this node last heard it (this node's clock). */
  lastSeen: number;
  /** The last cluster batch applied from it; undefined until its state is known. */
  q: number | undefined;
  readonly names = new Map<string, NameHolder>();
  readonly rooms = new Map<string, Set<string>>();
  readonly parked = new Set<string>();

  constructor(id: string, now: number) {
    this.id = id;
    this.lastSeen = now;
  }
}

/** True when claim `a` wins over claim `b`: the earlier, then the smaller node id. */
export function precedes(a: NameHolder, b: NameHolder): boolean {
  return a.at < b.at || (a.at === b.at && a.node < b.node);
}

function live(holder: NameHolder): boolean {
  return holder.heldUntil === undefined;
}

function joinedBefore(a: RoomMember, b: RoomMember): boolean {
  return a.at < b.at || (a.at === b.at && a.session < b.session);
}

// The index of `member` in `order` (sorted by joinedBefore), found by bisection.
function placeOf(order: RoomMember[], member: RoomMember): number {
  let low = 0;
  let high = order.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (joinedBefore(order[middle]!, member)) low = middle + 1;
    else high = middle;
  }
  return order[low] === member ? low : order.indexOf(member);
}

/** Every node's names, rooms and parked sessions, merged. */
export class Replica {
  #now: () => number;
  readonly #nodes = new Map<string, NodeRecord>();
  // Usually one holder per key; two while a race between nodes is being settled.
  readonly #names = new Map<string, NameHolder[]>();
  #liveNames = 0;
  readonly #rooms = new Map<string, Map<string, RoomMember>>();
  // Each room's members in join order (their join times, then session ids), the same on every node.
  readonly #order = new Map<string, RoomMember[]>();
  #sorted: string[] | undefined;
  readonly #parked = new Map<string, ParkedEntry>();

  constructor(now: () => number) {
    this.#now = now;
  }

  /** The record of node `id`, if it is known. */
  node(id: string): NodeRecord | undefined {
    return this.#nodes.get(id);
  }

  /** Known nodes, this one included. */
  nodes(): IterableIterator<NodeRecord> {
    return this.#nodes.values();
  }

  /** The record of node `id`, made when new. */
  addNode(id: string): NodeRecord {
    let record = this.#nodes.get(id);
    if (!record) this.#nodes.set(id, record = new NodeRecord(id, this.#now()));
    return record;
  }

  /** Keys with a live holder. */
  get liveNames(): number {
    return this.#liveNames;
  }

  /** Rooms with a member. */
  get roomCount(): number {
    return this.#rooms.size;
  }

  // ---- names

  /** Every holder of `key`, held names whose time ran out removed first. */
  holders(key: string): readonly NameHolder[] {
    const holders = this.#names.get(key);
    if (!holders) return [];
    const now = this.#now();
    for (const holder of [...holders]) {
      if (holder.heldUntil !== undefined && holder.heldUntil <= now) {
        this.#removeHolder(key, holder);
      }
    }
    return this.#names.get(key) ?? [];
  }

  /** The live holder that wins `key` (the earliest claim), if any. */
  winner(key: string): NameHolder | undefined {
    let best: NameHolder | undefined;
    for (const holder of this.#names.get(key) ?? []) {
      if (live(holder) && (best === undefined || precedes(holder, best))) best = holder;
    }
    return best;
  }

  /** The member holding `key` live, as {@link winner} decides. */
  findName(key: string): Member | undefined {
    const holder = this.winner(key);
    return holder && { node: holder.node, session: holder.session, name: holder.name };
  }

  /**
   * Records a claim. A live claim replaces names only kept for dropped users,
   * and the same session's claim through another node (it moved).
   */
  claim(key: string, holder: NameHolder): void {
    this.#touch(key, () => {
      const record = this.addNode(holder.node);
      const previous = record.names.get(key);
      if (previous) this.#drop(key, previous);
      for (const other of [...(this.#names.get(key) ?? [])]) {
        if (other.session === holder.session || (live(holder) && !live(other))) {
          this.#drop(key, other);
        }
      }
      record.names.set(key, holder);
      const holders = this.#names.get(key);
      if (holders) holders.push(holder);
      else this.#names.set(key, [holder]);
    });
  }

  /** Frees the name `session` holds through `node`, or keeps it for its token for `holdMs`. */
  release(node: string, key: string, session: string, holdMs: number): void {
    const holder = this.#nodes.get(node)?.names.get(key);
    if (!holder || holder.session !== session || !live(holder)) return;
    if (holdMs > 0) {
      this.#touch(key, () => holder.heldUntil = this.#now() + holdMs);
    } else {
      this.#removeHolder(key, holder);
    }
  }

  /** Names kept for dropped users whose time ran out go. */
  pruneHolds(now: number): void {
    for (const record of this.#nodes.values()) {
      for (const [key, holder] of record.names) {
        if (holder.heldUntil !== undefined && holder.heldUntil <= now) {
          this.#removeHolder(key, holder);
        }
      }
    }
  }

  #removeHolder(key: string, holder: NameHolder): void {
    this.#touch(key, () => this.#drop(key, holder));
  }

  // Takes the holder out of both indexes (the live count is the caller's).
  #drop(key: string, holder: NameHolder): void {
    const record = this.#nodes.get(holder.node);
    if (record?.names.get(key) === holder) record.names.delete(key);
    const holders = this.#names.get(key);
    if (!holders) return;
    const index = holders.indexOf(holder);
    if (index >= 0) holders.splice(index, 1);
    if (holders.length === 0) this.#names.delete(key);
  }

  // Runs a change to `key`'s holders and keeps the count of live keys.
  #touch(key: string, change: () => void): void {
    const before = this.#hasLive(key);
    change();
    const after = this.#hasLive(key);
    if (before !== after) this.#liveNames += after ? 1 : -1;
  }

  #hasLive(key: string): boolean {
    return (this.#names.get(key) ?? []).some(live);
  }

  // ---- rooms

  /** Adds (or moves to `node`) a member of `room`; a member moved keeps its place. */
  join(node: string, room: string, session: string, name: string, at: number): void {
    let members = this.#rooms.get(room);
    if (!members) {
      this.#rooms.set(room, members = new Map());
      this.#order.set(room, []);
      this.#sorted = undefined;
    }
    const existing = members.get(session);
    if (existing) {
      if (existing.node !== node) this.#nodes.get(existing.node)?.rooms.get(room)?.delete(session);
      existing.node = node;
      existing.name = name;
    } else {
      const member = { node, session, name, at };
      members.set(session, member);
      const order = this.#order.get(room)!;
      // Joins arrive nearly in order: the place is found from the end, usually at once.
      let index = order.length;
      while (index > 0 && joinedBefore(member, order[index - 1]!)) index--;
      order.splice(index, 0, member);
    }
    const record = this.addNode(node);
    let sessions = record.rooms.get(room);
    if (!sessions) record.rooms.set(room, sessions = new Set());
    sessions.add(session);
  }

  /** Takes `session` out of `room` when it is there through `node`; true when it was. */
  leave(node: string, room: string, session: string): boolean {
    const members = this.#rooms.get(room);
    const member = members?.get(session);
    if (!members || !member || member.node !== node) return false;
    members.delete(session);
    const order = this.#order.get(room)!;
    order.splice(placeOf(order, member), 1);
    if (members.size === 0) {
      this.#rooms.delete(room);
      this.#order.delete(room);
      this.#sorted = undefined;
    }
    const record = this.#nodes.get(node);
    const sessions = record?.rooms.get(room);
    sessions?.delete(session);
    if (sessions?.size === 0) record!.rooms.delete(room);
    return true;
  }

  /** Shows `session` under `name` in `room`, when it is there through `node`. */
  rename(node: string, room: string, session: string, name: string): void {
    const member = this.#rooms.get(room)?.get(session);
    if (member && member.node === node) member.name = name;
  }

  /** The member `session` of `room`, if it is one. */
  member(room: string, session: string): RoomMember | undefined {
    return this.#rooms.get(room)?.get(session);
  }

  /** Members of `room` in all. */
  count(room: string): number {
    return this.#rooms.get(room)?.size ?? 0;
  }

  /** The first `limit` names in `room`, and the count. */
  presence(room: string, limit: number): Presence {
    const order = this.#order.get(room);
    if (!order) return { members: [], count: 0 };
    const names = order.slice(0, Math.max(limit, 0)).map((member) => member.name);
    return { members: names, count: order.length };
  }

  /** Rooms after `after`, sorted by name, at most `limit`. */
  rooms(limit: number, after?: string): RoomPage {
    const sorted = this.#sorted ??= [...this.#rooms.keys()].sort(compareNames);
    return roomPage(sorted, limit, after, (room) => this.#rooms.get(room)!.size);
  }

  // ---- parked sessions

  /** Keeps a parked session of `node` until `until`. */
  park(node: string, token: string, parked: Parked, until: number): void {
    this.unpark(token);
    this.#parked.set(token, { node, parked, until });
    this.addNode(node).parked.add(token);
  }

  /** The parked session under `token`, if any. */
  parked(token: string): ParkedEntry | undefined {
    return this.#parked.get(token);
  }

  /** Forgets the parked session under `token`; returns it. */
  unpark(token: string): ParkedEntry | undefined {
    const entry = this.#parked.get(token);
    if (!entry) return undefined;
    this.#parked.delete(token);
    this.#nodes.get(entry.node)?.parked.delete(token);
    return entry;
  }

  /** Forgets other nodes' parked sessions past their window (their node ends them). */
  pruneParked(now: number, self: string): void {
    for (const [token, entry] of this.#parked) {
      if (entry.node !== self && entry.until <= now) this.unpark(token);
    }
  }

  // ---- whole nodes

  /** Forgets what `node` holds for `session` (it moved to another node), quietly. */
  forgetSession(node: string, session: string): void {
    const record = this.#nodes.get(node);
    if (!record) return;
    for (const [key, holder] of [...record.names]) {
      if (holder.session === session) this.#removeHolder(key, holder);
    }
    for (const [room, sessions] of [...record.rooms]) {
      if (sessions.has(session)) this.leave(node, room, session);
    }
  }

  /**
   * Forgets node `id` and everything it held; returns the members it had in
   * each room, for the rooms to hear that they left.
   */
  dropNode(id: string): { room: string; names: string[] }[] {
    const record = this.#nodes.get(id);
    if (!record) return [];
    const gone: { room: string; names: string[] }[] = [];
    for (const [room, sessions] of [...record.rooms]) {
      const names: string[] = [];
      for (const session of [...sessions]) {
        const name = this.#rooms.get(room)?.get(session)?.name;
        if (this.leave(id, room, session) && name !== undefined) names.push(name);
      }
      if (names.length > 0) gone.push({ room, names });
    }
    for (const [key, holder] of [...record.names]) this.#removeHolder(key, holder);
    for (const token of [...record.parked]) this.unpark(token);
    this.#nodes.delete(id);
    return gone;
  }

  /**
   * Replaces what node `id` holds with `state`. Returns the keys it claims
   * (for the caller to settle races with its own claims) and the members that
   * are new here.
   */
  replaceNode(
    id: string,
    state: NodeState,
  ): { keys: string[]; added: { room: string; name: string }[] } {
    const record = this.addNode(id);
    const now = this.#now();
    const keys: string[] = [];
    const names = new Set<string>();
    for (const { key, session, name, token, at, holdMs } of state.names) {
      names.add(key);
      const current = record.names.get(key);
      const heldUntil = holdMs === undefined ? undefined : now + holdMs;
      if (current && current.session === session && current.at === at) {
        current.name = name;
        current.token = token;
        this.#touch(key, () => current.heldUntil = heldUntil);
      } else {
        this.claim(key, { node: id, session, name, token, at, heldUntil });
      }
      if (heldUntil === undefined) keys.push(key);
    }
    for (const [key, holder] of [...record.names]) {
      if (!names.has(key)) this.#removeHolder(key, holder);
    }
    const added: { room: string; name: string }[] = [];
    const memberships = new Set<string>();
    for (const { room, members } of state.rooms) {
      for (const { session, name, at } of members) {
        memberships.add(`${room}\n${session}`);
        const current = this.member(room, session);
        if (current?.node === id) {
          current.name = name;
          continue;
        }
        this.join(id, room, session, name, at);
        added.push({ room, name });
      }
    }
    for (const [room, sessions] of [...record.rooms]) {
      for (const session of [...sessions]) {
        if (!memberships.has(`${room}\n${session}`)) this.leave(id, room, session);
      }
    }
    const tokens = new Set<string>();
    for (const { token, parked, ms } of state.parked) {
      tokens.add(token);
      this.park(id, token, parked, now + ms);
    }
    for (const token of [...record.parked]) if (!tokens.has(token)) this.unpark(token);
    return { keys, added };
  }

  /** What node `id` holds, to tell in full. */
  stateOf(id: string): NodeState {
    const record = this.#nodes.get(id);
    const now = this.#now();
    const state: NodeState = { names: [], rooms: [], parked: [] };
    if (!record) return state;
    for (const [key, { session, name, token, at, heldUntil }] of record.names) {
      state.names.push(
        heldUntil === undefined
          ? { key, session, name, token, at }
          : { key, session, name, token, at, holdMs: Math.max(heldUntil - now, 1) },
      );
    }
    for (const [room, sessions] of record.rooms) {
      const members = [];
      for (const session of sessions) {
        const member = this.member(room, session);
        if (member) members.push({ session, name: member.name, at: member.at });
      }
      state.rooms.push({ room, members });
    }
    for (const token of record.parked) {
      const entry = this.#parked.get(token);
      if (entry) state.parked.push({ token, parked: entry.parked, ms: entry.until - now });
    }
    return state;
  }
}
