/**
 * Deno wiring for the relay: the Hono app, the TCP listener, and both together.
 *
 * @module
 */
export { createApp } from "./app.ts";
export type { AppOptions, RelayApp, UpgradeWebSocketFn } from "./app.ts";
export type { Exposition, MakeExposition, MetricsSource } from "./metrics_source.ts";
export { serveTcp } from "./tcp.ts";
export type { TcpServer } from "./tcp.ts";
export { startServer } from "./serve.ts";
export type { RunningServer, ServerOptions } from "./serve.ts";
