// The crosswire server on Bun: the shared Hono app on Bun.serve, TCP on
// Bun.listen, the open-files limit from /proc; the rest is the wiring every
// runtime shares (server/_start.ts).

import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { readProcFdLimit } from "../../server/_fd_proc.ts";
import { ListenError } from "../../server/_listen_error.ts";
import { type RelayServer, startRelayServer } from "../../server/_start.ts";
import type { ServerOptions } from "../../server/options.ts";
import { serveBunHttp } from "./http.ts";
import { bindBunTcp } from "./tcp.ts";

// Bun reports a host name that does not resolve as a port in use (Bun.serve)
// or with no code at all (Bun.listen): look it up first, to say what it is.
async function checkHostname(hostname: string): Promise<void> {
  if (isIP(hostname) !== 0) return;
  try {
    await lookup(hostname);
  } catch (error) {
    throw new ListenError("host_not_found", `cannot resolve host "${hostname}"`, {
      cause: error,
    });
  }
}

/**
 * Starts the HTTP/WebSocket and TCP listeners for one relay on Bun, as
 * `startServer` does on Deno. Rejects with a ListenError when a port is taken
 * or the host is not this machine's.
 */
export async function startServer(options: ServerOptions = {}): Promise<RelayServer> {
  await checkHostname(options.hostname ?? "0.0.0.0");
  return await startRelayServer(options, {
    readFdLimit: readProcFdLimit,
    bindTcp: bindBunTcp,
    serveHttp: serveBunHttp,
  });
}
