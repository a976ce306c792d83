// What the CLI prints once it listens: where to connect (the lines launchers
// and tests wait for), who may do what, the open-files limit, and the cluster.

import type { RelayServer } from "../server/_start.ts";

/** How a started server is described. */
export interface StartupInfo {
  /** The host it was asked to bind. */
  readonly host: string;
  readonly tls: boolean;
  /** Why the open-files limit may be unknown on this runtime, e.g. "it is read with --allow-ffi". */
  readonly fdLimitHint: string;
  /** The cluster line's Redis URL (redacted) and prefix, for a cluster node. */
  readonly cluster?: { readonly url: string; readonly prefix: string } | undefined;
  /** Tokens, room rules, the admin password and the API, when any is on. */
  readonly access?: AccessInfo | undefined;
}

/** Who may do what, as the startup line tells it: never a secret, only whether one is set. */
export interface AccessInfo {
  /** How tokens are checked (e.g. "HS256"), or undefined when they are not. */
  readonly tokens: string | undefined;
  /** Whether users without a token are refused. */
  readonly requireAuth: boolean;
  /** The room rules: how many, and from which file. */
  readonly rules: { readonly count: number; readonly file: string } | undefined;
  /** Whether `/oper` has a password. */
  readonly adminPassword: boolean;
  /** Whether the server API (and a locked /metrics) is on. */
  readonly api: boolean;
}

/** The startup lines, each to be printed as it is. */
export function startupLines(server: RelayServer, info: StartupInfo): string[] {
  const { host, tls } = info;
  const shown = host === "0.0.0.0" || host === "::" ? "localhost" : host;
  const [ws, http] = tls ? ["wss", "https"] : ["ws", "http"];
  const authority = `${shown.includes(":") ? `[${shown}]` : shown}:${server.httpAddr.port}`;
  const lines = [
    `crosswire: WebSocket on ${ws}://${authority}/ws (web page: ${http}://${authority}/)`,
  ];
  if (server.tcpAddr) {
    const tcpPort = server.tcpAddr.port;
    const tryIt = tls
      ? `openssl s_client -quiet -connect ${shown}:${tcpPort}`
      : `telnet ${shown} ${tcpPort}`;
    lines.push(`crosswire: ${tls ? "TLS" : "TCP"} on ${shown}:${tcpPort} (try: ${tryIt})`);
  }
  if (server.ircAddr) {
    const ircPort = server.ircAddr.port;
    const tryIt = `irssi -c ${shown} -p ${ircPort}${tls ? " --tls" : ""}`;
    lines.push(`crosswire: IRC${tls ? " over TLS" : ""} on ${shown}:${ircPort} (try: ${tryIt})`);
  }
  const access = info.access && accessLine(info.access);
  if (access) lines.push(`crosswire: ${access}`);
  lines.push(`crosswire: ${capacityLine(server.capacity, info.fdLimitHint)}`);
  if (info.cluster) {
    lines.push(
      `crosswire: cluster node ${server.relay.engine.node} on Redis ${info.cluster.url} ` +
        `(prefix ${info.cluster.prefix})`,
    );
  }
  return lines;
}

/** Who may do what, in one line; undefined when nothing of it is on (as before tokens existed). */
export function accessLine(access: AccessInfo): string | undefined {
  const parts: string[] = [];
  if (access.tokens !== undefined) {
    parts.push(
      `tokens: ${access.tokens} (${access.requireAuth ? "required" : "anonymous users allowed"})`,
    );
  }
  if (access.rules) {
    const { count, file } = access.rules;
    parts.push(`room rules: ${count === 0 ? "none" : count} from ${file}`);
  }
  if (access.adminPassword) parts.push("admin password: set");
  if (access.api) parts.push("server API: on (/api, /metrics need the key)");
  return parts.length === 0 ? undefined : parts.join("; ");
}

/** What the server runs with: the open-files limit and the connections it admits. */
function capacityLine(capacity: RelayServer["capacity"], hint: string): string {
  const fds = capacity.fileDescriptors;
  const cap = `accepting up to ${capacity.maxConnections} connections`;
  if (fds === undefined) return `file descriptor limit unknown (${hint}); ${cap}`;
  const soft = fds.soft === Infinity ? "unlimited" : String(fds.soft);
  const how = fds.raisedFrom !== undefined
    ? `raised from ${fds.raisedFrom}`
    : fds.soft < fds.hard
    ? `hard limit ${fds.hard} out of reach`
    : "the hard limit";
  return `file descriptors: ${soft} (${how}; ${fds.inUse} in use); ${cap}` +
    (capacity.limitedByFileDescriptors ? " (fewer than configured, to stay within it)" : "");
}
