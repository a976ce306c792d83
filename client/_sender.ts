// Sending: requests and the replies they wait for, the client's own requests
// whose replies nobody else sees, and what the caller sends while the client
// reconnects (kept in the outbox and sent once the session is back).

import type { ServerEvent } from "../core/protocol.ts";
import { CrosswireClientError } from "./errors.ts";
import type { Transport } from "./transport.ts";
import { refOf } from "./_decode.ts";
import { Outbox, type Waiting } from "./_outbox.ts";
import { Requests } from "./_requests.ts";

/** What the sender writes to, as the client sees it now. */
export interface Line {
  /** The current connection's transport (undefined between connections) and number. */
  current(): { transport: Transport | undefined; connection: number };
  /**
   * `"open"`: logged in, the caller's messages go out now; `"closed"`: for
   * good, nothing is sent; `"away"`: they wait in the outbox for the session.
   */
  state(): "open" | "away" | "closed";
  /** A new connection may follow one that fails: a failed write waits for it. */
  mayReconnect(): boolean;
  /** The largest JSON message the server takes. */
  maxFrameBytes(): number;
  /** The caller sent something (so what arrives from now on answers it). */
  touched(): void;
}

/** How one request is sent and answered. */
export interface RequestOptions<T> {
  /** The value to resolve with, or undefined when `event` is not the reply (yet). */
  accept(event: ServerEvent): T | undefined;
  /** Also offer events without the ref (`left`, `renamed`). @default false */
  unreffed?: boolean;
  /**
   * The client's own request: it goes out at once on the connection being set
   * up (never through the outbox) and its replies, or those this picks, are
   * not delivered to listeners. @default undefined: the caller's request
   */
  quiet?: (event: ServerEvent) => boolean;
  /** Called just before the request goes out. @default undefined */
  onSend?: () => void;
}

const encoder = new TextEncoder();

/** Sends requests and messages, and matches replies to requests. */
export class Sender {
  #line: Line;
  #timeoutMs: number;
  #requests = new Requests();
  #outbox = new Outbox();
  #quiet = new Map<string, (event: ServerEvent) => boolean>();

  /**
   * @param line The connection as the client sees it.
   * @param timeoutMs How long a request waits for its reply.
   */
  constructor(line: Line, timeoutMs: number) {
    this.#line = line;
    this.#timeoutMs = timeoutMs;
  }

  /** A ref no other request of this client has. */
  newRef(): string {
    return this.#requests.newRef();
  }

  /**
   * Sends the request `message` with `ref` and waits for its reply. Rejects
   * with the server's error, `timeout`, `connection_lost` (the connection
   * dropped after it went out) or `connection_closed`; never throws.
   */
  request<T>(
    ref: string,
    message: Record<string, unknown>,
    options: RequestOptions<T>,
  ): Promise<T> {
    if (this.#line.state() === "closed") return Promise.reject(closedError());
    const reply = this.#requests.add(ref, {
      accept: options.accept,
      unreffed: options.unreffed ?? false,
      timeoutMs: this.#timeoutMs,
      what: String(message.type),
    });
    const quiet = options.quiet;
    if (quiet) this.#quiet.set(ref, quiet);
    reply.then(
      () => this.#quiet.delete(ref),
      () => {
        this.#quiet.delete(ref);
        this.#outbox.drop(ref);
      },
    );
    try {
      const item: Waiting = {
        data: this.#encode({ ...message, ref }),
        ref,
        ...(options.onSend ? { onSend: options.onSend } : {}),
      };
      if (quiet) this.#transmit(item);
      else this.#dispatch(item);
    } catch (error) {
      this.settle(
        ref,
        error instanceof CrosswireClientError
          ? error
          : new CrosswireClientError("connection_closed", (error as Error).message, {
            cause: error,
          }),
      );
    }
    return reply;
  }

  /** Sends a message of the caller's that expects no reply. Throws when it cannot. */
  submit(message: Record<string, unknown>): void {
    this.send(this.#encode(message));
  }

  /** Sends text or a binary frame of the caller's. Throws when it cannot. */
  send(data: string | Uint8Array<ArrayBuffer>): void {
    this.#dispatch({ data });
  }

  /**
   * Offers an event to the request it answers. Returns true when listeners
   * should not see it (a reply to the client's own request).
   */
  received(event: ServerEvent): boolean {
    const ref = refOf(event);
    const hidden = ref !== undefined && (this.#quiet.get(ref)?.(event) ?? false);
    this.#requests.match(event);
    return hidden;
  }

  /** Resolves (with a value) or rejects (with an error) the request `ref`, once. */
  settle(ref: string, outcome: CrosswireClientError | { value: unknown }): void {
    this.#requests.settle(ref, outcome);
  }

  /** The connection `connection` dropped: the replies to what went out on it are lost. */
  dropped(connection: number, error: CrosswireClientError): void {
    this.#requests.rejectSentOn(connection, error);
  }

  /** The client is closed: every request rejects, nothing waits any more. */
  close(error: CrosswireClientError): void {
    this.#outbox.take();
    this.#requests.rejectAll(error);
  }

  /** Sends what waited while the client was disconnected, in order. */
  flush(): void {
    const items = this.#outbox.take();
    for (const [index, item] of items.entries()) {
      if (item.ref !== undefined && !this.#requests.has(item.ref)) continue; // given up meanwhile
      try {
        this.#transmit(item);
      } catch {
        for (const rest of items.slice(index)) this.#outbox.push(rest);
        return;
      }
    }
  }

  #encode(message: Record<string, unknown>): string {
    const data = JSON.stringify(message);
    const max = this.#line.maxFrameBytes();
    if (data.length * 3 > max && encoder.encode(data).length > max) {
      throw new CrosswireClientError("too_large", `a message may be at most ${max} bytes`);
    }
    return data;
  }

  // The caller's: now when logged in, else once the session is back.
  #dispatch(item: Waiting): void {
    const line = this.#line;
    const state = line.state();
    if (state === "closed") throw closedError();
    line.touched();
    if (state === "open") {
      try {
        return this.#transmit(item);
      } catch (error) {
        // The connection is going; unless it is over for good, this waits for the next.
        if (!line.mayReconnect()) throw error;
      }
    }
    if (!this.#outbox.push(item)) {
      throw new CrosswireClientError(
        "connection_lost",
        "not connected, and too much is waiting to be sent already",
      );
    }
  }

  #transmit(item: Waiting): void {
    const { transport, connection } = this.#line.current();
    if (!transport) throw new CrosswireClientError("connection_lost", "not connected");
    const onSend = item.onSend;
    item.onSend = undefined;
    onSend?.();
    transport.send(item.data);
    if (item.ref !== undefined) this.#requests.sent(item.ref, connection);
  }
}

function closedError(): CrosswireClientError {
  return new CrosswireClientError("connection_closed", "the connection is closed");
}
