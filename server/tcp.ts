// Raw TCP for telnet, netcat and the terminal client. This file only moves
// bytes: framing, modes and limits are the core's.

import { type OutboundQueue, type Relay, Ticket } from "../core/mod.ts";
import { flushSoon } from "./_flush_soon.ts";
import { ConnectionGate } from "./_gate.ts";

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

// An idle connection waits on a small buffer (most of what it will send is a
// line or two); a busy one reads in bigger gulps.
const MIN_READ_BYTES = 256;
const MAX_READ_BYTES = 64 * 1024;
/** How long a closing connection may take to flush before it is cut. */
const CLOSE_GRACE_MS = 2000;
/** After a failed accept, wait this long before the next, doubling up to the maximum. */
const ACCEPT_BACKOFF_MS = 5;
const MAX_ACCEPT_BACKOFF_MS = 1000;

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let offset = 0; offset < bytes.length;) {
    offset += await conn.write(bytes.subarray(offset));
  }
}

function serveConnection(
  relay: Relay,
  conn: Deno.Conn,
  ticket: Ticket,
  onClosed: () => void,
): () => void {
  let writing = false;
  let scheduled = false;
  let pending: OutboundQueue | undefined;
  let closeWhenDrained = false;
  let closed = false;
  let grace: ReturnType<typeof setTimeout> | undefined;
  const closeConn = () => {
    if (closed) return;
    closed = true;
    clearTimeout(grace);
    try {
      conn.close();
    } catch { /* already closed by the peer */ }
    onClosed();
  };
  const flush = async (queue: OutboundQueue) => {
    writing = true;
    try {
      // Everything queued since the last write goes out in one write.
      while (queue.length > 0 && !closed) await writeAll(conn, queue.takeBytes());
    } catch {
      session.disconnect(); // reset or broken pipe: only this peer is affected
      closeConn();
    } finally {
      writing = false;
      if (closeWhenDrained) closeConn();
    }
  };
  const startFlush = () => {
    scheduled = false;
    if (!writing && pending) void flush(pending);
  };
  const session = relay.connect({
    framing: "lines",
    wake: (queue) => {
      pending = queue;
      if (writing || scheduled) return;
      // What the rest of this pass of the event loop queues goes in the same write.
      scheduled = true;
      flushSoon(startFlush);
    },
    close: () => {
      closeWhenDrained = true;
      if (!writing && !scheduled) return closeConn();
      // A peer that stopped reading would hold the write (and us) forever.
      grace ??= setTimeout(closeConn, CLOSE_GRACE_MS);
    },
  }, { ticket });

  const read = async () => {
    let buffer = new Uint8Array(MIN_READ_BYTES);
    try {
      while (session.state !== "closed") {
        const count = await conn.read(buffer);
        if (count === null) break;
        session.feed(buffer.subarray(0, count));
        if (count === buffer.length && buffer.length < MAX_READ_BYTES) {
          buffer = new Uint8Array(Math.min(buffer.length * 4, MAX_READ_BYTES));
        } else if (count < buffer.length / 16 && buffer.length > MIN_READ_BYTES) {
          buffer = new Uint8Array(buffer.length / 4); // quieter again: step back down
        }
      }
    } catch { /* reset, or closed by us */ }
    session.disconnect();
    closeWhenDrained = true;
    if (!writing && !scheduled) closeConn();
  };
  void read();
  return closeConn;
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
 * told) and closed.
 */
export function serveTcpGated(
  relay: Relay,
  listener: Deno.Listener,
  gate: ConnectionGate,
): TcpServer {
  const open = new Set<{ close: () => void }>();
  let stopped = false;
  let allClosed: (() => void) | undefined;
  let backoff: { timer: ReturnType<typeof setTimeout>; resume: () => void } | undefined;
  const closedOne = (entry: { close: () => void }) => {
    open.delete(entry);
    if (stopped && open.size === 0) allClosed?.();
  };
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
      const address = (conn.remoteAddr as Deno.NetAddr).hostname;
      const ticket = gate.admit(address);
      if (ticket === undefined) {
        refuse(relay, conn, gate, address);
        continue;
      }
      if ("setNoDelay" in conn) {
        const tcp = conn as Deno.TcpConn;
        try {
          tcp.setNoDelay(true);
          tcp.setKeepAlive(true);
        } catch { /* reset already: the read loop will see it */ }
      }
      const entry = { close: () => {} };
      open.add(entry);
      entry.close = serveConnection(relay, conn, ticket, () => {
        gate.closed(ticket);
        closedOne(entry);
      });
    }
  })();
  const finished = (async () => {
    await accepting;
    if (open.size > 0) await new Promise<void>((resolve) => allClosed = resolve);
  })();
  return {
    addr: listener.addr as Deno.NetAddr,
    get connections() {
      return open.size;
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
      for (const entry of [...open]) entry.close();
    },
    finished,
  };
}

// The relay says why (`server_busy`) through a session it closes at once; the
// socket stays open only while that line is written, and only while few are.
function refuse(relay: Relay, conn: Deno.Conn, gate: ConnectionGate, address: string): void {
  const done = gate.refusing();
  if (done === undefined) {
    try {
      conn.close();
    } catch { /* already closed */ }
    return;
  }
  serveConnection(relay, conn, Ticket.refused(address), done);
}
