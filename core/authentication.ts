// Tokens on the way in: who a logging-in user is (a verified token, or nobody
// when the server allows that), a token replaced on a live connection, a token
// that runs out, and the operator password.

import { addressKey } from "./admission.ts";
import type { Authenticator, Identity } from "./auth.ts";
import type { RelayCounters } from "./counters.ts";
import type { MaybePromise } from "./engine.ts";
import { CloseCode, RelayError } from "./errors.ts";
import type { Reply } from "./reply.ts";
import type { Session } from "./session.ts";

/** The latest time a date can hold, in milliseconds since the epoch. */
const MAX_DATE = 8.64e15;
/** Wrong operator passwords after which a connection is closed. */
const MAX_OPER_FAILURES = 3;
/** Wrong operator passwords from one address after which it may not try for a while. */
const MAX_ADDRESS_FAILURES = 10;
/** How long an address's wrong passwords count against it. */
const ADDRESS_PENALTY_MS = 10 * 60_000;

/** What {@link Authentication} needs from the relay. */
export interface AuthenticationHost {
  readonly authenticate: Authenticator | undefined;
  readonly requireAuth: boolean;
  readonly graceMs: number;
  readonly adminPassword: string | undefined;
  readonly counters: RelayCounters;
  now(): number;
}

/** Tokens and operators. */
export class Authentication {
  #host: AuthenticationHost;
  #password: Uint8Array | undefined;
  // Wrong operator passwords by address: many connections must not mean many guesses.
  #failures = new Map<string, { count: number; until: number }>();

  constructor(host: AuthenticationHost) {
    this.#host = host;
    if (host.adminPassword !== undefined) {
      this.#password = new TextEncoder().encode(host.adminPassword);
    }
  }

  /**
   * Who is logging in: the identity a token proves (`token`, else one that
   * came with the connection), or undefined for a user without one where the
   * server allows it. Throws `auth_required` or `auth_failed`.
   */
  identify(session: Session, token: string | undefined): MaybePromise<Identity | undefined> {
    const presented = token || session.presentedToken;
    session.presentedToken = undefined;
    const { authenticate, requireAuth } = this.#host;
    if (presented === undefined || presented === "") {
      if (!requireAuth) return undefined;
      throw new RelayError(
        "auth_required",
        session.json
          ? 'this server needs a token: log in with "token"'
          : "this server needs a token: type /auth TOKEN",
      );
    }
    if (authenticate === undefined) {
      throw new RelayError("auth_failed", "this server does not take tokens; log in with a name");
    }
    return this.#verify(authenticate, presented);
  }

  /** Counts a login, by how the user was identified. */
  loggedIn(identity: Identity | undefined): void {
    this.#host.counters.logins[identity === undefined ? "anonymous" : "token"]++;
  }

  /** Replaces a logged-in user's token with a new one about the same subject. */
  refresh(reply: Reply, token: string): MaybePromise<void> {
    const session = reply.session;
    const current = session.identity;
    const authenticate = this.#host.authenticate;
    if (current === undefined || authenticate === undefined) {
      throw new RelayError(
        "forbidden",
        "you logged in without a token; reconnect and log in with one",
      );
    }
    return this.#verify(authenticate, token).then((identity) => {
      if (identity.subject !== current.subject) {
        throw new RelayError("forbidden", "that token is for someone else");
      }
      // The name stays: a rename is a /nick, and a token user's name is its token's.
      session.identity = { ...identity, name: current.name };
      session.tokenExpiredAt = undefined;
      this.#host.counters.refreshes++;
      reply.send({
        type: "notice",
        ts: this.#host.now(),
        text: `Token accepted; it is valid until ${new Date(identity.expires).toISOString()}.`,
      });
    });
  }

  /**
   * Called each second for each session: a token that ran out is reported
   * once, and the session closed when no new one came within the grace period.
   */
  sweep(session: Session, now: number): void {
    const identity = session.identity;
    if (identity === undefined || now < identity.expires || session.state !== "ready") return;
    const grace = this.#host.graceMs;
    if (session.tokenExpiredAt === undefined) {
      session.tokenExpiredAt = now;
      session.send({
        type: "error",
        code: "token_expired",
        message: `your token has expired: send a new one (refresh, or /auth TOKEN) within ${
          Math.round(grace / 1000)
        } seconds`,
      });
      return;
    }
    if (now - session.tokenExpiredAt < grace) return;
    session.fail(
      new RelayError("token_expired", "your token expired and no new one came", {
        closeCode: CloseCode.tokenExpired,
      }),
    );
  }

  /** Forgets addresses whose wrong operator passwords no longer count. */
  sweepFailures(now: number): void {
    for (const [address, failed] of this.#failures) {
      if (failed.until <= now) this.#failures.delete(address);
    }
  }

  /** `/oper PASSWORD`: the session becomes an admin when the password is right. */
  oper(reply: Reply, password: string): void {
    const session = reply.session;
    const expected = this.#password;
    if (expected === undefined) {
      throw new RelayError("forbidden", "this server has no operator password");
    }
    const now = this.#host.now();
    const address = session.remoteAddress === undefined
      ? undefined
      : addressKey(session.remoteAddress);
    const failed = address === undefined ? undefined : this.#failures.get(address);
    if (failed !== undefined && failed.until > now && failed.count >= MAX_ADDRESS_FAILURES) {
      const minutes = Math.ceil((failed.until - now) / 60_000);
      throw new RelayError(
        "rate_limited",
        `too many wrong operator passwords from your address; try again in ${minutes} minutes`,
      );
    }
    if (sameBytes(expected, new TextEncoder().encode(password))) {
      session.oper = true;
      session.operFailures = 0;
      reply.send({ type: "notice", ts: this.#host.now(), text: "You are now an operator." });
      return;
    }
    if (address !== undefined) {
      const count = failed !== undefined && failed.until > now ? failed.count + 1 : 1;
      this.#failures.set(address, { count, until: now + ADDRESS_PENALTY_MS });
    }
    if (++session.operFailures >= MAX_OPER_FAILURES) {
      throw new RelayError("forbidden", "wrong operator password, too many times", {
        closeCode: CloseCode.policyViolation,
      });
    }
    throw new RelayError("forbidden", "wrong operator password");
  }

  #verify(authenticate: Authenticator, token: string): Promise<Identity> {
    const counters = this.#host.counters;
    let verifying: Promise<Identity>;
    try {
      verifying = authenticate(token);
    } catch (error) {
      verifying = Promise.reject(error);
    }
    return verifying.then((identity) => {
      if (!(identity.expires > this.#host.now())) {
        throw new RelayError("auth_failed", "the token has expired");
      }
      if (!(identity.expires <= MAX_DATE)) {
        throw new RelayError("auth_failed", "the token's expiry is not a valid time");
      }
      return identity;
    }).catch((error: unknown) => {
      counters.authFailures++;
      // A verifier's own failure says nothing to the client: it may hold key details.
      throw error instanceof RelayError
        ? error
        : new RelayError("auth_failed", "the token could not be verified");
    });
  }
}

// Every byte of the password is compared whatever the guess, so the time taken
// says nothing about how much of a guess was right (only, at most, its length).
function sameBytes(expected: Uint8Array, guess: Uint8Array): boolean {
  let difference = expected.length ^ guess.length;
  for (let i = 0; i < expected.length; i++) difference |= expected[i]! ^ (guess[i] ?? 0);
  return difference === 0;
}
