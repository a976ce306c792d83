// The answer to one request: it knows the requester and the request's `ref`,
// so handlers never thread the ref by hand.

import type { ServerEvent } from "./protocol.ts";
import type { Session } from "./session.ts";

/** Replies to one request of one session, each reply carrying the request's `ref`. */
export class Reply {
  /** The session that asked. */
  readonly session: Session;
  /** The request's `ref`, echoed in every reply and error. */
  readonly ref: string | undefined;

  constructor(session: Session, ref: string | undefined) {
    this.session = session;
    this.ref = ref;
  }

  /** Sends `event` to the requester with the request's `ref`. */
  send(event: ServerEvent): void {
    this.session.send(this.#withRef(event));
  }

  /**
   * Sends a reply whose size the requester chose (a list, a presence), counted
   * against its byte rate so it cannot ask for it again and again for free.
   */
  sendCharged(event: ServerEvent): void {
    const session = this.session;
    session.charge(session.send(this.#withRef(event)));
  }

  // Every event a request can be answered with has an optional `ref`.
  #withRef(event: ServerEvent): ServerEvent {
    return this.ref === undefined ? event : { ...event, ref: this.ref } as ServerEvent;
  }

  /** Sends the error for `error` (closing when it requires), with the request's `ref`. */
  fail(error: unknown): void {
    this.session.fail(error, this.ref);
  }
}
