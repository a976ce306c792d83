/**
 * The runtime-agnostic relay core: only web-standard APIs, nothing from the Deno namespace.
 *
 * @module
 */
export { LOBBY, Relay } from "./relay.ts";
export type { HealthReport, RelayGauges, RelayStats } from "./relay.ts";
export type { RelayLimits, RelayOptions } from "./limits.ts";
export { addressKey, Admission, Ticket } from "./admission.ts";
export type { AdmissionLimits } from "./admission.ts";
export { Session } from "./session.ts";
export type { Departure, Port, SessionState } from "./session.ts";
export { MemoryEngine } from "./memory_engine.ts";
export type { MemoryEngineOptions } from "./memory_engine.ts";
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
} from "./engine.ts";
export { rulingKey } from "./engine.ts";
export { grantsFor, roomMatches } from "./auth.ts";
export type { Authenticator, Grant, Identity, RoomGrants } from "./auth.ts";
export { policyFor } from "./policies.ts";
export type { RoomPolicies, RoomPolicy } from "./policies.ts";
export { RelayCounters } from "./counters.ts";
export { ServerApi } from "./server_api.ts";
export type { ApiContent } from "./server_api.ts";
export type { PerTransport, Traffic, Transport } from "./counters.ts";
export { OutboundQueue } from "./outbound_queue.ts";
export { Outgoing, WireFormat } from "./outgoing.ts";
export type { Frame } from "./outgoing.ts";
export { CloseCode, RelayError } from "./errors.ts";
export type { ErrorCode } from "./errors.ts";
export { PROTOCOL_VERSION } from "./protocol.ts";
export type * from "./protocol.ts";
export { BINARY_FRAME_VERSION, decodeBinaryFrame, encodeBinaryFrame } from "./binary_frame.ts";
export { LineDecoder } from "./line_decoder.ts";
export { cleanText } from "./sanitize.ts";
export { nameKey, validateName, validateRoom } from "./names.ts";
export { restoreSession, snapshotSession } from "./restore.ts";
export type { SessionSnapshot } from "./restore.ts";
