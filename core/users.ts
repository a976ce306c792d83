// Who is logged in under which name: this node's sessions by name key, and
// the cluster-wide name leases through the engine. A name that looks like one
// online (same key) is taken; a dropped user's name is kept for them a while.

import { then } from "./_maybe.ts";
import type { Engine, MaybePromise, NameClaim } from "./engine.ts";
import { RelayError } from "./errors.ts";
import { MAX_NAME_LENGTH, nameKey, validateName } from "./names.ts";
import type { Departure, Session } from "./session.ts";

function taken(name: string, claim: Extract<NameClaim, { ok: false }>): RelayError {
  const message = claim.held
    ? `the name "${name}" is kept for a user whose connection just dropped; try another`
    : claim.holder.toLowerCase() === name.toLowerCase()
    ? `the name "${name}" is taken; try another`
    : `the name "${name}" looks too much like "${claim.holder}", who is online; try another`;
  return new RelayError("name_taken", message);
}

// What the server API says is signed "server": no user may look like it.
const SERVER_KEY = nameKey("server");

function newToken(): string {
  return crypto.randomUUID().replaceAll("-", "");
}

/** Logged-in users: names on this node, leases in the cluster. */
export class Users {
  #local = new Map<string, Session>();
  #engine: Engine;
  #graceMs: number;
  #maxHolds: number;
  #now: () => number;
  // When each of an address's held names is free again, so one address cannot hoard names.
  #holds = new Map<string, number[]>();

  /**
   * @param graceMs How long a dropped user's name is kept for them.
   * @param maxHoldsPerAddress Names kept at once for users from one address.
   */
  constructor(engine: Engine, graceMs: number, maxHoldsPerAddress: number, now: () => number) {
    this.#engine = engine;
    this.#graceMs = graceMs;
    this.#maxHolds = maxHoldsPerAddress;
    this.#now = now;
  }

  /** Logged-in sessions on this node. */
  get size(): number {
    return this.#local.size;
  }

  /** This node's logged-in sessions. */
  sessions(): IterableIterator<Session> {
    return this.#local.values();
  }

  /** This node's session holding the name with `key`, if any. */
  local(key: string): Session | undefined {
    return this.#local.get(key);
  }

  /**
   * The name of the user online as `rawName` or a look-alike (same key), on
   * this node or another; undefined when nobody is.
   */
  find(rawName: string): MaybePromise<string | undefined> {
    if (rawName === "" || [...rawName].length > MAX_NAME_LENGTH) return undefined;
    const key = nameKey(rawName.normalize("NFC"));
    const local = this.#local.get(key);
    if (local !== undefined) return local.name;
    return then(this.#engine.findName(key), (member) => member?.name);
  }

  /**
   * Gives `session` the name `rawName` (and a reclaim token). Resolves true
   * once it is logged in; false when it closed while the claim was in flight.
   */
  login(session: Session, rawName: string, reclaim: string | undefined): MaybePromise<boolean> {
    if (session.state !== "new") {
      throw new RelayError("already_logged_in", "you are already logged in; use /nick to rename");
    }
    const name = validateName(rawName);
    const key = this.#check(session, name);
    const token = reclaim && reclaim.length <= 64 ? reclaim : newToken();
    const member = { node: this.#engine.node, session: session.id, name };
    return then(this.#engine.claimName(key, member, token), (claim) => {
      if (session.state === "closed") {
        this.#engine.releaseName(key, session.id);
        return false;
      }
      if (!claim.ok) throw taken(name, claim);
      this.#local.set(key, session);
      session.name = name;
      session.reclaim = token;
      session.markReady();
      return true;
    });
  }

  /** Renames a logged-in session; resolves with the old name. */
  rename(session: Session, rawName: string): MaybePromise<string> {
    const from = session.name!;
    const to = validateName(rawName);
    const key = this.#check(session, to);
    const fromKey = nameKey(from);
    const member = { node: this.#engine.node, session: session.id, name: to };
    return then(this.#engine.claimName(key, member, session.reclaim!), (claim) => {
      if (!claim.ok) throw taken(to, claim);
      if (session.state === "closed") {
        // It left while the claim was on its way: its new name goes with it.
        if (key !== fromKey) this.#engine.releaseName(key, session.id);
        return from;
      }
      if (key !== fromKey) {
        this.#engine.releaseName(fromKey, session.id);
        if (this.#local.get(fromKey) === session) this.#local.delete(fromKey);
      }
      this.#local.set(key, session);
      session.name = to;
      return from;
    });
  }

  /**
   * Whether a session dropped from `address` may be kept for a while (its
   * name held); counts it when so. One address may have as many kept as it may
   * have connections.
   */
  mayKeep(address: string | undefined, ms: number): boolean {
    return this.#holdFor(address, ms);
  }

  /** `to` (a resumed session) now answers for the name `from` had on this node. */
  replace(from: Session, to: Session): void {
    const key = nameKey(to.name!);
    if (this.#local.get(key) === from) this.#local.delete(key);
    this.#local.set(key, to);
  }

  /** A session resumed here from another node: its name's lease moved with it. */
  adopt(session: Session): void {
    this.#local.set(nameKey(session.name!), session);
  }

  /** Forgets a session whose name moved elsewhere (resumed on another node), quietly. */
  forget(session: Session): void {
    const key = nameKey(session.name!);
    if (this.#local.get(key) === session) this.#local.delete(key);
  }

  /** Frees the session's name; after a drop it is kept for its reclaim token first. */
  release(session: Session, how: Departure): void {
    const name = session.name;
    if (name === undefined) return;
    const key = nameKey(name);
    if (this.#local.get(key) === session) this.#local.delete(key);
    const hold = how === "drop" && this.#graceMs > 0 && this.#holdFor(session.remoteAddress)
      ? { ms: this.#graceMs }
      : undefined;
    this.#engine.releaseName(key, session.id, hold);
  }

  // Whether a name dropped from `address` may be kept, and if so counts it.
  #holdFor(address: string | undefined, ms = this.#graceMs): boolean {
    if (address === undefined) return true;
    const now = this.#now();
    const ends = (this.#holds.get(address) ?? []).filter((end) => end > now);
    if (ends.length >= this.#maxHolds) {
      this.#holds.set(address, ends);
      return false;
    }
    ends.push(now + ms);
    this.#holds.set(address, ends);
    return true;
  }

  /** Forgets addresses whose held names have all run out. */
  sweep(now: number): void {
    for (const [address, ends] of this.#holds) {
      if (ends.every((end) => end <= now)) this.#holds.delete(address);
    }
  }

  // The name's key, unless another session on this node has it, or it is the server API's.
  #check(session: Session, name: string): string {
    const key = nameKey(name);
    if (key === SERVER_KEY) {
      throw new RelayError(
        "name_taken",
        `the name "${name}" is the server's own (its API speaks under it); try another`,
      );
    }
    const holder = this.#local.get(key);
    if (holder !== undefined && holder !== session) {
      throw taken(name, { ok: false, holder: holder.name!, held: false });
    }
    return key;
  }
}
