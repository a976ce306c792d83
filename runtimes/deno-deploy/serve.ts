// The relay as Deno Deploy runs it: `Deno.serve` for HTTP and WebSockets (no
// TCP listener, no node:http), and a BroadcastChannel engine, so every isolate
// of the deployment is a node of one relay.

import { prometheusExposition } from "../../server/_metrics_prometheus.ts";
import { upgradeWebSocket } from "hono/deno";
import { BroadcastChannelEngine } from "../../channel/mod.ts";
import { Relay, type RelayOptions } from "../../core/mod.ts";
import { createApp } from "../../server/app.ts";

/** How {@link serveDeploy} serves. */
export interface DeployOptions {
  /** Interface to bind (Deno Deploy ignores it). @default "0.0.0.0" */
  hostname?: string;
  /** Port; 0 picks a free one (Deno Deploy ignores it). @default 8000 */
  port?: number;
  /** The relay's options; its engine is always a {@link BroadcastChannelEngine}. @default {} */
  relay?: RelayOptions;
  /** Prefix of the engine's channel names. @default "crosswire:" */
  channelPrefix?: string;
  /** Browser origins allowed besides the page's own (`"*"` for any). @default [] */
  allowOrigins?: readonly string[];
  /** The bearer token for the server API and `/metrics`. @default undefined */
  apiKey?: string;
  /** Host names answered besides localhost and IP literals (`"*"` for any). @default [] */
  allowedHosts?: readonly string[];
  /** Seconds between WebSocket pings; a peer that misses a pong is closed; 0 turns it off. @default 30 */
  keepaliveSeconds?: number;
}

/** A running relay on `Deno.serve`. */
export interface DeployServer {
  readonly relay: Relay;
  /** Where it listens. */
  readonly addr: Deno.NetAddr;
  /**
   * Tells every client the server is going away (close 1001), stops serving
   * (waiting up to `deadlineMs` for connections to end) and leaves the cluster.
   */
  shutdown(deadlineMs?: number): Promise<void>;
}

/** Starts the relay on `Deno.serve`, after its engine has heard the other isolates. */
export async function serveDeploy(options: DeployOptions = {}): Promise<DeployServer> {
  const engine = new BroadcastChannelEngine({
    ...(options.channelPrefix === undefined ? {} : { prefix: options.channelPrefix }),
    ...(options.relay?.maxAnnouncedRoomSize === undefined
      ? {}
      : { maxAnnouncedRoomSize: options.relay.maxAnnouncedRoomSize }),
  });
  const relay = new Relay({ ...options.relay, engine });
  await relay.start();
  const hostname = options.hostname ?? "0.0.0.0";
  const app = createApp(relay, {
    upgradeWebSocket,
    upgradeOptions: { idleTimeout: options.keepaliveSeconds ?? 30 },
    allowOrigins: options.allowOrigins ?? [],
    ...(options.apiKey === undefined ? {} : { apiKey: options.apiKey }),
    metrics: prometheusExposition,
    allowedHosts: [...(options.allowedHosts ?? []), hostname],
    remoteAddress: (_request, env) => {
      const address = (env as Deno.ServeHandlerInfo<Deno.NetAddr> | undefined)?.remoteAddr;
      return address?.hostname;
    },
  });
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve(
      { hostname, port: options.port ?? 8000, onListen: () => {} },
      (request, info) => app.fetch(request, info),
    );
  } catch (error) {
    await engine.close();
    throw error;
  }
  // One timer for the whole relay: idle and login deadlines, slow consumers, pauses.
  const sweeper = setInterval(() => relay.sweep(), 1000);
  let stopping: Promise<void> | undefined;
  const shutdown = (deadlineMs = 3000) =>
    stopping ??= (async () => {
      clearInterval(sweeper);
      relay.close();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<void>((resolve) => timer = setTimeout(resolve, deadlineMs));
      await Promise.race([server.shutdown(), late]);
      clearTimeout(timer);
      await engine.close();
    })();
  return { relay, addr: server.addr, shutdown };
}
