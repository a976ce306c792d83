/**
 * crosswire: a real-time relay where telnet users, terminal clients and
 * browser tabs share rooms. The core ({@link Relay}) uses only web-standard
 * APIs; {@link createApp} is a Hono app that takes the runtime's
 * `upgradeWebSocket`; {@link startServer} and {@link serveTcp} wire both to Deno.
 *
 * @example Embed the relay in a Deno program
 * ```ts
 * import { startServer } from "@crosswire/relay";
 * const server = await startServer({ hostname: "127.0.0.1", port: 0, tcpPort: 0 });
 * console.log(`ws://127.0.0.1:${server.httpAddr.port}/ws`);
 * await server.shutdown();
 * ```
 *
 * @module
 */
export * from "./core/mod.ts";
export { createApp, serveTcp, startServer } from "./server/mod.ts";
export type { AppOptions, RunningServer, ServerOptions, TcpServer } from "./server/mod.ts";
