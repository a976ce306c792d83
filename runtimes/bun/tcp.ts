// Raw TCP on Bun (Bun.listen) for telnet, netcat and the terminal client.
// This file only accepts, reads and writes: the session wiring and admission
// are shared with Deno and Node (server/_tcp_session.ts, server/_tcp_accept.ts).

import type { Relay } from "../../core/mod.ts";
import type { ConnectionGate } from "../../server/_gate.ts";
import { asListenError } from "../../server/_listen_error.ts";
import { plainAddress } from "../../server/_node_http.ts";
import type { BoundTcp, Listening, TlsFiles } from "../../server/_runtime.ts";
import { TcpConnections } from "../../server/_tcp_accept.ts";
import type { TcpFraming, TcpSessionHandle, TcpSocket } from "../../server/_tcp_session.ts";
import { bunApi, type BunSocket } from "./_bun.ts";

// Bun writes what the system takes at once and returns how much that was;
// the rest waits here for `drain`, and the session's next writes wait for it.
class BunTcpSocket implements TcpSocket {
  #raw: BunSocket<Connection>;
  #rest: Uint8Array | undefined;
  #waiting: { resolve: () => void; reject: (error: Error) => void } | undefined;
  #closed = false;

  constructor(raw: BunSocket<Connection>) {
    this.#raw = raw;
  }

  write(bytes: Uint8Array): Promise<void> | undefined {
    if (this.#closed) throw new Error("the socket is closed");
    const written = this.#raw.write(bytes);
    if (written === bytes.length) return undefined;
    if (written < 0) throw new Error("the socket is closed");
    this.#rest = bytes.subarray(written);
    return new Promise((resolve, reject) => this.#waiting = { resolve, reject });
  }

  /** Bun's `drain`: write what is left. */
  drain(): void {
    const rest = this.#rest;
    if (rest === undefined || this.#closed) return;
    const written = this.#raw.write(rest);
    if (written < 0) return this.gone();
    if (written < rest.length) {
      this.#rest = rest.subarray(written);
      return;
    }
    this.#rest = undefined;
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.resolve();
  }

  /** The socket closed: a write still waiting fails. */
  gone(): void {
    this.#closed = true;
    this.#rest = undefined;
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.reject(new Error("the socket closed"));
  }

  close(): void {
    // end() sends what Bun holds, then closes; with bytes still waiting here
    // the peer stopped reading, and the session's grace is over: cut it.
    if (this.#rest === undefined) this.#raw.end();
    else this.#raw.terminate();
    this.gone();
  }
}

/** Per-socket state. */
interface Connection {
  socket?: BunTcpSocket;
  handle?: TcpSessionHandle | undefined;
  /** Chunks read before the server began serving. */
  early?: Uint8Array[];
  gone?: boolean;
}

/** Binds a TCP (TLS with `tlsFiles`) port with Bun.listen; throws a ListenError. */
export function bindBunTcp(
  hostname: string,
  port: number,
  tlsFiles: TlsFiles | undefined,
): BoundTcp {
  // Sockets opened before serve() wait for it.
  let accept: ((raw: BunSocket<Connection>) => void) | undefined;
  const early = new Set<BunSocket<Connection>>();
  let listener;
  const ended = (raw: BunSocket<Connection>) => {
    const state = raw.data;
    if (state.gone) return;
    state.gone = true;
    early.delete(raw);
    state.handle?.ended();
  };
  try {
    listener = bunApi().listen<Connection>({
      hostname,
      port,
      ...(tlsFiles ? { tls: { cert: tlsFiles.cert, key: tlsFiles.key } } : {}),
      socket: {
        open(raw) {
          raw.data = {};
          if (accept) return accept(raw);
          raw.data.early = [];
          early.add(raw);
        },
        data(raw, chunk) {
          // A plain view: Buffer's slice() shares memory where Uint8Array's copies.
          const bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
          if (raw.data.early) raw.data.early.push(bytes.slice());
          else raw.data.handle?.feed(bytes);
        },
        drain: (raw) => raw.data.socket?.drain(),
        end: ended,
        close(raw) {
          raw.data.socket?.gone();
          ended(raw);
        },
        // `close` follows; nothing a peer does may throw.
        error() {},
      },
    });
  } catch (error) {
    throw asListenError(error, hostname, port);
  }
  const bound = listener;
  const addr = { transport: "tcp", hostname: bound.hostname, port: bound.port } as const;
  return {
    addr,
    serve(relay: Relay, gate: ConnectionGate, framing?: TcpFraming): Listening {
      const connections = new TcpConnections(relay, gate, framing);
      let stopped = false;
      accept = (raw) => {
        const socket = new BunTcpSocket(raw);
        raw.data.socket = socket;
        raw.data.handle = connections.accept(plainAddress(raw.remoteAddress), socket);
        try {
          raw.setNoDelay?.(true);
          raw.setKeepAlive?.(true, 60_000);
        } catch { /* closed already */ }
      };
      for (const raw of [...early]) {
        early.delete(raw);
        const chunks = raw.data.early ?? [];
        delete raw.data.early;
        accept(raw);
        for (const chunk of chunks) raw.data.handle?.feed(chunk);
      }
      return {
        addr,
        stop() {
          if (stopped) return;
          stopped = true;
          bound.stop();
          connections.stop();
        },
        destroyAll: () => connections.destroyAll(),
        finished: connections.finished,
      };
    },
    close() {
      bound.stop(true);
      early.clear();
    },
  };
}
