// The server on any runtime: one Relay, its HTTP/WebSocket port and its TCP
// port, every socket on both counted by one gate, within the open-files
// limit; one sweep timer; and an orderly shutdown. What differs per runtime
// comes in as a ServerRuntime (_runtime.ts).

import { Relay } from "../core/mod.ts";
import { fdBudget, type FdLimit } from "./_fd_budget.ts";
import { ConnectionGate } from "./_gate.ts";
import { onPort } from "./_listen_error.ts";
import type { BoundTcp, Listening, NetAddr, ServerRuntime } from "./_runtime.ts";
import type { ServerOptions } from "./options.ts";

/** A running server, on whichever runtime (Deno's `RunningServer` has this shape). */
export interface RelayServer {
  readonly relay: Relay;
  readonly httpAddr: NetAddr;
  readonly tcpAddr: NetAddr | undefined;
  readonly ircAddr: NetAddr | undefined;
  readonly capacity: {
    readonly maxConnections: number;
    readonly limitedByFileDescriptors: boolean;
    readonly fileDescriptors: FdLimit | undefined;
  };
  shutdown(deadlineMs?: number): Promise<void>;
}

/** Starts a relay server with `runtime`'s listeners; see `startServer` in serve.ts. */
export async function startRelayServer(
  options: ServerOptions,
  runtime: ServerRuntime,
): Promise<RelayServer> {
  const hostname = options.hostname ?? "0.0.0.0";
  const tcpPort = options.tcpPort === undefined ? 4040 : options.tcpPort;
  const ircPort = options.ircPort ?? null;
  // Every socket is a file descriptor: admit fewer than the process may open.
  const fdLimit = runtime.readFdLimit();
  const budget = fdBudget(fdLimit);
  const owned = options.relayInstance === undefined;
  const configured = options.relay?.maxConnections ?? 10_000;
  const relay = options.relayInstance ??
    new Relay({ ...options.relay, maxConnections: Math.min(configured, budget.maxSockets) });
  const maxConnections = Math.min(relay.limits.maxConnections, budget.maxSockets);
  const onError = options.relay?.onError ?? ((error: unknown) => console.error(error));
  if (owned) await relay.start();

  // Bind TCP first: if any port is taken, nothing is left half-started.
  let bound: BoundTcp | undefined;
  let boundIrc: BoundTcp | undefined;
  try {
    bound = tcpPort === null ? undefined : await runtime.bindTcp(hostname, tcpPort, options.tls);
  } catch (error) {
    if (owned) await relay.engine.close();
    throw onPort(error, { transport: "TCP", port: tcpPort! });
  }
  try {
    boundIrc = ircPort === null ? undefined : await runtime.bindTcp(hostname, ircPort, options.tls);
  } catch (error) {
    bound?.close();
    if (owned) await relay.engine.close();
    throw onPort(error, { transport: "IRC", port: ircPort! });
  }
  const gate = new ConnectionGate(relay, budget.maxSockets, budget.maxRefusing);
  let http: Listening;
  try {
    http = await runtime.serveHttp({
      relay,
      gate,
      options,
      hostname,
      port: options.port ?? 8080,
      backlog: budget.backlog,
      tcpPort: bound?.addr.port,
      onError,
    });
  } catch (error) {
    bound?.close();
    boundIrc?.close();
    if (owned) await relay.engine.close();
    throw onPort(error, { transport: "HTTP", port: options.port ?? 8080 });
  }
  const tcp = bound?.serve(relay, gate);
  const irc = boundIrc?.serve(relay, gate, "irc");
  // One timer for the whole relay: idle and login deadlines, slow consumers, pauses.
  const sweeper = setInterval(() => relay.sweep(), 1000);

  let stopping: Promise<void> | undefined;
  const shutdown = (deadlineMs = 3000) =>
    stopping ??= (async () => {
      clearInterval(sweeper);
      tcp?.stop();
      irc?.stop();
      http.stop();
      relay.close();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const deadline = new Promise<"late">((resolve) =>
        timer = setTimeout(() => resolve("late"), deadlineMs)
      );
      const drained = Promise.all([http.finished, tcp?.finished, irc?.finished]);
      const outcome = await Promise.race([drained, deadline]);
      clearTimeout(timer);
      if (outcome === "late") {
        tcp?.destroyAll();
        irc?.destroyAll();
        http.destroyAll();
        await drained;
      }
      if (owned) await relay.engine.close();
    })();

  return {
    relay,
    httpAddr: http.addr,
    tcpAddr: tcp?.addr,
    ircAddr: irc?.addr,
    capacity: {
      maxConnections,
      limitedByFileDescriptors: budget.maxSockets < relay.limits.maxConnections ||
        (owned && budget.maxSockets < configured),
      fileDescriptors: fdLimit,
    },
    shutdown,
  };
}
