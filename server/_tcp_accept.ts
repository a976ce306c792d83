// The connections of one TCP listener, whatever runtime accepts them: each
// socket is admitted through the gate the HTTP port shares (or refused with a
// `server_busy` line while few are being told, else dropped), counted while
// it is open, and closed together on demand.

import { type Relay, Ticket } from "../core/mod.ts";
import type { ConnectionGate } from "./_gate.ts";
import {
  serveTcpSession,
  type TcpFraming,
  type TcpSessionHandle,
  type TcpSocket,
} from "./_tcp_session.ts";

/** The sessions of one TCP listener. */
export class TcpConnections {
  #relay: Relay;
  #gate: ConnectionGate;
  #framing: TcpFraming;
  #open = new Set<TcpSessionHandle>();
  #stopped = false;
  #allClosed: (() => void) | undefined;
  /** Resolves once {@link stop} was called and every admitted connection closed. */
  readonly finished: Promise<void>;

  /** `framing` is what the port speaks (`"irc"` for an IRC-only port). */
  constructor(relay: Relay, gate: ConnectionGate, framing: TcpFraming = "lines") {
    this.#relay = relay;
    this.#gate = gate;
    this.#framing = framing;
    this.finished = new Promise((resolve) => this.#allClosed = resolve);
  }

  /** Admitted connections still open. */
  get size(): number {
    return this.#open.size;
  }

  /**
   * A socket just accepted from `address`: served, refused with a line, or
   * closed at once. Returns the handle to feed, or undefined when it was
   * closed already.
   */
  accept(address: string | undefined, socket: TcpSocket): TcpSessionHandle | undefined {
    const ticket = this.#stopped ? undefined : this.#gate.admit(address);
    if (ticket === undefined) return this.#refuse(address, socket);
    // The session may close before serveTcpSession returns (a relay closing at once).
    const entry: { handle?: TcpSessionHandle; closed?: true } = {};
    entry.handle = serveTcpSession(this.#relay, socket, ticket, () => {
      this.#gate.closed(ticket);
      entry.closed = true;
      if (entry.handle) this.#open.delete(entry.handle);
      this.#settle();
    }, this.#framing);
    if (!entry.closed) this.#open.add(entry.handle);
    return entry.handle;
  }

  /** No more connections are admitted; {@link finished} resolves once the open ones close. */
  stop(): void {
    this.#stopped = true;
    this.#settle();
  }

  /** Closes every connection now, without waiting for queued output. */
  destroyAll(): void {
    for (const handle of [...this.#open]) handle.destroy();
  }

  #settle(): void {
    if (this.#stopped && this.#open.size === 0) this.#allClosed?.();
  }

  // The relay says why (`server_busy`) through a session it closes at once; the
  // socket stays open only while that line is written, and only while few are.
  #refuse(address: string | undefined, socket: TcpSocket): TcpSessionHandle | undefined {
    const done = this.#gate.refusing();
    if (done === undefined) {
      try {
        socket.close();
      } catch { /* already closed */ }
      return undefined;
    }
    return serveTcpSession(this.#relay, socket, Ticket.refused(address), done, this.#framing);
  }
}
