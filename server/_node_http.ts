// The HTTP/WebSocket port on node:http(s) rather than Deno.serve, because it
// sees every accepted socket (`connection`) before a byte is parsed: each one
// is admitted or refused there and counted until it closes, and sockets that
// never finish their request head are closed by node's own deadlines. Plain
// requests go to the Hono app through @hono/node-server; upgrades go through
// the same app (so its host and origin checks apply), then to the hub.

import { Buffer } from "node:buffer";
import http from "node:http";
import https from "node:https";
import type { Socket } from "node:net";
import { getRequestListener } from "@hono/node-server";
import type { Ticket } from "../core/mod.ts";
import type { RelayApp } from "./app.ts";
import type { ConnectionGate } from "./_gate.ts";
import { asListenError } from "./_listen_error.ts";
import { upgradeEnv, type WebSocketHub } from "./_node_websocket.ts";
import type { Listening } from "./_runtime.ts";

/** Deadlines for HTTP requests, in milliseconds. */
export interface HttpTimeouts {
  /** From connect (or the end of the previous request) to the end of the request head. */
  headersMs: number;
  /** From connect to the end of the whole request. */
  requestMs: number;
  /** How long a keep-alive connection may sit idle between requests. */
  keepAliveMs: number;
}

/** What {@link serveHttp} needs. */
export interface HttpServerOptions {
  hostname: string;
  port: number;
  /** Listen backlog: also the most sockets one accept round may take at once. */
  backlog: number;
  tls?: { cert: string; key: string } | undefined;
  timeouts: HttpTimeouts;
  gate: ConnectionGate;
  hub: WebSocketHub;
  onError: (error: unknown) => void;
}

/** A running HTTP/WebSocket listener on node:http. */
export interface HttpServer extends Listening {
  /** Sockets open on this port, WebSockets included. */
  readonly sockets: number;
}

const BUSY_BODY = JSON.stringify({
  error: { code: "server_busy", message: "server busy, try again later" },
});
const BUSY_RESPONSE = Buffer.from(
  "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n" +
    `content-length: ${
      Buffer.byteLength(BUSY_BODY)
    }\r\nretry-after: 5\r\nconnection: close\r\n\r\n` +
    BUSY_BODY,
);
/** Response headers that belong to a connection, not to the app's answer. */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "transfer-encoding", "content-length"]);

/** The peer's address as the TCP port reports it (no IPv4-mapped IPv6 form). */
export function plainAddress(address: string | undefined): string | undefined {
  return address?.startsWith("::ffff:") && address.includes(".") ? address.slice(7) : address;
}

function ignore(): void {}

// Writes a whole response on a socket node:http no longer manages, then closes it.
function answer(socket: Socket, head: string, body: Uint8Array = new Uint8Array(0)): void {
  if (socket.destroyed) return;
  socket.end(Buffer.concat([Buffer.from(head), body]), () => socket.destroy());
}

async function answerWith(socket: Socket, response: Response): Promise<void> {
  const body = new Uint8Array(await response.arrayBuffer());
  const lines = [`HTTP/1.1 ${response.status} ${http.STATUS_CODES[response.status] ?? ""}`];
  response.headers.forEach((value, name) => {
    if (!HOP_BY_HOP.has(name)) lines.push(`${name}: ${value}`);
  });
  lines.push(`content-length: ${body.length}`, "connection: close", "", "");
  answer(socket, lines.join("\r\n"), body);
}

function statusOnly(status: number): string {
  return `HTTP/1.1 ${status} ${
    http.STATUS_CODES[status]
  }\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`;
}

// The web Request for an upgrade, built the way @hono/node-server builds
// plain ones: the Host header names the URL's host.
function upgradeRequest(incoming: http.IncomingMessage, scheme: string): Request {
  const target = incoming.url ?? "";
  if (!target.startsWith("/")) throw new TypeError("the request target must be a path");
  const url = new URL(`${scheme}://${incoming.headers.host ?? "localhost"}${target}`);
  const headers = new Headers();
  const raw = incoming.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) headers.append(raw[i]!, raw[i + 1]!);
  return new Request(url, { headers });
}

/** Serves `app` on node:http (node:https with `tls`), every socket through `gate`. */
export function serveHttp(app: RelayApp, options: HttpServerOptions): Promise<HttpServer> {
  const { gate, hub, timeouts, tls } = options;
  const scheme = tls ? "https" : "http";
  const serverOptions = {
    headersTimeout: timeouts.headersMs,
    requestTimeout: timeouts.requestMs,
    keepAliveTimeout: timeouts.keepAliveMs,
    // How often node looks for requests past their deadlines.
    connectionsCheckingInterval: Math.max(100, Math.min(1000, timeouts.headersMs / 4)),
    noDelay: true,
  };
  const server: http.Server = tls
    ? https.createServer({
      ...serverOptions,
      cert: tls.cert,
      key: tls.key,
      handshakeTimeout: timeouts.headersMs,
    })
    : http.createServer(serverOptions);

  const sockets = new Set<Socket>();
  const tickets = new WeakMap<Socket, Ticket>();
  let stopped = false;
  let allClosed: (() => void) | undefined;
  const finished = new Promise<void>((resolve) => allClosed = resolve);
  const settle = () => {
    if (stopped && sockets.size === 0) allClosed?.();
  };
  const ticketOf = (socket: Socket) =>
    tickets.get(socket) ?? tickets.get((socket as { _parent?: Socket })._parent as Socket);

  server.on("connection", (socket: Socket) => {
    // Errors on a socket end it (`close` follows); none may become an uncaught exception.
    socket.on("error", ignore);
    const address = plainAddress(socket.remoteAddress);
    const ticket = stopped ? undefined : gate.admit(address);
    if (ticket === undefined) return refuse(socket);
    sockets.add(socket);
    tickets.set(socket, ticket);
    socket.once("close", () => {
      sockets.delete(socket);
      gate.closed(ticket);
      settle();
    });
    socket.setKeepAlive(true, 60_000);
  });

  // Over a limit: a short 503 where there is room to say it, then close.
  const refuse = (socket: Socket) => {
    const done = gate.refusing();
    socket.removeAllListeners("data");
    if (done === undefined || tls) {
      socket.destroy();
      done?.();
      return;
    }
    socket.once("close", done);
    socket.write(BUSY_RESPONSE, () => socket.destroy());
  };

  const listener = getRequestListener(
    (request, env) => app.fetch(request, env),
    { overrideGlobalObjects: false },
  );
  server.on("request", (incoming, outgoing) => {
    listener(incoming, outgoing).catch(options.onError);
  });

  server.on("upgrade", async (incoming: http.IncomingMessage, socket: Socket, head: Buffer) => {
    socket.on("error", ignore);
    // Upgraded sockets are this file's to time out (the relay's login deadline, keepalive).
    socket.setTimeout(0);
    let request: Request;
    try {
      request = upgradeRequest(incoming, scheme);
    } catch {
      return answer(socket, statusOnly(400));
    }
    const env = upgradeEnv(
      incoming,
      socket,
      head,
      ticketOf(socket),
      plainAddress(socket.remoteAddress),
    );
    let response: Response;
    try {
      response = await app.fetch(request, env);
    } catch (error) {
      options.onError(error);
      return answer(socket, statusOnly(500));
    }
    if (socket.destroyed) return;
    if (stopped) return answer(socket, statusOnly(503));
    if (hub.complete(env, response)) return;
    try {
      await answerWith(socket, response);
    } catch {
      socket.destroy();
    }
  });

  return new Promise((resolve, reject) => {
    const failed = (error: Error) => reject(asListenError(error, options.hostname, options.port));
    server.once("error", failed);
    server.listen({ host: options.hostname, port: options.port, backlog: options.backlog }, () => {
      server.off("error", failed);
      // A listening server must never throw from its `error` event.
      server.on("error", options.onError);
      const bound = server.address();
      if (bound === null || typeof bound === "string") {
        server.close();
        return reject(new Error("the HTTP server has no address"));
      }
      resolve({
        addr: { transport: "tcp", hostname: bound.address, port: bound.port },
        get sockets() {
          return sockets.size;
        },
        stop() {
          if (stopped) return;
          stopped = true;
          server.close();
          server.closeIdleConnections();
          settle();
        },
        destroyAll() {
          hub.terminateAll();
          for (const socket of [...sockets]) socket.destroy();
        },
        finished,
      });
    });
  });
}
