// The relay's HTTP/WebSocket port on Bun: the shared Hono app (createApp) on
// Bun.serve, with Hono's Bun WebSocket helper. Bun's server owns its sockets,
// so WebSocket messages go through Bun's `send()`; the app's port learns how
// busy a socket is from `getBufferedAmount()`, and keeps the backlog in the
// relay's queue (where slow consumers are caught) while Bun holds a lot.
// Bun.serve shows no socket before its request, so the relay admits each
// WebSocket session itself rather than the gate each socket.

import { prometheusExposition } from "../../server/_metrics_prometheus.ts";
import { createBunWebSocket } from "hono/bun";
import { createApp } from "../../server/app.ts";
import { asListenError } from "../../server/_listen_error.ts";
import { plainAddress } from "../../server/_node_http.ts";
import type { HttpContext, Listening } from "../../server/_runtime.ts";
import { bunApi, type BunServer, type BunServerWebSocket } from "./_bun.ts";

/** Bun's longest HTTP idle timeout, in seconds. */
const MAX_HTTP_IDLE_SECONDS = 255;
/** Bun's longest WebSocket idle timeout, in seconds. */
const MAX_WS_IDLE_SECONDS = 960;
/**
 * Bytes Bun may hold for one WebSocket before it drops messages; the app's
 * port stops sending far below this (at 1 MiB), so only a single huge burst
 * could reach it.
 */
const BACKPRESSURE_LIMIT = 64 * 1024 * 1024;

/** Bytes Bun holds unsent for the WebSocket under `ws` (a WSContext from hono/bun). */
export function bunBufferedAmount(ws: { readonly raw?: unknown }): number {
  return (ws.raw as BunServerWebSocket).getBufferedAmount();
}

/** Serves the relay's app for `context` on Bun.serve. */
export function serveBunHttp(context: HttpContext): Promise<Listening> {
  const { relay, options, onError } = context;
  const limits = relay.limits;
  const { upgradeWebSocket, websocket } = createBunWebSocket();
  const app = createApp(relay, {
    upgradeWebSocket,
    bufferedAmount: bunBufferedAmount,
    allowOrigins: options.allowOrigins ?? [],
    ...(options.apiKey === undefined ? {} : { apiKey: options.apiKey }),
    metrics: prometheusExposition,
    allowedHosts: [...(options.allowedHosts ?? []), context.hostname],
    ...(context.tcpPort === undefined ? {} : { tcpPort: context.tcpPort }),
    remoteAddress: (request, env) =>
      plainAddress((env as { server: BunServer }).server.requestIP(request)?.address),
  });
  // Bun pings a quiet WebSocket before its idle timeout and closes it when
  // nothing comes back: about the hub's keepalive (a ping an interval, cut
  // when the next finds no answer).
  const keepaliveSeconds = options.keepaliveSeconds ?? 30;
  const tls = options.tls;
  let server: BunServer;
  try {
    server = bunApi().serve({
      hostname: context.hostname,
      port: context.port,
      // One deadline for a request head and an idle keep-alive connection.
      idleTimeout: Math.min(MAX_HTTP_IDLE_SECONDS, Math.ceil(options.headersTimeoutSeconds ?? 10)),
      ...(tls ? { tls: { cert: tls.cert, key: tls.key } } : {}),
      fetch: (request, server) => app.fetch(request, { server }),
      error(error) {
        onError(error);
        return new Response(null, { status: 500 });
      },
      websocket: {
        ...websocket,
        // One limit for both kinds of frame: the larger; the core holds each kind to its own.
        maxPayloadLength: Math.max(limits.maxFrameBytes, limits.maxFileBytes + 4099),
        idleTimeout: keepaliveSeconds > 0
          ? Math.min(MAX_WS_IDLE_SECONDS, Math.ceil(keepaliveSeconds * 2))
          : 0,
        sendPings: keepaliveSeconds > 0,
        backpressureLimit: BACKPRESSURE_LIMIT,
        closeOnBackpressureLimit: true,
        perMessageDeflate: false,
      },
    });
  } catch (error) {
    return Promise.reject(asListenError(error, context.hostname, context.port));
  }
  // Bun's stop() resolves once every connection, WebSockets included, is closed.
  let stopped = false;
  let done: () => void = () => {};
  const finished = new Promise<void>((resolve) => done = resolve);
  return Promise.resolve({
    addr: { transport: "tcp", hostname: server.hostname, port: server.port },
    stop() {
      if (stopped) return;
      stopped = true;
      server.stop().then(done, done);
    },
    destroyAll: () => void server.stop(true).catch(() => {}),
    finished,
  });
}
