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
 * `CROSSWIRE_CHANNEL_PREFIX` sets the channel names' prefix.
 *
 * @module
 */
import { CliError, fail } from "../../cli/errors.ts";
import { readFlags } from "../../cli/flags.ts";
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

The relay flags of \`deno task start --help\` apply too (--motd, --allow-origin, the limits...),
but for --redis, --cert and --key. CROSSWIRE_CHANNEL_PREFIX sets the channel names' prefix.
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

/** The serving options from the flags; a CliError at the first one that cannot apply here. */
export function deployOptions(args: readonly string[]): DeployOptions & { announce: number } {
  const config = readFlags(args, env);
  if (config.redis) {
    fail("--redis (or REDIS_URL) does not apply here: isolates share a BroadcastChannel");
  }
  if (config.tlsFiles) fail("--cert and --key do not apply here: Deno Deploy terminates TLS");
  // A public deployment is reached by its own domains only: any Host is its own.
  const deployed = env("DENO_DEPLOYMENT_ID") !== undefined;
  const allowedHosts = config.server.allowedHosts ?? [];
  return {
    hostname: config.host,
    port: config.port,
    relay: config.relay,
    allowOrigins: config.server.allowOrigins ?? [],
    allowedHosts: deployed && allowedHosts.length === 0 ? ["*"] : allowedHosts,
    announce: config.announceSeconds,
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

/** Starts from `args`; the announcer (if any) stops with the server. */
async function start(args: readonly string[]): Promise<DeployServer> {
  const { announce, ...options } = deployOptions(args);
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
        server = await start(data.args);
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
  let server: DeployServer;
  try {
    server = await start(args);
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
}

if (import.meta.main) {
  if ("DedicatedWorkerGlobalScope" in globalThis) runInWorker();
  else await runMain(Deno.args);
}
