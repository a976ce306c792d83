/**
 * The runtime-agnostic relay core: only web-standard APIs, nothing from the Deno namespace.
 *
 * @module
 */
export { LOBBY, Relay } from "./relay.ts";
export type { HealthReport, RelayStats } from "./relay.ts";
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
  StreamName,
  Unparked,
} from "./engine.ts";
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
