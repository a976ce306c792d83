// The one door for sockets on both ports. A socket is counted from the moment
// it is accepted until it closes, whatever it turns out to be (a page request,
// a WebSocket, a telnet user, or nothing at all), so sockets that never finish
// a handshake count like any other. The relay's tickets count connections by
// address; this also counts sockets the relay has let go of but that are still
// open (a close handshake in progress), which hold a file descriptor all the same.

import type { Relay, Ticket } from "../core/mod.ts";

/** Counts open sockets against the descriptor budget and the relay's limits. */
export class ConnectionGate {
  #relay: Relay;
  #maxOpen: number;
  #maxRefusing: number;
  #open = 0;
  #refusing = 0;

  /**
   * @param relay Admits by its own limits (in all, per address, not logged in).
   * @param maxOpen Sockets that may be open at once, from the descriptor budget.
   * @param maxRefusing Refused sockets that may stay open at once while they are told why.
   */
  constructor(relay: Relay, maxOpen: number, maxRefusing: number) {
    this.#relay = relay;
    this.#maxOpen = maxOpen;
    this.#maxRefusing = maxRefusing;
  }

  /** Sockets admitted and not yet closed. */
  get open(): number {
    return this.#open;
  }

  /**
   * A ticket for a socket just accepted from `address`, or undefined when it
   * must be refused. An admitted socket counts until {@link closed}.
   */
  admit(address: string | undefined): Ticket | undefined {
    if (this.#open >= this.#maxOpen) return undefined;
    const ticket = this.#relay.admit(address);
    if (ticket !== undefined) this.#open++;
    return ticket;
  }

  /** An admitted socket closed. Call it once per admitted socket. */
  closed(ticket: Ticket): void {
    this.#open--;
    ticket.release();
  }

  /**
   * A refused socket may be told why (and stay open until it is) while few
   * are; returns the function to call once it closed, or undefined when it
   * must be dropped without a word.
   */
  refusing(): (() => void) | undefined {
    if (this.#refusing >= this.#maxRefusing) return undefined;
    this.#refusing++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.#refusing--;
    };
  }
}
