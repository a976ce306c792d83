// What a runtime gives the shared server wiring (_start.ts): how it reads the
// open-files limit, binds the TCP port, and serves the HTTP/WebSocket port.
// Deno and Node serve HTTP alike (node:http, _node_http_app.ts) and differ in
// TCP; Bun has its own of both.

import type { Relay } from "../core/mod.ts";
import type { FdLimit } from "./_fd_budget.ts";
import type { ConnectionGate } from "./_gate.ts";
import type { ServerOptions } from "./options.ts";
import type { TcpFraming } from "./_tcp_session.ts";

/** A bound address (the same shape as Deno.NetAddr). */
export interface NetAddr {
  readonly transport: "tcp" | "udp";
  readonly hostname: string;
  readonly port: number;
}

/** A listener that is serving. */
export interface Listening {
  /** The address actually bound (port 0 becomes a real port). */
  readonly addr: NetAddr;
  /** Stops accepting; open connections stay until the relay closes them. */
  stop(): void;
  /** Closes every connection now, without waiting for queued output. */
  destroyAll(): void;
  /** Resolves once stopped and every connection is closed. */
  readonly finished: Promise<void>;
}

/** A TCP port bound but not serving yet. */
export interface BoundTcp {
  /** The address actually bound. */
  readonly addr: NetAddr;
  /**
   * Serves relay sessions, every socket admitted through `gate`, speaking
   * `framing` (`"lines"` unless told: text mode, JSON or IRC by the first line).
   */
  serve(relay: Relay, gate: ConnectionGate, framing?: TcpFraming): Listening;
  /** Closes it unused (the HTTP port could not start). */
  close(): void;
}

/** PEM certificate chain and key. */
export interface TlsFiles {
  readonly cert: string;
  readonly key: string;
}

/** What the HTTP side of a server gets from the shared wiring. */
export interface HttpContext {
  readonly relay: Relay;
  /** Counts every socket on both ports. */
  readonly gate: ConnectionGate;
  /** The options the server was started with. */
  readonly options: ServerOptions;
  readonly hostname: string;
  readonly port: number;
  /** Listen backlog, from the descriptor budget. */
  readonly backlog: number;
  /** The TCP port, for the index page; undefined when TCP is off. */
  readonly tcpPort: number | undefined;
  /** Called with failures that are bugs. */
  readonly onError: (error: unknown) => void;
}

/** One runtime's part of a server. */
export interface ServerRuntime {
  /** The open-files limit, raised where the runtime can; undefined where unknown. */
  readFdLimit(): FdLimit | undefined;
  /**
   * Binds the TCP port (TLS with `tls`). Throws (or rejects) when it cannot,
   * with the runtime's own error or a ListenError.
   */
  bindTcp(
    hostname: string,
    port: number,
    tls: TlsFiles | undefined,
  ): BoundTcp | Promise<BoundTcp>;
  /** Serves the HTTP/WebSocket port; rejects with a ListenError when it cannot bind. */
  serveHttp(context: HttpContext): Promise<Listening>;
}
