/**
 * The server under attack, in its own process: started from a checkout on
 * free ports (optionally under `prlimit`), watched through /proc for memory
 * (VmRSS sampled every 100 ms, and VmHWM) and CPU time, and stopped at the end.
 *
 * @module
 */
import { delay, HOST, httpGet } from "./_net.ts";
import { relayCommand, type RuntimeName } from "../../bench/_runtimes.ts";

/** How to start the server for one attack. */
export interface ServerSpec {
  /** Extra server flags, e.g. `["--idle-timeout", "15"]`. @default [] */
  flags?: string[];
  /** Run under `prlimit --nofile=N:N`. @default the harness's own limit */
  nofile?: number;
  /** Run the relay on Node or Bun instead of Deno (`--runtime`). @default Deno */
  runtime?: RuntimeName;
}

/** Memory of the server process, in KiB. */
export interface Memory {
  rssKiB: number;
  hwmKiB: number;
}

/** How the process ended. */
export interface Exit {
  code: number;
  signal: string | null;
}

const TICKS_PER_SECOND = 100; // Linux USER_HZ
const TAIL_BYTES = 4096;

/** A free TCP port (bound to 0.0.0.0 and released). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "0.0.0.0", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Reads a /proc status field in KiB, or undefined when the process is gone. */
function statusField(status: string, field: string): number | undefined {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status);
  return match ? Number(match[1]) : undefined;
}

/** Raises this process's soft open-files limit to its hard limit (children inherit it). */
export async function raiseFileLimit(): Promise<number> {
  const limits = await Deno.readTextFile("/proc/self/limits");
  const match = /^Max open files\s+(\d+)\s+(\d+)/m.exec(limits);
  if (!match) return 0;
  const [soft, hard] = [Number(match[1]), Number(match[2])];
  if (soft >= hard) return soft;
  const result = await new Deno.Command("prlimit", {
    args: ["--pid", String(Deno.pid), `--nofile=${hard}:${hard}`],
    stdout: "null",
    stderr: "null",
  }).output();
  return result.success ? hard : soft;
}

/** One running server process. */
export class ServerProcess {
  readonly pid: number;
  readonly httpPort: number;
  readonly tcpPort: number;
  readonly command: string;
  /** Set once the process has exited. */
  exit: Exit | undefined;
  /** When it exited (epoch milliseconds). */
  exitedAt: number | undefined;
  /** RSS right after it became ready, in KiB. */
  startRssKiB = 0;
  #child: Deno.ChildProcess;
  #sampler: ReturnType<typeof setInterval>;
  #peakRssKiB = 0;
  #lastMemory: Memory = { rssKiB: 0, hwmKiB: 0 };
  #tails = { stdout: "", stderr: "" };
  #watchers = new Set<(text: string, stream: "stdout" | "stderr") => void>();
  #status: Promise<Deno.CommandStatus>;

  private constructor(
    child: Deno.ChildProcess,
    command: string,
    httpPort: number,
    tcpPort: number,
  ) {
    this.#child = child;
    this.pid = child.pid;
    this.command = command;
    this.httpPort = httpPort;
    this.tcpPort = tcpPort;
    this.#status = child.status.then((status) => {
      this.exit = { code: status.code, signal: status.signal };
      this.exitedAt = Date.now();
      return status;
    });
    void this.#drain("stdout", child.stdout);
    void this.#drain("stderr", child.stderr);
    this.#sampler = setInterval(() => this.memory(), 100);
  }

  /** Starts `deno run -A REPO/main.ts` on free ports and waits until it answers. */
  static async start(repo: string, spec: ServerSpec = {}): Promise<ServerProcess> {
    const httpPort = freePort();
    let tcpPort = freePort();
    while (tcpPort === httpPort) tcpPort = freePort();
    const relay = spec.runtime === undefined
      ? [Deno.execPath(), "run", "-A", `${repo}/main.ts`]
      : relayCommand(spec.runtime).map((part, i) => i === 0 ? part : `${repo}/${part}`);
    const serverArgs = [
      ...relay.slice(1),
      "--host",
      "0.0.0.0",
      "--port",
      String(httpPort),
      "--tcp-port",
      String(tcpPort),
      ...(spec.flags ?? []),
    ];
    const [program, args] = spec.nofile
      ? ["prlimit", [
        `--nofile=${spec.nofile}:${spec.nofile}`,
        "--",
        relay[0]!,
        ...serverArgs,
      ]]
      : [relay[0]!, serverArgs];
    const child = new Deno.Command(program, {
      args,
      cwd: repo,
      env: { NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const command = `${spec.nofile ? `prlimit --nofile=${spec.nofile}:${spec.nofile} ` : ""}` +
      `${spec.runtime ?? "deno"} ${serverArgs.join(" ").replaceAll(repo + "/", "")}`;
    const server = new ServerProcess(child, command, httpPort, tcpPort);
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && !server.exit) {
      const health = await httpGet({ port: httpPort, path: "/healthz", timeoutMs: 2000 });
      if (health.status === 200) break;
      await delay(200);
    }
    if (server.exit || Date.now() >= deadline) {
      await server.stop();
      throw new Error(`server did not start: ${server.tail("stderr") || server.tail("stdout")}`);
    }
    const conn = await Deno.connect({ hostname: HOST, port: tcpPort });
    conn.close();
    server.startRssKiB = server.memory().rssKiB;
    return server;
  }

  /** True until the process exits. */
  get alive(): boolean {
    return this.exit === undefined;
  }

  /** Current memory (the last known values once the process is gone). */
  memory(): Memory {
    try {
      const status = Deno.readTextFileSync(`/proc/${this.pid}/status`);
      const rssKiB = statusField(status, "VmRSS");
      const hwmKiB = statusField(status, "VmHWM");
      if (rssKiB !== undefined && hwmKiB !== undefined) {
        this.#lastMemory = { rssKiB, hwmKiB };
        this.#peakRssKiB = Math.max(this.#peakRssKiB, rssKiB, hwmKiB);
      }
    } catch { /* exited */ }
    return this.#lastMemory;
  }

  /** Highest RSS seen: VmHWM and the 100 ms samples, in KiB. */
  get peakRssKiB(): number {
    return this.#peakRssKiB;
  }

  /** CPU time used so far (user + system), in seconds, or undefined once gone. */
  cpuSeconds(): number | undefined {
    try {
      const stat = Deno.readTextFileSync(`/proc/${this.pid}/stat`);
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      // After the command name: state is field 3, utime 14 and stime 15.
      return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
    } catch {
      return undefined;
    }
  }

  /** Open file descriptors of the server, or undefined once gone. */
  openFiles(): number | undefined {
    try {
      return [...Deno.readDirSync(`/proc/${this.pid}/fd`)].length;
    } catch {
      return undefined;
    }
  }

  /** Sends a signal; false when the process is already gone. */
  signal(signal: Deno.Signal): boolean {
    if (!this.alive) return false;
    try {
      Deno.kill(this.pid, signal);
      return true;
    } catch {
      return false;
    }
  }

  /** The last few KiB the server wrote to stdout or stderr. */
  tail(stream: "stdout" | "stderr"): string {
    return this.#tails[stream].trim();
  }

  /**
   * Calls `watcher` with everything the server writes to stdout or stderr from
   * now on, piece by piece as it comes (a piece may end mid-line); the returned
   * function stops it. For attacks that must see all the output, not the tail.
   */
  watchOutput(watcher: (text: string, stream: "stdout" | "stderr") => void): () => void {
    this.#watchers.add(watcher);
    return () => this.#watchers.delete(watcher);
  }

  async #drain(stream: "stdout" | "stderr", readable: ReadableStream<Uint8Array>) {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of readable) {
        const piece = decoder.decode(chunk, { stream: true });
        for (const watcher of this.#watchers) watcher(piece, stream);
        const text = this.#tails[stream] + piece;
        this.#tails[stream] = text.slice(-TAIL_BYTES);
      }
    } catch { /* closed */ }
  }

  /** Stops the server (SIGTERM, then SIGKILL after 5 s) and the sampler. */
  async stop(): Promise<Exit> {
    this.memory();
    clearInterval(this.#sampler);
    if (this.alive) {
      this.signal("SIGCONT"); // in case an attack left it stopped
      this.signal("SIGTERM");
      const timer = setTimeout(() => this.signal("SIGKILL"), 5000);
      await this.#status;
      clearTimeout(timer);
    }
    await this.#status;
    return this.exit!;
  }
}
