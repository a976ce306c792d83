// Deno wiring: one Relay, the Hono app on node:http(s) with `ws` for
// WebSockets, and the TCP listener, every socket on both counted by one gate.

import { Relay } from "../core/mod.ts";
import type { RelayOptions } from "../core/mod.ts";
import { createApp } from "./app.ts";
import { fdBudget, readFdLimit } from "./_fd_limit.ts";
import { ConnectionGate } from "./_gate.ts";
import { plainAddress, serveHttp } from "./_node_http.ts";
import { type UpgradeEnv, WebSocketHub } from "./_node_websocket.ts";
import { serveTcpGated, type TcpServer } from "./tcp.ts";

/**
 * Options for {@link startServer}.
 *
 * @example WebSocket only, with a message of the day
 * ```ts
 * import { type ServerOptions, startServer } from "@crosswire/relay";
 * const options: ServerOptions = {
 *   hostname: "127.0.0.1",
 *   port: 0,
 *   tcpPort: null,
 *   relay: { motd: "Be kind." },
 * };
 * const server = await startServer(options);
 * const tcpOff = server.tcpAddr === undefined;
 * await server.shutdown();
 * if (!tcpOff || server.httpAddr.port === 0) throw new Error("unexpected addresses");
 * ```
 */
export interface ServerOptions {
  /** Interface to bind. @default "0.0.0.0" */
  hostname?: string;
  /** HTTP/WebSocket port; 0 picks a free one. @default 8080 */
  port?: number;
  /** TCP port; 0 picks a free one; null turns TCP off. @default 4040 */
  tcpPort?: number | null;
  /** The relay to serve; made from `relay` options when absent. @default new Relay(relay) */
  relayInstance?: Relay;
  /**
   * Options for the relay this creates. Its `maxConnections` is lowered, when
   * need be, to what the open-files limit leaves room for. @default {}
   */
  relay?: RelayOptions;
  /** PEM certificate chain and private key: serve HTTPS/WSS and TLS on TCP. @default undefined */
  tls?: { cert: string; key: string };
  /** Browser origins allowed besides the server's own (`"*"` for any). @default [] */
  allowOrigins?: readonly string[];
  /**
   * WebSocket ping interval in seconds; a peer that misses a pong is closed.
   * 0 turns it off.
   * @default 30
   */
  keepaliveSeconds?: number;
  /**
   * Host names the HTTP port answers to besides localhost, `*.localhost`, IP
   * literals, the bound host name and the hosts of `allowOrigins` (`"*"`
   * for any; `"*.example.com"` for its subdomains). Guards against DNS rebinding.
   * @default []
   */
  allowedHosts?: readonly string[];
  /**
   * Seconds from connect (or the end of the previous request) to the end of
   * an HTTP request head; slower sockets get 408 and are closed.
   * @default 10
   */
  headersTimeoutSeconds?: number;
  /** Seconds from connect to the end of a whole HTTP request. @default 30 */
  requestTimeoutSeconds?: number;
  /** Seconds an HTTP keep-alive connection may sit idle between requests. @default 5 */
  httpIdleSeconds?: number;
}

/**
 * A running server: its relay, where it listens, and how to stop it.
 *
 * @example Shutdown tells WebSocket clients the server is going away
 * ```ts
 * import { startServer } from "@crosswire/relay";
 * const server = await startServer({ hostname: "127.0.0.1", port: 0, tcpPort: null });
 * const ws = new WebSocket(`ws://127.0.0.1:${server.httpAddr.port}/ws`);
 * const hello = await new Promise<MessageEvent>((resolve) => ws.onmessage = resolve);
 * const closed = new Promise<CloseEvent>((resolve) => ws.onclose = resolve);
 * await server.shutdown();
 * const { code } = await closed;
 * if (JSON.parse(hello.data).type !== "hello" || code !== 1001) {
 *   throw new Error(`unexpected close code ${code}`);
 * }
 * ```
 */
export interface RunningServer {
  /** The relay every transport feeds. */
  readonly relay: Relay;
  /** The bound HTTP address. */
  readonly httpAddr: Deno.NetAddr;
  /** The bound TCP address, or undefined when TCP is off. */
  readonly tcpAddr: Deno.NetAddr | undefined;
  /** Its connection cap, and the open-files limit behind it. */
  readonly capacity: {
    /** Connections admitted at most, both ports together. */
    readonly maxConnections: number;
    /** True when the open-files limit, not the relay's `maxConnections`, set the cap. */
    readonly limitedByFileDescriptors: boolean;
    /**
     * The open-files limit it runs with (`soft`, `hard`, descriptors `inUse`
     * at startup, and `raisedFrom` when it raised the soft limit itself);
     * undefined when it cannot be read (that needs `--allow-ffi`, or /proc).
     */
    readonly fileDescriptors:
      | {
        readonly soft: number;
        readonly hard: number;
        readonly inUse: number;
        readonly raisedFrom?: number;
      }
      | undefined;
  };
  /**
   * Stops accepting, tells every client (WebSocket close 1001), lets queued
   * output drain for up to `deadlineMs`, then closes what is left.
   */
  shutdown(deadlineMs?: number): Promise<void>;
}

/** How long a WebSocket close handshake may wait for the peer. */
const CLOSE_HANDSHAKE_MS = 5000;

/**
 * Starts HTTP/WebSocket and TCP listeners for one relay. Every socket on
 * either port is admitted (or refused: HTTP 503, a `server_busy` line on TCP)
 * as soon as it is accepted, and counted until it closes, within the relay's
 * limits and below the process's open-files limit. Throws
 * `Deno.errors.AddrInUse` when a port is taken, `Deno.errors.NotFound` when
 * the host name does not resolve, and a RangeError when the open-files limit
 * leaves no room for connections.
 *
 * @example Start on free ports and stop again
 * ```ts
 * import { startServer } from "@crosswire/relay";
 * const server = await startServer({ hostname: "127.0.0.1", port: 0, tcpPort: 0 });
 * const health = await fetch(`http://127.0.0.1:${server.httpAddr.port}/healthz`);
 * if ((await health.json()).status !== "ok") throw new Error("unhealthy");
 * await server.shutdown();
 * ```
 */
export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const hostname = options.hostname ?? "0.0.0.0";
  const tcpPort = options.tcpPort === undefined ? 4040 : options.tcpPort;
  const tls = options.tls;
  // Every socket is a file descriptor: admit fewer than the process may open.
  const fdLimit = readFdLimit();
  const budget = fdBudget(fdLimit);
  const owned = options.relayInstance === undefined;
  const configured = options.relay?.maxConnections ?? 10_000;
  const relay = options.relayInstance ??
    new Relay({ ...options.relay, maxConnections: Math.min(configured, budget.maxSockets) });
  const maxConnections = Math.min(relay.limits.maxConnections, budget.maxSockets);
  const onError = options.relay?.onError ?? ((error: unknown) => console.error(error));
  if (owned) await relay.start();

  // Bind TCP first: if either port is taken, nothing is left half-started.
  let tcpListener: Deno.Listener | undefined;
  try {
    tcpListener = tcpPort === null
      ? undefined
      : tls
      ? Deno.listenTls({ hostname, port: tcpPort, cert: tls.cert, key: tls.key })
      : Deno.listen({ hostname, port: tcpPort });
  } catch (error) {
    if (owned) await relay.engine.close();
    // Deno reports a host name that does not resolve as a plain Error.
    if (/failed to lookup address/.test((error as Error).message)) {
      throw new Deno.errors.NotFound(`cannot resolve host "${hostname}"`, { cause: error });
    }
    throw error;
  }
  const gate = new ConnectionGate(relay, budget.maxSockets, budget.maxRefusing);
  const limits = relay.limits;
  const hub = new WebSocketHub({
    // One limit for both kinds of frame: the larger; the core holds each kind to its own.
    maxPayload: Math.max(limits.maxFrameBytes, limits.maxFileBytes + 4099),
    maxLoginBytes: limits.maxLoginBytes,
    keepaliveMs: (options.keepaliveSeconds ?? 30) * 1000,
    closeTimeoutMs: CLOSE_HANDSHAKE_MS,
    onError,
  });
  const app = createApp(relay, {
    upgradeWebSocket: hub.upgradeWebSocket,
    allowOrigins: options.allowOrigins ?? [],
    allowedHosts: [...(options.allowedHosts ?? []), hostname],
    ...(tcpListener ? { tcpPort: (tcpListener.addr as Deno.NetAddr).port } : {}),
    remoteAddress: (_request, env) => {
      const upgrade = env as Partial<UpgradeEnv> | undefined;
      return upgrade?.remoteAddress ?? plainAddress(upgrade?.incoming?.socket.remoteAddress);
    },
    ticket: (_request, env) => (env as Partial<UpgradeEnv> | undefined)?.ticket,
  });
  let http;
  try {
    http = await serveHttp(app, {
      hostname,
      port: options.port ?? 8080,
      backlog: budget.backlog,
      tls,
      timeouts: {
        headersMs: (options.headersTimeoutSeconds ?? 10) * 1000,
        requestMs: (options.requestTimeoutSeconds ?? 30) * 1000,
        keepAliveMs: (options.httpIdleSeconds ?? 5) * 1000,
      },
      gate,
      hub,
      onError,
    });
  } catch (error) {
    tcpListener?.close();
    hub.stop();
    if (owned) await relay.engine.close();
    throw error;
  }
  const tcp: TcpServer | undefined = tcpListener && serveTcpGated(relay, tcpListener, gate);
  // One timer for the whole relay: idle and login deadlines, slow consumers, pauses.
  const sweeper = setInterval(() => relay.sweep(), 1000);

  let stopping: Promise<void> | undefined;
  const shutdown = (deadlineMs = 3000) =>
    stopping ??= (async () => {
      clearInterval(sweeper);
      hub.stop();
      tcp?.stop();
      http.stop();
      relay.close();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const deadline = new Promise<"late">((resolve) =>
        timer = setTimeout(() => resolve("late"), deadlineMs)
      );
      const drained = Promise.all([http.finished, tcp?.finished]);
      const outcome = await Promise.race([drained, deadline]);
      clearTimeout(timer);
      if (outcome === "late") {
        tcp?.destroyAll();
        http.destroyAll();
        await drained;
      }
      if (owned) await relay.engine.close();
    })();

  return {
    relay,
    httpAddr: http.addr,
    tcpAddr: tcp?.addr,
    capacity: {
      maxConnections,
      limitedByFileDescriptors: budget.maxSockets < relay.limits.maxConnections ||
        (owned && budget.maxSockets < configured),
      fileDescriptors: fdLimit,
    },
    shutdown,
  };
}
