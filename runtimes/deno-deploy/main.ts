/**
 * The crosswire relay on Deno Deploy: `Deno.serve` only (WebSocket and the web
 * page; no TCP), and the isolates of the deployment share names, rooms and
 * presence over `BroadcastChannel` (see `channel/mod.ts` for what that can and
 * cannot do). Deploy it with this file as the entry point.
 *
 * Locally it runs as `deno run -A runtimes/deno-deploy/main.ts [flags]` (one
 * isolate), or as several Workers of one process with
 * `runtimes/deno-deploy/local.ts`, which starts this file in each Worker.
 * It takes the relay flags of `deno task start` (`--hostname`, `--port`,
 * `$PORT`, `--motd`, the limits...); `--tcp-port` is accepted and ignored
 * (there is no TCP here), and `--redis`, `--cert` and `--key` are refused.
 * `CROSSWIRE_CHANNEL_PREFIX` sets the channel names' prefix. A deployment has
 * no command line: tokens, the admin password and the server API are set
 * with `CROSSWIRE_JWT_SECRET`, `CROSSWIRE_REQUIRE_AUTH`,
 * `CROSSWIRE_ADMIN_PASSWORD` and `CROSSWIRE_API_KEY`.
 *
 * @module
 */
import { accessInfo, loadAccess } from "../../cli/auth.ts";
import { CliError, fail } from "../../cli/errors.ts";
import { readFlags } from "../../cli/flags.ts";
import { accessLine } from "../../cli/startup.ts";
import { type DeployOptions, type DeployServer, serveDeploy } from "./serve.ts";

/** What a Worker of the local launcher is told and answers. */
export type WorkerMessage =
  | { type: "start"; args: string[] }
  | { type: "stop" }
  | { type: "ready"; hostname: string; port: number }
  | { type: "failed"; message: string }
  | { type: "stopped" };

const HELP = `crosswire on Deno Deploy: WebSocket and the web page on Deno.serve; the isolates
share names, rooms and presence over BroadcastChannel.

Usage: deno run -A runtimes/deno-deploy/main.ts [flags]
       deno run -A runtimes/deno-deploy/local.ts --workers N [flags]   (N isolates, locally)

  --hostname HOST          interface to bind (default 0.0.0.0; Deno Deploy ignores it)
  --port PORT              HTTP/WebSocket port (default $PORT or 8000; Deno Deploy ignores it)
  --tcp-port, --no-tcp     accepted and ignored: there is no TCP here

The relay flags of \`deno task start --help\` apply too (--motd, --allow-origin, the limits,
--config, the token flags, --admin-password, --api-key...), but for --redis, --cert and --key.
CROSSWIRE_CHANNEL_PREFIX sets the channel names' prefix. Deno Deploy passes no flags: set
CROSSWIRE_JWT_SECRET, CROSSWIRE_REQUIRE_AUTH=1, CROSSWIRE_ADMIN_PASSWORD and CROSSWIRE_API_KEY
in its environment instead.
`;

function env(name: string): string | undefined {
  try {
    const value = Deno.env.get(name);
    // Deno Deploy's own default, when nothing says otherwise.
    return value ?? (name === "PORT" ? "8000" : undefined);
  } catch {
    return undefined; // no --allow-env
  }
}

/** What {@link deployOptions} makes of the flags: serving options, the announcer, the access line. */
export type DeployConfig = DeployOptions & {
  /** Seconds between server-time announcements; 0 is off. */
  announce: number;
  /** The line on tokens, room rules, the admin password and the API, when any is on. */
  accessLine: string | undefined;
};

/**
 * The serving options from the flags, with the key and config files read; a
 * CliError at the first one that cannot apply here.
 */
export async function deployOptions(args: readonly string[]): Promise<DeployConfig> {
  const config = readFlags(args, env);
  if (config.redis) {
    fail("--redis (or REDIS_URL) does not apply here: isolates share a BroadcastChannel");
  }
  if (config.tlsFiles) fail("--cert and --key do not apply here: Deno Deploy terminates TLS");
  // A public deployment is reached by its own domains only: any Host is its own.
  const deployed = env("DENO_DEPLOYMENT_ID") !== undefined;
  const allowedHosts = config.server.allowedHosts ?? [];
  const access = await loadAccess(config.access, (path) => Deno.readTextFileSync(path));
  const relay = { ...config.relay };
  if (access.authenticate) relay.authenticate = access.authenticate;
  if (access.rooms) relay.rooms = access.rooms;
  return {
    hostname: config.host,
    port: config.port,
    relay,
    allowOrigins: config.server.allowOrigins ?? [],
    allowedHosts: deployed && allowedHosts.length === 0 ? ["*"] : allowedHosts,
    announce: config.announceSeconds,
    accessLine: accessLine(accessInfo(config, access)),
    ...(config.server.apiKey === undefined ? {} : { apiKey: config.server.apiKey }),
    ...(config.server.keepaliveSeconds === undefined
      ? {}
      : { keepaliveSeconds: config.server.keepaliveSeconds }),
    ...(env("CROSSWIRE_CHANNEL_PREFIX") === undefined
      ? {}
      : { channelPrefix: env("CROSSWIRE_CHANNEL_PREFIX")! }),
  };
}

/** The line launchers and tests wait for. */
export function readyLine(hostname: string, port: number): string {
  const shown = hostname === "0.0.0.0" || hostname === "::" ? "localhost" : hostname;
  const authority = `${shown.includes(":") ? `[${shown}]` : shown}:${port}`;
  return `crosswire: WebSocket on ws://${authority}/ws (web page: http://${authority}/)`;
}

/** Starts as `config` says; the announcer (if any) stops with the server. */
async function start(config: DeployConfig): Promise<DeployServer> {
  const { announce, accessLine: _, ...options } = config;
  let server: DeployServer;
  try {
    server = await serveDeploy(options);
  } catch (error) {
    if (!(error instanceof Deno.errors.AddrInUse)) throw error;
    fail(`port ${options.port} is already in use; pick another with --port`);
  }
  if (announce <= 0) return server;
  const announcer = setInterval(
    () => server.relay.announce(`Server time: ${new Date().toISOString()}`),
    announce * 1000,
  );
  return {
    ...server,
    shutdown: (deadlineMs) => {
      clearInterval(announcer);
      return server.shutdown(deadlineMs);
    },
  };
}

// A Worker started by local.ts: told its flags, it answers where it listens.
function runInWorker(): void {
  const scope = self as unknown as {
    onmessage: ((event: MessageEvent<WorkerMessage>) => void) | null;
    postMessage(message: WorkerMessage): void;
    close(): void;
  };
  let server: DeployServer | undefined;
  scope.onmessage = async ({ data }) => {
    if (data.type === "start") {
      try {
        server = await start(await deployOptions(data.args));
        scope.postMessage({
          type: "ready",
          hostname: server.addr.hostname,
          port: server.addr.port,
        });
      } catch (error) {
        scope.postMessage({ type: "failed", message: (error as Error).message });
      }
    } else if (data.type === "stop") {
      await server?.shutdown();
      scope.postMessage({ type: "stopped" });
      scope.close();
    }
  };
}

async function runMain(args: readonly string[]): Promise<void> {
  if (args.includes("--help") || args.includes("-h")) return console.log(HELP);
  let config: DeployConfig;
  let server: DeployServer;
  try {
    config = await deployOptions(args);
    server = await start(config);
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    console.error(`crosswire: ${(error as Error).message}`);
    Deno.exit(1);
  }
  const stop = async () => {
    console.log("crosswire: shutting down");
    await server.shutdown();
    Deno.exit(0);
  };
  // Deno Deploy may not deliver signals; locally they stop the server cleanly.
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    try {
      Deno.addSignalListener(signal, stop);
    } catch { /* not on this runtime */ }
  }
  // An isolate unloaded without a signal still says goodbye (posted at once), so the
  // others drop its users now rather than after the node timeout.
  globalThis.addEventListener("unload", () => void server.relay.engine.close());
  console.log(readyLine(server.addr.hostname, server.addr.port));
  if (config.accessLine !== undefined) console.log(`crosswire: ${config.accessLine}`);
}

if (import.meta.main) {
  if ("DedicatedWorkerGlobalScope" in globalThis) runInWorker();
  else await runMain(Deno.args);
}
