// One TCP connection's relay session, whatever runtime accepted it: what the
// peer sends goes to the session, what the session queues goes out once per
// pass of the event loop in one write, and a closing connection gets a short
// grace to flush. The runtime's adapter (server/tcp.ts on Deno, node:net on
// Node, Bun.listen on Bun) only moves bytes: it fills a TcpSocket and feeds
// the handle it gets back.

import type { OutboundQueue, Relay, Ticket } from "../core/mod.ts";
import { flushSoon } from "./_flush_soon.ts";

/** One accepted socket, as its runtime writes and closes it. */
export interface TcpSocket {
  /**
   * Writes all of `bytes`, which stay unchanged until written. Returns
   * undefined when the runtime took them at once, or a promise that settles
   * once it can take more (it rejects when the socket broke). May throw when
   * the socket is already broken.
   */
  write(bytes: Uint8Array): Promise<void> | undefined;
  /** Closes the socket. Called once. */
  close(): void;
}

/** What an adapter calls as its socket reads and closes. */
export interface TcpSessionHandle {
  /** False once the session is over: reading may stop. */
  readonly open: boolean;
  /** Bytes from the peer, read synchronously (the buffer may be reused after). */
  feed(bytes: Uint8Array): void;
  /** The peer is gone (end of stream, or the socket broke): close once output drains. */
  ended(): void;
  /** Closes the socket now, without waiting for queued output. */
  destroy(): void;
}

/**
 * What a TCP port speaks: `"lines"` starts in text mode (telnet), switching to
 * JSON or IRC on a first line that asks for it; `"irc"` speaks only IRC.
 */
export type TcpFraming = "lines" | "irc";

/** How long a closing connection may take to flush before it is cut. */
const CLOSE_GRACE_MS = 2000;
/**
 * How long text mode's greeting waits for the peer's first bytes. An IRC
 * client speaks at once, and its first line drops the greeting (which IRC
 * clients would show as an unknown command); at telnet, nobody sees the wait.
 */
const GREETING_HOLD_MS = 25;

/**
 * Serves a relay session on `socket`, admitted with `ticket` (a refused
 * ticket says `server_busy` and closes). `onClosed` runs once, when the
 * socket is closed.
 */
export function serveTcpSession(
  relay: Relay,
  socket: TcpSocket,
  ticket: Ticket,
  onClosed: () => void,
  framing: TcpFraming = "lines",
): TcpSessionHandle {
  let writing = false;
  let scheduled = false;
  let pending: OutboundQueue | undefined;
  let closeWhenDrained = false;
  let closed = false;
  let grace: ReturnType<typeof setTimeout> | undefined;
  let greeted = framing !== "lines";
  let hold: ReturnType<typeof setTimeout> | undefined;
  const closeSocket = () => {
    if (closed) return;
    closed = true;
    clearTimeout(grace);
    clearTimeout(hold);
    try {
      socket.close();
    } catch { /* already closed by the peer */ }
    onClosed();
  };
  const broken = () => {
    writing = false;
    session.disconnect(); // reset or broken pipe: only this peer is affected
    closeSocket();
  };
  // Everything queued since the last write goes out in one write; while the
  // runtime cannot take more, what queues meanwhile waits in the core's queue,
  // where the slow-consumer limit sees it.
  const flush = () => {
    while (pending && pending.length > 0 && !closed) {
      let wait: Promise<void> | undefined;
      try {
        wait = socket.write(pending.takeBytes());
      } catch {
        return broken();
      }
      if (wait) {
        writing = true;
        wait.then(written, broken);
        return;
      }
    }
    if (closeWhenDrained) closeSocket();
  };
  const written = () => {
    writing = false;
    flush();
  };
  const startFlush = () => {
    scheduled = false;
    if (!writing) flush();
  };
  // The held greeting goes now (or, after the first line, whatever replaced it).
  const release = () => {
    if (hold === undefined) return;
    clearTimeout(hold);
    hold = undefined;
    flushSoon(startFlush);
  };
  const session = relay.connect({
    framing,
    wake: (queue) => {
      pending = queue;
      if (writing || scheduled) return;
      // What the rest of this pass of the event loop queues goes in the same write.
      scheduled = true;
      if (!greeted) {
        greeted = true;
        hold = setTimeout(() => {
          hold = undefined;
          startFlush();
        }, GREETING_HOLD_MS);
        return;
      }
      flushSoon(startFlush);
    },
    close: () => {
      closeWhenDrained = true;
      release();
      if (!writing && !scheduled) return closeSocket();
      // A peer that stopped reading would hold the write (and us) forever.
      grace ??= setTimeout(closeSocket, CLOSE_GRACE_MS);
    },
  }, { ticket });

  return {
    get open() {
      return session.state !== "closed";
    },
    feed(bytes) {
      if (session.state !== "closed") session.feed(bytes);
      release();
    },
    ended() {
      session.disconnect();
      closeWhenDrained = true;
      release();
      if (!writing && !scheduled) closeSocket();
    },
    destroy: closeSocket,
  };
}

// An idle connection waits on a small buffer (most of what it will send is a
// line or two); a busy one reads in bigger gulps. For runtimes that read into
// a buffer of their caller's (Deno.Conn); node:net and Bun size their own.
const MIN_READ_BYTES = 256;
const MAX_READ_BYTES = 64 * 1024;

/** The first read buffer's size. */
export const FIRST_READ_BYTES = MIN_READ_BYTES;

/** The next read buffer's size after a read of `count` bytes into `size`. */
export function nextReadSize(size: number, count: number): number {
  if (count === size && size < MAX_READ_BYTES) return Math.min(size * 4, MAX_READ_BYTES);
  // Quieter again: step back down.
  if (count < size / 16 && size > MIN_READ_BYTES) return size / 4;
  return size;
}
