// Shared helpers for tests that run the real server on free loopback ports.
// The line reader here is deliberately independent of core's LineDecoder.

import { type RunningServer, startServer } from "../server/mod.ts";
import type { RelayOptions } from "../core/mod.ts";

/** Default time any awaited event may take before a test fails. */
export const WAIT_MS = 5000;

/** Rejects after `ms` unless `promise` settles first; always clears its timer. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A server on 127.0.0.1 with free HTTP and TCP ports; `await using` shuts it down. */
export interface TestServer extends AsyncDisposable {
  server: RunningServer;
  httpPort: number;
  tcpPort: number;
  wsUrl: string;
}

/** Starts the real server (HTTP/WebSocket and TCP) on free ports. */
export async function startTestServer(relay: RelayOptions = {}): Promise<TestServer> {
  const server = await startServer({ hostname: "127.0.0.1", port: 0, tcpPort: 0, relay });
  return {
    server,
    httpPort: server.httpAddr.port,
    tcpPort: server.tcpAddr!.port,
    wsUrl: `ws://127.0.0.1:${server.httpAddr.port}/ws`,
    [Symbol.asyncDispose]: () => server.shutdown(2000),
  };
}

/** A queue of items with awaitable, predicate-matched takes. */
class Inbox<T> {
  items: T[] = [];
  seen: T[] = [];
  ended = false;
  #waiters: (() => void)[] = [];

  push(item: T): void {
    this.items.push(item);
    this.seen.push(item);
    this.#wake();
  }

  end(): void {
    this.ended = true;
    this.#wake();
  }

  #wake(): void {
    for (const waiter of this.#waiters.splice(0)) waiter();
  }

  /** Takes the first item matching `match`, dropping the ones before it. */
  async take(match: (item: T) => boolean, what: string, ms = WAIT_MS): Promise<T> {
    const search = async (): Promise<T> => {
      while (true) {
        const index = this.items.findIndex(match);
        if (index >= 0) {
          const [item] = this.items.splice(0, index + 1).slice(-1);
          return item!;
        }
        this.items = [];
        if (this.ended) throw new Error(`connection ended while waiting for ${what}`);
        await new Promise<void>((resolve) => this.#waiters.push(resolve));
      }
    };
    try {
      return await within(search(), ms, what);
    } catch (error) {
      const recent = this.seen.slice(-8).map((item) => JSON.stringify(item)).join("\n  ");
      throw new Error(`${(error as Error).message}; last seen:\n  ${recent}`);
    }
  }
}

const encoder = new TextEncoder();

/** A raw TCP client that reads CRLF or LF lines, like telnet or netcat would show them. */
export class TcpLineClient implements AsyncDisposable {
  readonly conn: Deno.TcpConn;
  readonly inbox: Inbox<string> = new Inbox();
  /** Every byte received, for checks on what reached the terminal. */
  readonly raw: number[] = [];
  readonly done: Promise<void>;
  #closed = false;

  private constructor(conn: Deno.TcpConn) {
    this.conn = conn;
    this.done = this.#pump();
  }

  static async connect(port: number): Promise<TcpLineClient> {
    return new TcpLineClient(await Deno.connect({ hostname: "127.0.0.1", port }));
  }

  /** Connects, answers the name prompt, and waits for the welcome. */
  static async login(port: number, name: string): Promise<TcpLineClient> {
    const client = await TcpLineClient.connect(port);
    await client.expect("What's your name?");
    await client.send(name);
    await client.expect(`Welcome, ${name}!`);
    await client.expect("here:");
    return client;
  }

  async #pump(): Promise<void> {
    const decoder = new TextDecoder();
    let pending = "";
    const buffer = new Uint8Array(64 * 1024);
    try {
      while (true) {
        const count = await this.conn.read(buffer);
        if (count === null) break;
        for (let i = 0; i < count; i++) this.raw.push(buffer[i]!);
        pending += decoder.decode(buffer.subarray(0, count), { stream: true });
        const lines = pending.split("\n");
        pending = lines.pop()!;
        for (const line of lines) this.inbox.push(line.replace(/\r$/, ""));
      }
    } catch { /* reset or closed locally */ }
    this.inbox.end();
  }

  /** Writes a string (UTF-8) or bytes as they are; no line ending is added. */
  async write(data: string | Uint8Array): Promise<void> {
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    for (let offset = 0; offset < bytes.length;) {
      offset += await this.conn.write(bytes.subarray(offset));
    }
  }

  /** Sends one line with CRLF, as telnet does. */
  send(line: string): Promise<void> {
    return this.write(line + "\r\n");
  }

  /** Waits for a line containing `text` (or matching the predicate). */
  expect(text: string | ((line: string) => boolean), ms = WAIT_MS): Promise<string> {
    const match = typeof text === "string" ? (line: string) => line.includes(text) : text;
    return this.inbox.take(match, typeof text === "string" ? JSON.stringify(text) : "a line", ms);
  }

  /** Resolves when the server closes the connection. */
  async expectClosed(ms = WAIT_MS): Promise<void> {
    await within(this.done, ms, "the server to close the connection");
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      try {
        this.conn.close();
      } catch { /* already closed */ }
    }
    return this.done;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** What a WebSocket test client received: a parsed JSON event or binary bytes. */
// deno-lint-ignore no-explicit-any -- tests inspect arbitrary event fields
export type WsItem = { binary?: Uint8Array; [key: string]: any };

/** A WebSocket client speaking the JSON protocol. */
export class WsJsonClient implements AsyncDisposable {
  readonly socket: WebSocket;
  readonly inbox: Inbox<WsItem> = new Inbox();
  readonly closed: Promise<CloseEvent>;

  private constructor(socket: WebSocket) {
    this.socket = socket;
    socket.binaryType = "arraybuffer";
    socket.onmessage = (event) => {
      this.inbox.push(
        typeof event.data === "string"
          ? JSON.parse(event.data)
          : { binary: new Uint8Array(event.data as ArrayBuffer) },
      );
    };
    this.closed = new Promise((resolve) => {
      socket.onclose = (event) => {
        this.inbox.end();
        resolve(event);
      };
    });
  }

  static async open(url: string): Promise<WsJsonClient> {
    const socket = new WebSocket(url);
    const client = new WsJsonClient(socket);
    await within(
      new Promise<void>((resolve, reject) => {
        socket.onopen = () => resolve();
        socket.onerror = () => reject(new Error("WebSocket failed to open"));
      }),
      WAIT_MS,
      "the WebSocket to open",
    );
    return client;
  }

  /** Opens, logs in, and waits for the lobby presence. */
  static async login(url: string, name: string, echo = false): Promise<WsJsonClient> {
    const client = await WsJsonClient.open(url);
    client.send({ type: "login", name, echo });
    await client.expect("welcome");
    await client.expect((event) => event.type === "presence" && event.room === "lobby");
    return client;
  }

  send(message: object | string): void {
    this.socket.send(typeof message === "string" ? message : JSON.stringify(message));
  }

  sendBinary(bytes: Uint8Array): void {
    this.socket.send(bytes);
  }

  /** Waits for an event of `type` (or matching the predicate). */
  expect(match: string | ((item: WsItem) => boolean), ms = WAIT_MS): Promise<WsItem> {
    const test = typeof match === "string" ? (item: WsItem) => item.type === match : match;
    return this.inbox.take(test, typeof match === "string" ? `a "${match}" event` : "an event", ms);
  }

  async close(): Promise<void> {
    if (this.socket.readyState < WebSocket.CLOSING) this.socket.close();
    await this.closed;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** Fetches `/healthz` and returns its JSON. */
export async function health(port: number): Promise<Record<string, unknown>> {
  const response = await fetch(`http://127.0.0.1:${port}/healthz`);
  return await response.json();
}
