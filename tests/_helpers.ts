// Shared helpers for tests that run the real server on free loopback ports.
// The line reader here is deliberately independent of core's LineDecoder.

import net from "node:net";
import { type RunningServer, type ServerOptions, startServer } from "../server/mod.ts";
import type { RelayOptions } from "../core/mod.ts";
import type { ClientEventOf, ClientEventType, CrosswireClient } from "../client/mod.ts";

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
export class Inbox<T> {
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
  readonly conn: Deno.Conn;
  readonly inbox: Inbox<string> = new Inbox();
  /** Every chunk received, for checks on the exact bytes that reached the terminal. */
  readonly chunks: Uint8Array[] = [];
  readonly done: Promise<void>;
  #closed = false;

  private constructor(conn: Deno.Conn) {
    this.conn = conn;
    this.done = this.#pump();
  }

  static async connect(port: number): Promise<TcpLineClient> {
    return new TcpLineClient(await Deno.connect({ hostname: "127.0.0.1", port }));
  }

  /**
   * Connects from the loopback source address `from` (such as 127.0.0.9), so
   * tests can play many clients from many addresses. Only `read`, `write`,
   * `close` and `closeWrite` work on its `conn`.
   */
  static async connectFrom(port: number, from: string): Promise<TcpLineClient> {
    return new TcpLineClient(await nodeConn(port, from) as unknown as Deno.Conn);
  }

  /** Connects with TLS, trusting the PEM certificate `ca`. */
  static async connectTls(port: number, ca: string): Promise<TcpLineClient> {
    return new TcpLineClient(
      await Deno.connectTls({ hostname: "127.0.0.1", port, caCerts: [ca] }),
    );
  }

  /** Connects (with TLS when `ca` is given), answers the name prompt, and waits for the welcome. */
  static async login(port: number, name: string, ca?: string): Promise<TcpLineClient> {
    const client = ca === undefined
      ? await TcpLineClient.connect(port)
      : await TcpLineClient.connectTls(port, ca);
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
        this.chunks.push(buffer.slice(0, count));
        pending += decoder.decode(buffer.subarray(0, count), { stream: true });
        const lines = pending.split("\n");
        pending = lines.pop()!;
        for (const line of lines) this.inbox.push(line.replace(/\r$/, ""));
      }
    } catch { /* reset or closed locally */ }
    this.inbox.end();
  }

  /** Every byte received so far. */
  bytes(): Uint8Array {
    const all = new Uint8Array(this.chunks.reduce((sum, chunk) => sum + chunk.length, 0));
    let offset = 0;
    for (const chunk of this.chunks) {
      all.set(chunk, offset);
      offset += chunk.length;
    }
    return all;
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

// A node:net socket (which can bind a source address; Deno.connect cannot) as
// much of a Deno.Conn as TcpLineClient uses.
async function nodeConn(port: number, from: string) {
  const socket = net.connect({ host: "127.0.0.1", port, localAddress: from });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  const chunks: Uint8Array[] = [];
  let ended = false;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  socket.on("data", (chunk: Uint8Array) => {
    chunks.push(new Uint8Array(chunk));
    notify();
  });
  socket.on("close", () => {
    ended = true;
    notify();
  });
  socket.on("error", () => {});
  return {
    async read(buffer: Uint8Array): Promise<number | null> {
      while (chunks.length === 0 && !ended) await new Promise<void>((resolve) => wake = resolve);
      const chunk = chunks.shift();
      if (chunk === undefined) return null;
      const count = Math.min(chunk.length, buffer.length);
      buffer.set(chunk.subarray(0, count));
      if (count < chunk.length) chunks.unshift(chunk.subarray(count));
      return count;
    },
    write(bytes: Uint8Array): Promise<number> {
      return new Promise((resolve, reject) =>
        socket.write(bytes, (error) => error ? reject(error) : resolve(bytes.length))
      );
    },
    close(): void {
      socket.destroy();
    },
    closeWrite(): Promise<void> {
      return new Promise((resolve) => socket.end(resolve));
    },
  };
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

/** Starts the real server with any {@link ServerOptions}, on 127.0.0.1 and free ports. */
export async function startServerWith(options: ServerOptions): Promise<TestServer> {
  const server = await startServer({ hostname: "127.0.0.1", port: 0, tcpPort: 0, ...options });
  const scheme = options.tls ? "wss" : "ws";
  return {
    server,
    httpPort: server.httpAddr.port,
    tcpPort: server.tcpAddr?.port ?? 0,
    wsUrl: `${scheme}://127.0.0.1:${server.httpAddr.port}/ws`,
    [Symbol.asyncDispose]: () => server.shutdown(2000),
  };
}

/** Polls `check` every 20 ms until it returns true; fails after `ms`. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  what: string,
  ms = WAIT_MS,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** One frame as a {@link RawWebSocket} read it off the wire. */
export interface RawFrame {
  fin: boolean;
  opcode: number;
  payload: Uint8Array;
}

/**
 * A hand-written WebSocket client on a raw TCP connection, for peers that
 * misbehave on purpose: it sets any header, never answers pings on its own,
 * and can write arbitrary bytes.
 */
export class RawWebSocket implements AsyncDisposable {
  readonly conn: Deno.TcpConn;
  /** The HTTP status of the upgrade response. */
  readonly status: number;
  /** The response head, lower-cased header names. */
  readonly headers: Map<string, string>;
  #buffer: Uint8Array;
  #ended = false;
  #closed = false;

  private constructor(
    conn: Deno.TcpConn,
    status: number,
    headers: Map<string, string>,
    rest: Uint8Array,
  ) {
    this.conn = conn;
    this.status = status;
    this.headers = headers;
    this.#buffer = rest;
  }

  /** Sends an upgrade request for `path` with extra `headers` and reads the response head. */
  static async connect(
    port: number,
    headers: Record<string, string> = {},
    path = "/ws",
  ): Promise<RawWebSocket> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    try {
      const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
      const lines = [
        `GET ${path} HTTP/1.1`,
        `Host: 127.0.0.1:${port}`,
        "Upgrade: websocket",
        "Connection: Upgrade",
        `Sec-WebSocket-Key: ${key}`,
        "Sec-WebSocket-Version: 13",
        ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
      ];
      await writeAllTo(conn, encoder.encode(lines.join("\r\n") + "\r\n\r\n"));
      let received: Uint8Array = new Uint8Array(0);
      let end = -1;
      while (end < 0) {
        const chunk = new Uint8Array(4096);
        const count = await within(conn.read(chunk), WAIT_MS, "the upgrade response");
        if (count === null) throw new Error("connection closed before the upgrade response");
        received = concatBytes(received, chunk.subarray(0, count));
        end = indexOfHeadEnd(received);
      }
      const head = new TextDecoder().decode(received.subarray(0, end)).split("\r\n");
      const status = Number(head[0]?.split(" ")[1]);
      const parsed = new Map<string, string>();
      for (const line of head.slice(1)) {
        const colon = line.indexOf(":");
        if (colon > 0) {
          parsed.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
        }
      }
      return new RawWebSocket(conn, status, parsed, received.subarray(end + 4));
    } catch (error) {
      conn.close();
      throw error;
    }
  }

  /** Reads `count` bytes after the response head (e.g. an error body), or fewer at EOF. */
  async readBytes(count: number, ms = WAIT_MS): Promise<Uint8Array> {
    await within(this.#fill(count), ms, `${count} bytes`);
    const bytes = this.#buffer.subarray(0, count);
    this.#buffer = this.#buffer.subarray(bytes.length);
    return bytes;
  }

  /** Writes bytes exactly as given. */
  write(bytes: Uint8Array): Promise<void> {
    return writeAllTo(this.conn, bytes);
  }

  /** Sends one masked frame (text when `payload` is a string, opcode 1). */
  sendFrame(
    payload: string | Uint8Array,
    opcode = typeof payload === "string" ? 1 : 2,
  ): Promise<void> {
    return this.write(RawWebSocket.encodeFrame(payload, opcode));
  }

  /** Encodes one masked client frame. */
  static encodeFrame(payload: string | Uint8Array, opcode: number): Uint8Array {
    const data = typeof payload === "string" ? encoder.encode(payload) : payload;
    const extended = data.length < 126 ? 0 : data.length < 65536 ? 2 : 8;
    const frame = new Uint8Array(2 + extended + 4 + data.length);
    frame[0] = 0x80 | opcode;
    const view = new DataView(frame.buffer);
    if (extended === 0) frame[1] = 0x80 | data.length;
    else if (extended === 2) {
      frame[1] = 0x80 | 126;
      view.setUint16(2, data.length);
    } else {
      frame[1] = 0x80 | 127;
      view.setBigUint64(2, BigInt(data.length));
    }
    const maskAt = 2 + extended;
    const mask = crypto.getRandomValues(new Uint8Array(4));
    frame.set(mask, maskAt);
    for (let i = 0; i < data.length; i++) frame[maskAt + 4 + i] = data[i]! ^ mask[i % 4]!;
    return frame;
  }

  /** Reads the next frame; null when the server closed the connection. */
  async readFrame(ms = WAIT_MS): Promise<RawFrame | null> {
    return await within(this.#readFrame(), ms, "a WebSocket frame");
  }

  /** Reads frames until the connection ends; returns every frame seen. */
  async readUntilClosed(ms = WAIT_MS): Promise<RawFrame[]> {
    const frames: RawFrame[] = [];
    const all = async () => {
      for (let frame = await this.#readFrame(); frame; frame = await this.#readFrame()) {
        frames.push(frame);
      }
      return frames;
    };
    try {
      return await within(all(), ms, "the server to close the connection");
    } catch (error) {
      const kinds = frames.map((frame) => frame.opcode).join(",");
      throw new Error(`${(error as Error).message} (opcodes seen: ${kinds})`);
    }
  }

  async #readFrame(): Promise<RawFrame | null> {
    if (!(await this.#fill(2))) return null;
    const first = this.#buffer[0]!;
    const second = this.#buffer[1]!;
    let length = second & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (!(await this.#fill(4))) return null;
      length = new DataView(this.#buffer.buffer, this.#buffer.byteOffset).getUint16(2);
      offset = 4;
    } else if (length === 127) {
      if (!(await this.#fill(10))) return null;
      length = Number(new DataView(this.#buffer.buffer, this.#buffer.byteOffset).getBigUint64(2));
      offset = 10;
    }
    if (second & 0x80) offset += 4; // a server must not mask, but skip a mask anyway
    if (!(await this.#fill(offset + length))) return null;
    const payload = this.#buffer.slice(offset, offset + length);
    this.#buffer = this.#buffer.subarray(offset + length);
    return { fin: (first & 0x80) !== 0, opcode: first & 0x0f, payload };
  }

  // Reads until `count` bytes are buffered; false at EOF (or a reset) before that.
  async #fill(count: number): Promise<boolean> {
    while (this.#buffer.length < count) {
      if (this.#ended) return false;
      const chunk = new Uint8Array(64 * 1024);
      let read: number | null = null;
      try {
        read = await this.conn.read(chunk);
      } catch { /* reset, or closed locally */ }
      if (read === null) {
        this.#ended = true;
        return false;
      }
      this.#buffer = concatBytes(this.#buffer, chunk.subarray(0, read));
    }
    return true;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.conn.close();
    } catch { /* already closed */ }
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }
}

/** A JSON WebSocket client on a raw socket, so a test can cut its TCP connection. */
export class CuttableClient {
  #socket: RawWebSocket;
  #text = new TextDecoder();
  #pending: WsItem[] = [];

  private constructor(socket: RawWebSocket) {
    this.#socket = socket;
  }

  /** Opens, logs in as `name`, and returns the client and its welcome. */
  static async login(
    port: number,
    name: string,
  ): Promise<{ client: CuttableClient; welcome: WsItem }> {
    const client = new CuttableClient(await RawWebSocket.connect(port));
    await client.send({ type: "login", name });
    const welcome = await client.expect((e) => e.type === "welcome");
    await client.expect((e) => e.type === "presence");
    return { client, welcome };
  }

  /** Sends one JSON request. */
  send(message: object): Promise<void> {
    return this.#socket.sendFrame(JSON.stringify(message));
  }

  /** Waits for an event matching `match`, dropping the ones before it. */
  async expect(match: (item: WsItem) => boolean): Promise<WsItem> {
    const deadline = Date.now() + WAIT_MS;
    while (true) {
      const index = this.#pending.findIndex(match);
      if (index >= 0) return this.#pending.splice(0, index + 1).at(-1)!;
      this.#pending = [];
      const frame = await this.#socket.readFrame(Math.max(deadline - Date.now(), 1));
      if (frame === null) throw new Error("the server closed the connection");
      if (frame.opcode === 1) {
        for (const part of this.#text.decode(frame.payload).split("\n")) {
          this.#pending.push(JSON.parse(part));
        }
      }
    }
  }

  /** Drops the TCP connection: no close frame, as when a network goes away. */
  cut(): void {
    this.#socket.close();
  }
}

/**
 * A TCP proxy on a free port, between a client and the server, for a network
 * path that breaks. `cut()` ends every connection through it at
 * once; while `refusing`, new connections are closed as soon as they come.
 */
export class CuttingProxy {
  readonly port: number;
  refusing = false;
  #listener: Deno.TcpListener;
  /** Where new connections go (a test may move them to another server). */
  target: number;
  #conns = new Set<Deno.Conn>();
  #pumps = new Set<Promise<void>>();
  #accepting: Promise<void>;

  /** Listens on a free loopback port and forwards to `target`. */
  constructor(target: number) {
    this.target = target;
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.port = this.#listener.addr.port;
    this.#accepting = this.#accept();
  }

  async #accept(): Promise<void> {
    try {
      for await (const conn of this.#listener) {
        if (this.refusing) {
          conn.close();
          continue;
        }
        const pump = this.#pump(conn);
        this.#pumps.add(pump);
        void pump.finally(() => this.#pumps.delete(pump));
      }
    } catch { /* closed */ }
  }

  async #pump(client: Deno.Conn): Promise<void> {
    let server: Deno.Conn;
    try {
      server = await Deno.connect({ hostname: "127.0.0.1", port: this.target });
    } catch {
      client.close();
      return;
    }
    this.#conns.add(client);
    this.#conns.add(server);
    const copy = async (from: Deno.Conn, to: Deno.Conn) => {
      const buffer = new Uint8Array(64 * 1024);
      try {
        for (let n = await from.read(buffer); n !== null; n = await from.read(buffer)) {
          for (let offset = 0; offset < n;) offset += await to.write(buffer.subarray(offset, n));
        }
      } catch { /* cut */ }
      this.#end(from);
      this.#end(to);
    };
    await Promise.all([copy(client, server), copy(server, client)]);
  }

  #end(conn: Deno.Conn): void {
    if (!this.#conns.delete(conn)) return;
    try {
      conn.close();
    } catch { /* already closed */ }
  }

  /** Ends every connection through the proxy, both sides, without a word. */
  cut(): void {
    for (const conn of [...this.#conns]) this.#end(conn);
  }

  /** Stops accepting and ends every connection. */
  async close(): Promise<void> {
    this.#listener.close();
    this.cut();
    await this.#accepting;
    await Promise.all(this.#pumps);
  }
}

/** The close code in a close frame's payload, or undefined when it has none. */
export function closeCodeOf(frame: RawFrame): number | undefined {
  if (frame.opcode !== 8 || frame.payload.length < 2) return undefined;
  return (frame.payload[0]! << 8) | frame.payload[1]!;
}

async function writeAllTo(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let offset = 0; offset < bytes.length;) {
    offset += await conn.write(bytes.subarray(offset));
  }
}

function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a);
  joined.set(b, a.length);
  return joined;
}

function indexOfHeadEnd(bytes: Uint8Array): number {
  for (let i = 0; i + 3 < bytes.length; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) {
      return i;
    }
  }
  return -1;
}

/** How {@link SpawnedProcess} starts its command: piped stdin, folder, extra environment. */
export interface SpawnOptions {
  stdin?: boolean;
  cwd?: string;
  env?: Record<string, string>;
}

/** A spawned process whose stdout and stderr lines can be awaited; disposal kills and reaps it. */
export class SpawnedProcess implements AsyncDisposable {
  readonly child: Deno.ChildProcess;
  readonly stdout: Inbox<string> = new Inbox();
  readonly stderr: Inbox<string> = new Inbox();
  /** Resolves once both output streams have ended. */
  readonly drained: Promise<void>;
  #stdin: WritableStreamDefaultWriter<Uint8Array> | undefined;

  constructor(command: string, args: string[], options: SpawnOptions = {}) {
    this.child = new Deno.Command(command, {
      args,
      stdin: options.stdin ? "piped" : "null",
      stdout: "piped",
      stderr: "piped",
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      ...(options.env === undefined ? {} : { env: options.env }),
    }).spawn();
    this.#stdin = options.stdin ? this.child.stdin.getWriter() : undefined;
    this.drained = Promise.all([
      SpawnedProcess.#pump(this.child.stdout, this.stdout),
      SpawnedProcess.#pump(this.child.stderr, this.stderr),
    ]).then(() => {});
  }

  /** Spawns `deno` itself (the same binary running the tests). */
  static deno(args: string[], options: SpawnOptions = {}): SpawnedProcess {
    return new SpawnedProcess(Deno.execPath(), args, options);
  }

  static async #pump(stream: ReadableStream<Uint8Array>, inbox: Inbox<string>): Promise<void> {
    let pending = "";
    try {
      for await (const text of stream.pipeThrough(new TextDecoderStream())) {
        const lines = (pending + text).split("\n");
        pending = lines.pop()!;
        for (const line of lines) inbox.push(line.replace(/\r$/, ""));
      }
    } catch { /* the process went away */ }
    if (pending !== "") inbox.push(pending);
    inbox.end();
  }

  /** Waits for a stdout line containing `text` (or matching the pattern). */
  expect(text: string | RegExp, ms = WAIT_MS): Promise<string> {
    const match = typeof text === "string"
      ? (line: string) => line.includes(text)
      : (line: string) => text.test(line);
    return this.stdout.take(match, String(text), ms);
  }

  /** Writes to stdin (spawned with `stdin: true`). */
  async write(text: string): Promise<void> {
    if (!this.#stdin) throw new Error("spawned without stdin");
    await this.#stdin.write(encoder.encode(text));
  }

  /** Closes stdin, if it is open. */
  async closeStdin(): Promise<void> {
    const writer = this.#stdin;
    this.#stdin = undefined;
    try {
      await writer?.close();
    } catch { /* the process already exited */ }
  }

  /** Waits for the exit status and the end of its output. */
  async status(ms = WAIT_MS): Promise<Deno.CommandStatus> {
    const status = await within(this.child.status, ms, "the process to exit");
    await within(this.drained, ms, "the process output to end");
    return status;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.closeStdin();
    try {
      this.child.kill("SIGKILL");
    } catch { /* already exited */ }
    await this.child.status;
    await this.drained;
  }
}

/** The client's next event of `type` that passes `accept`, or a rejection after `timeoutMs`. */
export function nextEvent<T extends ClientEventType>(
  client: CrosswireClient,
  type: T,
  accept: (event: ClientEventOf<T>) => boolean = () => true,
  timeoutMs = WAIT_MS,
): Promise<ClientEventOf<T>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`no ${type} event for ${client.name} within ${timeoutMs} ms`));
    }, timeoutMs);
    const stop = client.on(type, (event) => {
      if (!accept(event)) return;
      clearTimeout(timer);
      stop();
      resolve(event);
    });
  });
}
