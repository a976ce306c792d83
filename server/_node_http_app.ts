// The relay's HTTP/WebSocket port on node:http(s) with npm `ws` and our own
// hub: the Hono app (createApp) for requests, whole WebSocket frames written
// straight to each socket, keepalive, and every socket admitted through the
// gate when it is accepted. Deno and Node both serve it this way.

import { prometheusExposition } from "./_metrics_prometheus.ts";
import { createApp } from "./app.ts";
import { plainAddress, serveHttp } from "./_node_http.ts";
import { type UpgradeEnv, WebSocketHub } from "./_node_websocket.ts";
import type { HttpContext, Listening } from "./_runtime.ts";

/** How long a WebSocket close handshake may wait for the peer. */
const CLOSE_HANDSHAKE_MS = 5000;

/** Serves the relay's app for {@link HttpContext} on node:http(s). */
export async function serveNodeHttpApp(context: HttpContext): Promise<Listening> {
  const { relay, options, onError } = context;
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
    ...(options.apiKey === undefined ? {} : { apiKey: options.apiKey }),
    metrics: prometheusExposition,
    allowedHosts: [...(options.allowedHosts ?? []), context.hostname],
    ...(context.tcpPort === undefined ? {} : { tcpPort: context.tcpPort }),
    remoteAddress: (_request, env) => {
      const upgrade = env as Partial<UpgradeEnv> | undefined;
      return upgrade?.remoteAddress ?? plainAddress(upgrade?.incoming?.socket.remoteAddress);
    },
    ticket: (_request, env) => (env as Partial<UpgradeEnv> | undefined)?.ticket,
  });
  let http;
  try {
    http = await serveHttp(app, {
      hostname: context.hostname,
      port: context.port,
      backlog: context.backlog,
      tls: options.tls,
      timeouts: {
        headersMs: (options.headersTimeoutSeconds ?? 10) * 1000,
        requestMs: (options.requestTimeoutSeconds ?? 30) * 1000,
        keepAliveMs: (options.httpIdleSeconds ?? 5) * 1000,
      },
      gate: context.gate,
      hub,
      onError,
    });
  } catch (error) {
    hub.stop();
    throw error;
  }
  const server = http;
  return {
    addr: server.addr,
    stop() {
      hub.stop();
      server.stop();
    },
    destroyAll: () => server.destroyAll(),
    finished: server.finished,
  };
}
