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
 * // Browsers connect to ws://127.0.0.1:<httpAddr.port>/ws, telnet to tcpAddr.port.
 * const health = await fetch(`http://127.0.0.1:${server.httpAddr.port}/healthz`);
 * const { node } = await health.json();
 * await server.shutdown();
 * if (node.users !== 0 || server.tcpAddr === undefined) throw new Error("unexpected state");
 * ```
 *
 * @module
 */
export { LOBBY, Relay } from "./core/relay.ts";
export type { HealthReport, RelayGauges, RelayStats } from "./core/relay.ts";
export type { RelayLimits, RelayOptions } from "./core/limits.ts";
export { Ticket } from "./core/admission.ts";
export { Session } from "./core/session.ts";
export type { Departure, Port, SessionState } from "./core/session.ts";
export { MemoryEngine } from "./core/memory_engine.ts";
export type { MemoryEngineOptions } from "./core/memory_engine.ts";
export type {
  ClusterCounts,
  Engine,
  EngineHost,
  EngineStatus,
  Envelope,
  HistoryLimits,
  HistoryRead,
  MaybePromise,
  Member,
  NameClaim,
  Parked,
  Presence,
  Recorded,
  RoomPage,
  Ruling,
  StreamName,
  Unparked,
} from "./core/engine.ts";
export { rulingKey } from "./core/engine.ts";
export { grantsFor, roomMatches } from "./core/auth.ts";
export type { Authenticator, Grant, Identity, RoomGrants } from "./core/auth.ts";
export { policyFor } from "./core/policies.ts";
export type { RoomPolicies, RoomPolicy } from "./core/policies.ts";
export { RelayCounters } from "./core/counters.ts";
export { ServerApi } from "./core/server_api.ts";
export type { ApiContent } from "./core/server_api.ts";
export type { PerTransport, Traffic, Transport } from "./core/counters.ts";
export { OutboundQueue } from "./core/outbound_queue.ts";
export { Outgoing, WireFormat } from "./core/outgoing.ts";
export type { Frame } from "./core/outgoing.ts";
export { CloseCode, RelayError } from "./core/errors.ts";
export type { ErrorCode } from "./core/errors.ts";
export { PROTOCOL_VERSION } from "./core/protocol.ts";
export type {
  AnnouncedLimits,
  DirectEvent,
  ErrorEvent,
  FileInfo,
  HelloEvent,
  HistoryEvent,
  JoinedEvent,
  LeftEvent,
  MessageEvent,
  ModeratedEvent,
  NoticeEvent,
  PongEvent,
  Position,
  PresenceEvent,
  RenamedEvent,
  RoomsEvent,
  ServerEvent,
  TopicEvent,
  WelcomeEvent,
} from "./core/protocol.ts";
export { decodeBinaryFrame, encodeBinaryFrame } from "./core/binary_frame.ts";
export { createApp, serveTcp, startServer } from "./server/mod.ts";
export type {
  AppOptions,
  Exposition,
  MakeExposition,
  MetricsSource,
  RelayApp,
  RunningServer,
  ServerOptions,
  TcpServer,
  UpgradeWebSocketFn,
} from "./server/mod.ts";
