/**
 * The TCP transport for `tcp://` URLs (Deno only): the relay's JSON-lines mode,
 * one JSON object per line, files as base64. Loaded on demand by `connect()`,
 * so browsers never see it.
 *
 * @module
 */
import { LineDecoder } from "../core/line_decoder.ts";
import { CrosswireClientError } from "./errors.ts";
import type { Transport, TransportReceiver } from "./transport.ts";

/** The relay's usual TCP port. */
export const DEFAULT_TCP_PORT = 4040;

/** Options for {@link connectTcp}. */
export interface TcpOptions {
  /** Longest line accepted, in bytes; a received file is one base64 line. @default 67108864 */
  maxLineBytes?: number;
  /** Connect with TLS. @default false */
  tls?: boolean;
  /** PEM certificates to trust for TLS besides the system's (a private CA). @default undefined */
  caCerts?: string[];
}

const READ_BUFFER_BYTES = 64 * 1024;
const encoder = new TextEncoder();

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let offset = 0; offset < bytes.length;) {
    offset += await conn.write(bytes.subarray(offset));
  }
}

/**
 * Opens a TCP connection for the relay's JSON-lines mode. The first line the
 * client sends must be a JSON object (the relay switches modes on it); the
 * plain-text greeting sent before the switch is skipped.
 *
 * @param url `tcp://host:port`; the port defaults to 4040.
 * @param options The longest line to accept.
 * @returns The transport, once connected.
 * @throws {CrosswireClientError} `connect_failed` when the connection is refused.
 *
 * @example Talking JSON lines to a running relay
 * ```ts
 * import { startServer } from "@crosswire/relay";
 * import { connectTcp } from "./tcp_transport.ts";
 * const server = await startServer({ hostname: "127.0.0.1", port: 0, tcpPort: 0 });
 * const transport = await connectTcp(new URL(`tcp://127.0.0.1:${server.tcpAddr!.port}`));
 * let onClosed = () => {};
 * const closed = new Promise<void>((resolve) => onClosed = resolve);
 * const hello = new Promise<string>((resolve) =>
 *   transport.start({ text: resolve, binary: () => {}, closed: () => onClosed() })
 * );
 * transport.send('{"type":"ping"}');
 * if (!(await hello).includes('"hello"')) throw new Error("no hello");
 * transport.close();
 * await closed;
 * await server.shutdown();
 * ```
 */
export async function connectTcp(url: URL, options: TcpOptions = {}): Promise<Transport> {
  const hostname = url.hostname.replace(/^\[(.*)\]$/, "$1") || "localhost";
  const port = url.port === "" ? DEFAULT_TCP_PORT : Number(url.port);
  let conn: Deno.Conn;
  try {
    conn = options.tls
      ? await Deno.connectTls({
        hostname,
        port,
        ...(options.caCerts ? { caCerts: options.caCerts } : {}),
      })
      : await Deno.connect({ hostname, port });
    if (options.tls) await (conn as Deno.TlsConn).handshake();
  } catch (cause) {
    throw new CrosswireClientError(
      "connect_failed",
      `cannot connect to ${hostname}:${port}: ${(cause as Error).message}`,
      { cause },
    );
  }
  if ("setNoDelay" in conn) (conn as Deno.TcpConn).setNoDelay(true);
  return tcpTransport(conn, options.maxLineBytes ?? 64 << 20);
}

function tcpTransport(conn: Deno.Conn, maxLineBytes: number): Transport {
  let receiver: TransportReceiver | undefined;
  let writing: Promise<void> = Promise.resolve();
  let closing = false;
  let closed = false;
  const finish = (code: number, reason: string) => {
    if (closed) return;
    closed = true;
    try {
      conn.close();
    } catch { /* already closed */ }
    receiver?.closed(code, reason);
  };
  const read = async (target: TransportReceiver) => {
    const lines = new LineDecoder(maxLineBytes);
    const buffer = new Uint8Array(READ_BUFFER_BYTES);
    const onLine = (line: string) => {
      // Before our first JSON line the relay speaks plain text: skip it.
      if (line.trimStart().startsWith("{")) target.text(line);
    };
    try {
      while (!closed) {
        const count = await conn.read(buffer);
        if (count === null) {
          return finish(closing ? 1000 : 1005, "the server closed the connection");
        }
        if (lines.push(buffer.subarray(0, count), onLine) === "too_long") {
          return finish(1009, `a line from the server was over ${maxLineBytes} bytes`);
        }
      }
    } catch (error) {
      finish(closing ? 1000 : 1006, closing ? "closed" : (error as Error).message);
    }
  };
  return {
    binaryFrames: false,
    start(next) {
      receiver = next;
      void read(next);
    },
    send(data) {
      if (closed || closing) {
        throw new CrosswireClientError("connection_closed", "the connection is closed");
      }
      const bytes = typeof data === "string" ? encoder.encode(data + "\n") : data;
      // Chained so lines never interleave; a failed write ends the connection.
      writing = writing.then(() => writeAll(conn, bytes)).catch((error) => {
        finish(1006, `write failed: ${(error as Error).message}`);
      });
    },
    close() {
      if (closing) return;
      closing = true;
      void writing.then(() => finish(1000, "closed"));
    },
  };
}
