/**
 * HTTP for the API attacks: a request whose body is streamed from a raw
 * socket (so a 10 MB body costs the attacker one chunk of memory, and the
 * response can arrive before the body is done), and timed `fetch`es from
 * chosen loopback source addresses.
 *
 * @module
 */
import { connectTcp, delay, HOST, writeFully } from "./_net.ts";

const encoder = new TextEncoder();

/** What a streamed request got back. */
export interface StreamedResult {
  /** 0 when no response came. */
  status: number;
  /** Milliseconds from the first byte sent to the response's status line. */
  msToStatus: number;
  /** Body bytes written before the response came or the socket closed. */
  bytesWritten: number;
  /** The start of the response body. */
  body: string;
}

/** A POST with a body of `totalBytes` repeating `chunk`, streamed. */
export interface StreamOptions {
  port: number;
  localAddress?: string;
  path: string;
  headers: Record<string, string>;
  totalBytes: number;
  /** One piece of the body, repeated. */
  chunk: Uint8Array;
  /** Chunked transfer encoding (no Content-Length). @default false */
  chunked?: boolean;
  /** Give up after this long. @default 30000 */
  timeoutMs?: number;
}

/** Streams a POST body and stops writing as soon as the response starts. */
export async function streamPost(options: StreamOptions): Promise<StreamedResult> {
  const socket = await connectTcp({
    port: options.port,
    ...(options.localAddress ? { localAddress: options.localAddress } : {}),
  });
  const started = performance.now();
  let head = "";
  let status = 0;
  let msToStatus = 0;
  const answered = new Promise<void>((resolve) => {
    socket.on("data", (chunk: Uint8Array) => {
      head += new TextDecoder().decode(chunk);
      if (status === 0) {
        const match = /^HTTP\/1\.1 (\d{3})/.exec(head);
        if (match) {
          status = Number(match[1]);
          msToStatus = Math.round(performance.now() - started);
        }
      }
      if (head.includes("\r\n\r\n") && head.length > head.indexOf("\r\n\r\n") + 4) resolve();
    });
    socket.once("close", () => resolve());
  });
  const headers = {
    Host: `${HOST}:${options.port}`,
    "Content-Type": "application/json",
    ...(options.chunked
      ? { "Transfer-Encoding": "chunked" }
      : { "Content-Length": String(options.totalBytes) }),
    ...options.headers,
  };
  const request = `POST ${options.path} HTTP/1.1\r\n` +
    Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join("") + "\r\n";
  let written = 0;
  const writing = (async () => {
    if (!(await writeFully(socket, encoder.encode(request)))) return;
    while (written < options.totalBytes && status === 0 && !socket.destroyed) {
      const piece = options.chunk.subarray(
        0,
        Math.min(options.chunk.length, options.totalBytes - written),
      );
      const framed = options.chunked
        ? concat(encoder.encode(`${piece.length.toString(16)}\r\n`), piece, encoder.encode("\r\n"))
        : piece;
      if (!(await writeFully(socket, framed))) break;
      written += piece.length;
    }
    if (options.chunked && status === 0 && !socket.destroyed) {
      await writeFully(socket, encoder.encode("0\r\n\r\n"));
    }
  })();
  const timeout = delay(options.timeoutMs ?? 30_000);
  await Promise.race([answered, timeout]);
  socket.destroy();
  await writing.catch(() => {});
  const bodyAt = head.indexOf("\r\n\r\n");
  return {
    status,
    msToStatus: status === 0 ? Math.round(performance.now() - started) : msToStatus,
    bytesWritten: written,
    body: bodyAt < 0 ? "" : head.slice(bodyAt + 4, bodyAt + 200),
  };
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Latencies and outcomes of many requests. */
export class Timings {
  readonly statuses = new Map<string, number>();
  readonly ms: number[] = [];

  record(status: string, ms: number): void {
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
    this.ms.push(ms);
  }

  get count(): number {
    return this.ms.length;
  }

  /** "p50 1 ms, p99 4 ms, max 12 ms". */
  latency(): string {
    if (this.ms.length === 0) return "no requests";
    const sorted = [...this.ms].sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))]!;
    return `p50 ${at(0.5).toFixed(1)} ms, p99 ${at(0.99).toFixed(1)} ms, max ${
      sorted.at(-1)!.toFixed(1)
    } ms`;
  }

  /** "200×10, 401×3". */
  outcomes(): string {
    return [...this.statuses].sort((a, b) => b[1] - a[1]).map(([s, n]) => `${s}×${n}`).join(", ");
  }
}

/** HTTP clients bound to the source addresses `127.B.0.1`... (one per address). */
export function boundClients(block: number, count: number): Deno.HttpClient[] {
  return Array.from(
    { length: count },
    (_, i) => Deno.createHttpClient({ localAddress: `127.${block}.0.${i + 1}` }),
  );
}

/** One request over `client`, timed; the status (or "error") goes into `timings`. */
export async function timedFetch(
  client: Deno.HttpClient,
  url: string,
  init: RequestInit,
  timings: Timings,
): Promise<string> {
  const started = performance.now();
  try {
    const response = await fetch(url, { ...init, client });
    const body = await response.text();
    timings.record(String(response.status), performance.now() - started);
    return body;
  } catch {
    timings.record("error", performance.now() - started);
    return "";
  }
}
