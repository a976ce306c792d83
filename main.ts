/**
 * The crosswire server: `deno task start [flags]`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import type { RelayOptions } from "./core/mod.ts";
import { startServer } from "./server/mod.ts";

const HELP = `crosswire: a real-time relay for telnet, terminal and WebSocket clients

Usage: deno task start [flags]

  --host HOST              interface to bind (default 0.0.0.0)
  --port PORT              HTTP/WebSocket port (default $PORT or 8080)
  --tcp-port PORT          raw TCP port for telnet/netcat (default 4040)
  --no-tcp                 do not listen on TCP
  --motd TEXT              message shown to every user at login
  --announce-every SECONDS broadcast the server time this often (default off)

TLS and browsers:
  --cert FILE --key FILE   PEM certificate chain and key: HTTPS/WSS, and TLS on TCP
  --allow-origin ORIGIN    let pages from ORIGIN open WebSockets (repeatable; * for any)

Limits (every one finite by default):
  --max-connections N      open connections in total (default 10000)
  --max-per-address N      open connections from one address (default 100)
  --idle-timeout SECONDS   close clients silent this long; 0 = never (default 300)
  --keepalive SECONDS      WebSocket ping interval; 0 = off (default 30)
  --max-line-bytes N       longest text-mode TCP line (default 8192)
  --max-text-bytes N       longest chat message (default 8192)
  --max-file-bytes N       largest shared file (default 1048576)
  --max-queued-bytes N     output queued for one client before it is dropped (default 8388608)
  --rate N                 messages per second per client, sustained (default 20)
  --rate-burst N           messages per client in a burst (default 50)
  --rate-bytes N           bytes per second per client, sustained (default 1048576)
  --max-rooms-per-user N   rooms one user may be in (default 32)
  --quiet-room-size N      rooms bigger than this stop announcing joins and leaves (default 500)

  --help                   show this help
`;

const LIMIT_FLAGS = {
  "max-connections": "maxConnections",
  "max-per-address": "maxConnectionsPerAddress",
  "max-line-bytes": "maxLineBytes",
  "max-text-bytes": "maxTextBytes",
  "max-file-bytes": "maxFileBytes",
  "max-queued-bytes": "maxQueuedBytes",
  "rate": "rateMessagesPerSecond",
  "rate-burst": "rateMessageBurst",
  "rate-bytes": "rateBytesPerSecond",
  "max-rooms-per-user": "maxRoomsPerSession",
  "quiet-room-size": "maxAnnouncedRoomSize",
} as const satisfies Record<string, keyof RelayOptions>;

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
        "idle-timeout": { type: "string" },
        keepalive: { type: "string" },
        ...Object.fromEntries(
          Object.keys(LIMIT_FLAGS).map((flag) => [flag, { type: "string" as const }]),
        ) as Record<keyof typeof LIMIT_FLAGS, { type: "string" }>,
        help: { type: "boolean", short: "h", default: false },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    fail(`${(error as Error).message}\nRun with --help to see the flags.`);
  }
}

async function main(args: string[]): Promise<void> {
  const flags = parseFlags(args);
  if (flags.help) {
    console.log(HELP);
    return;
  }
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
    if (value !== undefined) relay[option] = positiveNumber(flag, value);
  }
  if (flags["idle-timeout"] !== undefined) {
    relay.idleTimeoutMs = positiveNumber("idle-timeout", flags["idle-timeout"], true) * 1000;
  }
  if ((flags.cert === undefined) !== (flags.key === undefined)) {
    fail("--cert and --key go together");
  }
  const tls = flags.cert !== undefined && flags.key !== undefined
    ? { cert: readPem("cert", flags.cert), key: readPem("key", flags.key) }
    : undefined;

  let server;
  try {
    server = await startServer({
      hostname: flags.host,
      port,
      tcpPort,
      relay,
      allowOrigins: flags["allow-origin"],
      ...(tls ? { tls } : {}),
      ...(flags.keepalive === undefined
        ? {}
        : { keepaliveSeconds: positiveNumber("keepalive", flags.keepalive, true) }),
    });
  } catch (error) {
    if (error instanceof Deno.errors.AddrInUse) {
      fail(
        `a port is already in use (HTTP ${port}${
          tcpPort === null ? "" : `, TCP ${tcpPort}`
        }); pick another with --port or --tcp-port`,
      );
    }
    if (error instanceof Deno.errors.PermissionDenied) {
      fail(`not allowed to listen: ${(error as Error).message}`);
    }
    if (tls) fail(`could not start TLS: ${(error as Error).message}`);
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

  const shown = flags.host === "0.0.0.0" || flags.host === "::" ? "localhost" : flags.host;
  const [ws, http] = tls ? ["wss", "https"] : ["ws", "http"];
  const httpPort = server.httpAddr.port;
  console.log(
    `crosswire: WebSocket on ${ws}://${shown}:${httpPort}/ws (web page: ${http}://${shown}:${httpPort}/)`,
  );
  if (server.tcpAddr) {
    const tcpPort = server.tcpAddr.port;
    const tryIt = tls
      ? `openssl s_client -quiet -connect ${shown}:${tcpPort}`
      : `telnet ${shown} ${tcpPort}`;
    console.log(`crosswire: ${tls ? "TLS" : "TCP"} on ${shown}:${tcpPort} (try: ${tryIt})`);
  }
}

if (import.meta.main) await main(Deno.args);
