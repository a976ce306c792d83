// A JSON-mode client on the standard WebSocket global, as any runtime's
// clients would use it. It checks the framing as it reads: without batching
// every text frame must be exactly one JSON object.

import { Inbox, WAIT_MS, within } from "./_inbox.ts";
import { track } from "./_journal.ts";

/** The `type` given to a binary frame in the inbox (no server event has it). */
export const BINARY = "(binary frame)";
/** The `type` given to a text frame part that is not a JSON object. */
const UNREADABLE = "(not a JSON object)";

/** A received server event, or a binary frame as `{ type: BINARY, bytes }`. */
// deno-lint-ignore no-explicit-any -- cases read whichever fields an event has
export type Received = { type: string; bytes?: Uint8Array; [field: string]: any };

/** How to open a {@link WsClient}. */
export interface WsClientOptions {
  /** Ask for batched frames (`{"type":"hello","batch":true}`). @default {false} */
  batch?: boolean;
}

/** How to log in with {@link WsClient.login}. */
export interface LoginOptions extends WsClientOptions {
  /** Receive one's own room messages. @default {false} */
  echo?: boolean;
}

function describe(item: Received): string {
  if (item.type === BINARY) return `binary frame of ${item.bytes!.length} bytes`;
  if (item.type === UNREADABLE) return `text frame part ${JSON.stringify(item.raw).slice(0, 200)}`;
  return JSON.stringify(item).slice(0, 300);
}

// Events that fail a wait for something else: an error nobody asked for, or
// a frame that is not JSON.
function unexpected(item: Received): string | undefined {
  if (item.type === "error") {
    return `the server sent error ${item.code}: ${JSON.stringify(item.message)}`;
  }
  if (item.type === UNREADABLE) {
    return `the server sent a text frame that is not one JSON object: ${describe(item)}`;
  }
  return undefined;
}

/** One WebSocket connection speaking the JSON protocol. */
export class WsClient implements AsyncDisposable {
  readonly socket: WebSocket;
  readonly inbox: Inbox<Received> = new Inbox(describe, () => this.label());
  /** Every text frame as it arrived, before splitting. */
  readonly frames: string[] = [];
  /** Resolves with the close event, however the connection ended. */
  readonly closed: Promise<CloseEvent>;
  /** The server's first event. */
  hello: Received = { type: "hello" };
  /** The name it logged in with, once welcomed. */
  name: string | undefined;
  #batch: boolean;
  #refs = 0;

  private constructor(socket: WebSocket, batch: boolean) {
    this.socket = socket;
    this.#batch = batch;
    track({ label: () => this.label(), recent: () => this.inbox.recent() });
    socket.binaryType = "arraybuffer";
    socket.onmessage = (event) => this.#receive(event.data);
    this.closed = new Promise((resolve) => {
      socket.onclose = (event) => {
        const reason = event.reason === "" ? "" : ` ${JSON.stringify(event.reason)}`;
        this.inbox.end(`the connection closed (code ${event.code}${reason})`);
        resolve(event);
      };
    });
  }

  /** Opens a connection and reads the server's `hello` (answered again when batching). */
  static async connect(url: string, options: WsClientOptions = {}): Promise<WsClient> {
    const socket = new WebSocket(url);
    const client = new WsClient(socket, options.batch ?? false);
    try {
      await within(
        new Promise<void>((resolve, reject) => {
          socket.onopen = () => resolve();
          socket.onerror = () => reject(new Error(`the WebSocket to ${url} failed to open`));
        }),
        WAIT_MS,
        `the WebSocket to ${url} to open`,
      );
      socket.onerror = null;
      client.hello = await client.expect("hello", "the server's hello");
      if (options.batch) {
        client.send({ type: "hello", batch: true, ref: "batch" });
        await client.expect((e) => e.type === "hello" && e.ref === "batch", "hello with ref batch");
      }
    } catch (error) {
      await client.close().catch(() => {}); // the first failure is the one to report
      throw error;
    }
    return client;
  }

  /** Connects, logs in as `name`, and reads the welcome and the lobby's presence. */
  static async login(url: string, name: string, options: LoginOptions = {}): Promise<WsClient> {
    const client = await WsClient.connect(url, options);
    try {
      const ref = client.nextRef();
      client.send({ type: "login", name, ref, ...(options.echo ? { echo: true } : {}) });
      await client.expect((e) => e.type === "welcome" && e.ref === ref, `welcome for ${name}`);
      client.name = name;
      await client.expect((e) => e.type === "presence" && e.room === "lobby", "lobby presence");
    } catch (error) {
      await client.close().catch(() => {}); // the first failure is the one to report
      throw error;
    }
    return client;
  }

  /** Names the connection in failure messages. */
  label(): string {
    return `WebSocket ${this.name ?? "(not logged in)"}`;
  }

  /** A `ref` not used before on this connection. */
  nextRef(): string {
    return `r${++this.#refs}`;
  }

  /** Sends a JSON request (or a text frame as it is). */
  send(message: object | string): void {
    this.socket.send(typeof message === "string" ? message : JSON.stringify(message));
  }

  /** Sends a binary frame. */
  sendBinary(bytes: Uint8Array<ArrayBuffer>): void {
    this.socket.send(bytes);
  }

  /**
   * Waits for an event of `type` (or one `match` accepts), dropping what comes
   * before it. An error event or an unreadable frame before it fails the wait,
   * unless that is what it waits for.
   */
  expect(
    match: string | ((item: Received) => boolean),
    what: string = typeof match === "string" ? `a "${match}" event` : "an event",
    ms: number = WAIT_MS,
  ): Promise<Received> {
    const test = typeof match === "string" ? (item: Received) => item.type === match : match;
    return this.inbox.take(test, what, unexpected, ms);
  }

  /** Waits for an error event with `code` (and `ref`, when given). */
  expectError(code: string, ref?: string): Promise<Received> {
    const what = `error ${code}${ref === undefined ? "" : ` with ref ${ref}`}`;
    return this.inbox.take(
      (item) =>
        item.type === "error" && item.code === code && (ref === undefined || item.ref === ref),
      what,
      (item) => item.type === "error" ? `the server sent ${describe(item)}` : unexpected(item),
    );
  }

  /**
   * A ping and its pong: everything the server sent before answering has
   * arrived by then, so a case can check that something did not.
   */
  async roundTrip(): Promise<void> {
    const ref = this.nextRef();
    this.send({ type: "ping", ref });
    await this.expect((e) => e.type === "pong" && e.ref === ref, `pong with ref ${ref}`);
  }

  /** Waits for the server to close the connection; returns the close event. */
  async expectClosed(ms: number = WAIT_MS): Promise<CloseEvent> {
    try {
      return await within(this.closed, ms, "the server to close the connection");
    } catch (error) {
      const message = `${this.label()}: ${(error as Error).message}`;
      throw new Error(`${message}\n  last received:\n${this.inbox.recent()}`);
    }
  }

  /** Says `quit`: a notice, then the server closes with 1000. Returns the close event. */
  async quit(): Promise<CloseEvent> {
    this.send({ type: "quit" });
    const closed = await this.expectClosed();
    this.name = undefined;
    return closed;
  }

  /** Closes from this side and waits for the close to finish. */
  async close(): Promise<void> {
    if (this.socket.readyState < WebSocket.CLOSING) this.socket.close(1000);
    await within(this.closed, WAIT_MS, "the WebSocket to finish closing");
  }

  /**
   * Leaves cleanly: a logged-in client says `quit` so its name and rooms are
   * free at once (a dropped one would keep them for a resume), others close.
   */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.socket.readyState === WebSocket.OPEN && this.name !== undefined) {
      this.send({ type: "quit" });
      try {
        await within(this.closed, WAIT_MS, "the server to close after quit");
        return;
      } catch { /* closed from this side below */ }
    }
    await this.close();
  }

  #receive(data: unknown): void {
    if (typeof data !== "string") {
      this.inbox.push({ type: BINARY, bytes: new Uint8Array(data as ArrayBuffer) });
      return;
    }
    this.frames.push(data);
    for (const part of this.#batch ? data.split("\n") : [data]) {
      let event: unknown;
      try {
        event = JSON.parse(part);
      } catch { /* reported below */ }
      const ok = typeof event === "object" && event !== null && !Array.isArray(event) &&
        typeof (event as Received).type === "string";
      this.inbox.push(ok ? event as Received : { type: UNREADABLE, raw: part });
    }
  }
}
