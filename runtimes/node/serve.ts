// The crosswire server on Node: the same node:http(s) + `ws` port as on Deno
// (server/_node_http_app.ts), TCP on node:net, the open-files limit from /proc.

import { readProcFdLimit } from "../../server/_fd_proc.ts";
import { serveNodeHttpApp } from "../../server/_node_http_app.ts";
import { type RelayServer, startRelayServer } from "../../server/_start.ts";
import type { ServerOptions } from "../../server/options.ts";
import { bindNodeTcp } from "./tcp.ts";

/**
 * Starts the HTTP/WebSocket and TCP listeners for one relay on Node, as
 * `startServer` does on Deno. Rejects with a ListenError when a port is taken
 * or the host is not this machine's.
 */
export function startServer(options: ServerOptions = {}): Promise<RelayServer> {
  return startRelayServer(options, {
    readFdLimit: readProcFdLimit,
    bindTcp: bindNodeTcp,
    serveHttp: serveNodeHttpApp,
  });
}
