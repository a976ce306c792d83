// One connection as the core sees it: its state, what arrives (admitted by
// size, then rate, then handled strictly in order), and what waits to go out.
// Decisions about names and rooms live in the relay's parts.

import type { Ticket } from "./admission.ts";
import type { Identity } from "./auth.ts";
import { bump, type RelayCounters, type Traffic, type Transport } from "./counters.ts";
import { decodeBinaryFrame } from "./binary_frame.ts";
import { CloseCode, RelayError } from "./errors.ts";
import type { MaybePromise } from "./engine.ts";
import { IRC_LINE_BYTES, IrcSession, startsIrc } from "./irc_session.ts";
import type { RelayLimits } from "./limits.ts";
import { LineDecoder } from "./line_decoder.ts";
import { OutboundQueue } from "./outbound_queue.ts";
import { type Frame, Outgoing, WireFormat } from "./outgoing.ts";
import type { PauseClock } from "./pause_clock.ts";
import {
  binaryRequest,
  type ClientRequest,
  decodeRequest,
  type Position,
  type ServerEvent,
} from "./protocol.ts";
import { RateLimiter, type RateLimits } from "./rate_limiter.ts";
import { overUtf8Limit } from "./_utf8.ts";

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
   * `"websocket"` is `"frames"` for a transport that writes the socket's bytes
   * itself: what it finds queued are whole WebSocket frames (see
   * {@link WireFormat.WebSocketFrame}), made once however many receive them.
   * `"irc"` is `"lines"` for a port that speaks only IRC (no text-mode greeting).
   */
  readonly framing: "lines" | "frames" | "websocket" | "irc";
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

/**
 * How a session ended: the user said goodbye (`quit`, the name is free at
 * once), or the connection dropped (`drop`, the name is kept a while for its user).
 *
 * @example
 * ```ts
 * import type { Departure } from "@crosswire/relay";
 * const keepsName = (how: Departure) => how === "drop";
 * if (!keepsName("drop") || keepsName("quit")) throw new Error("unexpected");
 * ```
 */
export type Departure = "quit" | "drop";

/** What the relay does for a session; implemented by {@link Relay}. */
export interface SessionHost {
  readonly limits: RelayLimits;
  readonly rateLimits: RateLimits;
  readonly clock: PauseClock;
  readonly counters: RelayCounters;
  now(): number;
  hello(): ServerEvent;
  /** Handles a decoded request; a returned promise holds back the session's later input. */
  handle(session: Session, request: ClientRequest): void | Promise<void>;
  /** Handles a text-mode line, the same way. */
  handleLine(session: Session, line: string): void | Promise<void>;
  reportError(error: unknown): void;
  disconnected(session: Session, how: Departure): void;
  /** The name of the user online as `name` or a look-alike, on any node (for IRC's WHOIS). */
  findName(name: string): MaybePromise<string | undefined>;
  /** True when the relay verifies tokens (it has an authenticator): an IRC PASS is then a token. */
  readonly authenticates: boolean;
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
 * Errors that end a session with nothing kept for it to resume (`forbidden`
 * closes only after wrong operator passwords: a resume would reset the count).
 */
const ENDS_FOR_GOOD = new Set(["kicked", "banned", "token_expired", "forbidden"]);

/** Requests that may wait behind one the backplane is answering. */
const MAX_WAITING = 256;
/** Queued output past this many times `maxQueuedBytes` closes a session at once. */
const HARD_QUEUE_FACTOR = 4;

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
export class Session {
  /** Frames waiting for the transport. */
  readonly outbound: OutboundQueue = new OutboundQueue();
  /** Remote address as the transport reported it, for limits and logs. */
  readonly remoteAddress: string | undefined;
  /** The connection's place in the relay's admission counts. */
  readonly ticket: Ticket;
  /** Logged-in name, or undefined before login. */
  name: string | undefined;
  /** The secret that lets this user take the name back after a drop. */
  reclaim: string | undefined;
  /** The secret that lets a new connection take this session back after a drop. */
  resume: string | undefined;
  /** Rooms joined, oldest first. */
  readonly rooms: Set<string> = new Set();
  /** Where text-mode lines without a command go. */
  currentRoom: string | undefined;
  /** Whether the sender receives its own room messages. */
  echo = false;
  /** @internal Private messages this user may still receive; made on the first one. */
  directs: RateLimiter | undefined;
  /** Who the user's token says they are; undefined for a user without one. */
  identity: Identity | undefined;
  /** True once the user gave the operator password (`/oper`). */
  oper = false;
  /** @internal A token that came with the connection (a WebSocket URL's `?token=`), for login. */
  presentedToken: string | undefined;
  /** @internal When the user was told their token expired (the grace period runs from then). */
  tokenExpiredAt: number | undefined;
  /** @internal Wrong operator passwords given so far. */
  operFailures = 0;
  #id: string = crypto.randomUUID();
  // Live messages held back per stream (a room, or "" for private ones) while a replay is read.
  #held: Map<string, Outgoing[]> | undefined;
  #state: SessionState = "new";
  #format: WireFormat;
  #port: Port;
  #host: SessionHost;
  #lines: LineDecoder | undefined;
  #irc: IrcSession | undefined;
  #linesSeen = 0;
  #loginBytes = 0;
  #rate: RateLimiter;
  #lastActive: number;
  #pausedAtOpen: number;
  #pausedAtActive: number;
  #pausedSeen: number;
  #strikes = 0;
  #strikeWindowStart = 0;
  #waiting: (string | Uint8Array)[] | undefined;
  #behindSince: number | undefined;
  #pausedAtBehind = 0;
  #takesSeen = 0;
  #overflowing = false;
  #endedBy: string | undefined;
  // This transport's traffic counters (an IRC first line moves a TCP session to IRC's).
  #traffic: Traffic;

  /** @internal Created by {@link Relay.connect}. */
  constructor(host: SessionHost, port: Port, ticket: Ticket) {
    this.#host = host;
    this.#port = port;
    this.ticket = ticket;
    this.remoteAddress = ticket.address;
    this.#lastActive = host.now();
    this.#pausedAtOpen = this.#pausedAtActive = this.#pausedSeen = host.clock.pausedMs;
    this.#rate = new RateLimiter(host.rateLimits, this.#lastActive);
    this.#traffic = this.outbound.meter = host.counters
      .traffic[port.framing === "lines" ? "tcp" : port.framing === "irc" ? "irc" : "websocket"];
    if (port.framing === "lines" || port.framing === "irc") {
      this.#format = WireFormat.TextLine;
      this.#lines = new LineDecoder(host.limits.maxLineBytes);
      if (port.framing === "irc") this.#startIrc();
    } else {
      this.#format = port.framing === "websocket"
        ? WireFormat.WebSocketFrame
        : WireFormat.JsonFrame;
    }
  }

  /** True when the user may moderate: an admin token, or the operator password. */
  get admin(): boolean {
    return this.oper || this.identity?.admin === true;
  }

  /** How this session reaches the relay. */
  get transport(): Transport {
    return this.#lines === undefined ? "websocket" : this.#irc === undefined ? "tcp" : "irc";
  }

  /** @internal Why the session ended: the error code that closed it, else how it departed. */
  get endedBy(): string | undefined {
    return this.#endedBy;
  }

  /** Unique id of this session; a resumed session keeps its id. */
  get id(): string {
    return this.#id;
  }

  /** @internal This connection takes over the session `from` (resumed): its id, name and rooms. */
  adopt(
    from: Session | {
      id: string;
      name: string;
      reclaim: string;
      rooms: string[];
      identity?: Identity | undefined;
      oper?: boolean | undefined;
    },
  ): void {
    this.#id = from.id;
    this.name = from.name;
    this.reclaim = from.reclaim;
    this.identity = from.identity;
    this.oper = from.oper === true;
    for (const room of from.rooms) this.rooms.add(room);
    this.currentRoom = from instanceof Session ? from.currentRoom : [...this.rooms].at(-1);
    if (from instanceof Session) {
      this.echo = from.echo;
      this.directs = from.directs;
    }
  }

  /**
   * @internal Holds this session's live messages of `stream` (a room, or `""`
   * for private messages) until {@link replay}, so a replay read meanwhile
   * and the live messages meet with no gap and no duplicate.
   */
  hold(stream: string): void {
    const held = this.#held ??= new Map();
    if (!held.has(stream)) held.set(stream, []);
  }

  /**
   * @internal Sends a replay (its header, then its messages), then the live
   * messages held since {@link hold} that come after `latest`.
   */
  replay(stream: string, replay: (ServerEvent | Outgoing)[], latest: Position | undefined): number {
    const held = this.#held?.get(stream) ?? [];
    this.#held?.delete(stream);
    if (this.#held?.size === 0) this.#held = undefined;
    let bytes = 0;
    for (const item of replay) bytes += this.send(item);
    for (const message of held) {
      const event = message.event as { offset?: number; epoch?: string };
      const seen = latest !== undefined && event.epoch === latest.epoch &&
        event.offset !== undefined && event.offset <= latest.offset;
      if (!seen) this.deliver(message);
    }
    return bytes;
  }

  /** Current connection state. */
  get state(): SessionState {
    return this.#state;
  }

  /** True once the session speaks JSON (always on WebSocket; after a JSON hello on TCP). */
  get json(): boolean {
    return this.#format !== WireFormat.TextLine && this.#format !== WireFormat.IrcLine;
  }

  /** True once the session speaks IRC (on an IRC port; after an IRC first line on TCP). */
  get irc(): boolean {
    return this.#irc !== undefined;
  }

  /** When the client last sent anything, in the relay clock's milliseconds. */
  get lastActive(): number {
    return this.#lastActive;
  }

  /** @internal Marks the session logged in. */
  markReady(): void {
    if (this.#state !== "new") return;
    this.#state = "ready";
    this.ticket.loggedIn();
  }

  /** Feeds bytes from a stream transport. */
  feed(chunk: Uint8Array): void {
    const lines = this.#lines;
    if (!lines || this.#state === "closed" || !this.#withinLoginBudget(chunk.length)) return;
    const result = lines.push(chunk, (line) => {
      if (this.#state !== "closed" && this.#admit(line.length)) this.#arrive(line);
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
    if (this.#state === "closed" || !this.#withinLoginBudget(text.length)) return;
    // Size before rate: an oversized frame is refused for its size, whatever the rate.
    const max = this.#host.limits.maxFrameBytes;
    if (overUtf8Limit(text, max)) {
      return this.#closeWith(
        new RelayError("too_large", `a message may be at most ${max} bytes`, {
          closeCode: CloseCode.tooBig,
        }),
      );
    }
    if (this.#admit(text.length)) this.#arrive(text);
  }

  /** Feeds one binary frame from a message transport. */
  receiveBinary(frame: Uint8Array): void {
    if (this.#state === "closed" || !this.#withinLoginBudget(frame.length)) return;
    const maxFile = this.#host.limits.maxFileBytes;
    if (frame.length > maxFile + 4096 + 3) {
      return this.#closeWith(
        new RelayError("too_large", `a file may be at most ${maxFile} bytes`, {
          closeCode: CloseCode.tooBig,
        }),
      );
    }
    if (this.#admit(frame.length)) this.#arrive(frame);
  }

  /** The transport saw the connection end. Safe to call more than once. */
  disconnect(): void {
    if (this.#state === "closed") return;
    this.#endedBy ??= "drop";
    this.#state = "closed";
    this.#waiting = undefined;
    this.#host.disconnected(this, "drop");
  }

  /**
   * Queues an already-encoded event and returns the bytes queued. Part of the
   * per-message path: no awaits.
   */
  deliver(message: Outgoing): number {
    if (this.#state === "closed") return 0;
    if (this.#held !== undefined && this.#holds(message)) return 0;
    const frame = this.#irc === undefined ? message.frame(this.#format) : this.#irc.frame(message);
    return frame === null ? 0 : this.#queue(frame);
  }

  // Queues a frame, waking the transport, and watches for a consumer falling behind.
  #queue(frame: Frame): number {
    const queue = this.outbound;
    if (queue.push(frame)) this.#port.wake(queue);
    const soft = this.#host.limits.maxQueuedBytes;
    if (queue.bytes <= soft) return frame.bytes;
    // Behind: the queue has stayed over the limit since it was last emptied.
    if (queue.takes !== this.#takesSeen || this.#behindSince === undefined) {
      this.#takesSeen = queue.takes;
      this.#behindSince = this.#host.now();
      this.#pausedAtBehind = this.#host.clock.pausedMs;
    }
    if (queue.bytes > soft * HARD_QUEUE_FACTOR && !this.#overflowing) {
      this.#overflowing = true;
      // Closing mid-broadcast would reorder notices; finish the fan-out first.
      queueMicrotask(() => this.#slowConsumer());
    }
    return frame.bytes;
  }

  /** Sends one event (or an already-encoded one) to this session only; returns the bytes queued. */
  send(event: ServerEvent | Outgoing): number {
    return this.deliver(event instanceof Outgoing ? event : new Outgoing(event));
  }

  /**
   * Counts `bytes` of output this session asked for against its byte rate,
   * so cheap requests with costly replies cannot be repeated at full speed.
   */
  charge(bytes: number): void {
    this.#rate.charge(bytes, this.#host.now());
  }

  /** Sends an error event for `error`, closing when the error requires it. */
  fail(error: unknown, ref?: string): void {
    if (error instanceof RelayError) {
      if (error.closeCode !== undefined) return this.#closeWith(error);
      bump(this.#host.counters.errors, error.code);
      this.send(errorEvent(error, ref));
      return;
    }
    this.#host.reportError(error);
    bump(this.#host.counters.errors, "internal_error");
    const event: ServerEvent = {
      type: "error",
      code: "internal_error",
      message: "the server failed to handle that",
    };
    this.send(ref === undefined ? event : { ...event, ref });
  }

  /**
   * Ends the session: queues a last notice, asks the transport to close, and
   * leaves the relay. `how` is `"quit"` when the user said goodbye.
   */
  close(code: number, reason: string, notice?: ServerEvent | Outgoing, how: Departure = "drop") {
    if (this.#state === "closed") return;
    this.#endedBy ??= how;
    if (notice) this.send(notice);
    this.#irc?.closing(reason);
    this.#state = "closed";
    this.#waiting = undefined;
    this.#port.close(code, reason);
    this.#host.disconnected(this, how);
  }

  /**
   * @internal Called by the relay's sweep. Closes this session when it has been
   * idle, unnamed or behind for too long, leaving out time the relay was paused.
   */
  sweep(now: number): void {
    const host = this.#host;
    const limits = host.limits;
    const paused = host.clock.pausedMs;
    if (this.#state === "new") {
      const age = now - this.ticket.openedAt - (paused - this.#pausedAtOpen);
      if (age >= limits.loginTimeoutMs) {
        return this.#closeWith(
          new RelayError(
            "login_timeout",
            `log in within ${Math.round(limits.loginTimeoutMs / 1000)} seconds of connecting`,
            { closeCode: CloseCode.loginTimeout },
          ),
        );
      }
    }
    const idle = now - this.#lastActive - (paused - this.#pausedAtActive);
    if (limits.idleTimeoutMs > 0 && idle >= limits.idleTimeoutMs) {
      return this.#closeWith(
        new RelayError(
          "idle_timeout",
          `closed after ${Math.round(limits.idleTimeoutMs / 1000)} seconds without activity`,
          { closeCode: CloseCode.idleTimeout },
        ),
      );
    }
    this.#irc?.idle(idle, limits.idleTimeoutMs);
    if (this.#behindSince === undefined) return;
    if (this.outbound.takes !== this.#takesSeen || this.outbound.bytes <= limits.maxQueuedBytes) {
      this.#behindSince = undefined; // it caught up since
      return;
    }
    const behind = now - this.#behindSince - (paused - this.#pausedAtBehind);
    if (behind >= limits.slowConsumerMs) this.#slowConsumer();
  }

  #holds(message: Outgoing): boolean {
    const event = message.event;
    const stream = event.type === "message" ? event.room : event.type === "direct" ? "" : undefined;
    const held = stream === undefined ? undefined : this.#held!.get(stream);
    if (held === undefined) return false;
    held.push(message);
    return true;
  }

  #slowConsumer(): void {
    this.#overflowing = false;
    if (this.#state === "closed") return;
    // Its queue is what overflowed, so drop it rather than add to it.
    this.outbound.drop();
    this.#closeWith(
      new RelayError("slow_consumer", "you were not reading fast enough and fell too far behind", {
        closeCode: CloseCode.slowConsumer,
      }),
    );
  }

  #closeWith(error: RelayError): void {
    if (this.#state === "closed") return;
    bump(this.#host.counters.errors, error.code);
    this.#endedBy ??= error.code;
    // A kicked or banned user, or one whose token ran out, is not kept for a resume.
    const how = ENDS_FOR_GOOD.has(error.code) ? "quit" : "drop";
    this.close(error.closeCode ?? CloseCode.policyViolation, error.message, errorEvent(error), how);
  }

  // Before login, a connection may send only a little: enough to log in.
  #withinLoginBudget(bytes: number): boolean {
    if (this.#state !== "new") return true;
    this.#loginBytes += bytes;
    const max = this.#host.limits.maxLoginBytes;
    if (this.#loginBytes <= max) return true;
    this.#closeWith(
      new RelayError("too_large", `log in first: at most ${max} bytes may be sent before login`, {
        closeCode: CloseCode.tooBig,
      }),
    );
    return false;
  }

  // Every inbound message passes here: it counts as activity and against the rate limit.
  #admit(bytes: number): boolean {
    const host = this.#host;
    const traffic = this.#traffic;
    traffic.messagesIn++;
    traffic.bytesIn += bytes;
    const now = host.now();
    host.clock.observe(now);
    const paused = host.clock.pausedMs;
    if (paused !== this.#pausedSeen) {
      // Input that waited in the socket while the relay was paused is not a burst.
      this.#rate.credit((paused - this.#pausedSeen) / 1000, now);
      this.#pausedSeen = paused;
    }
    this.#lastActive = now;
    this.#pausedAtActive = paused;
    if (this.#rate.take(bytes, now)) return true;
    if (now - this.#strikeWindowStart > 10_000) {
      this.#strikeWindowStart = now;
      this.#strikes = 0;
    }
    const abusive = ++this.#strikes > host.limits.rateAbuseLimit;
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

  // Input is handled strictly in arrival order: while a request waits on the
  // backplane, what arrives after it waits here.
  #arrive(item: string | Uint8Array): void {
    const waiting = this.#waiting;
    if (waiting !== undefined) {
      if (waiting.length < MAX_WAITING) waiting.push(item);
      else this.fail(new RelayError("rate_limited", "too many requests waiting; slow down"));
      return;
    }
    const pending = this.#process(item);
    if (pending !== undefined) this.#waitFor(pending);
  }

  #waitFor(pending: Promise<void>): void {
    this.#waiting = [];
    this.#then(pending);
  }

  // Whatever became of the request, the ones waiting behind it go on.
  #then(pending: Promise<void>): void {
    pending.then(() => this.#resume(), (error) => {
      this.fail(error);
      this.#resume();
    });
  }

  #resume(): void {
    const waiting = this.#waiting;
    if (waiting === undefined) return; // closed meanwhile
    while (waiting.length > 0 && this.#state !== "closed") {
      const pending = this.#process(waiting.shift()!);
      if (pending !== undefined) return this.#then(pending);
    }
    this.#waiting = undefined;
  }

  // Decodes and handles one input; a promise means later input must wait for it.
  #process(item: string | Uint8Array): Promise<void> | undefined {
    if (this.#state === "closed") return undefined;
    try {
      let result: void | Promise<void>;
      if (typeof item !== "string") {
        const { header, payload } = decodeBinaryFrame(item);
        result = this.#host.handle(this, binaryRequest(header, payload));
      } else if (this.#lines) {
        result = this.#line(item);
      } else {
        result = this.#host.handle(this, decodeRequest(item));
      }
      return result instanceof Promise ? result : undefined;
    } catch (error) {
      this.fail(error);
      return undefined;
    }
  }

  #line(line: string): void | Promise<void> {
    const first = this.#linesSeen++ === 0;
    if (this.#irc !== undefined) return this.#irc.line(line);
    if (this.#format === WireFormat.TextLine) {
      // An IRC client's first line (CAP, NICK, USER, PASS) switches this stream to IRC.
      if (first && startsIrc(line)) return this.#startIrc().line(line);
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
    return this.#host.handle(this, decodeRequest(line));
  }

  // The IRC side of this session from now on: IRC lines out, 512-byte lines in.
  #startIrc(): IrcSession {
    this.#format = WireFormat.IrcLine;
    this.#traffic = this.outbound.meter = this.#host.counters.traffic.irc;
    this.#lines!.maxLineBytes = IRC_LINE_BYTES;
    // Text mode's greeting, when the transport has not sent it yet: IRC has no use for it.
    if (this.outbound.length > 0) this.outbound.drop();
    return this.#irc = new IrcSession(this, this.#host, (frame) => {
      if (this.#state !== "closed") this.#queue(frame);
    });
  }
}

function errorEvent(error: RelayError, ref = error.ref): ServerEvent {
  return ref === undefined
    ? { type: "error", code: error.code, message: error.message }
    : { type: "error", code: error.code, message: error.message, ref };
}
