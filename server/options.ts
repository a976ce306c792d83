// The options of a crosswire server, the same on every runtime.

import type { Relay, RelayOptions } from "../core/mod.ts";

/**
 * Options for `startServer` (on Deno; the Node and Bun servers take the same).
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
  /**
   * A port that speaks only IRC (6667 is usual); 0 picks a free one; null
   * leaves it off. IRC clients also work on `tcpPort`, found by their first
   * line. TLS with `tls`, as on `tcpPort`. @default null
   */
  ircPort?: number | null;
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
   * The bearer token for the server API (`/api/...`) and `/metrics`; without
   * it the API is off and `/metrics` is open. @default undefined
   */
  apiKey?: string;
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
