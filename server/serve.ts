// Deno wiring: one Relay, the Hono app on Deno.serve, and the TCP listener.

import { upgradeWebSocket } from "hono/deno";
import { Relay, type RelayOptions } from "../core/mod.ts";
import { createApp } from "./app.ts";
import { serveTcp, type TcpServer } from "./tcp.ts";

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
  /** Options for the relay this creates. @default {} */
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
  /**
   * Stops accepting, tells every client (WebSocket close 1001), lets queued
   * output drain for up to `deadlineMs`, then closes what is left.
   */
  shutdown(deadlineMs?: number): Promise<void>;
}

/**
 * Starts HTTP/WebSocket and TCP listeners for one relay. Throws
 * `Deno.errors.AddrInUse` when a port is taken.
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
export function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const hostname = options.hostname ?? "0.0.0.0";
  const relay = options.relayInstance ?? new Relay(options.relay);
  const tcpPort = options.tcpPort === undefined ? 4040 : options.tcpPort;
  // Bind TCP first: if either port is taken, nothing is left half-started.
  const tls = options.tls;
  const tcpListener = tcpPort === null
    ? undefined
    : tls
    ? Deno.listenTls({ hostname, port: tcpPort, cert: tls.cert, key: tls.key })
    : Deno.listen({ hostname, port: tcpPort });
  let tcp: TcpServer | undefined;
  let http: Deno.HttpServer<Deno.NetAddr>;
  try {
    const app = createApp(relay, {
      upgradeWebSocket,
      upgradeOptions: { idleTimeout: options.keepaliveSeconds ?? 30 },
      allowOrigins: options.allowOrigins ?? [],
      ...(tcpListener ? { tcpPort: (tcpListener.addr as Deno.NetAddr).port } : {}),
      remoteAddress: (_request, env) => (env as { remoteAddr?: Deno.NetAddr }).remoteAddr?.hostname,
    });
    http = Deno.serve(
      { hostname, port: options.port ?? 8080, onListen: () => {}, ...(tls ?? {}) },
      (request, info) => app.fetch(request, { remoteAddr: info.remoteAddr }),
    );
  } catch (error) {
    tcpListener?.close();
    throw error;
  }
  if (tcpListener) tcp = serveTcp(relay, tcpListener);
  // One timer for the whole relay checks idle sessions.
  const idle = relay.limits.idleTimeoutMs;
  const sweeper = idle > 0
    ? setInterval(() => relay.sweep(), Math.min(1000, Math.max(50, idle / 4)))
    : undefined;

  let stopping: Promise<void> | undefined;
  const shutdown = (deadlineMs = 3000) =>
    stopping ??= (async () => {
      clearInterval(sweeper);
      tcp?.stop();
      relay.close();
      // WebSocket ports send the notice and their 1001 close in a microtask; let
      // them run before Deno's shutdown closes the sockets its own way.
      await Promise.resolve();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const deadline = new Promise<"late">((resolve) =>
        timer = setTimeout(() => resolve("late"), deadlineMs)
      );
      const drained = Promise.all([http.shutdown(), tcp?.finished]);
      const outcome = await Promise.race([drained, deadline]);
      clearTimeout(timer);
      if (outcome === "late") {
        tcp?.destroyAll();
        await Promise.all([http.finished, tcp?.finished]);
      }
    })();

  return Promise.resolve({
    relay,
    httpAddr: http.addr,
    tcpAddr: tcp?.addr,
    shutdown,
  });
}
