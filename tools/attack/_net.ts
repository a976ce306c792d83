/**
 * Sockets for the attack harness: TCP connections from chosen loopback source
 * addresses (through `node:net`, because `Deno.connect` cannot bind a local
 * address), a telnet-style line client, a raw WebSocket client that writes its
 * own masked frames (so it can send what a well-behaved library refuses to),
 * and a raw HTTP GET with any `Host` header.
 *
 * Every socket opened here is tracked, so the runner can destroy whatever an
 * attack left open with {@link destroyAllSockets}.
 *
 * @module
 */
import net from "node:net";

/** Where the server is reached. */
export const HOST = "127.0.0.1";

const encoder = new TextEncoder();
const open = new Set<net.Socket>();

/** Resolves after `ms`, or at once when `signal` is aborted. */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

/**
 * Loopback source address number `index` of block `block` (127.block.x.y,
 * never .0 or .255). Blocks keep attacks apart from the canary (127.0.0.1).
 */
export function sourceAddress(block: number, index: number): string {
  return `127.${block}.${Math.floor(index / 250)}.${(index % 250) + 1}`;
}

/**
 * Runs `task(i)` for every i below `count`, at most `concurrency` at a time,
 * and stops starting new ones once `signal` is aborted.
 */
export async function pool<T>(
  count: number,
  concurrency: number,
  task: (index: number) => Promise<T>,
  signal?: AbortSignal,
): Promise<PromiseSettledResult<T>[]> {
  const results: PromiseSettledResult<T>[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count && !signal?.aborted) {
      const index = next++;
      try {
        results[index] = { status: "fulfilled", value: await task(index) };
      } catch (reason) {
        results[index] = { status: "rejected", reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return results;
}

/** Sockets still open (opened through this module). */
export function openSocketCount(): number {
  return open.size;
}

/** Destroys every socket this module opened that is still open. */
export function destroyAllSockets(): void {
  for (const socket of open) socket.destroy();
  open.clear();
}

/** Where to connect, and from where. */
export interface ConnectOptions {
  /** Server port. */
  port: number;
  /** Server address. @default HOST */
  host?: string;
  /**
   * Local (source) address to bind, e.g. from {@link sourceAddress}.
   * @default the kernel's choice (127.0.0.1)
   */
  localAddress?: string;
  /** Give up connecting after this long. @default 10000 */
  timeoutMs?: number;
}

/** Opens a TCP connection; the socket is tracked and never throws on later errors. */
export function connectTcp(options: ConnectOptions): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({
      host: options.host ?? HOST,
      port: options.port,
      ...(options.localAddress ? { localAddress: options.localAddress } : {}),
    });
    open.add(socket);
    socket.once("close", () => open.delete(socket));
    const fail = (error: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };
    const timer = setTimeout(
      () => fail(new Error("connect timed out")),
      options.timeoutMs ?? 10_000,
    );
    socket.once("error", fail);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.off("error", fail);
      socket.on("error", () => {}); // resets and broken pipes end up as "close"
      socket.setNoDelay(true);
      resolve(socket);
    });
  });
}

/** Resolves when `socket` can take more data (or is gone). */
function drained(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      socket.off("drain", done);
      socket.off("close", done);
      resolve();
    };
    socket.on("drain", done);
    socket.on("close", done);
  });
}

/** Writes `bytes`, waiting for the socket to drain when its buffer is full. */
export async function writeFully(socket: net.Socket, bytes: Uint8Array): Promise<boolean> {
  if (socket.destroyed) return false;
  if (!socket.write(bytes)) await drained(socket);
  return !socket.destroyed;
}

/** First error-code-looking word (`name_taken`, `server_busy`, ...) in `text`. */
export function errorCodeIn(text: string): string | undefined {
  return /\b([a-z]+(?:_[a-z]+)+)\b/.exec(text)?.[1];
}

interface Waiter<T> {
  test: (item: T) => boolean;
  resolve: (item: T | undefined) => void;
}

/** Keeps the last few items with their sequence numbers and wakes waiters. */
class Feed<T> {
  count = 0;
  #recent: [number, T][] = [];
  #waiters = new Set<Waiter<T>>();
  #keep: number;

  constructor(keep: number) {
    this.#keep = keep;
  }

  push(item: T): void {
    this.#recent.push([this.count++, item]);
    if (this.#recent.length > this.#keep) this.#recent.shift();
    for (const waiter of this.#waiters) {
      if (waiter.test(item)) {
        this.#waiters.delete(waiter);
        waiter.resolve(item);
      }
    }
  }

  recent(since = 0): T[] {
    return this.#recent.filter(([index]) => index >= since).map(([, item]) => item);
  }

  end(): void {
    for (const waiter of this.#waiters) waiter.resolve(undefined);
    this.#waiters.clear();
  }

  wait(test: (item: T) => boolean, timeoutMs: number, since: number, ended: boolean) {
    const seen = this.recent(since).find(test);
    if (seen !== undefined || ended) return Promise.resolve(seen);
    return new Promise<T | undefined>((resolve) => {
      const waiter: Waiter<T> = {
        test,
        resolve: (item) => {
          clearTimeout(timer);
          resolve(item);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        resolve(undefined);
      }, timeoutMs);
      this.#waiters.add(waiter);
    });
  }
}

/** Outcome of a text-mode login. */
export interface LoginResult {
  ok: boolean;
  /** The line that decided it (the welcome, the question again, or why it failed). */
  line: string;
  /** Error code seen on the way, if any. */
  code?: string;
}

/** A telnet-style TCP client: reads lines continuously unless told not to. */
export class LineConn {
  readonly socket: net.Socket;
  bytesIn = 0;
  closedAt: number | undefined;
  /** Called with each line (without its line ending). */
  onLine: ((line: string) => void) | undefined;
  readonly closed: Promise<void>;
  #lines = new Feed<string>(64);
  #decoder = new TextDecoder();
  #partial = "";

  /**
   * Connects. `read`: `"lines"` splits and keeps lines, `"count"` only counts
   * bytes, `"none"` never reads (the kernel buffers fill up). @default "lines"
   */
  static async open(
    options: ConnectOptions & { read?: "lines" | "count" | "none" },
  ): Promise<LineConn> {
    return new LineConn(await connectTcp(options), options.read ?? "lines");
  }

  constructor(socket: net.Socket, read: "lines" | "count" | "none") {
    this.socket = socket;
    this.closed = new Promise((resolve) =>
      socket.once("close", () => {
        this.closedAt = Date.now();
        this.#lines.end();
        resolve();
      })
    );
    if (read === "lines") socket.on("data", (chunk: Uint8Array) => this.#data(chunk));
    if (read === "count") socket.on("data", (chunk: Uint8Array) => this.bytesIn += chunk.length);
  }

  /** Lines received so far. */
  get lineCount(): number {
    return this.#lines.count;
  }

  /** The last lines received (up to 64), optionally only those numbered `since` or later. */
  recent(since = 0): string[] {
    return this.#lines.recent(since);
  }

  #data(chunk: Uint8Array): void {
    this.bytesIn += chunk.length;
    const text = this.#partial + this.#decoder.decode(chunk, { stream: true });
    const parts = text.split("\n");
    this.#partial = parts.pop() ?? "";
    for (const part of parts) {
      const line = part.endsWith("\r") ? part.slice(0, -1) : part;
      this.onLine?.(line);
      this.#lines.push(line);
    }
  }

  /** Waits for a line (numbered `since` or later) that passes `test`. */
  waitFor(test: (line: string) => boolean, timeoutMs: number, since = 0) {
    return this.#lines.wait(test, timeoutMs, since, this.closedAt !== undefined);
  }

  /** Sends `line` and CRLF. */
  send(line: string): boolean {
    return this.write(encoder.encode(line + "\r\n"));
  }

  /** Sends raw bytes. */
  write(bytes: Uint8Array): boolean {
    if (this.socket.destroyed) return false;
    this.socket.write(bytes);
    return true;
  }

  /** Answers the name prompt; decided by "Welcome" or by the question coming back. */
  async login(name: string, timeoutMs = 10_000): Promise<LoginResult> {
    const greeting = await this.waitFor((l) => l.includes("What's your name?"), timeoutMs);
    if (greeting === undefined) {
      const last = this.recent().at(-1) ?? "";
      const why = this.closedAt ? `closed: ${last}` : `no greeting: ${last}`;
      const code = errorCodeIn(last);
      return code ? { ok: false, line: why, code } : { ok: false, line: why };
    }
    const mark = this.lineCount;
    this.send(name);
    const reply = await this.waitFor(
      (l) => l.includes("What's your name?") || l.includes("Welcome"),
      timeoutMs,
      mark,
    );
    const seen = this.recent(mark);
    const code = seen.map(errorCodeIn).find((c) => c !== undefined);
    const ok = reply !== undefined && !reply.includes("What's your name?");
    const line = reply === undefined
      ? `${this.closedAt ? "closed" : "no reply"}: ${seen.join(" | ")}`
      : ok
      ? reply
      : seen.join(" | ");
    return code && !ok ? { ok, line, code } : { ok, line };
  }

  /** Closes at once. */
  destroy(): void {
    this.socket.destroy();
  }
}

/** The server answered the WebSocket upgrade with something other than 101. */
export class HandshakeError extends Error {
  readonly status: number;
  readonly response: string;

  constructor(status: number, response: string) {
    super(`WebSocket upgrade refused: HTTP ${status}`);
    this.name = "HandshakeError";
    this.status = status;
    this.response = response;
  }
}

/** Options for {@link RawWs.open}. */
export interface WsOptions extends ConnectOptions {
  /** @default "/ws" */
  path?: string;
  /** The Host header. @default `${HOST}:${port}` */
  hostHeader?: string;
  /** More request headers, e.g. Origin. */
  headers?: Record<string, string>;
}

/** WebSocket opcodes. */
export const Op = { text: 1, binary: 2, close: 8, ping: 9, pong: 10 } as const;

function maskKey(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(4));
}

/** A masked client frame header for a payload of `length` bytes. */
export function frameHeader(opcode: number, length: number, mask: Uint8Array): Uint8Array {
  const extra = length < 126 ? 0 : length < 65536 ? 2 : 8;
  const head = new Uint8Array(2 + extra + 4);
  const view = new DataView(head.buffer);
  head[0] = 0x80 | opcode;
  if (extra === 0) head[1] = 0x80 | length;
  else if (extra === 2) {
    head[1] = 0x80 | 126;
    view.setUint16(2, length);
  } else {
    head[1] = 0x80 | 127;
    view.setBigUint64(2, BigInt(length));
  }
  head.set(mask, 2 + extra);
  return head;
}

/** `payload` masked with `mask`, as from offset `offset` of a frame's payload. */
export function masked(payload: Uint8Array, mask: Uint8Array, offset = 0): Uint8Array {
  const out = new Uint8Array(payload.length);
  for (let i = 0; i < payload.length; i++) out[i] = payload[i]! ^ mask[(i + offset) & 3]!;
  return out;
}

/** One whole masked frame (header and payload) ready to write. */
export function maskedFrame(opcode: number, payload: Uint8Array): Uint8Array {
  const mask = maskKey();
  const head = frameHeader(opcode, payload.length, mask);
  const frame = new Uint8Array(head.length + payload.length);
  frame.set(head);
  frame.set(masked(payload, mask), head.length);
  return frame;
}

/** A text event's `type`, read cheaply (the server writes `{"type":"...`). */
export function typeOf(text: string): string | undefined {
  return /^\{"type":"([a-z_]+)"/.exec(text)?.[1];
}

/**
 * A WebSocket client over a raw socket. Text frames are decoded (and offered
 * to waiters); binary payloads are only counted. Pings are answered.
 */
export class RawWs {
  readonly socket: net.Socket;
  bytesIn = 0;
  textFrames = 0;
  binaryFrames = 0;
  binaryBytes = 0;
  closeCode: number | undefined;
  closeReason: string | undefined;
  /** Payload size of the close frame received, if any. */
  closeFrameBytes: number | undefined;
  closedAt: number | undefined;
  /** Error codes received in `error` events, in order (the last 64). */
  errors: string[] = [];
  /** Every error code received, with its count. */
  errorCounts: Map<string, number> = new Map();
  onText: ((text: string) => void) | undefined;
  onBinary: ((bytes: number) => void) | undefined;
  readonly closed: Promise<void>;
  #texts = new Feed<string>(32);
  #decoder = new TextDecoder();
  // Frame parser state.
  #head = new Uint8Array(14);
  #headLength = 0;
  #need = 2;
  #inPayload = false;
  #remaining = 0;
  #opcode = 0;
  #fin = true;
  #messageOpcode = 0;
  #parts: Uint8Array[] = [];

  /** Connects and upgrades; throws {@link HandshakeError} when refused. */
  static async open(options: WsOptions): Promise<RawWs> {
    const socket = await connectTcp(options);
    const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
    const headers = {
      Host: options.hostHeader ?? `${HOST}:${options.port}`,
      Upgrade: "websocket",
      Connection: "Upgrade",
      "Sec-WebSocket-Key": key,
      "Sec-WebSocket-Version": "13",
      ...options.headers,
    };
    const request = `GET ${options.path ?? "/ws"} HTTP/1.1\r\n` +
      Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join("") + "\r\n";
    socket.write(encoder.encode(request));
    const { head, rest } = await readHead(socket, options.timeoutMs ?? 10_000);
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
    if (status !== 101) {
      socket.destroy();
      throw new HandshakeError(status, head);
    }
    return new RawWs(socket, rest);
  }

  private constructor(socket: net.Socket, rest: Uint8Array) {
    this.socket = socket;
    this.closed = new Promise((resolve) =>
      socket.once("close", () => {
        this.closedAt = Date.now();
        this.#texts.end();
        resolve();
      })
    );
    socket.on("data", (chunk: Uint8Array) => this.#data(chunk));
    if (rest.length > 0) this.#data(rest);
  }

  /** The last text messages received (up to 32), numbered `since` or later. */
  recent(since = 0): string[] {
    return this.#texts.recent(since);
  }

  /** Text messages received so far. */
  get textCount(): number {
    return this.#texts.count;
  }

  /** Waits for a text message (numbered `since` or later) that passes `test`. */
  waitFor(test: (text: string) => boolean, timeoutMs: number, since = 0) {
    return this.#texts.wait(test, timeoutMs, since, this.closedAt !== undefined);
  }

  /** Waits for an event of one of `types`. */
  waitType(types: string[], timeoutMs: number, since = 0) {
    return this.waitFor((text) => types.includes(typeOf(text) ?? ""), timeoutMs, since);
  }

  /** Sends a JSON request and waits for a reply of one of `types`. */
  async request(message: unknown, types: string[], timeoutMs = 10_000) {
    const mark = this.textCount;
    this.sendJson(message);
    return await this.waitType(types, timeoutMs, mark);
  }

  /** Logs in; resolves to the reply (`welcome` or `error`), parsed. */
  async login(name: string, timeoutMs = 10_000): Promise<{ ok: boolean; code?: string }> {
    const reply = await this.request({ type: "login", name }, ["welcome", "error"], timeoutMs);
    if (reply === undefined) {
      return { ok: false, code: this.closeCode ? `closed ${this.closeCode}` : "no reply" };
    }
    const event = JSON.parse(reply) as { type: string; code?: string };
    return event.type === "welcome" ? { ok: true } : { ok: false, code: event.code ?? "error" };
  }

  /** Writes bytes; false when the socket is gone. */
  write(bytes: Uint8Array): boolean {
    if (this.socket.destroyed) return false;
    this.socket.write(bytes);
    return true;
  }

  /** Sends one frame. */
  sendFrame(opcode: number, payload: Uint8Array): boolean {
    return this.write(maskedFrame(opcode, payload));
  }

  /** Sends a text frame. */
  sendText(text: string): boolean {
    return this.sendFrame(Op.text, encoder.encode(text));
  }

  /** Sends a JSON object as a text frame. */
  sendJson(message: unknown): boolean {
    return this.sendText(JSON.stringify(message));
  }

  /**
   * Streams one frame of `total` bytes whose payload repeats `maskedChunk`
   * (already masked with `mask`, its length a multiple of 4), waiting on
   * backpressure, so a 60 MiB frame costs one chunk of memory. Resolves to the
   * bytes written before the socket closed.
   */
  async streamFrame(
    opcode: number,
    total: number,
    maskedChunk: Uint8Array,
    mask: Uint8Array,
    signal?: AbortSignal,
  ): Promise<number> {
    if (!(await writeFully(this.socket, frameHeader(opcode, total, mask)))) return 0;
    let sent = 0;
    while (sent < total && !signal?.aborted) {
      const piece = maskedChunk.subarray(0, Math.min(maskedChunk.length, total - sent));
      if (!(await writeFully(this.socket, piece))) break;
      sent += piece.length;
    }
    return sent;
  }

  /** Sends a close frame with `code` and `reason`. */
  sendClose(code: number, reason = ""): boolean {
    const reasonBytes = encoder.encode(reason);
    const payload = new Uint8Array(2 + reasonBytes.length);
    new DataView(payload.buffer).setUint16(0, code);
    payload.set(reasonBytes, 2);
    return this.sendFrame(Op.close, payload);
  }

  /** Closes the socket at once. */
  destroy(): void {
    this.socket.destroy();
  }

  #data(chunk: Uint8Array): void {
    this.bytesIn += chunk.length;
    let i = 0;
    while (i < chunk.length) {
      if (!this.#inPayload) {
        while (this.#headLength < this.#need && i < chunk.length) {
          this.#head[this.#headLength++] = chunk[i++]!;
        }
        if (this.#headLength < this.#need) return;
        const length7 = this.#head[1]! & 0x7f;
        const maskBytes = this.#head[1]! & 0x80 ? 4 : 0;
        const full = 2 + (length7 === 126 ? 2 : length7 === 127 ? 8 : 0) + maskBytes;
        if (this.#need < full) {
          this.#need = full;
          continue;
        }
        this.#startFrame(length7);
        if (this.#remaining === 0) {
          this.#endFrame();
          continue;
        }
      }
      const take = Math.min(this.#remaining, chunk.length - i);
      if (this.#keeping()) this.#parts.push(chunk.slice(i, i + take));
      i += take;
      this.#remaining -= take;
      if (this.#remaining === 0) this.#endFrame();
    }
  }

  #startFrame(length7: number): void {
    const view = new DataView(this.#head.buffer);
    this.#fin = (this.#head[0]! & 0x80) !== 0;
    this.#opcode = this.#head[0]! & 0x0f;
    this.#remaining = length7 === 126
      ? view.getUint16(2)
      : length7 === 127
      ? Number(view.getBigUint64(2))
      : length7;
    if (this.#opcode === Op.text || this.#opcode === Op.binary) {
      this.#messageOpcode = this.#opcode;
    }
    this.#inPayload = true;
    this.#headLength = 0;
    this.#need = 2;
  }

  #keeping(): boolean {
    return this.#opcode >= Op.close || this.#messageOpcode === Op.text;
  }

  #endFrame(): void {
    this.#inPayload = false;
    const opcode = this.#opcode;
    const payloadLength = this.#parts.reduce((sum, part) => sum + part.length, 0);
    if (opcode >= Op.close) {
      const payload = concat(this.#parts);
      this.#parts = [];
      if (opcode === Op.ping) this.sendFrame(Op.pong, payload);
      if (opcode === Op.close) {
        this.closeFrameBytes = payload.length;
        this.closeCode = payload.length >= 2 ? (payload[0]! << 8) | payload[1]! : 1005;
        this.closeReason = this.#decoder.decode(payload.subarray(2));
        this.sendClose(this.closeCode === 1005 ? 1000 : this.closeCode);
        this.socket.end();
      }
      return;
    }
    if (!this.#fin) return; // more fragments follow
    if (this.#messageOpcode === Op.binary) {
      this.binaryFrames++;
      this.onBinary?.(payloadLength);
      return;
    }
    const text = this.#decoder.decode(concat(this.#parts));
    this.#parts = [];
    this.textFrames++;
    if (text.startsWith('{"type":"error"')) {
      const code = /"code":"([a-z_]+)"/.exec(text)?.[1] ?? "error";
      this.errors.push(code);
      if (this.errors.length > 64) this.errors.shift();
      this.errorCounts.set(code, (this.errorCounts.get(code) ?? 0) + 1);
    }
    this.onText?.(text);
    this.#texts.push(text);
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Reads an HTTP response head; `rest` is whatever came after it. */
function readHead(
  socket: net.Socket,
  timeoutMs: number,
): Promise<{ head: string; rest: Uint8Array }> {
  return new Promise((resolve, reject) => {
    let buffered: Uint8Array = new Uint8Array(0);
    const finish = (error?: Error) => {
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("close", onClose);
      if (error) {
        socket.destroy();
        return reject(error);
      }
    };
    const onData = (chunk: Uint8Array) => {
      buffered = concat([buffered, chunk]);
      const end = findHeadEnd(buffered);
      if (end < 0) {
        if (buffered.length > 64 * 1024) finish(new Error("response head too long"));
        return;
      }
      finish();
      // RawWs takes over the "data" events before the next chunk can arrive.
      resolve({
        head: new TextDecoder().decode(buffered.subarray(0, end)),
        rest: buffered.slice(end + 4),
      });
    };
    const onClose = () => {
      const head = new TextDecoder().decode(buffered);
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
      finish(status ? new HandshakeError(status, head) : new Error("closed before a response"));
    };
    const timer = setTimeout(() => finish(new Error("no response head in time")), timeoutMs);
    socket.on("data", onData);
    socket.on("close", onClose);
  });
}

function findHeadEnd(bytes: Uint8Array): number {
  for (let i = 0; i + 3 < bytes.length; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) {
      return i;
    }
  }
  return -1;
}

/** What a raw HTTP request got back. */
export interface HttpResult {
  /** 0 when there was no response. */
  status: number;
  head: string;
  body: string;
  error?: string;
}

/** A one-shot HTTP/1.1 GET over a fresh connection (`Connection: close`). */
export async function httpGet(
  options: ConnectOptions & { path: string; hostHeader?: string; headers?: Record<string, string> },
): Promise<HttpResult> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  let socket: net.Socket;
  try {
    socket = await connectTcp({ ...options, timeoutMs });
  } catch (error) {
    return { status: 0, head: "", body: "", error: (error as Error).message };
  }
  const headers = {
    Host: options.hostHeader ?? `${HOST}:${options.port}`,
    Connection: "close",
    ...options.headers,
  };
  socket.write(encoder.encode(
    `GET ${options.path} HTTP/1.1\r\n` +
      Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join("") + "\r\n",
  ));
  const parts: Uint8Array[] = [];
  const outcome = await new Promise<string | undefined>((resolve) => {
    const timer = setTimeout(() => resolve("timed out"), timeoutMs);
    socket.on("data", (chunk: Uint8Array) => parts.push(chunk));
    socket.once("close", () => {
      clearTimeout(timer);
      resolve(undefined);
    });
  });
  socket.destroy();
  const text = new TextDecoder().decode(concat(parts));
  const end = text.indexOf("\r\n\r\n");
  const head = end < 0 ? text : text.slice(0, end);
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
  const result: HttpResult = { status, head, body: end < 0 ? "" : text.slice(end + 4) };
  if (outcome) result.error = outcome;
  else if (status === 0) result.error = "closed without a response";
  return result;
}
