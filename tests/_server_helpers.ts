// Helpers for the server tests (the HTTP/WebSocket and TCP ports, the CLI):
// /healthz as a type, raw sockets from chosen loopback addresses, the CLI
// under prlimit, and a process's CPU time and memory.

import net from "node:net";
import { within } from "./_helpers.ts";

/** Counts in a /healthz report. */
export interface HealthCounts {
  sessions: number;
  users: number;
  rooms: number;
}

/** What GET /healthz answers. */
export interface HealthBody {
  status: "ok" | "degraded";
  backplane: string;
  node: HealthCounts;
  uptimeSeconds: number;
}

/** GET /healthz on 127.0.0.1, typed. */
export async function healthz(port: number): Promise<HealthBody> {
  const response = await fetch(`http://127.0.0.1:${port}/healthz`);
  return await response.json() as HealthBody;
}

/** A plain HTTP/1.1 exchange on a fresh socket: the status, head and body as text. */
export async function rawHttp(
  port: number,
  request: string,
  ms = 5000,
): Promise<{ status: number; head: string; body: string }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(new TextEncoder().encode(request));
    const chunks: Uint8Array[] = [];
    const buffer = new Uint8Array(16 * 1024);
    const readAll = async () => {
      try {
        for (let n = await conn.read(buffer); n !== null; n = await conn.read(buffer)) {
          chunks.push(buffer.slice(0, n));
        }
      } catch { /* a reset ends it too */ }
    };
    await within(readAll(), ms, "the server to answer and hang up");
    const text = new TextDecoder().decode(
      chunks.reduce((all, chunk) => new Uint8Array([...all, ...chunk]), new Uint8Array()),
    );
    const split = text.indexOf("\r\n\r\n");
    const head = split < 0 ? text : text.slice(0, split);
    return {
      status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0),
      head,
      body: split < 0 ? "" : text.slice(split + 4),
    };
  } finally {
    try {
      conn.close();
    } catch { /* already closed */ }
  }
}

/** Loopback source address `index` of block `block`: 127.block.x.y, never .0 or .255. */
export function loopbackAddress(block: number, index: number): string {
  return `127.${block}.${Math.floor(index / 250)}.${(index % 250) + 1}`;
}

/**
 * Opens a TCP connection from `localAddress` (Deno.connect cannot choose one,
 * node:net can). Resolves once connected; rejects on error.
 */
export function connectFrom(port: number, localAddress: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port, localAddress });
    socket.once("connect", () => {
      socket.off("error", reject);
      socket.on("error", () => {}); // a reset later is the server's answer, not a test failure
      resolve(socket);
    });
    socket.once("error", reject);
  });
}

/** Resolves when `socket` closes (at once if it already has). */
export function closedSocket(socket: net.Socket): Promise<void> {
  if (socket.destroyed) return Promise.resolve();
  return new Promise((resolve) => socket.once("close", () => resolve()));
}

/** CPU seconds (user + system) a process has used, from /proc/PID/stat. */
export async function cpuSeconds(pid: number): Promise<number> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  // Fields after the command name (which may hold spaces) in parentheses.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime
  return ticks / 100; // USER_HZ is 100 on Linux
}

/** True when `prlimit` (util-linux) is on PATH. */
export async function hasPrlimit(): Promise<boolean> {
  try {
    return (await new Deno.Command("prlimit", {
      args: ["--version"],
      stdout: "null",
      stderr: "null",
    })
      .output()).success;
  } catch {
    return false;
  }
}

/** The server CLI in its own process, started by {@link spawnCli}. */
export interface CliServer extends AsyncDisposable {
  readonly child: Deno.ChildProcess;
  /** The deno process itself (not a wrapper such as prlimit, which execs it). */
  readonly pid: number;
  readonly httpPort: number;
  readonly tcpPort: number;
  readonly wsUrl: string;
  /** Lines the server printed at startup. */
  readonly startup: string[];
  /** Every line the server printed on stderr so far. */
  readonly stderr: string[];
  /** A field of /proc/PID/status in KiB. */
  memoryKiB(field: "VmRSS" | "VmHWM"): Promise<number>;
  /** Resolves with the exit status once the process ends. */
  readonly status: Promise<Deno.CommandStatus>;
}

/** How to start the CLI: a command to run it under, deno's own flags, the server's flags. */
export interface CliOptions {
  /** A command that runs deno, e.g. `["prlimit", "--nofile=256:256"]`. */
  prefix?: string[];
  /** Flags for `deno run`, e.g. `["--v8-flags=--max-semi-space-size=1"]`. */
  denoFlags?: string[];
  /** Flags for main.ts, after `--host 127.0.0.1 --port 0 --tcp-port 0`. */
  flags?: string[];
}

const MAIN = new URL("../main.ts", import.meta.url).pathname;

/**
 * Runs main.ts on free loopback ports and waits for its three startup lines
 * (WebSocket, TCP, file descriptors). Disposal sends SIGTERM and reaps it.
 */
export async function spawnCli(options: CliOptions = {}): Promise<CliServer> {
  const argv = [
    ...(options.prefix ?? []),
    Deno.execPath(),
    "run",
    "-A",
    ...(options.denoFlags ?? []),
    MAIN,
    "--host",
    "127.0.0.1",
    "--port",
    "0",
    "--tcp-port",
    "0",
    ...(options.flags ?? []),
  ];
  const child = new Deno.Command(argv[0]!, {
    args: argv.slice(1),
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  const stderr: string[] = [];
  const stderrDone = (async () => {
    try {
      for await (const text of child.stderr.pipeThrough(new TextDecoderStream())) {
        stderr.push(...text.split("\n").filter((line) => line !== ""));
      }
    } catch { /* gone */ }
  })();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const startup: string[] = [];
  let pending = "";
  const readStartup = async () => {
    while (!startup.some((line) => line.includes("file descriptors"))) {
      const { value, done } = await reader.read();
      if (done) {
        throw new Error(`server exited during startup: ${[...startup, ...stderr].join(" | ")}`);
      }
      pending += value;
      const lines = pending.split("\n");
      pending = lines.pop()!;
      startup.push(...lines);
    }
  };
  const status = child.status;
  try {
    await within(readStartup(), 20_000, "the server to start");
  } catch (error) {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    await status;
    await reader.cancel().catch(() => {});
    await stderrDone;
    throw error;
  }
  // Keep draining stdout so the child never blocks on a full pipe.
  const drained = (async () => {
    try {
      while (!(await reader.read()).done) { /* discard */ }
    } catch { /* closed */ }
  })();
  const port = (pattern: RegExp) => Number(startup.join("\n").match(pattern)?.[1]);
  const httpPort = port(/wss?:\/\/[^\s/]+:(\d+)\/ws/);
  const tcpPort = port(/(?:TCP|TLS) on [^\s]+:(\d+)/);
  return {
    child,
    pid: child.pid,
    httpPort,
    tcpPort,
    wsUrl: `ws://127.0.0.1:${httpPort}/ws`,
    startup,
    stderr,
    status,
    async memoryKiB(field) {
      const text = await Deno.readTextFile(`/proc/${child.pid}/status`);
      return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(text)?.[1]);
    },
    async [Symbol.asyncDispose]() {
      try {
        child.kill("SIGTERM");
      } catch { /* already gone */ }
      await status;
      await drained;
      await stderrDone;
    },
  };
}
