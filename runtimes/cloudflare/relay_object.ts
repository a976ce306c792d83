// The Durable Object that runs the relay: one object holds the whole relay
// (every room), and owns its WebSockets through the Hibernation API, so an
// idle relay leaves memory while its connections stay open. Each socket keeps
// a snapshot of its session; when the object wakes (its constructor runs
// again), every socket becomes the same session again before any input is
// handled, and nobody sees anyone leave or join.

import {
  CloseCode,
  Relay,
  restoreSession,
  type Session,
  type SessionSnapshot,
  snapshotSession,
} from "../../core/mod.ts";
import { createApp, type RelayApp, type UpgradeWebSocketFn } from "../../server/app.ts";
import { messageBytes } from "../../server/_ws_port.ts";
import { type AccessEnv, accessFromEnv } from "./_access.ts";
import { type SocketPort, socketPort } from "./_socket_port.ts";
import {
  autoResponse,
  type DurableObjectState,
  type Env,
  type HibernatableWebSocket,
  listVar,
  upgradeResponse,
  webSocketPair,
} from "./_types.ts";

/**
 * A `ping` frame without a `ref`, answered by the runtime itself while the
 * object sleeps (the `ts` of 0 says so): a client that keeps its connection
 * alive this way never wakes the relay.
 */
export const SLEEPING_PING = '{"type":"ping"}';
const SLEEPING_PONG = '{"type":"pong","ts":0}';

const RESERVED_CLOSE_CODES = new Set([1005, 1006, 1015]);

/** How often the relay is swept while something has a deadline (as `deno task start` does). */
const SWEEP_MS = 1000;

interface Entry {
  session: Session;
  port: SocketPort;
  /** The attachment as last written, to write only what changed. */
  written: string;
}

/** What the object reports in /healthz besides the relay's counts. */
interface Life {
  /** When this instance was constructed (it wakes as a new one). */
  startedAt: number;
  /** Sessions it took back from the sockets when it was constructed. */
  restored: number;
}

/**
 * The relay as a Durable Object. The Worker sends `/ws`, `/healthz`,
 * `/metrics` and `/api/...` here; every other path is answered by the Worker
 * itself.
 */
export class CrosswireRelay {
  #ctx: DurableObjectState;
  #relay: Relay;
  #app: RelayApp;
  #entries = new WeakMap<WebSocket, Entry>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #sweptAt = 0;
  #life: Life;

  constructor(ctx: DurableObjectState, env: Env & AccessEnv) {
    this.#ctx = ctx;
    const motd = env.CROSSWIRE_MOTD;
    const access = accessFromEnv(env);
    this.#relay = new Relay({
      ...(motd ? { motd } : {}),
      ...access.relay,
      // A timer to cut idle peers would keep the object awake, and idle peers
      // cost nothing here: the runtime tells it when a connection ends.
      idleTimeoutMs: 0,
      // Sweeps come with events, not every second: a quiet spell is no pause.
      detectPauses: false,
    });
    void this.#relay.start(); // the in-memory engine: nothing to wait for
    ctx.setWebSocketAutoResponse(autoResponse(SLEEPING_PING, SLEEPING_PONG));
    this.#app = createApp(this.#relay, {
      upgradeWebSocket: this.#upgrader(),
      allowOrigins: listVar(env.CROSSWIRE_ALLOW_ORIGINS),
      allowedHosts: listVar(env.CROSSWIRE_ALLOWED_HOSTS),
      ...(access.apiKey === undefined ? {} : { apiKey: access.apiKey }),
    });
    let restored = 0;
    for (const ws of ctx.getWebSockets()) {
      if (this.#restore(ws)) restored++;
    }
    this.#life = { startedAt: Date.now(), restored };
    this.#tick();
  }

  /** HTTP: `/ws` upgrades, `/healthz` reports, the API; the same Hono app as every runtime's. */
  async fetch(request: Request): Promise<Response> {
    const response = await this.#app.fetch(request);
    this.#tick();
    if (new URL(request.url).pathname !== "/healthz") return response;
    const report = await response.json();
    return Response.json({ ...report, object: this.#life }, { status: response.status });
  }

  /** A frame from a client (the object may just have woken for it). */
  webSocketMessage(ws: HibernatableWebSocket, message: string | ArrayBuffer): void {
    const entry = this.#entries.get(ws);
    if (entry === undefined) return void ws.close(CloseCode.internalError, "session lost");
    const session = entry.session;
    if (typeof message === "string") session.receiveText(message);
    else session.receiveBinary(messageBytes(message)!);
    this.#remember(ws, entry);
    this.#tick();
  }

  /** The client closed (or the connection dropped). */
  webSocketClose(ws: HibernatableWebSocket, code: number, reason: string): void {
    this.#gone(ws);
    try {
      // Completes the closing handshake; reserved codes (1005, 1006, 1015) are never sent.
      ws.close(RESERVED_CLOSE_CODES.has(code) ? CloseCode.normal : code, reason);
    } catch { /* already closed */ }
  }

  /** The connection failed. */
  webSocketError(ws: HibernatableWebSocket): void {
    this.#gone(ws);
  }

  // The app's `/ws` route calls this: Hono's Workers helper would put the
  // socket's handlers in closures, which do not survive hibernation, so the
  // object accepts the socket itself and gets its events as method calls.
  #upgrader(): UpgradeWebSocketFn {
    return () => (c: { req: { raw: Request } }, next: () => Promise<void>) => {
      const request = c.req.raw;
      if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") return next();
      const address = request.headers.get("cf-connecting-ip") ?? undefined;
      const ticket = this.#relay.admit(address);
      if (ticket === undefined) {
        const error = { code: "server_busy", message: "server busy, try again later" };
        return Response.json({ error }, { status: 503 });
      }
      const { client, server } = webSocketPair();
      this.#ctx.acceptWebSocket(server);
      const entry = this.#open(server, (port) => this.#relay.connect(port, { ticket }));
      this.#remember(server, entry);
      return upgradeResponse(client);
    };
  }

  // Makes `ws` a session again from what it kept; false when it kept nothing usable.
  #restore(ws: HibernatableWebSocket): boolean {
    if (ws.readyState !== WebSocket.OPEN) return false;
    try {
      const snapshot = ws.deserializeAttachment() as SessionSnapshot | null;
      if (snapshot === null) throw new TypeError("the socket kept no snapshot");
      const entry = this.#open(ws, (port) => restoreSession(this.#relay, port, snapshot));
      entry.written = JSON.stringify(snapshot);
      return entry.session.state !== "closed";
    } catch (error) {
      console.error("crosswire: a socket's session could not be restored:", error);
      try {
        ws.close(CloseCode.internalError, "session lost; connect again");
      } catch { /* already closed */ }
      return false;
    }
  }

  #open(ws: HibernatableWebSocket, connect: (port: SocketPort) => Session): Entry {
    const port = socketPort(ws, () => {
      this.#gone(ws);
      try {
        ws.close(CloseCode.internalError, "send failed");
      } catch { /* already closed */ }
    });
    const entry: Entry = { session: connect(port), port, written: "" };
    this.#entries.set(ws, entry);
    return entry;
  }

  // Keeps the session's snapshot with its socket whenever it changed. The
  // largest (32 rooms of 32 four-byte characters) is about 5 KB, well within
  // an attachment's 16 KiB.
  #remember(ws: HibernatableWebSocket, entry: Entry): void {
    const snapshot = snapshotSession(entry.session);
    if (snapshot === undefined) return;
    const json = JSON.stringify(snapshot);
    if (json === entry.written) return;
    entry.written = json;
    try {
      ws.serializeAttachment(snapshot);
    } catch (error) {
      // Only a runtime with a smaller limit gets here: this session would not survive a sleep.
      console.error("crosswire: a session's snapshot could not be kept with its socket:", error);
    }
  }

  #gone(ws: HibernatableWebSocket): void {
    const entry = this.#entries.get(ws);
    if (entry === undefined) return;
    this.#entries.delete(ws);
    entry.port.dispose();
    entry.session.disconnect();
    this.#tick();
  }

  // Sweeps when a second has passed, and keeps a sweep timer only while a
  // session has a deadline (to log in, to be resumed): a pending timer keeps a
  // Durable Object from hibernating, so a relay of logged-in users has none.
  #tick(): void {
    const now = Date.now();
    if (now - this.#sweptAt >= SWEEP_MS) {
      this.#sweptAt = now;
      this.#relay.sweep();
    }
    const { sessions, users, parked } = this.#relay.stats();
    const deadlines = sessions > users || parked > 0;
    if (deadlines && this.#timer === undefined) {
      this.#timer = setInterval(() => this.#tick(), SWEEP_MS);
    } else if (!deadlines && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }
}
