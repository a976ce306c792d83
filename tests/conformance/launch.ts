/**
 * Starts a crosswire server in its own process, for a conformance run: any
 * runtime's entry point that prints the ready lines `deno task start` prints.
 *
 * @module
 */

const READY_WS = /crosswire: WebSocket on (wss?:\/\/\S+\/ws)(?: \(web page: (https?:\/\/\S+?)\))?/;
const READY_TCP = /crosswire: (?:TCP|TLS) on (\S+):(\d+)/;

/** Milliseconds {@link Launched.stop} waits after SIGTERM before it sends SIGKILL. */
const STOP_GRACE_MS = 5000;

/** A server process started by {@link launch}. */
export interface Launched {
  /** The WebSocket endpoint it printed, e.g. `ws://127.0.0.1:8080/ws`. */
  ws: string;
  /** Its web page, e.g. `http://127.0.0.1:8080/`. */
  http: string;
  /** The TCP text-mode endpoint it printed, when launched with `tcp: true`. */
  tcp?: { hostname: string; port: number };
  /** Everything the process printed so far (stdout and stderr), for failure messages. */
  output(): string;
  /** SIGTERM, then SIGKILL after a few seconds; resolves when the process is gone. */
  stop(): Promise<void>;
}

/** How to {@link launch} a server. */
export interface LaunchOptions {
  /** Environment variables added to the process's own. @default {{}} */
  env?: Record<string, string>;
  /** The working directory. @default {Deno.cwd()} */
  cwd?: string;
  /** Wait for the `crosswire: TCP on HOST:PORT` line too. @default {false} */
  tcp?: boolean;
  /** How long the server may take to print its ready lines. @default {30000} */
  timeoutMs?: number;
}

/**
 * Runs `command` with `args` and waits for its ready lines: `crosswire:
 * WebSocket on ws://HOST:PORT/ws ...` and, with `options.tcp`, `crosswire: TCP
 * on HOST:PORT ...`. The process's output is read all along (so it never
 * blocks on a full pipe) and kept for {@link Launched.output}.
 *
 * @param command The program, e.g. `Deno.execPath()`, `"node"` or `"bun"`.
 * @param args Its arguments, e.g. `["run", "-A", "main.ts", "--port", "0"]`.
 * @param options Environment, directory, whether to wait for TCP, and the deadline.
 * @returns The endpoints it printed, its output, and a way to stop it.
 * @throws {Error} When `command` cannot be run, or it exits or the deadline
 * passes before it is ready (the process is killed then; the message holds
 * what it printed).
 *
 * @example A process that prints the ready line, started and stopped
 * ```ts
 * import { launch } from "@crosswire/relay/conformance";
 * const script = `console.log("crosswire: WebSocket on ws://127.0.0.1:9/ws (web page: http://127.0.0.1:9/)");
 *   setInterval(() => {}, 1000);`;
 * const server = await launch(Deno.execPath(), ["eval", script]);
 * try {
 *   if (server.ws !== "ws://127.0.0.1:9/ws" || server.http !== "http://127.0.0.1:9/") {
 *     throw new Error(`unexpected endpoints: ${server.ws} ${server.http}`);
 *   }
 * } finally {
 *   await server.stop();
 * }
 * ```
 */
export async function launch(
  command: string,
  args: string[],
  options: LaunchOptions = {},
): Promise<Launched> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(command, {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      ...(options.env === undefined ? {} : { env: options.env }),
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    }).spawn();
  } catch (cause) {
    throw new Error(`cannot run ${command}: ${(cause as Error).message}`, { cause });
  }
  let output = "";
  let wake = () => {};
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    try {
      for await (const text of stream.pipeThrough(new TextDecoderStream())) {
        output += text;
        wake();
      }
    } catch { /* the process went away */ }
  };
  const drained = Promise.all([collect(child.stdout), collect(child.stderr)]);
  let exited: Deno.CommandStatus | undefined;
  const status = child.status.then((value) => {
    exited = value;
    wake();
    return value;
  });
  let stopping: Promise<void> | undefined;
  const stop = () =>
    stopping ??= (async () => {
      signal(child, "SIGTERM");
      let timer: ReturnType<typeof setTimeout> | undefined;
      const killed = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          signal(child, "SIGKILL");
          resolve();
        }, STOP_GRACE_MS);
      });
      await Promise.race([status, killed]);
      clearTimeout(timer);
      await status;
      await drained;
    })();

  const timeoutMs = options.timeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    // Bounded: every pass waits for new output, the exit, or the deadline.
    while (true) {
      const ws = READY_WS.exec(output);
      const tcp = READY_TCP.exec(output);
      if (ws && (tcp || !options.tcp)) {
        const http = ws[2] ?? ws[1]!.replace(/^ws/, "http").replace(/\/ws$/, "/");
        return {
          ws: ws[1]!,
          http,
          ...(options.tcp && tcp
            ? { tcp: { hostname: tcp[1]!.replace(/^\[(.*)\]$/, "$1"), port: Number(tcp[2]) } }
            : {}),
          output: () => output,
          stop,
        };
      }
      if (exited !== undefined) {
        throw new Error(`${command} exited with code ${exited.code} before it was ready`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${command} was not ready within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
    }
  } catch (error) {
    clearTimeout(timer);
    await stop();
    const printed = output.trim() === "" ? "(nothing)" : output.trimEnd();
    throw new Error(`${(error as Error).message}; it printed:\n${printed}`);
  }
}

function signal(child: Deno.ChildProcess, name: Deno.Signal): void {
  try {
    child.kill(name);
  } catch { /* already gone */ }
}
