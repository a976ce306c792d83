// The TCP session wiring every runtime's adapter shares (server/_tcp_session.ts),
// on a scripted socket: one write per pass, later output waiting for a write
// the runtime could not take at once, the close after the last write, and the
// grace that cuts a socket whose write never finishes.

import assert from "node:assert/strict";
import { Relay } from "../../core/mod.ts";
import { serveTcpSession, type TcpSocket } from "../../server/_tcp_session.ts";
import { within } from "../_helpers.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A socket that records writes and, while `stuck`, holds each write until `release()`. */
class ScriptedSocket implements TcpSocket {
  readonly writes: string[] = [];
  stuck = false;
  closes = 0;
  #release: (() => void) | undefined;
  #wrote: (() => void) | undefined;
  readonly closed: Promise<void>;
  #onClose!: () => void;

  constructor() {
    this.closed = new Promise((resolve) => this.#onClose = resolve);
  }

  write(bytes: Uint8Array): Promise<void> | undefined {
    this.writes.push(decoder.decode(bytes));
    this.#wrote?.();
    if (!this.stuck) return undefined;
    return new Promise((resolve) => this.#release = resolve);
  }

  close(): void {
    this.closes++;
    this.#onClose();
  }

  release(): void {
    const release = this.#release;
    this.#release = undefined;
    release?.();
  }

  /** Resolves once `count` writes were made. */
  async writesReach(count: number): Promise<void> {
    while (this.writes.length < count) {
      await within(new Promise<void>((resolve) => this.#wrote = resolve), 2000, `write ${count}`);
    }
  }
}

Deno.test("serveTcpSession: a pass's output is one write; output waits for a held write", async () => {
  const relay = new Relay();
  const socket = new ScriptedSocket();
  let onClosed = 0;
  const handle = serveTcpSession(relay, socket, relay.admit("127.0.0.1")!, () => onClosed++);
  await socket.writesReach(1);
  assert.match(socket.writes[0]!, /What's your name\?/);

  handle.feed(encoder.encode("ann\r\n"));
  await socket.writesReach(2);
  assert.match(socket.writes[1]!, /Welcome, ann!/);
  assert.match(socket.writes[1]!, /here: ann/, "the whole welcome in the same write");

  socket.stuck = true;
  handle.feed(encoder.encode("first\r\n/who\r\n"));
  await socket.writesReach(3);
  // Held: what the next commands answer waits in the relay's queue, not in a second write.
  handle.feed(encoder.encode("/who\r\n/rooms\r\n"));
  // A flush runs from a microtask or a 0 ms timer: after one timer turn it would have written.
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(socket.writes.length, 3);
  socket.stuck = false;
  socket.release();
  await socket.writesReach(4);
  assert.match(socket.writes[3]!, /here: ann/);
  assert.match(socket.writes[3]!, /lobby/, "everything queued meanwhile in one write");

  // The peer goes: the socket closes once, at once (nothing is queued).
  handle.ended();
  await within(socket.closed, 1000, "the close");
  assert.equal(handle.open, false);
  assert.equal(socket.closes, 1);
  assert.equal(onClosed, 1);
  relay.close();
});

Deno.test("serveTcpSession: a write that never finishes is cut after the close grace", async () => {
  const relay = new Relay();
  const socket = new ScriptedSocket();
  let onClosed = 0;
  const handle = serveTcpSession(relay, socket, relay.admit("127.0.0.1")!, () => onClosed++);
  await socket.writesReach(1);
  handle.feed(encoder.encode("bea\r\n"));
  await socket.writesReach(2);
  socket.stuck = true;
  handle.feed(encoder.encode("/quit\r\n"));
  await socket.writesReach(3);
  // The relay closed the session; its last write never finishes (the peer stopped reading).
  assert.equal(handle.open, false);
  const started = Date.now();
  await within(socket.closed, 5000, "the grace to cut the socket");
  assert.ok(Date.now() - started >= 1500, `cut after ${Date.now() - started} ms`);
  assert.equal(socket.closes, 1);
  assert.equal(onClosed, 1);
  relay.close();
});
