/**
 * The crosswire server: `deno task start [flags]`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import type { Engine, RelayOptions } from "./core/mod.ts";
import { type RunningServer, type ServerOptions, startServer } from "./server/mod.ts";

const HELP = `crosswire: a real-time relay for telnet, terminal and WebSocket clients

Usage: deno task start [flags]

  --host HOST              interface to bind (default 0.0.0.0)
  --port PORT              HTTP/WebSocket port (default $PORT or 8080)
  --tcp-port PORT          raw TCP port for telnet/netcat (default 4040)
  --no-tcp                 do not listen on TCP
  --motd TEXT              message shown to every user at login
  --announce-every SECONDS broadcast the server time this often (default off)

A cluster (several processes on one Redis act as one relay):
  --redis URL              redis:// or rediss:// URL, with user and password if needed
                           (default $REDIS_URL; without either, one node in memory)
  --redis-prefix PREFIX    prefix of every Redis key and channel (default crosswire:)
  --node-timeout SECONDS   a node that stops renewing its lease is dead this long after:
                           its users leave the other nodes' rooms (default 15, at least 5)
  --redis-wait SECONDS     how long to retry an unreachable Redis at startup (default 10)

TLS and browsers:
  --cert FILE --key FILE   PEM certificate chain and key: HTTPS/WSS, and TLS on TCP
  --allow-origin ORIGIN    let pages from ORIGIN open WebSockets (repeatable; * for any)
  --allowed-host HOST      answer requests for HOST too, besides localhost, IP addresses,
                           --host and the --allow-origin hosts (repeatable; *.DOMAIN; * for any)

Limits (every one finite by default):
  --max-connections N      open connections in total, both ports (default 10000; fewer
                           when the open-files limit is lower)
  --max-per-address N      open connections from one address (default 100)
  --max-pending-per-address N
                           connections from one address not logged in yet (default 16)
  --login-timeout SECONDS  close connections not logged in by then (default 30)
  --max-login-bytes N      bytes a connection may send before it logs in (default 16384)
  --idle-timeout SECONDS   close clients silent this long; 0 = never (default 300)
  --keepalive SECONDS      WebSocket ping interval; 0 = off (default 30)
  --headers-timeout SECONDS
                           time to send an HTTP request head (default 10)
  --request-timeout SECONDS
                           time to send a whole HTTP request (default 30)
  --http-idle-timeout SECONDS
                           idle time between requests on one HTTP connection (default 5)
  --max-line-bytes N       longest text-mode TCP line (default 8192)
  --max-text-bytes N       longest chat message (default 8192)
  --max-file-bytes N       largest shared file (default 1048576)
  --max-queued-bytes N     output queued for one client before it counts as behind
                           (default 8388608)
  --slow-consumer-seconds SECONDS
                           how long a client may stay behind before it is dropped (default 10)
  --rate N                 messages per second per client, sustained (default 20)
  --rate-burst N           messages per client in a burst (default 50)
  --rate-bytes N           bytes per second per client, sustained (default 1048576)
  --direct-rate N          private messages one user may receive per second (default 20)
  --direct-rate-bytes N    bytes of private messages one user may receive per second
                           (default 1048576)
  --room-rate-bytes N      bytes per second said in one room, by everyone (default 2097152)
  --max-rooms-per-user N   rooms one user may be in (default 32)
  --max-rooms-per-address N
                           rooms that users from one address may have created (default 100)
  --quiet-room-size N      rooms bigger than this stop announcing joins and leaves (default 500)
  --name-grace SECONDS     how long a dropped user's name stays reserved for them;
                           0 = not at all (default 60)
  --history N              messages each room keeps for late and returning users;
                           0 = none (default 100)
  --history-ttl SECONDS    how long a kept message stays (default 600)
  --history-bytes N        bytes each room keeps, files included (default 2097152)
  --history-on-join N      lines a telnet user is shown on /join; 0 = none (default 10)
  --resume-window SECONDS  how long a dropped client's session (name, rooms, missed
                           messages) waits for it to come back; 0 = off (default 120)

  --help                   show this help
`;

const LIMIT_FLAGS = {
  "max-connections": "maxConnections",
  "max-per-address": "maxConnectionsPerAddress",
  "max-pending-per-address": "maxPendingPerAddress",
  "max-login-bytes": "maxLoginBytes",
  "max-line-bytes": "maxLineBytes",
  "max-text-bytes": "maxTextBytes",
  "max-file-bytes": "maxFileBytes",
  "max-queued-bytes": "maxQueuedBytes",
  "rate": "rateMessagesPerSecond",
  "rate-burst": "rateMessageBurst",
  "rate-bytes": "rateBytesPerSecond",
  "direct-rate": "directMessagesPerSecond",
  "direct-rate-bytes": "directBytesPerSecond",
  "room-rate-bytes": "roomBytesPerSecond",
  "max-rooms-per-user": "maxRoomsPerSession",
  "max-rooms-per-address": "maxRoomsPerAddress",
  "quiet-room-size": "maxAnnouncedRoomSize",
  "history": "historySize",
  "history-bytes": "historyBytes",
  "history-on-join": "historyOnJoin",
} as const satisfies Record<string, keyof RelayOptions>;

/** Relay options given in seconds on the command line; the relay takes milliseconds. */
const SECONDS_FLAGS = {
  "login-timeout": "loginTimeoutMs",
  "slow-consumer-seconds": "slowConsumerMs",
  "name-grace": "nameGraceMs",
  "history-ttl": "historyTtlMs",
  "resume-window": "resumeWindowMs",
} as const satisfies Record<string, keyof RelayOptions>;

/** Flags for which 0 means "none" or "off". */
const ZERO_FLAGS = new Set(["name-grace", "resume-window", "history", "history-on-join"]);

/** Server options in seconds. */
const SERVER_SECONDS_FLAGS = {
  "keepalive": "keepaliveSeconds",
  "headers-timeout": "headersTimeoutSeconds",
  "request-timeout": "requestTimeoutSeconds",
  "http-idle-timeout": "httpIdleSeconds",
} as const satisfies Record<string, keyof ServerOptions>;

const STRING_FLAGS = [
  ...Object.keys(LIMIT_FLAGS),
  ...Object.keys(SECONDS_FLAGS),
  ...Object.keys(SERVER_SECONDS_FLAGS),
] as (keyof typeof LIMIT_FLAGS | keyof typeof SECONDS_FLAGS | keyof typeof SERVER_SECONDS_FLAGS)[];

function fail(message: string): never {
  console.error(`crosswire: ${message}`);
  Deno.exit(1);
}

function portNumber(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    fail(`${flag} must be a port number from 0 to 65535, not "${value}"`);
  }
  return port;
}

function positiveNumber(flag: string, value: string, allowZero = false): number {
  const number = Number(value);
  if (!Number.isFinite(number) || number < 0 || (number === 0 && !allowZero)) {
    fail(`--${flag} must be a number ${allowZero ? "of 0 or more" : "above 0"}, not "${value}"`);
  }
  return number;
}

function readPem(flag: string, path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch (error) {
    fail(`cannot read --${flag} ${path}: ${(error as Error).message}`);
  }
}

function parseFlags(args: string[]) {
  try {
    return parseArgs({
      args,
      options: {
        host: { type: "string", default: "0.0.0.0" },
        port: { type: "string" },
        "tcp-port": { type: "string" },
        "no-tcp": { type: "boolean", default: false },
        motd: { type: "string" },
        "announce-every": { type: "string" },
        cert: { type: "string" },
        key: { type: "string" },
        "allow-origin": { type: "string", multiple: true, default: [] },
        "allowed-host": { type: "string", multiple: true, default: [] },
        redis: { type: "string" },
        "redis-prefix": { type: "string" },
        "node-timeout": { type: "string" },
        "redis-wait": { type: "string" },
        "idle-timeout": { type: "string" },
        ...Object.fromEntries(
          STRING_FLAGS.map((flag) => [flag, { type: "string" as const }]),
        ) as Record<(typeof STRING_FLAGS)[number], { type: "string" }>,
        help: { type: "boolean", short: "h", default: false },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    fail(`${(error as Error).message}\nRun with --help to see the flags.`);
  }
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const HOST_NAME =
  /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i;

/** Fails unless `host` is an IPv4 or IPv6 address or a well-formed host name. */
function checkHost(host: string): void {
  const bad = (why: string) => fail(`--host ${JSON.stringify(host)} is not ${why}`);
  if (host.includes(":")) {
    try {
      if (new URL(`http://[${host}]/`).hostname.startsWith("[")) return;
    } catch { /* falls through */ }
    return bad("an IPv6 address");
  }
  if (/^[\d.]+$/.test(host)) return IPV4.test(host) ? undefined : bad("an IPv4 address");
  if (!HOST_NAME.test(host)) bad("an IP address or a host name");
}

async function main(args: string[]): Promise<void> {
  const flags = parseFlags(args);
  if (flags.help) {
    console.log(HELP);
    return;
  }
  const host = flags.host;
  checkHost(host);
  const port = portNumber("--port", flags.port ?? Deno.env.get("PORT"), 8080);
  const tcpPort = flags["no-tcp"] ? null : portNumber("--tcp-port", flags["tcp-port"], 4040);
  let announceSeconds = 0;
  if (flags["announce-every"] !== undefined) {
    announceSeconds = Number(flags["announce-every"]);
    if (!(announceSeconds > 0)) fail("--announce-every must be a number of seconds above 0");
  }

  const relay: RelayOptions = flags.motd === undefined ? {} : { motd: flags.motd };
  for (const [flag, option] of Object.entries(LIMIT_FLAGS)) {
    const value = flags[flag as keyof typeof LIMIT_FLAGS];
    if (value !== undefined) relay[option] = positiveNumber(flag, value, ZERO_FLAGS.has(flag));
  }
  for (const [flag, option] of Object.entries(SECONDS_FLAGS)) {
    const value = flags[flag as keyof typeof SECONDS_FLAGS];
    // A timeout of 0 would close everyone; a grace or a window of 0 turns it off.
    if (value !== undefined) {
      relay[option] = positiveNumber(flag, value, ZERO_FLAGS.has(flag)) * 1000;
    }
  }
  if (flags["idle-timeout"] !== undefined) {
    relay.idleTimeoutMs = positiveNumber("idle-timeout", flags["idle-timeout"], true) * 1000;
  }
  const redisUrl = flags.redis ?? Deno.env.get("REDIS_URL");
  // Only a cluster node loads the Redis client.
  const redis = redisUrl === undefined ? undefined : await import("./redis/mod.ts");
  if (redis) relay.engine = redisEngine(redis, redisUrl!, flags, relay);
  const options: ServerOptions = {
    hostname: host,
    port,
    tcpPort,
    relay,
    allowOrigins: flags["allow-origin"],
    allowedHosts: flags["allowed-host"],
  };
  for (const [flag, option] of Object.entries(SERVER_SECONDS_FLAGS)) {
    const value = flags[flag as keyof typeof SERVER_SECONDS_FLAGS];
    // Only the ping interval may be 0 (off); a deadline of 0 would refuse everyone.
    if (value !== undefined) options[option] = positiveNumber(flag, value, flag === "keepalive");
  }
  if ((flags.cert === undefined) !== (flags.key === undefined)) {
    fail("--cert and --key go together");
  }
  const tls = flags.cert !== undefined && flags.key !== undefined
    ? { cert: readPem("cert", flags.cert), key: readPem("key", flags.key) }
    : undefined;
  if (tls) options.tls = tls;

  let server;
  try {
    server = await startServer(options);
  } catch (error) {
    const message = (error as Error).message;
    if (error instanceof Deno.errors.AddrInUse) {
      fail(
        `a port is already in use (HTTP ${port}${
          tcpPort === null ? "" : `, TCP ${tcpPort}`
        }); pick another with --port or --tcp-port`,
      );
    }
    if (error instanceof Deno.errors.NotFound) {
      fail(`cannot listen on --host ${host}: no such host name`);
    }
    if (error instanceof Deno.errors.AddrNotAvailable) {
      fail(`cannot listen on --host ${host}: not an address of this machine`);
    }
    if (error instanceof Deno.errors.PermissionDenied) fail(`not allowed to listen: ${message}`);
    if (error instanceof RangeError) fail(message);
    if (redis && error instanceof redis.RedisUnreachableError) fail(message);
    if (tls) fail(`could not start TLS: ${message}`);
    throw error;
  }

  // One timer for everyone, not one per connection.
  const announcer = announceSeconds > 0
    ? setInterval(
      () => server.relay.announce(`Server time: ${new Date().toISOString()}`),
      announceSeconds * 1000,
    )
    : undefined;
  const stop = async () => {
    console.log("crosswire: shutting down");
    clearInterval(announcer);
    await server.shutdown();
    Deno.exit(0);
  };
  // Before the startup lines: a supervisor may signal as soon as it sees them.
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);

  const shown = host === "0.0.0.0" || host === "::" ? "localhost" : host;
  const [ws, http] = tls ? ["wss", "https"] : ["ws", "http"];
  const authority = `${shown.includes(":") ? `[${shown}]` : shown}:${server.httpAddr.port}`;
  console.log(
    `crosswire: WebSocket on ${ws}://${authority}/ws (web page: ${http}://${authority}/)`,
  );
  if (server.tcpAddr) {
    const tcpPort = server.tcpAddr.port;
    const tryIt = tls
      ? `openssl s_client -quiet -connect ${shown}:${tcpPort}`
      : `telnet ${shown} ${tcpPort}`;
    console.log(`crosswire: ${tls ? "TLS" : "TCP"} on ${shown}:${tcpPort} (try: ${tryIt})`);
  }
  console.log(`crosswire: ${capacityLine(server.capacity)}`);
  if (redis) {
    console.log(
      `crosswire: cluster node ${server.relay.engine.node} on Redis ${
        redis.redactUrl(redisUrl!)
      } ` +
        `(prefix ${flags["redis-prefix"] ?? "crosswire:"})`,
    );
  }
}

/** The engine for `--redis URL`, with the cluster flags. */
function redisEngine(
  redis: typeof import("./redis/mod.ts"),
  url: string,
  flags: ReturnType<typeof parseFlags>,
  relay: RelayOptions,
): Engine {
  if (!/^rediss?:\/\//.test(url)) fail(`--redis must be a redis:// or rediss:// URL, not "${url}"`);
  const seconds = (flag: "node-timeout" | "redis-wait", fallback: number) => {
    const value = flags[flag];
    return (value === undefined ? fallback : positiveNumber(flag, value)) * 1000;
  };
  // A lease is renewed every few seconds and reaping runs each second: less would misfire.
  const nodeTimeout = seconds("node-timeout", 15);
  if (nodeTimeout < 5000) fail("--node-timeout must be at least 5 seconds");
  return new redis.RedisEngine({
    url,
    prefix: flags["redis-prefix"] ?? "crosswire:",
    nodeTimeoutMs: nodeTimeout,
    connectTimeoutMs: seconds("redis-wait", 10),
    ...(relay.maxAnnouncedRoomSize === undefined
      ? {}
      : { maxAnnouncedRoomSize: relay.maxAnnouncedRoomSize }),
  });
}

/** What the server runs with: the open-files limit and the connections it admits. */
function capacityLine(capacity: RunningServer["capacity"]): string {
  const fds = capacity.fileDescriptors;
  const cap = `accepting up to ${capacity.maxConnections} connections`;
  if (fds === undefined) {
    return `file descriptor limit unknown (it is read with --allow-ffi); ${cap}`;
  }
  const soft = fds.soft === Infinity ? "unlimited" : String(fds.soft);
  const how = fds.raisedFrom !== undefined
    ? `raised from ${fds.raisedFrom}`
    : fds.soft < fds.hard
    ? `hard limit ${fds.hard} out of reach`
    : "the hard limit";
  return `file descriptors: ${soft} (${how}; ${fds.inUse} in use); ${cap}` +
    (capacity.limitedByFileDescriptors ? " (fewer than configured, to stay within it)" : "");
}

if (import.meta.main) await main(Deno.args);
