// Raw TCP on Deno (Deno.listen, Deno.Conn) for telnet, netcat and the
// terminal client. This file only accepts, reads and writes: the session
// wiring is _tcp_session.ts's, admission _tcp_accept.ts's, framing, modes and
// limits the core's.

import type { Relay } from "../core/mod.ts";
import { ConnectionGate } from "./_gate.ts";
import { TcpConnections } from "./_tcp_accept.ts";
import {
  FIRST_READ_BYTES,
  nextReadSize,
  type TcpFraming,
  type TcpSessionHandle,
  type TcpSocket,
} from "./_tcp_session.ts";

/**
 * A running TCP listener attached to a relay.
 *
 * @example Counting connections, then stopping cleanly
 * ```ts
 * import { Relay, serveTcp, type TcpServer } from "@crosswire/relay";
 * const server: TcpServer = serveTcp(new Relay(), Deno.listen({ hostname: "127.0.0.1", port: 0 }));
 * const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
 * await conn.read(new Uint8Array(1024)); // the greeting: the connection is being served
 * const open = server.connections;
 * conn.close();
 * server.stop();
 * await server.finished;
 * if (open !== 1 || server.connections !== 0) throw new Error("unexpected connection count");
 * ```
 */
export interface TcpServer {
  /** The address actually bound (port 0 becomes a real port). */
  readonly addr: Deno.NetAddr;
  /** Open connections. */
  readonly connections: number;
  /** Stops accepting. Open connections stay until the relay closes them. */
  stop(): void;
  /** Closes every connection now, without waiting for queued output. */
  destroyAll(): void;
  /** Resolves when the listener and every connection are closed. */
  readonly finished: Promise<void>;
}

/** After a failed accept, wait this long before the next, doubling up to the maximum. */
const ACCEPT_BACKOFF_MS = 5;
const MAX_ACCEPT_BACKOFF_MS = 1000;

// A Deno.Conn as the shared session wiring writes it: each write awaited, so
// the next pass's output queues meanwhile.
function denoSocket(conn: Deno.Conn): TcpSocket {
  const writeAll = async (bytes: Uint8Array) => {
    for (let offset = 0; offset < bytes.length;) {
      offset += await conn.write(bytes.subarray(offset));
    }
  };
  return { write: writeAll, close: () => conn.close() };
}

// Reads into a buffer sized to the traffic, until the session or the socket ends.
async function readInto(conn: Deno.Conn, handle: TcpSessionHandle): Promise<void> {
  let buffer = new Uint8Array(FIRST_READ_BYTES);
  try {
    while (handle.open) {
      const count = await conn.read(buffer);
      if (count === null) break;
      handle.feed(buffer.subarray(0, count));
      const size = nextReadSize(buffer.length, count);
      if (size !== buffer.length) buffer = new Uint8Array(size);
    }
  } catch { /* reset, or closed by us */ }
  handle.ended();
}

/**
 * Serves relay sessions on an open TCP (or TLS) listener.
 *
 * @param relay The relay that owns the sessions.
 * @param listener From `Deno.listen` or `Deno.listenTls`.
 * @returns The running server; it closes `listener` when stopped.
 *
 * @example A telnet user is asked for a name
 * ```ts
 * import { Relay, serveTcp } from "@crosswire/relay";
 * const server = serveTcp(new Relay(), Deno.listen({ hostname: "127.0.0.1", port: 0 }));
 * const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
 * const buffer = new Uint8Array(1024);
 * const read = await conn.read(buffer);
 * const greeting = new TextDecoder().decode(buffer.subarray(0, read ?? 0));
 * conn.close();
 * server.stop();
 * await server.finished;
 * if (!greeting.includes("What's your name?")) throw new Error(`unexpected: ${greeting}`);
 * ```
 */
export function serveTcp(relay: Relay, listener: Deno.Listener): TcpServer {
  return serveTcpGated(relay, listener, new ConnectionGate(relay, Infinity, 64));
}

/**
 * {@link serveTcp} with every socket counted by `gate`, which the HTTP port
 * shares: over a limit, a socket is told `server_busy` (while few are being
 * told) and closed. `framing` `"irc"` makes an IRC-only port.
 */
export function serveTcpGated(
  relay: Relay,
  listener: Deno.Listener,
  gate: ConnectionGate,
  framing: TcpFraming = "lines",
): TcpServer {
  const connections = new TcpConnections(relay, gate, framing);
  let stopped = false;
  let backoff: { timer: ReturnType<typeof setTimeout>; resume: () => void } | undefined;
  // Out of descriptors (or any other accept error), accepting again at once
  // would fail again at once: wait, longer each time, until one succeeds.
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const resume = () => {
        backoff = undefined;
        resolve();
      };
      backoff = { timer: setTimeout(resume, ms), resume };
    });
  const accepting = (async () => {
    let delay = 0;
    while (!stopped) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
        delay = 0;
      } catch (error) {
        if (stopped || error instanceof Deno.errors.BadResource) break;
        delay = Math.min(delay === 0 ? ACCEPT_BACKOFF_MS : delay * 2, MAX_ACCEPT_BACKOFF_MS);
        await pause(delay);
        continue;
      }
      const handle = connections.accept(
        (conn.remoteAddr as Deno.NetAddr).hostname,
        denoSocket(conn),
      );
      if (handle === undefined) continue;
      if ("setNoDelay" in conn) {
        const tcp = conn as Deno.TcpConn;
        try {
          tcp.setNoDelay(true);
          tcp.setKeepAlive(true);
        } catch { /* reset already: the read loop will see it */ }
      }
      void readInto(conn, handle);
    }
  })();
  const finished = (async () => {
    await accepting;
    connections.stop();
    await connections.finished;
  })();
  return {
    addr: listener.addr as Deno.NetAddr,
    get connections() {
      return connections.size;
    },
    stop() {
      if (stopped) return;
      stopped = true;
      if (backoff) {
        clearTimeout(backoff.timer);
        backoff.resume();
      }
      try {
        listener.close();
      } catch { /* already closed */ }
    },
    destroyAll() {
      connections.destroyAll();
    },
    finished,
  };
}
