// Deno wiring: one Relay, the Hono app on node:http(s) with `ws` for
// WebSockets, and the TCP listener on Deno.listen, every socket on both
// counted by one gate. The wiring itself is shared with the other runtimes
// (_start.ts); this file gives it Deno's parts.

import type { Relay } from "../core/mod.ts";
import { readFdLimit } from "./_fd_limit.ts";
import { ListenError } from "./_listen_error.ts";
import { serveNodeHttpApp } from "./_node_http_app.ts";
import type { ServerRuntime } from "./_runtime.ts";
import { startRelayServer } from "./_start.ts";
import type { ServerOptions } from "./options.ts";
import { serveTcpGated } from "./tcp.ts";

export type { ServerOptions } from "./options.ts";

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
  /** The bound IRC-only port's address, or undefined when it is off (the default). */
  readonly ircAddr: Deno.NetAddr | undefined;
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
  try {
    return await startRelayServer(options, DENO);
  } catch (error) {
    throw denoError(error);
  }
}

// Deno's part: the limit through FFI (or /proc), TCP on Deno.listen(Tls),
// HTTP on node:http like Node's.
const DENO: ServerRuntime = {
  readFdLimit,
  bindTcp(hostname, port, tls) {
    let listener: Deno.Listener;
    try {
      listener = tls
        ? Deno.listenTls({ hostname, port, cert: tls.cert, key: tls.key })
        : Deno.listen({ hostname, port });
    } catch (error) {
      // Deno reports a host name that does not resolve as a plain Error.
      if (/failed to lookup address/.test((error as Error).message)) {
        throw new Deno.errors.NotFound(`cannot resolve host "${hostname}"`, { cause: error });
      }
      throw error;
    }
    return {
      addr: listener.addr as Deno.NetAddr,
      serve: (relay, gate, framing) => serveTcpGated(relay, listener, gate, framing),
      close: () => listener.close(),
    };
  },
  serveHttp: serveNodeHttpApp,
};

// The shared listeners' ListenErrors as the Deno.errors this function is documented to throw.
function denoError(error: unknown): unknown {
  if (!(error instanceof ListenError)) return error;
  const DenoError = {
    addr_in_use: Deno.errors.AddrInUse,
    addr_not_available: Deno.errors.AddrNotAvailable,
    host_not_found: Deno.errors.NotFound,
    permission_denied: Deno.errors.PermissionDenied,
  }[error.failure];
  // `where` says which port, for the CLI's message.
  return Object.assign(new DenoError(error.message, { cause: error.cause }), {
    where: error.where,
  });
}
