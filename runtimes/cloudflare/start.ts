// Runs crosswire's Worker locally with `wrangler dev` (workerd, offline: no
// telemetry, no update check, no cf.json download, nothing remote) and prints
// the same ready line as every runtime once the relay answers. There is no
// TCP listener on Workers: --tcp-port and --no-tcp are accepted and ignored.
//
//   deno task start:cloudflare [--host HOST] [--port PORT] [--motd TEXT]
//                              [--allowed-host HOST]... [--allow-origin ORIGIN]...

import { parseArgs } from "node:util";

const HELP = `crosswire on Cloudflare Workers, run locally by wrangler dev (workerd)

Usage: deno task start:cloudflare [flags]

  --host HOST, --hostname HOST   interface to bind (default 0.0.0.0)
  --port PORT                    HTTP/WebSocket port; 0 picks a free one (default $PORT or 8080)
  --motd TEXT                    message shown to every user at login
  --allowed-host HOST            answer requests for HOST too (repeatable; * for any)
  --allow-origin ORIGIN          let pages from ORIGIN open WebSockets (repeatable)
  --tcp-port PORT, --no-tcp      accepted for compatibility; Workers have no TCP listener

Environment: CROSSWIRE_WRANGLER is the wrangler command (default: wrangler on PATH);
CROSSWIRE_JWT_SECRET, CROSSWIRE_REQUIRE_AUTH, CROSSWIRE_ADMIN_PASSWORD and CROSSWIRE_API_KEY
are passed to the Worker (tokens, /oper, the server API).`;

/** How long wrangler may take to build the Worker and start workerd. */
const READY_TIMEOUT_MS = 60_000;
/** How long wrangler may take to stop before it is killed. */
const STOP_TIMEOUT_MS = 5_000;

const here = new URL(".", import.meta.url).pathname;

function fail(message: string): never {
  console.error(`crosswire: ${message}`);
  Deno.exit(2);
}

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    host: { type: "string" },
    hostname: { type: "string" },
    port: { type: "string" },
    "tcp-port": { type: "string" },
    "no-tcp": { type: "boolean" },
    motd: { type: "string" },
    "allowed-host": { type: "string", multiple: true },
    "allow-origin": { type: "string", multiple: true },
    help: { type: "boolean", short: "h" },
  },
  strict: true,
});
if (flags.help) {
  console.log(HELP);
  Deno.exit(0);
}
const host = flags.hostname ?? flags.host ?? "0.0.0.0";
const portText = flags.port ?? Deno.env.get("PORT") ?? "8080";
const port = Number(portText);
if (!/^\d+$/.test(portText) || port > 65535) fail(`--port must be 0-65535, not ${portText}`);
if (flags["tcp-port"] !== undefined) {
  console.log("crosswire: no TCP listener on Cloudflare Workers; --tcp-port is ignored");
}

// Everything wrangler writes (its build, the object's storage) goes to a
// temporary directory, removed on exit: every start is a fresh relay.
const work = await Deno.makeTempDir({ prefix: "crosswire-cloudflare-" });
// wrangler builds into .wrangler/ beside its configuration, and reloads when
// what it watches there changes: a copy here keeps two of them apart.
const config = (await Deno.readTextFile(`${here}wrangler.toml`))
  .replace(/^main = .*$/m, `main = ${JSON.stringify(`${here}worker.ts`)}`);
await Deno.writeTextFile(`${work}/wrangler.toml`, config);
const vars = [
  ...(flags.motd === undefined ? [] : ["CROSSWIRE_MOTD:" + flags.motd]),
  "CROSSWIRE_ALLOWED_HOSTS:" + [...(flags["allowed-host"] ?? []), host].join(","),
  ...(flags["allow-origin"] ? ["CROSSWIRE_ALLOW_ORIGINS:" + flags["allow-origin"].join(",")] : []),
  // Tokens, operators and the server API, from this environment as the Worker reads them.
  ...[
    "CROSSWIRE_JWT_SECRET",
    "CROSSWIRE_REQUIRE_AUTH",
    "CROSSWIRE_ADMIN_PASSWORD",
    "CROSSWIRE_API_KEY",
  ].flatMap((name) => Deno.env.get(name) ? [`${name}:${Deno.env.get(name)}`] : []),
];
const wrangler = Deno.env.get("CROSSWIRE_WRANGLER") ?? "wrangler";
let child: Deno.ChildProcess;
try {
  child = new Deno.Command(wrangler, {
    args: [
      "dev",
      "--config",
      `${work}/wrangler.toml`,
      "--local",
      "--ip",
      host,
      "--port",
      String(port),
      // A free port for the inspector too, so several can run side by side.
      "--inspector-port",
      "0",
      "--persist-to",
      `${work}/state`,
      "--show-interactive-dev-session=false",
      // "log" shows the object's console output; "info" would hide it.
      "--log-level",
      Deno.env.get("CROSSWIRE_WRANGLER_LOG") ?? "log",
      ...vars.flatMap((value) => ["--var", value]),
    ],
    cwd: work,
    env: {
      WRANGLER_SEND_METRICS: "false",
      WRANGLER_SEND_ERROR_REPORTS: "false",
      // The banner is where wrangler asks npm for a newer version.
      WRANGLER_HIDE_BANNER: "true",
      // Request.cf comes from a built-in sample instead of a download.
      CLOUDFLARE_CF_FETCH_ENABLED: "false",
      WRANGLER_LOG_PATH: `${work}/logs`,
      NO_COLOR: "1",
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
} catch (error) {
  await Deno.remove(work, { recursive: true }).catch(() => {});
  if (error instanceof Deno.errors.NotFound) {
    fail(`${wrangler} not found: install it with npm install -g wrangler`);
  }
  throw error;
}

let stopping: Promise<never> | undefined;
const stop = (code: number) =>
  stopping ??= (async () => {
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
    const timer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
    }, STOP_TIMEOUT_MS);
    await child.status;
    clearTimeout(timer);
    await Deno.remove(work, { recursive: true }).catch(() => {});
    Deno.exit(code);
  })();
Deno.addSignalListener("SIGINT", () => stop(0));
Deno.addSignalListener("SIGTERM", () => stop(0));

// wrangler's output goes on to stderr; its "Ready on" line tells the port.
const ready = Promise.withResolvers<string>();
let portTaken = false;
async function forward(stream: ReadableStream<Uint8Array>): Promise<void> {
  let pending = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    await Deno.stderr.write(new TextEncoder().encode(chunk));
    pending += chunk;
    const lines = pending.split("\n");
    pending = lines.pop()!;
    for (const line of lines) {
      const found = /Ready on (https?:\/\/\S+)/.exec(line);
      if (found) ready.resolve(found[1]!);
      if (/Address already in use/.test(line)) portTaken = true;
    }
  }
}
const piped = Promise.all([forward(child.stdout), forward(child.stderr)]);
child.status.then(async (status) => {
  await piped;
  if (stopping) return;
  console.error(
    portTaken
      ? `crosswire: a port is already in use (HTTP ${port}); pick another with --port`
      : `crosswire: wrangler exited (${status.code}) before it was stopped`,
  );
  await Deno.remove(work, { recursive: true }).catch(() => {});
  Deno.exit(status.code || 1);
});

const timer = setTimeout(
  () => ready.reject(new Error(`wrangler was not ready within ${READY_TIMEOUT_MS / 1000} s`)),
  READY_TIMEOUT_MS,
);
let origin: URL;
try {
  origin = new URL(await ready.promise);
  clearTimeout(timer);
  // The relay is ready once its object answers (the first request also builds it).
  const health = await fetch(new URL("/healthz", origin), {
    signal: AbortSignal.timeout(READY_TIMEOUT_MS),
  });
  await health.body?.cancel();
  if (!health.ok) throw new Error(`GET /healthz answered ${health.status}`);
} catch (error) {
  console.error(`crosswire: ${(error as Error).message}`);
  await stop(1);
}
const shown = host === "0.0.0.0" || host === "::" ? "localhost" : host;
const authority = `${shown.includes(":") ? `[${shown}]` : shown}:${origin!.port}`;
console.log(`crosswire: WebSocket on ws://${authority}/ws (web page: http://${authority}/)`);
console.log(
  "crosswire: Cloudflare Workers (wrangler dev, workerd): one Durable Object runs the relay; " +
    "no TCP listener",
);
