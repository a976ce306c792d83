/**
 * The crosswire server: `deno task start [flags]`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { startServer } from "./server/mod.ts";

const HELP = `crosswire: a real-time relay for telnet, terminal and WebSocket clients

Usage: deno task start [flags]

  --host HOST              interface to bind (default 0.0.0.0)
  --port PORT              HTTP/WebSocket port (default $PORT or 8080)
  --tcp-port PORT          raw TCP port for telnet/netcat (default 4040)
  --no-tcp                 do not listen on TCP
  --motd TEXT              message shown to every user at login
  --announce-every SECONDS broadcast the server time this often (default off)
  --help                   show this help
`;

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

  let server;
  try {
    server = await startServer({
      hostname: flags.host,
      port,
      tcpPort,
      relay: flags.motd === undefined ? {} : { motd: flags.motd },
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
    throw error;
  }

  const shown = flags.host === "0.0.0.0" || flags.host === "::" ? "localhost" : flags.host;
  console.log(
    `crosswire: WebSocket on ws://${shown}:${server.httpAddr.port}/ws (web page: http://${shown}:${server.httpAddr.port}/)`,
  );
  if (server.tcpAddr) {
    console.log(
      `crosswire: TCP on ${shown}:${server.tcpAddr.port} (try: telnet ${shown} ${server.tcpAddr.port})`,
    );
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
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
}

if (import.meta.main) await main(Deno.args);
