/**
 * The crosswire client: a library that logs in to a relay over WebSocket
 * (`ws://`, `wss://`, in Deno or a browser) or TCP (`tcp://`, Deno only), and a
 * terminal client built on it.
 *
 * Run the terminal client with
 * `deno run -A client/mod.ts [--url URL] [--name NAME | --token TOKEN]`; `--help`
 * lists the flags. Importing this module loads only the library.
 *
 * The client keeps its session when the connection drops: it reconnects with
 * backoff, resumes the session (or logs in again and rejoins its rooms from the
 * last position seen in each), and delivers what it missed in order, once,
 * with a `gap` event where the relay no longer had it. `client.saved()` and
 * `connect(url, { name, resume })` carry a session across a page reload.
 *
 * On a relay that checks tokens, `connect(url, { token })` logs in with one
 * (the relay names the user); `client.refresh(token)` replaces it before it
 * runs out, and a `token` function is asked for a fresh token whenever one is
 * needed. The client does not reconnect after a kick (4010), a ban (4011), a
 * refused token, or a token that ran out (4003) unless a function can give a
 * new one. Moderators' actions arrive as `moderated` events, topics as
 * `topic` events.
 *
 * @example Two clients on different transports share a room
 * ```ts
 * import { startServer } from "@crosswire/relay";
 * import { connect } from "@crosswire/relay/client";
 * const server = await startServer({ hostname: "127.0.0.1", port: 0, tcpPort: 0 });
 * const ann = await connect(`ws://127.0.0.1:${server.httpAddr.port}/ws`, { name: "ann" });
 * const bob = await connect(`tcp://127.0.0.1:${server.tcpAddr!.port}`, { name: "bob" });
 * const heard = new Promise<string>((resolve) => bob.on("message", (m) => resolve(m.text ?? "")));
 * ann.send("lobby", "hi from the browser side");
 * if (await heard !== "hi from the browser side") throw new Error("not relayed");
 * await Promise.all([ann.close(), bob.close()]);
 * await server.shutdown();
 * ```
 *
 * @module
 */
export { connect, CrosswireClient } from "./client.ts";
export type {
  ClientEvent,
  ClientEventOf,
  ClientEventType,
  ConnectionCloseEvent,
  GapEvent,
  ReconnectingEvent,
  Recovery,
  ResumedEvent,
} from "./events.ts";
export type {
  ConnectOptions,
  FileOptions,
  FileTarget,
  HistoryOptions,
  HistoryResult,
  JoinOptions,
  ModerationRequest,
  ReconnectOptions,
  SavedSession,
  TextOptions,
  TokenSource,
} from "./options.ts";
export { CrosswireClientError } from "./errors.ts";
export type { ClientErrorCode } from "./errors.ts";
export type { Transport, TransportReceiver } from "./transport.ts";
export { openWebSocket } from "./websocket_transport.ts";
export type { WebSocketOptions } from "./websocket_transport.ts";
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
} from "../core/protocol.ts";
export type { ErrorCode } from "../core/errors.ts";

if (import.meta.main) {
  const { main } = await import("./cli.ts");
  Deno.exit(await main(Deno.args));
}
