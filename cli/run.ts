// The server CLI, the same on every runtime: read the flags, start the
// server, say where it listens, stop on SIGINT/SIGTERM. What differs per
// runtime (its arguments, environment, files, signals, exit, and its
// startServer) comes in as a CliRuntime.

import type { RelayOptions } from "../core/mod.ts";
import { failedPort, listenFailure } from "../server/_listen_error.ts";
import type { RelayServer } from "../server/_start.ts";
import type { ServerOptions } from "../server/options.ts";
import { accessInfo, loadAccess } from "./auth.ts";
import { CliError } from "./errors.ts";
import { readFlagFile } from "./files.ts";
import { type CliConfig, readFlags } from "./flags.ts";
import { helpText } from "./help.ts";
import { loadRedis, redisEngine, type RedisModule } from "./redis.ts";
import { startupLines } from "./startup.ts";

/** One runtime's part of the CLI. */
export interface CliRuntime {
  /** How users start the server, for --help, e.g. "deno task start". */
  readonly command: string;
  /** The flags, without the runtime's own arguments. */
  readonly args: readonly string[];
  /** An environment variable (PORT, REDIS_URL, CROSSWIRE_*). */
  env(name: string): string | undefined;
  /** A whole text file (--cert, --key, --config, --jwt-public-key, --jwks); throws when it cannot. */
  readTextFile(path: string): string;
  /** The runtime's server. */
  startServer(options: ServerOptions): Promise<RelayServer>;
  /** Calls `handler` on the signal, instead of the default (which would kill the process). */
  onSignal(signal: "SIGINT" | "SIGTERM", handler: () => void): void;
  /** Ends the process. */
  exit(code: number): never;
  /** Why the open-files limit may be unknown, e.g. "it is read with --allow-ffi". */
  readonly fdLimitHint: string;
}

/** Runs the CLI; a bad flag or a failed start prints one line and exits 1. */
export async function runCli(runtime: CliRuntime): Promise<void> {
  try {
    await run(runtime);
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    console.error(`crosswire: ${error.message}`);
    runtime.exit(1);
  }
}

async function run(runtime: CliRuntime): Promise<void> {
  const config = readFlags(runtime.args, (name) => runtime.env(name));
  if (config.help) {
    console.log(helpText(runtime.command));
    return;
  }
  const read = (path: string) => runtime.readTextFile(path);
  const access = await loadAccess(config.access, read);
  const relay: RelayOptions = { ...config.relay };
  if (access.authenticate) relay.authenticate = access.authenticate;
  if (access.rooms) relay.rooms = access.rooms;
  // Only a cluster node loads the Redis client.
  const redis = config.redis === undefined ? undefined : await loadRedis();
  if (redis && config.redis) relay.engine = redisEngine(redis, config.redis, relay);
  const options: ServerOptions = { ...config.server, relay };
  const files = config.tlsFiles;
  const tls = files
    ? { cert: readFlagFile("cert", files.cert, read), key: readFlagFile("key", files.key, read) }
    : undefined;
  if (tls) options.tls = tls;

  let server: RelayServer;
  try {
    server = await runtime.startServer(options);
  } catch (error) {
    throw startFailure(error, config, redis);
  }

  // One timer for everyone, not one per connection.
  const announcer = config.announceSeconds > 0
    ? setInterval(
      () => server.relay.announce(`Server time: ${new Date().toISOString()}`),
      config.announceSeconds * 1000,
    )
    : undefined;
  // Ctrl-C under `deno task` arrives twice (the terminal signals the task and
  // the task forwards it): one shutdown, one line.
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    console.log("crosswire: shutting down");
    clearInterval(announcer);
    await server.shutdown();
    runtime.exit(0);
  };
  // Before the startup lines: a supervisor may signal as soon as it sees them.
  runtime.onSignal("SIGINT", stop);
  runtime.onSignal("SIGTERM", stop);

  const cluster = redis && config.redis
    ? { url: redis.redactUrl(config.redis.url), prefix: config.redis.prefix }
    : undefined;
  const lines = startupLines(server, {
    host: config.host,
    tls: tls !== undefined,
    fdLimitHint: runtime.fdLimitHint,
    cluster,
    access: accessInfo(config, access),
  });
  for (const line of lines) console.log(line);
}

/** Why the server could not start, as one line for the user; other errors as they are. */
function startFailure(error: unknown, config: CliConfig, redis: RedisModule | undefined): unknown {
  const { host, port, tcpPort } = config;
  const message = (error as Error).message;
  switch (listenFailure(error)) {
    case "addr_in_use": {
      const where = failedPort(error);
      if (where?.transport === "TCP") {
        return new CliError(
          `the TCP port ${where.port} is already in use; pick another with --tcp-port (or --no-tcp)`,
        );
      }
      if (where?.transport === "IRC") {
        return new CliError(
          `the IRC port ${where.port} is already in use; pick another with --irc-port`,
        );
      }
      if (where?.transport === "HTTP") {
        return new CliError(
          `the HTTP port ${where.port} is already in use; pick another with --port`,
        );
      }
      return new CliError(
        `a port is already in use (HTTP ${port}${
          tcpPort === null ? "" : `, TCP ${tcpPort}`
        }); pick another with --port or --tcp-port`,
      );
    }
    case "host_not_found":
      return new CliError(`cannot listen on --host ${host}: no such host name`);
    case "addr_not_available":
      return new CliError(`cannot listen on --host ${host}: not an address of this machine`);
    case "permission_denied":
      return new CliError(`not allowed to listen: ${message}`);
  }
  if (error instanceof RangeError) return new CliError(message);
  if (redis && error instanceof redis.RedisUnreachableError) return new CliError(message);
  if (config.tlsFiles) return new CliError(`could not start TLS: ${message}`);
  return error;
}
