/**
 * Helpers shared by the history and resume attacks: frames built cheaply
 * (large payloads are sent with an all-zero mask key, which is legal and
 * leaves them unchanged, so no per-byte masking), JSON-mode TCP sessions,
 * /healthz counts, and tallies of the error codes clients received.
 *
 * @module
 */
import type net from "node:net";
import { connectTcp, frameHeader, httpGet, Op, type RawWs } from "./_net.ts";

const encoder = new TextEncoder();
const ZERO_MASK = new Uint8Array(4);

/** One client frame of `payload`, masked with the zero key (so unchanged). */
export function plainFrame(opcode: number, payload: Uint8Array): Uint8Array {
  const head = frameHeader(opcode, payload.length, ZERO_MASK);
  const frame = new Uint8Array(head.length + payload.length);
  frame.set(head);
  frame.set(payload, head.length);
  return frame;
}

/** A JSON request as one client text frame. */
export function jsonFrame(message: unknown): Uint8Array {
  return plainFrame(Op.text, encoder.encode(JSON.stringify(message)));
}

/** The payload every file frame carries: random for 64 KiB, then zeros. */
function filePayload(size: number): Uint8Array {
  const payload = new Uint8Array(size);
  crypto.getRandomValues(payload.subarray(0, Math.min(size, 65536)));
  return payload;
}

const payloads = new Map<number, Uint8Array>();

/**
 * A binary frame sharing a file of `size` bytes: `target` is `{room}` or `{to}`.
 * The payload of each size is made once and reused.
 */
export function fileFrame(target: { room: string } | { to: string }, size: number): Uint8Array {
  let payload = payloads.get(size);
  if (!payload) payloads.set(size, payload = filePayload(size));
  const header = encoder.encode(
    JSON.stringify({ ...target, file: { name: "blob.bin", type: "application/octet-stream" } }),
  );
  const body = new Uint8Array(3 + header.length + size);
  body[0] = 1;
  new DataView(body.buffer).setUint16(1, header.length);
  body.set(header, 3);
  body.set(payload, 3 + header.length);
  return plainFrame(Op.binary, body);
}

/** Node counts from /healthz (`node`), or undefined when it does not answer. */
export async function nodeStats(
  port: number,
): Promise<
  { sessions: number; users: number; parked: number; rooms: number; ms: number } | undefined
> {
  const started = performance.now();
  const health = await httpGet({ port, path: "/healthz", timeoutMs: 15_000 });
  const ms = Math.round(performance.now() - started);
  try {
    const node = JSON.parse(health.body).node;
    return { ...node, ms };
  } catch {
    return undefined;
  }
}

/** Counts of error codes summed over many clients' `errorCounts`. */
export function errorTally(clients: Iterable<{ errorCounts: Map<string, number> }>): string {
  const counts = new Map<string, number>();
  for (const client of clients) {
    for (const [code, count] of client.errorCounts) {
      counts.set(code, (counts.get(code) ?? 0) + count);
    }
  }
  if (counts.size === 0) return "none";
  return [...counts].sort((a, b) => b[1] - a[1]).map(([code, count]) => `${code}×${count}`)
    .join(", ");
}

/**
 * A TCP connection in JSON mode: one JSON object per line each way. Lines
 * are parsed as they come (or, after {@link countOnly}, only counted).
 */
export class JsonTcp {
  readonly socket: net.Socket;
  bytesIn = 0;
  closedAt: number | undefined;
  /** Error codes received, with counts. */
  errorCounts: Map<string, number> = new Map();
  /** Events received, by type (`hello`, `welcome`, `history`, ...). */
  types: Map<string, number> = new Map();
  /** Called with each parsed event. */
  onEvent: ((event: Record<string, unknown>) => void) | undefined;
  readonly closed: Promise<void>;
  #partial = "";
  #decoder = new TextDecoder();
  #waiters = new Set<(event: Record<string, unknown> | undefined) => void>();

  static async open(port: number, localAddress: string): Promise<JsonTcp> {
    return new JsonTcp(await connectTcp({ port, localAddress }));
  }

  private constructor(socket: net.Socket) {
    this.socket = socket;
    this.closed = new Promise((resolve) =>
      socket.once("close", () => {
        this.closedAt = Date.now();
        for (const waiter of this.#waiters) waiter(undefined);
        this.#waiters.clear();
        resolve();
      })
    );
    socket.on("data", this.#onData);
  }

  #onData = (chunk: Uint8Array): void => {
    this.bytesIn += chunk.length;
    const parts = (this.#partial + this.#decoder.decode(chunk, { stream: true })).split("\n");
    this.#partial = parts.pop() ?? "";
    for (const line of parts) {
      if (!line.startsWith("{")) continue; // the text-mode greeting
      let event: Record<string, unknown>;
      try {
        event = JSON.parse(line);
      } catch {
        continue;
      }
      const type = String(event.type);
      this.types.set(type, (this.types.get(type) ?? 0) + 1);
      if (type === "error") {
        const code = String(event.code);
        this.errorCounts.set(code, (this.errorCounts.get(code) ?? 0) + 1);
      }
      this.onEvent?.(event);
      for (const waiter of this.#waiters) waiter(event);
    }
  };

  /**
   * Stops parsing: from now on incoming bytes are only counted (see
   * {@link countReplies}).
   */
  countOnly(): void {
    this.socket.off("data", this.#onData);
    countReplies(this.socket, this);
  }

  /** Sends one request line; false when the socket is gone. */
  send(message: unknown): boolean {
    return this.write(encoder.encode(JSON.stringify(message) + "\n"));
  }

  /** Writes raw bytes; false when the socket is gone. */
  write(bytes: Uint8Array): boolean {
    if (this.socket.destroyed) return false;
    this.socket.write(bytes);
    return true;
  }

  /** Waits for the next event passing `test` (undefined on timeout or close). */
  waitFor(
    test: (event: Record<string, unknown>) => boolean,
    timeoutMs: number,
  ): Promise<Record<string, unknown> | undefined> {
    if (this.closedAt !== undefined) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const waiter = (event: Record<string, unknown> | undefined) => {
        if (event !== undefined && !test(event)) return;
        clearTimeout(timer);
        this.#waiters.delete(waiter);
        resolve(event);
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        resolve(undefined);
      }, timeoutMs);
      this.#waiters.add(waiter);
    });
  }

  /** Sends a request and waits for an event of one of `types`. */
  request(
    message: unknown,
    types: string[],
    timeoutMs = 10_000,
  ): Promise<Record<string, unknown> | undefined> {
    const reply = this.waitFor((event) => types.includes(String(event.type)), timeoutMs);
    this.send(message);
    return reply;
  }

  /** Logs in (the first line switches the connection to JSON mode); resolves to the welcome. */
  async login(name: string, timeoutMs = 10_000): Promise<Record<string, unknown>> {
    const reply = await this.request({ type: "login", name }, ["welcome", "error"], timeoutMs);
    if (reply?.type !== "welcome") {
      throw new Error(String(reply?.code ?? (this.closedAt ? "closed" : "no reply")));
    }
    return reply;
  }

  /** Closes at once (FIN, no goodbye). */
  destroy(): void {
    this.socket.destroy();
  }
}

/** What {@link countReplies} counts into. */
export interface ReplyCounts {
  bytesIn: number;
  /** `history` under that key. */
  types: Map<string, number>;
  /** `rate_limited` under that key. */
  errorCounts: Map<string, number>;
}

const COUNTED: [string, "history" | "rate_limited"][] = [
  ['"type":"history"', "history"],
  ['"code":"rate_limited"', "rate_limited"],
];

/**
 * Counts what arrives on `socket` without parsing it: bytes, and
 * `"type":"history"` headers and `rate_limited` errors found in the raw bytes
 * (the same in JSON lines and WebSocket text frames; one split across two
 * reads is missed). Other `data` listeners should be removed first.
 */
export function countReplies(socket: net.Socket, into: ReplyCounts): void {
  socket.on("data", (chunk: Uint8Array) => {
    into.bytesIn += chunk.length;
    const buffer = chunk as unknown as { indexOf(value: string, from: number): number };
    for (const [needle, key] of COUNTED) {
      let found = 0;
      for (let at = buffer.indexOf(needle, 0); at >= 0; at = buffer.indexOf(needle, at + 1)) {
        found++;
      }
      if (found === 0) continue;
      const counts = key === "history" ? into.types : into.errorCounts;
      counts.set(key, (counts.get(key) ?? 0) + found);
    }
  });
}

/** A WebSocket whose incoming bytes are only counted from now on (it answers no pings). */
export function countingWs(
  ws: RawWs,
): ReplyCounts & {
  send(message: unknown): boolean;
  closedAt(): number | undefined;
  destroy(): void;
} {
  ws.socket.removeAllListeners("data");
  const counts = {
    bytesIn: 0,
    types: new Map<string, number>(),
    errorCounts: new Map<string, number>(),
    send: (message: unknown) => ws.sendJson(message),
    closedAt: () => ws.closedAt,
    destroy: () => ws.destroy(),
  };
  countReplies(ws.socket, counts);
  return counts;
}
