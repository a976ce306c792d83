/**
 * Deno Deploy's shape on one machine: `--workers N` Web Workers in this
 * process, each running `main.ts` (the Deploy entry point) on its own port,
 * all on one BroadcastChannel, as a deployment's isolates are. It prints the
 * standard ready line for each, in order, then serves until SIGINT or SIGTERM.
 *
 *     deno run -A runtimes/deno-deploy/local.ts --workers 2 --hostname 127.0.0.1 --port 0
 *
 * With `--port 0` each Worker takes a free port; with `--port P` (or `$PORT`)
 * Worker i takes P + i - 1. Every other flag goes to each Worker as it is.
 *
 * @module
 */
import { readyLine, type WorkerMessage } from "./main.ts";

const ENTRY = new URL("./main.ts", import.meta.url);
/** How long a Worker may take to listen, and to stop. */
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5000;

function fail(message: string): never {
  console.error(`crosswire: ${message}`);
  Deno.exit(1);
}

/** `--workers N` and `--port P` taken out of `args`; the rest goes to every Worker. */
function splitArgs(args: readonly string[]): { workers: number; port: string; rest: string[] } {
  const rest: string[] = [];
  let workers = "2";
  let port = Deno.env.get("PORT") ?? "8000";
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const [flag, inline] = arg.includes("=")
      ? arg.split("=", 2) as [string, string]
      : [arg, undefined];
    if (flag === "--workers" || flag === "--port") {
      const value = inline ?? args[++i];
      if (value === undefined) fail(`${flag} needs a value`);
      if (flag === "--workers") workers = value;
      else port = value;
    } else {
      rest.push(arg);
    }
  }
  const count = Number(workers);
  if (!Number.isInteger(count) || count < 1 || count > 64) {
    fail(`--workers must be a whole number from 1 to 64, not "${workers}"`);
  }
  const base = Number(port);
  if (!Number.isInteger(base) || base < 0 || base + count - 1 > 65535) {
    fail(`--port must be a port number from 0 to ${65536 - count}, not "${port}"`);
  }
  return { workers: count, port, rest };
}

/** Waits for the next message from `worker`, or fails after `ms`. */
function answer(worker: Worker, ms: number): Promise<WorkerMessage> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    worker.onmessage = ({ data }: MessageEvent<WorkerMessage>) => {
      clearTimeout(timer);
      resolve(data);
    };
  });
}

async function main(args: readonly string[]): Promise<void> {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(
      "Usage: deno run -A runtimes/deno-deploy/local.ts --workers N [flags of main.ts]\n" +
        "Runs N Workers, each the Deno Deploy entry point on its own port, sharing one " +
        "BroadcastChannel.",
    );
    return;
  }
  const { workers: count, port, rest } = splitArgs(args);
  const workers: Worker[] = [];
  const stop = async () => {
    await Promise.allSettled(workers.map(async (worker) => {
      const stopped = answer(worker, STOP_TIMEOUT_MS);
      worker.postMessage({ type: "stop" } satisfies WorkerMessage);
      await stopped.catch(() => {});
      worker.terminate();
    }));
  };
  const lines: string[] = [];
  for (let i = 1; i <= count; i++) {
    const worker = new Worker(ENTRY, { type: "module", name: `crosswire-${i}` });
    workers.push(worker);
    worker.onerror = (event) => {
      event.preventDefault();
      console.error(`crosswire: worker ${i} failed: ${event.message}`);
      void stop().then(() => Deno.exit(1));
    };
    const workerPort = Number(port) === 0 ? "0" : String(Number(port) + i - 1);
    const ready = answer(worker, START_TIMEOUT_MS);
    worker.postMessage(
      { type: "start", args: [...rest, "--port", workerPort] } satisfies WorkerMessage,
    );
    const reply = await ready.catch((error: Error) =>
      ({ type: "failed", message: error.message }) as const
    );
    if (reply.type !== "ready") {
      await stop();
      fail(`worker ${i} did not start: ${reply.type === "failed" ? reply.message : reply.type}`);
    }
    lines.push(readyLine(reply.hostname, reply.port));
  }
  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    console.log("crosswire: shutting down");
    await stop();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", shutdown);
  Deno.addSignalListener("SIGTERM", shutdown);
  // All ready before any line: the first line is a working cluster, not one lone isolate.
  for (const line of lines) console.log(line);
  console.log(`crosswire: ${count} Workers of this process share one BroadcastChannel`);
}

if (import.meta.main) await main(Deno.args);
