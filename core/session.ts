// One connection as the core sees it: its state, its outbound queue, and the
// decoding of what arrives. Decisions about rooms and names live in the relay.

import { decodeBinaryFrame } from "./binary_frame.ts";
import { CloseCode, RelayError } from "./errors.ts";
import { LineDecoder } from "./line_decoder.ts";
import { OutboundQueue } from "./outbound_queue.ts";
import { RateLimiter, type RateLimits } from "./rate_limiter.ts";
import { Outgoing, WireFormat } from "./outgoing.ts";
import type { Subscriber } from "./pubsub.ts";
import { overUtf8Limit } from "./_utf8.ts";
import { binaryRequest, type ClientRequest, decodeRequest, type ServerEvent } from "./protocol.ts";

/**
 * What a transport gives the relay for each connection: a way to wake its
 * writer and a way to close. The core never learns which transport it is.
 *
 * @example A port for a transport that writes frames as they come
 * ```ts
 * import { type Port, Relay } from "@crosswire/relay";
 * const written: (string | Uint8Array)[] = [];
 * const port: Port = {
 *   framing: "frames",
 *   wake: (queue) => queueMicrotask(() => queue.take().forEach((f) => written.push(f.data))),
 *   close: () => {},
 * };
 * const session = new Relay().connect(port);
 * session.receiveText('{"type":"login","name":"ann"}');
 * await Promise.resolve();
 * if (written.length === 0) throw new Error("nothing was written");
 * ```
 */
export interface Port {
  /**
   * `"lines"` for byte streams (TCP): the core splits lines and starts in text
   * mode. `"frames"` for message transports (WebSocket): JSON and binary frames.
   */
  readonly framing: "lines" | "frames";
  /**
   * The queue went from empty to non-empty. Drain it soon, not re-entrantly;
   * this is called on the per-message path, so it must not await or throw.
   */
  wake(queue: OutboundQueue): void;
  /**
   * Close the connection after writing what is queued. `code` is a WebSocket
   * close code; stream transports may ignore it (the reason was already sent).
   */
  close(code: number, reason: string): void;
}

/** What the relay does for a session; implemented by {@link Relay}. */
export interface SessionHost {
  readonly limits: Readonly<{
    maxLineBytes: number;
    maxFrameBytes: number;
    maxFileBytes: number;
    maxQueuedBytes: number;
    rateAbuseLimit: number;
  }>;
  readonly rateLimits: RateLimits;
  now(): number;
  hello(): ServerEvent;
  handle(session: Session, request: ClientRequest): void;
  handleLine(session: Session, line: string): void;
  reportError(error: unknown): void;
  disconnected(session: Session, reason: "leave" | "disconnect"): void;
}

/**
 * Connection state: waiting for a name, logged in, or gone.
 *
 * @example From `"new"` to `"closed"`
 * ```ts
 * import { type Port, Relay, type SessionState } from "@crosswire/relay";
 * const port: Port = { framing: "frames", wake: () => {}, close: () => {} };
 * const session = new Relay().connect(port);
 * const states: SessionState[] = [session.state];
 * session.receiveText('{"type":"login","name":"ann"}');
 * states.push(session.state);
 * session.disconnect();
 * states.push(session.state);
 * if (states.join() !== "new,ready,closed") throw new Error(`unexpected states: ${states}`);
 * ```
 */
export type SessionState = "new" | "ready" | "closed";

/**
 * One connected client. A transport feeds it what arrives; the relay manages
 * its names and rooms. Get one from {@link Relay.connect}.
 *
 * @example A telnet user types a name, then a line
 * ```ts
 * import { type Port, Relay } from "@crosswire/relay";
 * const port: Port = { framing: "lines", wake: () => {}, close: () => {} };
 * const relay = new Relay();
 * const session = relay.connect(port);
 * session.echo = true;
 * session.feed(new TextEncoder().encode("ann\r\nhello\r\n"));
 * const text = new TextDecoder().decode(session.outbound.takeBytes());
 * if (session.name !== "ann" || !text.includes("[lobby] ann: hello")) {
 *   throw new Error(`unexpected output: ${text}`);
 * }
 * ```
 */
export class Session implements Subscriber {
  /** Unique id of this connection. */
  readonly id: string = crypto.randomUUID();
  /** Frames waiting for the transport. */
  readonly outbound: OutboundQueue = new OutboundQueue();
  /** Remote address as the transport reported it, for limits and logs. */
  readonly remoteAddress: string | undefined;
  /** Logged-in name, or undefined before login. */
  name: string | undefined;
  /** Rooms joined, oldest first. */
  readonly rooms: Set<string> = new Set();
  /** Where text-mode lines without a command go. */
  currentRoom: string | undefined;
  /** Whether the sender receives its own room messages. */
  echo = false;
  #state: SessionState = "new";
  #format: WireFormat;
  #port: Port;
  #host: SessionHost;
  #lines: LineDecoder | undefined;
  #linesSeen = 0;
  #overflowed = false;
  #rate: RateLimiter;
  #lastActive: number;
  #strikes = 0;
  #strikeWindowStart = 0;

  /** @internal Created by {@link Relay.connect}. */
  constructor(host: SessionHost, port: Port, remoteAddress: string | undefined) {
    this.#host = host;
    this.#port = port;
    this.remoteAddress = remoteAddress;
    this.#lastActive = host.now();
    this.#rate = new RateLimiter(host.rateLimits, this.#lastActive);
    if (port.framing === "lines") {
      this.#format = WireFormat.TextLine;
      this.#lines = new LineDecoder(host.limits.maxLineBytes);
    } else {
      this.#format = WireFormat.JsonFrame;
    }
  }

  /** Current connection state. */
  get state(): SessionState {
    return this.#state;
  }

  /** True once the session speaks JSON (always on WebSocket; after a JSON hello on TCP). */
  get json(): boolean {
    return this.#format !== WireFormat.TextLine;
  }

  /** When the client last sent anything, in the relay clock's milliseconds. */
  get lastActive(): number {
    return this.#lastActive;
  }

  /** @internal Marks the session logged in. */
  markReady(): void {
    if (this.#state === "new") this.#state = "ready";
  }

  /** Feeds bytes from a stream transport. */
  feed(chunk: Uint8Array): void {
    const lines = this.#lines;
    if (!lines || this.#state === "closed") return;
    const result = lines.push(chunk, (line) => {
      if (this.#state !== "closed" && this.#admit(line.length)) this.#guard(() => this.#line(line));
    });
    if (result === "too_long") {
      this.#closeWith(
        new RelayError("line_too_long", `a line may be at most ${lines.maxLineBytes} bytes`, {
          closeCode: CloseCode.tooBig,
        }),
      );
    }
  }

  /** Feeds one text frame from a message transport. */
  receiveText(text: string): void {
    if (this.#state === "closed" || !this.#admit(text.length)) return;
    this.#guard(() => {
      const max = this.#host.limits.maxFrameBytes;
      if (overUtf8Limit(text, max)) {
        throw new RelayError("too_large", `a message may be at most ${max} bytes`, {
          closeCode: CloseCode.tooBig,
        });
      }
      this.#host.handle(this, decodeRequest(text));
    });
  }

  /** Feeds one binary frame from a message transport. */
  receiveBinary(frame: Uint8Array): void {
    if (this.#state === "closed" || !this.#admit(frame.length)) return;
    this.#guard(() => {
      if (frame.length > this.#host.limits.maxFileBytes + 4096 + 3) {
        throw new RelayError(
          "too_large",
          `a file may be at most ${this.#host.limits.maxFileBytes} bytes`,
          {
            closeCode: CloseCode.tooBig,
          },
        );
      }
      const { header, payload } = decodeBinaryFrame(frame);
      this.#host.handle(this, binaryRequest(header, payload));
    });
  }

  /** The transport saw the connection end. Safe to call more than once. */
  disconnect(): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    this.#host.disconnected(this, "disconnect");
  }

  /** Queues an already-encoded event. Part of the per-message path: no awaits. */
  deliver(message: Outgoing): void {
    if (this.#state === "closed") return;
    const frame = message.frame(this.#format);
    if (frame === null) return;
    const queue = this.outbound;
    if (queue.push(frame)) this.#port.wake(queue);
    if (queue.bytes > this.#host.limits.maxQueuedBytes && !this.#overflowed) {
      this.#overflowed = true;
      // Closing mid-broadcast would reorder notices; finish the fan-out first.
      queueMicrotask(() => this.#slowConsumer());
    }
  }

  /** Sends one event (or an already-encoded one) to this session only. */
  send(event: ServerEvent | Outgoing): void {
    this.deliver(event instanceof Outgoing ? event : new Outgoing(event));
  }

  /** Sends an error event for `error`, closing when the error requires it. */
  fail(error: unknown): void {
    if (error instanceof RelayError) {
      if (error.closeCode !== undefined) return this.#closeWith(error);
      this.send(errorEvent(error));
      return;
    }
    this.#host.reportError(error);
    this.send({
      type: "error",
      code: "internal_error",
      message: "the server failed to handle that",
    });
  }

  /** Ends the session: queues a last notice, asks the transport to close, and leaves the relay. */
  close(code: number, reason: string, notice?: ServerEvent | Outgoing): void {
    if (this.#state === "closed") return;
    if (notice) this.send(notice);
    this.#state = "closed";
    this.#port.close(code, reason);
    this.#host.disconnected(this, "disconnect");
  }

  #closeWith(error: RelayError): void {
    this.close(error.closeCode ?? CloseCode.policyViolation, error.message, errorEvent(error));
  }

  #slowConsumer(): void {
    this.#overflowed = false;
    // The transport may have caught up since the fan-out that overflowed.
    if (this.#state === "closed" || this.outbound.bytes <= this.#host.limits.maxQueuedBytes) return;
    // Its queue is what overflowed, so drop it rather than add to it.
    this.outbound.take();
    this.#closeWith(
      new RelayError("slow_consumer", "you were not reading fast enough and fell too far behind", {
        closeCode: CloseCode.slowConsumer,
      }),
    );
  }

  // Every inbound message passes here: it counts as activity and against the rate limit.
  #admit(bytes: number): boolean {
    const now = this.#host.now();
    this.#lastActive = now;
    if (this.#rate.take(bytes, now)) return true;
    if (now - this.#strikeWindowStart > 10_000) {
      this.#strikeWindowStart = now;
      this.#strikes = 0;
    }
    const abusive = ++this.#strikes > this.#host.limits.rateAbuseLimit;
    this.fail(
      new RelayError(
        "rate_limited",
        abusive
          ? "too many messages too fast, for too long; disconnecting"
          : "slow down: that message was dropped",
        abusive ? { closeCode: CloseCode.rateLimited } : {},
      ),
    );
    return false;
  }

  #line(line: string): void {
    if (this.#state === "closed") return;
    const first = this.#linesSeen++ === 0;
    if (this.#format === WireFormat.TextLine) {
      if (!first || !line.trimStart().startsWith("{")) return this.#host.handleLine(this, line);
      // A JSON first line switches this stream to JSON mode, greeted with hello
      // unless that line asked for it.
      this.#format = WireFormat.JsonLine;
      this.#lines!.maxLineBytes = this.#host.limits.maxFrameBytes;
      let request: ClientRequest;
      try {
        request = decodeRequest(line);
      } catch (error) {
        this.send(this.#host.hello());
        throw error;
      }
      if (request.type !== "hello") this.send(this.#host.hello());
      return this.#host.handle(this, request);
    }
    if (line.trim() === "") return;
    this.#host.handle(this, decodeRequest(line));
  }

  #guard(work: () => void): void {
    try {
      work();
    } catch (error) {
      this.fail(error);
    }
  }
}

function errorEvent(error: RelayError): ServerEvent {
  return error.ref === undefined
    ? { type: "error", code: error.code, message: error.message }
    : { type: "error", code: error.code, message: error.message, ref: error.ref };
}
