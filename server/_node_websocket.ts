// WebSockets for the node:http(s) server, with npm `ws`. It fills Hono's
// `upgradeWebSocket` contract, so createApp's route runs unchanged (origin and
// host checks included), and adds what Deno's own WebSocket cannot do: a frame
// whose header announces more than the limit is refused (1009) before any of
// it is buffered; before login a connection may send only a small budget of
// bytes, counted on the socket; and peers are pinged (_ws_keepalive.ts).

import type { Buffer } from "node:buffer";
import type { IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import { defineWebSocketHelper, WSContext, type WSEvents } from "hono/ws";
// @ts-types="./_ws.d.ts"
import { type WebSocket, WebSocketServer } from "ws";
import type { Ticket } from "../core/mod.ts";
import type { UpgradeWebSocketFn } from "./app.ts";
import { FrameWriter, registerFrameWriter } from "./_ws_frames.ts";
import { Keepalive, type Pinged } from "./_ws_keepalive.ts";

const LOGIN_BUDGET_ERROR = JSON.stringify({
  type: "error",
  code: "too_large",
  message: "too much data before login",
});

/** Marks an app env that came with an upgrade request this hub can complete. */
const CAN_UPGRADE = Symbol("crosswire.canUpgrade");
/** Where the app's WebSocket route leaves its event handlers for the hub. */
const EVENTS = Symbol("crosswire.websocketEvents");

/** The app's env for an upgrade request: the socket, and its place in the counts. */
export interface UpgradeEnv {
  /** The request as node:http parsed it. */
  readonly incoming: IncomingMessage;
  /** The connection (a TLS socket on HTTPS). */
  readonly socket: Socket;
  /** Bytes that came after the request head. */
  readonly head: Buffer;
  /** The socket's admission ticket, for the session it may become. */
  readonly ticket: Ticket | undefined;
  /** The peer's address. */
  readonly remoteAddress: string | undefined;
  readonly [CAN_UPGRADE]: true;
  [EVENTS]?: WSEvents<WebSocket>;
}

/** Makes the env {@link WebSocketHub.complete} expects. */
export function upgradeEnv(
  incoming: IncomingMessage,
  socket: Socket,
  head: Buffer,
  ticket: Ticket | undefined,
  remoteAddress: string | undefined,
): UpgradeEnv {
  return { incoming, socket, head, ticket, remoteAddress, [CAN_UPGRADE]: true };
}

/** Limits and timing for {@link WebSocketHub}. */
export interface WebSocketHubOptions {
  /** Largest message accepted; a frame announcing more is refused at its header (1009). */
  maxPayload: number;
  /** Bytes a connection may send before it logs in (0: no budget at the socket). */
  maxLoginBytes: number;
  /** Ping interval in milliseconds; 0 turns keepalive off. */
  keepaliveMs: number;
  /** How long a close handshake may wait for the peer before the socket is destroyed. */
  closeTimeoutMs: number;
  /** Called with handler failures (bugs). */
  onError: (error: unknown) => void;
}

// Node 20 has Event but not CloseEvent (Node 23 has): a plain Event with the same fields there.
function closeEvent(code: number, reason: string): CloseEvent {
  if (typeof CloseEvent === "function") return new CloseEvent("close", { code, reason });
  return Object.assign(new Event("close"), { code, reason, wasClean: code !== 1006 }) as CloseEvent;
}

class Peer implements Pinged {
  readonly ws: WebSocket;
  /** Answered (or sent anything) since the last ping. */
  alive = true;
  constructor(ws: WebSocket) {
    this.ws = ws;
  }
  ping(): void {
    this.ws.ping();
  }
  cut(): void {
    this.ws.terminate();
  }
}

/**
 * The WebSocket side of one HTTP server: completes handshakes the app's route
 * accepted, feeds frames to the route's handlers, and keeps peers alive.
 */
export class WebSocketHub {
  /** Hono's `upgradeWebSocket` for {@link createApp}, bound to this hub. */
  readonly upgradeWebSocket: UpgradeWebSocketFn;
  #options: WebSocketHubOptions;
  #wss: WebSocketServer;
  #peers = new Set<Peer>();
  #keepalive: Keepalive<Peer> | undefined;

  constructor(options: WebSocketHubOptions) {
    this.#options = options;
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: options.maxPayload,
      perMessageDeflate: false,
      clientTracking: false,
      closeTimeout: options.closeTimeoutMs,
    });
    this.upgradeWebSocket = defineWebSocketHelper<WebSocket>((c, events) => {
      if (c.req.header("upgrade")?.toLowerCase() !== "websocket") return;
      const env = c.env as Partial<UpgradeEnv> | undefined;
      // A plain request that only says "Upgrade" (no Connection: upgrade) falls through to 426.
      if (!env?.[CAN_UPGRADE]) return;
      env[EVENTS] = events;
      return new Response(null, { status: 200 });
    });
    if (options.keepaliveMs > 0) this.#keepalive = new Keepalive(options.keepaliveMs);
  }

  /** Open WebSocket connections. */
  get size(): number {
    return this.#peers.size;
  }

  /**
   * Completes the handshake when the app's WebSocket route accepted the
   * request (it answered 200 through this hub's `upgradeWebSocket`); false
   * when the app answered something else, which the caller then sends.
   */
  complete(env: UpgradeEnv, response: Response): boolean {
    const events = env[EVENTS];
    if (events === undefined || !response.ok) return false;
    this.#wss.handleUpgrade(env.incoming, env.socket, env.head, (ws) => {
      try {
        this.#open(ws, env, events);
      } catch (error) {
        this.#options.onError(error);
        ws.terminate();
      }
    });
    return true;
  }

  /** Cuts every connection at once, without a close handshake. */
  terminateAll(): void {
    for (const peer of [...this.#peers]) peer.ws.terminate();
  }

  /** Stops the keepalive timer. */
  stop(): void {
    this.#keepalive?.stop();
    this.#keepalive = undefined;
  }

  #open(ws: WebSocket, env: UpgradeEnv, events: WSEvents<WebSocket>): void {
    const onError = this.#options.onError;
    const peer = new Peer(ws);
    this.#peers.add(peer);
    this.#keepalive?.add(peer);
    const writer = new FrameWriter(env.socket, () => ws.readyState === 1);
    registerFrameWriter(ws, writer);
    const context = new WSContext<WebSocket>({
      raw: ws,
      get readyState() {
        return ws.readyState;
      },
      protocol: ws.protocol,
      send: (data) => writer.send(data),
      close: (code, reason) => ws.close(code, reason),
    });
    // One event object per connection, refilled for each message: the app reads
    // `data` at once and keeps nothing, so a message costs only what ws gives.
    const message = { type: "message", data: undefined as unknown } as { data: unknown };
    const call = (handler: (() => void) | undefined) => {
      try {
        handler?.();
      } catch (error) {
        onError(error);
      }
    };
    ws.on("message", (data, isBinary) => {
      peer.alive = true;
      message.data = isBinary ? data : data.toString("utf8");
      try {
        events.onMessage?.(message as MessageEvent, context);
      } catch (error) {
        onError(error);
      }
    });
    ws.on("pong", () => peer.alive = true);
    // ws emits `close` after `error`, and nothing after `close`.
    ws.on("error", () => call(() => events.onError?.(new Event("error"), context)));
    ws.on("close", (code, reason) => {
      this.#peers.delete(peer);
      this.#keepalive?.delete(peer);
      const event = closeEvent(code, reason.toString("utf8"));
      call(() => events.onClose?.(event, context));
    });
    const ticket = env.ticket;
    if (ticket?.pending && this.#options.maxLoginBytes > 0) {
      this.#watchLoginBudget(ws, env.socket, ticket, this.#options.maxLoginBytes);
    }
    call(() => events.onOpen?.(new Event("open"), context));
  }

  // Before login a connection may send `budget` bytes in all, whatever they are
  // (frames, fragments, pings). Past it, ws is given no more of its bytes: it
  // holds at most the budget plus the one read that crossed it.
  #watchLoginBudget(ws: WebSocket, socket: Socket, ticket: Ticket, budget: number): void {
    let used = 0;
    const count = (chunk: Buffer) => {
      if (!ticket.pending) {
        socket.removeListener("data", count);
        return;
      }
      used += chunk.length;
      if (used <= budget) return;
      socket.removeAllListeners("data");
      socket.pause();
      try {
        // As docs/PROTOCOL.md says: the error, then the close.
        ws.send(LOGIN_BUDGET_ERROR);
        ws.close(1009, "too much data before login");
      } catch { /* already closing */ }
      // The close frame goes first; then the socket, without waiting for a reply.
      socket.end(() => socket.destroy());
    };
    // Ahead of ws's own listener, so a chunk is counted before ws parses it.
    socket.prependListener("data", count);
  }
}
