/**
 * What every attack file exports, what the runner hands it, and small helpers
 * the attacks share (helper processes, CPU measurement, number formatting).
 *
 * @module
 */
import type { Canary } from "./_canary.ts";
import type { ServerProcess, ServerSpec } from "./_server.ts";

/** A value worth a column in the report. */
export type Observation = string | number | boolean;

/** What an attack gets from the runner. */
export interface AttackContext {
  /** The server under attack (already answering). */
  readonly server: ServerProcess;
  /** The canary, already chatting. */
  readonly canary: Canary;
  /** Aborted when the attack's time is up: stop loops and return. */
  readonly signal: AbortSignal;
  /** Records an observation; later notes with the same key replace earlier ones. */
  note(key: string, value: Observation): void;
  /** Progress, on stderr. */
  log(message: string): void;
}

/** One attack (or variant), selected with `--only NAME`. */
export interface Attack {
  /** The `--only` name. */
  readonly name: string;
  /** One line on what it does. */
  readonly summary: string;
  /** How to start the server for it. @default default flags */
  readonly server?: ServerSpec;
  /** Whether the canary includes an IRC user as well. @default false */
  readonly canaryIrc?: boolean;
  /** Time after which `signal` aborts. @default 90000 */
  readonly timeLimitMs?: number;
  /** Runs the attack, noting what it sees through `context.note`. */
  run(context: AttackContext): Promise<void>;
}

/** Milliseconds as seconds with one decimal: "2.1 s". */
export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** KiB as MiB with one decimal. */
export function mib(kib: number): string {
  return (kib / 1024).toFixed(1);
}

/** Counts of each value, as "a×3, b×1" (or "none"); also sums ready-made counts. */
export function tally(values: Iterable<string | [string, number]>): string {
  const counts = new Map<string, number>();
  for (const value of values) {
    const [key, count] = typeof value === "string" ? [value, 1] : value;
    counts.set(key, (counts.get(key) ?? 0) + count);
  }
  if (counts.size === 0) return "none";
  return [...counts].sort((a, b) => b[1] - a[1]).map(([value, count]) => `${value}×${count}`)
    .join(", ");
}

/**
 * Measures the server's CPU use from now until the returned function is
 * called: `const done = cpuMeter(server); ...; context.note("CPU", done())`.
 */
export function cpuMeter(server: ServerProcess): () => string {
  const startCpu = server.cpuSeconds() ?? 0;
  const start = performance.now();
  return () => {
    const cpu = (server.cpuSeconds() ?? startCpu) - startCpu;
    const wall = (performance.now() - start) / 1000;
    return `${cpu.toFixed(1)} s CPU in ${wall.toFixed(1)} s (${Math.round((cpu / wall) * 100)}%)`;
  };
}

const helpers = new Set<Deno.ChildProcess>();

/** Starts a helper process (a victim, a crowd); it is killed by {@link killHelpers}. */
export function spawnHelper(program: string, args: string[]): Deno.ChildProcess {
  const child = new Deno.Command(program, {
    args,
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  helpers.add(child);
  void child.status.then(() => helpers.delete(child));
  return child;
}

/** Kills every helper process still running. */
export function killHelpers(): void {
  for (const child of helpers) {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  }
  helpers.clear();
}

/**
 * Reads a helper's stdout as JSON lines; `next(timeoutMs)` resolves to the
 * next object, or undefined on timeout or end.
 */
export function jsonReader(child: Deno.ChildProcess) {
  const decoder = new TextDecoder();
  const reader = child.stdout.getReader();
  let pending = "";
  const queue: Record<string, unknown>[] = [];
  let done = false;
  const fill = async () => {
    while (queue.length === 0 && !done) {
      const { value, done: end } = await reader.read();
      if (end) {
        done = true;
        break;
      }
      pending += decoder.decode(value, { stream: true });
      let newline;
      while ((newline = pending.indexOf("\n")) >= 0) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        try {
          queue.push(JSON.parse(line));
        } catch { /* not JSON */ }
      }
    }
  };
  let filling: Promise<void> | undefined;
  return async (timeoutMs: number): Promise<Record<string, unknown> | undefined> => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((resolve) =>
      timer = setTimeout(() => resolve("timeout"), timeoutMs)
    );
    filling ??= fill().finally(() => filling = undefined);
    const outcome = await Promise.race([filling, timeout]);
    clearTimeout(timer);
    if (outcome === "timeout") return undefined;
    return queue.shift();
  };
}

/** Sends one command line to a helper's stdin. */
export async function tell(child: Deno.ChildProcess, command: string): Promise<void> {
  const writer = child.stdin.getWriter();
  try {
    await writer.write(new TextEncoder().encode(command + "\n"));
  } catch {
    /* it has exited */
  } finally {
    writer.releaseLock();
  }
}
