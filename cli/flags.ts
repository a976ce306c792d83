// The command line (and PORT, REDIS_URL) as a server configuration, checked:
// the first bad flag stops the CLI with a one-line message. Every runtime's
// entry point reads its flags here, so they mean the same everywhere.

import { parseArgs } from "node:util";
import type { RelayOptions } from "../core/mod.ts";
import type { ServerOptions } from "../server/options.ts";
import { fail } from "./errors.ts";

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

/** The cluster flags, checked; the engine is made from them once Redis is loaded. */
export interface RedisConfig {
  readonly url: string;
  readonly prefix: string;
  readonly nodeTimeoutMs: number;
  readonly connectTimeoutMs: number;
}

/** What the command line asks for. */
export interface CliConfig {
  /** --help: print the help and do nothing else (the other fields are then defaults). */
  readonly help: boolean;
  readonly host: string;
  readonly port: number;
  /** The TCP port, or null with --no-tcp. */
  readonly tcpPort: number | null;
  /** --announce-every, or 0 when off. */
  readonly announceSeconds: number;
  /** The relay's options (its engine comes from `redis`). */
  readonly relay: RelayOptions;
  /** The server's options, but for the relay and TLS. */
  readonly server: ServerOptions;
  /** PEM files to read for TLS. */
  readonly tlsFiles: { readonly cert: string; readonly key: string } | undefined;
  /** A cluster node's Redis, when --redis or REDIS_URL names one. */
  readonly redis: RedisConfig | undefined;
}

function portNumber(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const port = Number(value);
  if (value.trim() === "" || !Number.isInteger(port) || port < 0 || port > 65535) {
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

function parseFlags(args: readonly string[]) {
  try {
    return parseArgs({
      args: [...args],
      options: {
        host: { type: "string" },
        hostname: { type: "string" },
        port: { type: "string" },
        "tcp-port": { type: "string" },
        "no-tcp": { type: "boolean", default: false },
        "irc-port": { type: "string" },
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

type Flags = ReturnType<typeof parseFlags>;

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

/** The relay's options from the limit, seconds and idle flags. */
function relayOptions(flags: Flags): RelayOptions {
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
  return relay;
}

/** The cluster flags for `url`, checked. */
function redisConfig(url: string, flags: Flags): RedisConfig {
  if (!/^rediss?:\/\//.test(url)) fail(`--redis must be a redis:// or rediss:// URL, not "${url}"`);
  const seconds = (flag: "node-timeout" | "redis-wait", fallback: number) => {
    const value = flags[flag];
    return (value === undefined ? fallback : positiveNumber(flag, value)) * 1000;
  };
  // A lease is renewed every few seconds and reaping runs each second: less would misfire.
  const nodeTimeoutMs = seconds("node-timeout", 15);
  if (nodeTimeoutMs < 5000) fail("--node-timeout must be at least 5 seconds");
  return {
    url,
    prefix: flags["redis-prefix"] ?? "crosswire:",
    nodeTimeoutMs,
    connectTimeoutMs: seconds("redis-wait", 10),
  };
}

/**
 * Reads the command line; `env` reads PORT and REDIS_URL. Throws a CliError
 * at the first bad flag.
 */
export function readFlags(
  args: readonly string[],
  env: (name: string) => string | undefined,
): CliConfig {
  const flags = parseFlags(args);
  const host = flags.hostname ?? flags.host ?? "0.0.0.0";
  if (flags.help) {
    return {
      help: true,
      host,
      port: 0,
      tcpPort: null,
      announceSeconds: 0,
      relay: {},
      server: {},
      tlsFiles: undefined,
      redis: undefined,
    };
  }
  checkHost(host);
  const port = flags.port === undefined
    ? portNumber("PORT", env("PORT"), 8080)
    : portNumber("--port", flags.port, 8080);
  const tcpPort = flags["no-tcp"] ? null : portNumber("--tcp-port", flags["tcp-port"], 4040);
  const ircPort = flags["irc-port"] === undefined
    ? null
    : portNumber("--irc-port", flags["irc-port"], 6667);
  let announceSeconds = 0;
  if (flags["announce-every"] !== undefined) {
    announceSeconds = Number(flags["announce-every"]);
    if (!(announceSeconds > 0)) fail("--announce-every must be a number of seconds above 0");
  }
  const relay = relayOptions(flags);
  const redisUrl = flags.redis ?? env("REDIS_URL");
  const redis = redisUrl === undefined ? undefined : redisConfig(redisUrl, flags);
  const server: ServerOptions = {
    hostname: host,
    port,
    tcpPort,
    ircPort,
    allowOrigins: flags["allow-origin"],
    allowedHosts: flags["allowed-host"],
  };
  for (const [flag, option] of Object.entries(SERVER_SECONDS_FLAGS)) {
    const value = flags[flag as keyof typeof SERVER_SECONDS_FLAGS];
    // Only the ping interval may be 0 (off); a deadline of 0 would refuse everyone.
    if (value !== undefined) server[option] = positiveNumber(flag, value, flag === "keepalive");
  }
  if ((flags.cert === undefined) !== (flags.key === undefined)) {
    fail("--cert and --key go together");
  }
  const tlsFiles = flags.cert !== undefined && flags.key !== undefined
    ? { cert: flags.cert, key: flags.key }
    : undefined;
  return { help: false, host, port, tcpPort, announceSeconds, relay, server, tlsFiles, redis };
}
