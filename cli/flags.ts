// The command line (and PORT, REDIS_URL, CROSSWIRE_*) as a server configuration, checked:
// the first bad flag stops the CLI with a one-line message. Every runtime's
// entry point reads its flags here, so they mean the same everywhere.

import { parseArgs } from "node:util";
import type { RelayOptions } from "../core/mod.ts";
import type { ServerOptions } from "../server/options.ts";
import { badApiKey } from "../server/_api_auth.ts";
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

/** Where tokens are verified from: exactly one key source, and the claims to check. */
export interface TokenConfig {
  /** The HS256 secret, or the file of a PEM public key or of a JWKS. */
  readonly key:
    | { readonly secret: string }
    | { readonly publicKeyFile: string }
    | { readonly jwksFile: string };
  /** --jwt-audience: the `aud` a token must have. */
  readonly audience: string | undefined;
  /** --jwt-issuer: the `iss` a token must have. */
  readonly issuer: string | undefined;
  /** --require-auth (or CROSSWIRE_REQUIRE_AUTH): refuse users without a token. */
  readonly requireAuth: boolean;
}

/**
 * Who may do what, as far as it needs files or async work (cli/auth.ts turns
 * it into relay options). The rest (--require-auth, --token-grace,
 * --admin-password, --api-key) goes straight into `relay` and `server`.
 */
export interface AccessConfig {
  /** Token verification, when a key is given. */
  readonly tokens: TokenConfig | undefined;
  /** --config: the file of room rules. */
  readonly configFile: string | undefined;
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
  /** Tokens and room rules, to be loaded by cli/auth.ts. */
  readonly access: AccessConfig;
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
        config: { type: "string" },
        "jwt-secret": { type: "string" },
        "jwt-public-key": { type: "string" },
        jwks: { type: "string" },
        "jwt-audience": { type: "string" },
        "jwt-issuer": { type: "string" },
        "require-auth": { type: "boolean", default: false },
        "token-grace": { type: "string" },
        "admin-password": { type: "string" },
        "api-key": { type: "string" },
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
 * Reads the command line; `env` reads PORT, REDIS_URL, CROSSWIRE_REQUIRE_AUTH
 * and the secrets that stay out of `ps` (CROSSWIRE_JWT_SECRET,
 * CROSSWIRE_ADMIN_PASSWORD, CROSSWIRE_API_KEY; a flag wins over its
 * variable). Throws a CliError at the first bad flag.
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
      access: { tokens: undefined, configFile: undefined },
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
  const tokens = tokenConfig(flags, env);
  accessOptions(flags, env, tokens, relay);
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
  const apiKey = flags["api-key"] ?? env("CROSSWIRE_API_KEY");
  if (apiKey !== undefined && (apiKey !== "" || flags["api-key"] !== undefined)) {
    // A bearer token anyone could guess is no lock: ask for one worth the name.
    if ([...apiKey].length < 16) {
      const from = flags["api-key"] === undefined ? "CROSSWIRE_API_KEY" : "--api-key";
      fail(`${from} must be at least 16 characters (make one with: openssl rand -hex 32)`);
    }
    const bad = badApiKey(apiKey);
    if (bad !== undefined) {
      fail(`${flags["api-key"] === undefined ? "CROSSWIRE_API_KEY" : "--api-key"} ${bad}`);
    }
    server.apiKey = apiKey;
  }
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
  const access = { tokens, configFile: nonEmpty("--config", flags.config) };
  return {
    help: false,
    host,
    port,
    tcpPort,
    announceSeconds,
    relay,
    server,
    tlsFiles,
    redis,
    access,
  };
}

/** `value` unless it is empty, which fails: an empty file name or key is a mistake. */
function nonEmpty(flag: string, value: string | undefined): string | undefined {
  if (value === "") fail(`${flag} must not be empty`);
  return value;
}

/**
 * A secret from its flag, else from its environment variable (which keeps it
 * out of `ps`). An empty variable counts as unset, as container tools write them.
 */
function secretSetting(
  flagValue: string | undefined,
  flag: string,
  envValue: string | undefined,
): string | undefined {
  return nonEmpty(flag, flagValue) ?? (envValue === "" ? undefined : envValue);
}

const KEY_SOURCES = "--jwt-secret (or CROSSWIRE_JWT_SECRET), --jwt-public-key or --jwks";

/** The token flags, checked: at most one key source, and claims only with a key. */
function tokenConfig(
  flags: Flags,
  env: (name: string) => string | undefined,
): TokenConfig | undefined {
  const secret = secretSetting(flags["jwt-secret"], "--jwt-secret", env("CROSSWIRE_JWT_SECRET"));
  const publicKeyFile = nonEmpty("--jwt-public-key", flags["jwt-public-key"]);
  const jwksFile = nonEmpty("--jwks", flags.jwks);
  const given = [secret, publicKeyFile, jwksFile].filter((value) => value !== undefined).length;
  if (given > 1) fail(`give only one of ${KEY_SOURCES}`);
  const requireAuth = flags["require-auth"] || envSwitch("CROSSWIRE_REQUIRE_AUTH", env);
  const audience = nonEmpty("--jwt-audience", flags["jwt-audience"]);
  const issuer = nonEmpty("--jwt-issuer", flags["jwt-issuer"]);
  if (given === 0) {
    // Each of these would do nothing without a key: say so rather than run open.
    if (requireAuth) fail(`--require-auth needs a key to check tokens: ${KEY_SOURCES}`);
    for (const flag of ["jwt-audience", "jwt-issuer", "token-grace"] as const) {
      if (flags[flag] !== undefined) fail(`--${flag} needs a key to check tokens: ${KEY_SOURCES}`);
    }
    return undefined;
  }
  const key = secret !== undefined
    ? { secret }
    : publicKeyFile !== undefined
    ? { publicKeyFile }
    : { jwksFile: jwksFile! };
  return { key, audience, issuer, requireAuth };
}

/** A yes-or-no environment variable (unset or empty: no); anything else fails. */
function envSwitch(name: string, env: (name: string) => string | undefined): boolean {
  const value = env(name)?.trim().toLowerCase();
  if (value === undefined || ["", "0", "false", "no"].includes(value)) return false;
  if (["1", "true", "yes"].includes(value)) return true;
  fail(`${name} must be 1, true or yes (or 0, false, no), not ${JSON.stringify(env(name))}`);
}

/** --require-auth, --token-grace and --admin-password, into the relay's options. */
function accessOptions(
  flags: Flags,
  env: (name: string) => string | undefined,
  tokens: TokenConfig | undefined,
  relay: RelayOptions,
): void {
  if (tokens?.requireAuth) relay.requireAuth = true;
  if (flags["token-grace"] !== undefined) {
    relay.tokenGraceMs = positiveNumber("token-grace", flags["token-grace"], true) * 1000;
  }
  const password = secretSetting(
    flags["admin-password"],
    "--admin-password",
    env("CROSSWIRE_ADMIN_PASSWORD"),
  );
  if (password !== undefined) {
    // Guessing is slowed per address, not stopped: a short password falls to a patient crowd.
    if ([...password].length < 12) {
      const from = flags["admin-password"] === undefined
        ? "CROSSWIRE_ADMIN_PASSWORD"
        : "--admin-password";
      fail(`${from} must be at least 12 characters (make one with: openssl rand -base64 18)`);
    }
    relay.adminPassword = password;
  }
}
