// Who may open a connection: every open socket holds a ticket from the moment
// it is accepted until it closes, whether it ever logs in or not, so sockets
// that never finish a handshake count against the same limits as users.

/**
 * The key under which an address is counted: an IPv4 address as it is, an
 * IPv6 address by its /64 network, which one customer usually holds whole (a
 * per-address limit on single IPv6 addresses would not limit anyone).
 */
export function addressKey(address: string): string {
  const bare = address.replace(/%.*$/, "").replace(/^\[|\]$/g, "");
  if (!bare.includes(":")) return bare;
  const mapped = /^(?:0*:)*:?ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare);
  if (mapped) return mapped[1]!;
  const [head = "", tail] = bare.split("::");
  const left = head === "" ? [] : head.split(":");
  const right = tail === undefined || tail === "" ? [] : tail.split(":");
  const groups = [
    ...left,
    ...Array(Math.max(0, 8 - left.length - right.length)).fill("0"),
    ...right,
  ];
  return groups.slice(0, 4).map((group) => (parseInt(group, 16) || 0).toString(16)).join(":") +
    "::/64";
}

/** The limits {@link Admission} enforces. */
export interface AdmissionLimits {
  /** Open connections in all. */
  readonly maxConnections: number;
  /** Open connections from one address. */
  readonly maxConnectionsPerAddress: number;
  /** Connections from one address that have not logged in yet. */
  readonly maxPendingPerAddress: number;
}

interface AddressCount {
  open: number;
  pending: number;
}

/**
 * One open connection's place. Get one from {@link Relay.admit} when a socket
 * is accepted; give it to {@link Relay.connect} if the socket becomes a
 * session, and release it when the socket closes.
 *
 * @example A ticket counts until it is released
 * ```ts
 * import { Relay } from "@crosswire/relay";
 * const relay = new Relay({ maxConnectionsPerAddress: 1 });
 * const first = relay.admit("192.0.2.1");
 * const second = relay.admit("192.0.2.1");
 * first?.release();
 * const third = relay.admit("192.0.2.1");
 * if (!first || second || !third) throw new Error("one connection per address");
 * ```
 */
export class Ticket {
  /** The remote address it was admitted for (an IPv6 one by its /64), when known. */
  readonly address: string | undefined;
  /** When it was admitted, in the relay clock's milliseconds. */
  readonly openedAt: number;
  #admission: Admission | undefined;
  #pending = true;
  #released = false;

  /** @internal Made by {@link Admission.admit}, or refused (counted nowhere) without one. */
  constructor(admission: Admission | undefined, address: string | undefined, openedAt: number) {
    this.#admission = admission;
    this.address = address;
    this.openedAt = openedAt;
    this.#released = admission === undefined;
  }

  /**
   * A ticket for a connection refused before it got a place: it counts
   * nowhere, and {@link Relay.connect} answers it with `server_busy`.
   *
   * @param address The remote address, for the session's records.
   */
  static refused(address?: string): Ticket {
    return new Ticket(undefined, address, Date.now());
  }

  /** True until the connection logs in. */
  get pending(): boolean {
    return this.#pending;
  }

  /** True once the connection has closed. */
  get released(): boolean {
    return this.#released;
  }

  /** The connection logged in: it stops counting as pending. Safe to call twice. */
  loggedIn(): void {
    if (!this.#pending || this.#released) return;
    this.#pending = false;
    this.#admission!.settled(this.address);
  }

  /** The connection closed: its place is free again. Safe to call twice. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#admission!.closed(this.address, this.#pending);
  }
}

/**
 * Counts open connections, in all and per address, and those not logged in.
 * Sockets over a limit are refused before they cost anything else.
 */
export class Admission {
  #limits: AdmissionLimits;
  #open = 0;
  #pending = 0;
  #addresses = new Map<string, AddressCount>();

  /** @param limits Read on every admission, so changes take effect at once. */
  constructor(limits: AdmissionLimits) {
    this.#limits = limits;
  }

  /** Open connections. */
  get open(): number {
    return this.#open;
  }

  /** Open connections that have not logged in. */
  get pending(): number {
    return this.#pending;
  }

  /** A ticket for a new connection from `address`, or undefined when a limit is reached. */
  admit(remote: string | undefined, now: number): Ticket | undefined {
    const limits = this.#limits;
    const address = remote === undefined ? undefined : addressKey(remote);
    if (this.#open >= limits.maxConnections) return undefined;
    if (address !== undefined) {
      const count = this.#addresses.get(address);
      if (count) {
        if (
          count.open >= limits.maxConnectionsPerAddress ||
          count.pending >= limits.maxPendingPerAddress
        ) return undefined;
        count.open++;
        count.pending++;
      } else {
        if (limits.maxConnectionsPerAddress < 1 || limits.maxPendingPerAddress < 1) {
          return undefined;
        }
        this.#addresses.set(address, { open: 1, pending: 1 });
      }
    }
    this.#open++;
    this.#pending++;
    return new Ticket(this, address, now);
  }

  /** @internal Called by {@link Ticket.loggedIn}. */
  settled(address: string | undefined): void {
    this.#pending--;
    if (address !== undefined) this.#addresses.get(address)!.pending--;
  }

  /** @internal Called by {@link Ticket.release}. */
  closed(address: string | undefined, pending: boolean): void {
    this.#open--;
    if (pending) this.#pending--;
    if (address === undefined) return;
    const count = this.#addresses.get(address)!;
    count.open--;
    if (pending) count.pending--;
    if (count.open === 0) this.#addresses.delete(address);
  }
}
