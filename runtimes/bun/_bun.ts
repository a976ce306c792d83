// The few Bun APIs the Bun adapter uses, typed here by their shape: Bun's own
// type declarations (bun-types) are not available to `deno check`. Only
// what is used is declared.

/** A WebSocket on a Bun server (`ServerWebSocket`). */
export interface BunServerWebSocket {
  /** Bytes sent and not yet taken by the system. */
  getBufferedAmount(): number;
}

/** What `Bun.serve` returns. */
export interface BunServer {
  readonly hostname: string;
  readonly port: number;
  /** Stops listening; resolves once every connection (WebSockets too) is closed. */
  stop(closeActiveConnections?: boolean): Promise<void>;
  /** The peer of `request`. */
  requestIP(request: Request): { address: string; family: string; port: number } | null;
}

/** The part of `Bun.serve`'s options that the adapter sets. */
export interface BunServeOptions {
  hostname: string;
  port: number;
  /** Seconds an HTTP connection may be idle (0 to 255). */
  idleTimeout: number;
  tls?: { cert: string; key: string };
  fetch(request: Request, server: BunServer): Response | Promise<Response> | undefined;
  error(error: Error): Response;
  /** Hono's handler (open, message, close) and the WebSocket options. */
  websocket: object & {
    maxPayloadLength: number;
    idleTimeout: number;
    sendPings: boolean;
    backpressureLimit: number;
    closeOnBackpressureLimit: boolean;
    perMessageDeflate: boolean;
  };
}

/** A TCP socket from `Bun.listen`, with its per-socket `data`. */
export interface BunSocket<Data> {
  data: Data;
  readonly remoteAddress: string;
  /** Writes what the system takes now; returns how many bytes that was (-1 when closed). */
  write(bytes: Uint8Array): number;
  /** Closes after what was written goes out. */
  end(): void;
  /** Closes at once. */
  terminate(): void;
  setNoDelay?(noDelay: boolean): boolean;
  setKeepAlive?(enable: boolean, initialDelayMs: number): boolean;
}

/** The handlers of `Bun.listen`. */
export interface BunSocketHandler<Data> {
  open(socket: BunSocket<Data>): void;
  data(socket: BunSocket<Data>, chunk: Uint8Array): void;
  /** The socket can take more after a short write. */
  drain(socket: BunSocket<Data>): void;
  /** The peer closed its side. */
  end(socket: BunSocket<Data>): void;
  close(socket: BunSocket<Data>, error?: Error): void;
  error(socket: BunSocket<Data>, error: Error): void;
}

/** What `Bun.listen` returns. */
export interface BunListener {
  readonly hostname: string;
  readonly port: number;
  stop(closeActiveConnections?: boolean): void;
}

/** The `Bun` global, as far as used. */
export interface BunApi {
  serve(options: BunServeOptions): BunServer;
  listen<Data>(options: {
    hostname: string;
    port: number;
    tls?: { cert: string; key: string };
    socket: BunSocketHandler<Data>;
  }): BunListener;
}

/** The `Bun` global; throws outside Bun. */
export function bunApi(): BunApi {
  const api = (globalThis as { Bun?: BunApi }).Bun;
  if (api === undefined) throw new Error("runtimes/bun runs on Bun: bun runtimes/bun/main.ts");
  return api;
}
