// The HTTP side as a Hono app. It uses no Deno API: the runtime's
// `upgradeWebSocket` comes in as a parameter, so the same app runs elsewhere.

import { Hono } from "hono";
import type { Context } from "hono";
import type { UpgradeWebSocket } from "hono/ws";
import { CloseCode, type Relay, type Session, type Ticket } from "../core/mod.ts";
import { messageBytes, standardBufferedAmount, websocketPort } from "./_ws_port.ts";
import { hostAllowList, originHosts, shownHost } from "./_hosts.ts";
import { mountApi } from "./api.ts";
import { mountMetrics } from "./metrics.ts";
import type { MakeExposition } from "./metrics_source.ts";
import { APP_JS, FAVICON_SVG, INDEX_HTML, STYLE_CSS } from "./_web_assets.ts";

/**
 * A runtime's Hono WebSocket upgrader: `upgradeWebSocket` from `hono/deno`,
 * `hono/bun`, `hono/cloudflare-workers` or `@hono/node-ws`. Typed loosely so
 * Hono's own types stay out of this package's public surface.
 *
 * @example A stand-in upgrader for a runtime without WebSockets
 * ```ts
 * import { createApp, Relay, type UpgradeWebSocketFn } from "@crosswire/relay";
 * // It returns the middleware that `GET /ws` runs; this one always declines.
 * type Context = { text(body: string, status: number): Response };
 * const upgradeWebSocket: UpgradeWebSocketFn = () => (c: Context) =>
 *   c.text("no WebSockets here", 501);
 * const app = createApp(new Relay(), { upgradeWebSocket });
 * if ((await app.request("/ws")).status !== 501) throw new Error("the upgrader was not used");
 * ```
 */
// deno-lint-ignore no-explicit-any -- each runtime's helper has its own generic signature
export type UpgradeWebSocketFn = (...args: any[]) => any;

/**
 * What {@link createApp} returns: a Hono app, seen through its fetch handler.
 *
 * @example Calling the app without a network
 * ```ts
 * import { createApp, Relay, type RelayApp } from "@crosswire/relay";
 * import { upgradeWebSocket } from "hono/deno";
 * const app: RelayApp = createApp(new Relay(), { upgradeWebSocket, tcpPort: 4040 });
 * const index = await (await app.fetch(new Request("http://localhost/"))).text();
 * if (!index.includes("telnet localhost 4040")) throw new Error("no TCP hint on the index page");
 * ```
 */
export interface RelayApp {
  /** Handles one request; pass it to `Deno.serve` or any runtime's server. */
  fetch(request: Request, env?: unknown): Response | Promise<Response>;
  /** Sends a request to the app in-process, without a network (handy in tests). */
  request(input: string | Request, init?: RequestInit): Response | Promise<Response>;
}

/**
 * Options for {@link createApp}.
 *
 * @example Allowing one other site's pages to connect
 * ```ts
 * import { type AppOptions, createApp, Relay } from "@crosswire/relay";
 * import { upgradeWebSocket } from "hono/deno";
 * const options: AppOptions = { upgradeWebSocket, allowOrigins: ["https://chat.example"] };
 * const app = createApp(new Relay(), options);
 * const from = (origin: string) => app.request("/ws", { headers: { origin } });
 * const denied = await from("https://evil.example");
 * // An allowed origin gets as far as the upgrade, which a plain GET cannot complete.
 * const allowed = await from("https://chat.example");
 * if (denied.status !== 403 || allowed.status !== 426) throw new Error("origin check failed");
 * ```
 */
export interface AppOptions {
  /** The runtime's Hono WebSocket upgrader, e.g. `upgradeWebSocket` from `hono/deno`. */
  upgradeWebSocket: UpgradeWebSocketFn;
  /** TCP port to mention on the index page, when a TCP listener runs. @default undefined */
  tcpPort?: number;
  /**
   * Reads the peer's address from a request and the runtime's env (whatever
   * was passed as `fetch`'s second argument), for per-address limits.
   * @default undefined
   */
  remoteAddress?: (request: Request, env: unknown) => string | undefined;
  /**
   * Reads the admission ticket the server took when it accepted the
   * request's socket (see {@link Relay.admit}), so the WebSocket session
   * counts as that socket. Without one, the relay admits the session itself.
   * @default undefined
   */
  ticket?: (request: Request, env: unknown) => Ticket | undefined;
  /**
   * Browser origins allowed to open a WebSocket besides the server's own
   * (`"*"` allows any). Requests without an Origin header (terminals, servers)
   * are always allowed. @default []
   */
  allowOrigins?: readonly string[];
  /**
   * Host names (the request's Host header) answered besides localhost,
   * `*.localhost`, IP literals and the hosts of `allowOrigins`: `"*"` for
   * any, `"*.example.com"` for subdomains. Other hosts get 403 `host_denied`:
   * a page whose domain was rebound to this server's address gets nothing.
   * @default []
   */
  allowedHosts?: readonly string[];
  /**
   * Passed to `upgradeWebSocket` as its options, e.g. Deno's `{ idleTimeout }`.
   * @default undefined
   */
  upgradeOptions?: unknown;
  /**
   * Bytes a socket holds unsent, from the runtime's own socket (only its
   * adapter knows where: Bun's `getBufferedAmount()`, say). The WebSocket
   * port batches while a socket is busy and keeps the backlog in the relay's
   * queue, where slow consumers are caught, while it is congested.
   * @default the socket's `bufferedAmount`, as on a browser-style WebSocket (Deno, npm `ws`)
   */
  bufferedAmount?: (ws: { readonly raw?: unknown }) => number;
  /**
   * The bearer token backends present to the server API (`/api/...`) and to
   * `/metrics`. Without it the API is off (404) and `/metrics` is open.
   * @default undefined
   */
  apiKey?: string;
  /**
   * Writes `GET /metrics` (Prometheus): the servers pass prom-client's
   * (`server/_metrics_prometheus.ts`), which needs Node's built-in modules;
   * without it `/metrics` is 404 (Cloudflare Workers), `/api/stats` stays.
   * @default undefined
   */
  metrics?: MakeExposition;
}

// Cross-site WebSocket hijacking: a page on another site must not use a
// visitor's browser to talk to this server unless it is allowed.
function originAllowed(c: Context, allowed: readonly string[]): boolean {
  const origin = c.req.header("origin");
  if (origin === undefined || allowed.includes("*") || allowed.includes(origin)) return true;
  try {
    return new URL(origin).host === c.req.header("host");
  } catch {
    return false;
  }
}

/**
 * Builds the relay's HTTP app: `GET /ws` upgrades to WebSocket (426 without
 * upgrade headers), `GET /healthz` reports counts, `GET /` says how to connect.
 *
 * @param relay The relay that owns the sessions.
 * @param options The runtime's `upgradeWebSocket`, and what the index page shows.
 * @returns A Hono app; serve it with `Deno.serve(app.fetch)` or any Hono runtime.
 *
 * @example Serving the app with Deno
 * ```ts
 * import { createApp, Relay } from "@crosswire/relay";
 * import { upgradeWebSocket } from "hono/deno";
 * const app = createApp(new Relay(), { upgradeWebSocket });
 * const response = await app.request("/healthz");
 * if (response.status !== 200) throw new Error("unhealthy");
 * ```
 */
export function createApp(relay: Relay, options: AppOptions): RelayApp {
  const app = new Hono();
  const started = Date.now();

  const allowOrigins = options.allowOrigins ?? [];
  const bufferedAmount = options.bufferedAmount ?? standardBufferedAmount;
  const hostAllowed = hostAllowList([
    ...(options.allowedHosts ?? []),
    ...originHosts(allowOrigins),
  ]);
  // Every request, upgrades included: the Host must be one this server answers to.
  app.use(async (c, next) => {
    const host = c.req.header("host");
    if (hostAllowed(host)) return await next();
    const name = shownHost(host ?? "");
    return c.json({
      error: {
        code: "host_denied",
        message: `this server does not answer to the host "${name}"; ` +
          `to allow it, add --allowed-host ${name}`,
      },
    }, 403);
  });
  app.get(
    "/ws",
    async (c, next) => {
      if (originAllowed(c, allowOrigins)) return await next();
      return c.json({
        error: {
          code: "origin_denied",
          message: "WebSocket connections from this origin are not allowed",
        },
      }, 403);
    },
    (options.upgradeWebSocket as UpgradeWebSocket<unknown>)((c: Context) => {
      let session: Session | undefined;
      let port: ReturnType<typeof websocketPort> | undefined;
      const remoteAddress = options.remoteAddress?.(c.req.raw, c.env);
      const ticket = options.ticket?.(c.req.raw, c.env);
      // A browser cannot set headers on a WebSocket: its token comes in the URL, used at login.
      const token = c.req.query("token");
      const gone = () => {
        port?.dispose();
        session?.disconnect();
      };
      return {
        onOpen(_event, ws) {
          // A browser-style socket delivers Blobs, which only read asynchronously.
          const raw = ws.raw as { binaryType?: string } | undefined;
          if (raw?.binaryType === "blob") raw.binaryType = "arraybuffer";
          port = websocketPort(ws, bufferedAmount, () => {
            gone();
            try {
              ws.close(1011, "send failed");
            } catch { /* already closed */ }
          });
          session = relay.connect(port, {
            ...(remoteAddress === undefined ? {} : { remoteAddress }),
            ...(ticket === undefined ? {} : { ticket }),
            ...(token === undefined || token === "" ? {} : { token }),
          });
        },
        onMessage(event) {
          if (!session) return;
          const data = event.data;
          if (typeof data === "string") return session.receiveText(data);
          const bytes = messageBytes(data);
          if (bytes) return session.receiveBinary(bytes);
          // A Blob can only be read asynchronously, which would reorder messages.
          session.close(CloseCode.unsupportedData, "unsupported binary type");
        },
        onClose: gone,
        onError: gone,
      };
    }, options.upgradeOptions),
    (c) =>
      c.json({
        error: {
          code: "upgrade_required",
          message: "GET /ws expects a WebSocket upgrade (Connection: Upgrade, Upgrade: websocket)",
        },
      }, 426),
  );

  mountApi(app, relay, options.apiKey);
  mountMetrics(app, relay, options.apiKey, options.metrics);

  // 503 while degraded (the backplane is away), so a load balancer looks elsewhere.
  app.get("/healthz", async (c) => {
    const report = await relay.health();
    const uptimeSeconds = Math.round((Date.now() - started) / 1000);
    return c.json({ ...report, uptimeSeconds }, report.status === "ok" ? 200 : 503);
  });

  // The chat page (web/, built into _web_assets.ts). Its CSP allows only the
  // page's own script and style files: no inline script, no eval, no other hosts.
  const pageHeaders = {
    "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self'; " +
      "img-src 'self' blob:; connect-src 'self'; base-uri 'none'; form-action 'none'; " +
      "frame-ancestors 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-cache",
    "vary": "accept",
  };
  const asset = (body: string, type: string) => () =>
    new Response(body, {
      headers: {
        "content-type": type,
        "x-content-type-options": "nosniff",
        "cache-control": "no-cache",
      },
    });
  app.get("/app.js", asset(APP_JS, "text/javascript; charset=utf-8"));
  app.get("/style.css", asset(STYLE_CSS, "text/css; charset=utf-8"));
  app.get("/favicon.svg", asset(FAVICON_SVG, "image/svg+xml"));

  app.get("/", (c) => {
    // Browsers ask for text/html; curl and scripts keep the plain-text description.
    if ((c.req.header("accept") ?? "").includes("text/html")) {
      return new Response(INDEX_HTML, {
        headers: { ...pageHeaders, "content-type": "text/html; charset=utf-8" },
      });
    }
    const host = c.req.header("host") ?? "localhost";
    const scheme = new URL(c.req.url).protocol === "https:" ? "wss" : "ws";
    const hostname = host.replace(/:\d+$/, "");
    // The description below as JSON, for programs: the chat page's invitation needs the TCP port.
    if ((c.req.header("accept") ?? "").includes("application/json")) {
      const tcp = options.tcpPort === undefined ? {} : {
        tcp: { host: hostname, port: options.tcpPort },
      };
      return c.json({ websocket: `${scheme}://${host}/ws`, ...tcp }, 200, { "vary": "accept" });
    }
    const lines = [
      "crosswire: a real-time relay where telnet, terminal and WebSocket clients share rooms.",
      "",
      `WebSocket: ${scheme}://${host}/ws  (one JSON object per frame; see docs/PROTOCOL.md)`,
    ];
    if (options.tcpPort !== undefined) {
      lines.push(
        `TCP:       telnet ${hostname} ${options.tcpPort}  (or: nc ${hostname} ${options.tcpPort})`,
      );
    }
    lines.push(`Browser:   ${scheme === "wss" ? "https" : "http"}://${host}/`);
    lines.push("Health:    GET /healthz", "");
    return c.text(lines.join("\n"), 200, { "vary": "accept" });
  });

  app.notFound((c) => c.json({ error: { code: "not_found", message: "no such path" } }, 404));
  return app;
}
