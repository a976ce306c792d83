/**
 * `deno task bench`: measures the relay over WebSocket and over TCP against a
 * bare Deno WebSocket broadcast server (bench/baseline_server.ts) in the same
 * run, and writes one Markdown table to bench/results/.
 *
 * ```sh
 * deno run -A bench/run.ts                  # the full run (a few minutes)
 * deno run -A bench/run.ts --quick          # a smaller run, under a minute
 * deno run -A bench/run.ts --only fanout-100,chat
 * deno run -A bench/run.ts --only fanout-100 --cpu-prof   # .cpuprofile per server
 * ```
 *
 * The servers (targets):
 *
 * - `baseline-ws`: bench/baseline_server.ts, what every ratio is measured against.
 * - `relay-ws`: the relay over WebSocket, its clients asking for batched frames
 *   (`{"type":"hello","batch":true}`, as our client library does): several
 *   messages may share one WebSocket frame, one per line.
 * - `relay-ws-plain`: the relay over WebSocket, its clients sending no hello, as
 *   any third-party WebSocket client does: every message is a frame of its own.
 * - `relay-ws-nohistory`: `relay-ws` with `--history 0`, so `relay-ws` shows what
 *   room history costs (some scenarios only).
 * - `relay-tcp`: the relay's raw TCP port, JSON lines (after the same hello).
 * - `cluster-ws`: two relay nodes on one Redis (some scenarios only).
 *
 * A goal is a ratio against the target's reference (`baseline-ws`, or `relay-ws`
 * for the cluster and for history off) or, written `{ absolute: N }`, a bound on
 * the headline number itself (e.g. KB per idle connection).
 *
 * Each server runs alone on core 0 and the load generator (bench/loadgen.mjs,
 * Node with the `ws` package) on core 1, when `taskset` exists. Every server
 * is started fresh for each scenario and stopped with SIGTERM afterwards.
 *
 * @module
 */
import { parseArgs } from "node:util";
import {
  parseRuntimes,
  prepareRuntime,
  relayCommand,
  runtimeOf,
  type RuntimeTarget,
  withoutRuntime,
} from "./_runtimes.ts";

/**
 * Which server a run talks to, and over what (see the module comment). `cluster-ws` is two
 * relay nodes on one redis-server: the publisher on node A, the subscribers split between
 * A and B (all three processes on the server's core).
 */
type Target =
  | "baseline-ws"
  | "relay-ws"
  | "relay-ws-plain"
  | "relay-ws-nohistory"
  | "relay-tcp"
  | "cluster-ws"
  | RuntimeTarget;

/**
 * How a scenario's headline number is read: messages per second (throughput, higher is
 * better), p99 latency (latency, rooms), p50 latency (roundtrip), KB per connection (memory).
 */
type Kind = "throughput" | "latency" | "roundtrip" | "memory" | "rooms";

/**
 * A target's goal: its headline's ratio against its reference's in the same run (a number),
 * or a bound on the headline itself, in the headline's unit (`{ absolute: 15 }`: 15 KB).
 */
type Goal = number | { absolute: number };

/** One scenario of issue 4. */
interface Scenario {
  name: string;
  title: string;
  kind: Kind;
  /** Passed to the load generator, on top of target, ports and the server's pid. */
  config: Record<string, number | string | boolean>;
  timeoutMs: number;
  /** Per target: a ratio against its reference, or an absolute bound (see {@link Goal}). */
  goal: Partial<Record<Target, Goal>>;
  /** Also run on a two-node cluster, compared with the single node (relay-ws). */
  cluster?: boolean;
  /** Also run with history off (`--history 0`), so relay-ws shows what history costs. */
  history?: boolean;
}

/** What bench/loadgen.mjs prints after `RESULT `. */
interface GenResult {
  ok: boolean;
  timedOut?: boolean;
  phase?: string;
  errors?: number;
  firstError?: string;
  delivered?: number;
  expected?: number;
  elapsedMs?: number;
  rate?: number;
  p50Ms?: number;
  p99Ms?: number;
  p999Ms?: number;
  samples?: number;
  /** Rooms: messages published in the measured window, rooms, and how long setup took. */
  messages?: number;
  rooms?: number;
  connectMs?: number;
  joinMs?: number;
  barrierMs?: number;
  perConnKB?: number;
  clients?: number;
  serverCpuMs?: number;
  serverWaitMs?: number;
  genCpuMs?: number;
  /** CPU time other processes took on the server's core and the generator's (when pinned). */
  otherServerCoreMs?: number;
  otherGenCoreMs?: number;
  /** Cluster runs: Redis commands, and Redis socket reads, per message published. */
  redisCommandsPerMessage?: number;
  redisReadsPerMessage?: number;
  /** Cluster runs: PUBLISH commands per message published (events share a PUBLISH per turn). */
  publishesPerMessage?: number;
}

interface Row {
  scenario: Scenario;
  target: Target;
  /** Which run of the scenario (1, 2, ...): ratios compare rows of the same run. */
  run: number;
  result: GenResult;
}

const TARGETS: readonly Target[] = [
  "baseline-ws",
  "relay-ws",
  "relay-ws-plain",
  "relay-ws-nohistory",
  "relay-tcp",
  "cluster-ws",
];
const ROOT = new URL("../", import.meta.url);
const BENCH = new URL("./", import.meta.url);

function scenarios(quick: boolean): Scenario[] {
  const q = <T>(full: T, small: T): T => quick ? small : full;
  return [
    {
      name: "fanout-100",
      title: "fan-out 1 -> 100 x " + q(20_000, 2_000).toLocaleString("en-US") + ", trickling",
      kind: "throughput",
      config: {
        scenario: "fanout",
        subscribers: 100,
        messages: q(20_000, 2_000),
        warmup: q(2_000, 200),
        window: 2_000,
      },
      timeoutMs: q(120_000, 20_000),
      // History on (relay-ws) must keep at least 85% of the rate with it off.
      goal: {
        "relay-ws": 6,
        "relay-ws-plain": 6,
        "relay-tcp": 10,
        "cluster-ws": 0.5,
        "relay-ws-nohistory": 1 / 0.85,
      },
      cluster: true,
      history: true,
    },
    {
      name: "fanout-100-burst",
      title: `fan-out 1 -> 100 x ${
        q(20_000, 2_000).toLocaleString("en-US")
      }, publisher bursting (64 per turn)`,
      kind: "throughput",
      config: {
        scenario: "fanout",
        subscribers: 100,
        messages: q(20_000, 2_000),
        warmup: q(2_000, 200),
        window: 2_000,
        publish: "burst",
      },
      timeoutMs: q(120_000, 20_000),
      goal: {},
    },
    {
      name: "fanout-1000",
      title: `fan-out 1 -> ${q(1_000, 200).toLocaleString("en-US")} x ${
        q(2_000, 500).toLocaleString("en-US")
      }, trickling`,
      kind: "throughput",
      config: {
        scenario: "fanout",
        subscribers: q(1_000, 200),
        messages: q(2_000, 500),
        warmup: q(200, 50),
        window: 200,
      },
      timeoutMs: q(120_000, 20_000),
      goal: { "relay-ws": 5, "relay-ws-plain": 5, "relay-tcp": 10 },
    },
    {
      name: "chat",
      title: `chat ${q(50, 20)} clients x ${q(200, 50)} msgs`,
      kind: "throughput",
      config: {
        scenario: "chat",
        clients: q(50, 20),
        messages: q(200, 50),
        warmup: q(20, 5),
        window: 50,
      },
      timeoutMs: q(90_000, 20_000),
      goal: { "relay-ws": 6, "relay-ws-plain": 6, "relay-tcp": 10 },
    },
    {
      name: "latency",
      title: `latency 1 -> 100 at 500 msg/s for ${q(10, 2)} s`,
      kind: "latency",
      config: {
        scenario: "fanout",
        subscribers: 100,
        messages: q(5_000, 1_000),
        rate: 500,
        warmup: 200,
        window: 200,
      },
      timeoutMs: q(60_000, 20_000),
      goal: { "relay-ws": 1, "relay-ws-plain": 1, "relay-tcp": 1 },
      cluster: true,
    },
    {
      name: "roundtrip",
      title: "round trip A -> B x " + q(10_000, 1_000).toLocaleString("en-US") + ", sequential",
      kind: "roundtrip",
      config: {
        scenario: "roundtrip",
        subscribers: 1,
        messages: q(10_000, 1_000),
        warmup: q(500, 100),
        window: 1,
        sampleLatency: true,
      },
      timeoutMs: q(60_000, 20_000),
      goal: { "relay-ws": 1.2, "relay-ws-plain": 1.2, "relay-tcp": 1.2 },
    },
    {
      name: "idle",
      title: `idle memory, ${q(5_000, 500).toLocaleString("en-US")} clients`,
      kind: "memory",
      config: { scenario: "idle", clients: q(5_000, 500) },
      timeoutMs: q(180_000, 30_000),
      // Over TCP, at most 15 KB per connection, whatever the baseline (it has no TCP).
      goal: { "relay-ws": 1, "relay-ws-plain": 1, "relay-tcp": { absolute: 15 } },
    },
    {
      name: "rooms",
      title: `rooms: ${q(2_000, 400).toLocaleString("en-US")} clients in ${
        q(100, 20)
      } rooms, each says 64 B every 1-3 s, ${q(30, 8)} s`,
      kind: "rooms",
      config: {
        scenario: "rooms",
        clients: q(2_000, 400),
        rooms: q(100, 20),
        // Measured after connect, join, a barrier per room and this warm-up.
        durationMs: q(30_000, 8_000),
        warmupMs: q(3_000, 2_000),
        minDelayMs: 1_000,
        maxDelayMs: 3_000,
        drainMs: 10_000,
      },
      // Connect and join 2,000 clients, the warm-up, 30 s and the drain, with room to spare.
      timeoutMs: q(180_000, 60_000),
      goal: { "relay-ws": 1, "relay-ws-plain": 1, "relay-tcp": 1 },
    },
  ];
}

// ------------------------------------------------------------------ processes

async function output(command: string, args: string[]): Promise<string> {
  try {
    const { stdout, success } = await new Deno.Command(command, {
      args,
      stdout: "piped",
      stderr: "null",
    }).output();
    return success ? new TextDecoder().decode(stdout).trim() : "";
  } catch {
    return "";
  }
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

async function waitForPort(
  port: number,
  child: Deno.ChildProcess,
  ms: number,
): Promise<void> {
  let exited = false;
  void child.status.then(() => exited = true);
  const until = Date.now() + ms;
  while (Date.now() < until && !exited) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.close();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw new Error(
    exited ? "the server exited at startup" : `port ${port} never opened`,
  );
}

/** Keeps the last few KB of a child's output, so a failure can be explained. */
function tail(stream: ReadableStream<Uint8Array>): () => string {
  let text = "";
  void (async () => {
    try {
      for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
        text = (text + chunk).slice(-4096);
      }
    } catch { /* the child went away */ }
  })();
  return () => text;
}

interface RunningServer {
  pid: number;
  port: number;
  tcpPort: number;
  log: () => string;
  stop: () => Promise<void>;
  /** A cluster: every node's HTTP port (clients are spread over them), every pid, and Redis. */
  cluster?: { ports: number[]; pids: number[]; redisPort: number };
}

// The relay's protective limits are for the internet, not for one load
// generator on loopback: every client comes from 127.0.0.1 and publishes far
// faster than a person. Lifted only where this main.ts has the flag.
const LIFTED_LIMITS: readonly [string, string][] = [
  ["--max-connections", "1000000"],
  ["--max-per-address", "1000000"],
  ["--rate", "1000000000"],
  ["--rate-burst", "1000000000"],
  ["--rate-bytes", "1000000000000"],
  ["--idle-timeout", "0"],
  ["--max-pending-per-address", "1000000"],
  ["--room-rate-bytes", "1000000000000"],
  ["--direct-rate", "1000000000"],
  ["--direct-rate-bytes", "1000000000000"],
  // The rooms scenario's 100 rooms are all created from 127.0.0.1.
  ["--max-rooms-per-address", "1000000"],
];

/**
 * The V8 flags `deno task start` runs the relay with (deno.json): semi-spaces
 * of at most 8 MB, where V8 lets them grow to 16 MB, so a burst of logins does
 * not leave the young generation at its peak. The baseline keeps Deno's defaults.
 */
const RELAY_V8_FLAGS = "--v8-flags=--max-semi-space-size=8";

async function relayFlags(): Promise<string[]> {
  const main = new URL("main.ts", ROOT).pathname;
  const help = await output(Deno.execPath(), ["run", "-A", main, "--help"]);
  return LIFTED_LIMITS.filter(([flag]) => new RegExp(`^\\s*${flag}\\b`, "m").test(help)).flat();
}

/** The processes a server runs as, on each runtime. */
const SERVER_COMMANDS = new Set(["deno", "node", "bun"]);

/** The server process itself, should a wrapper have forked rather than exec'd it. */
async function serverPid(pid: number): Promise<number> {
  try {
    if (SERVER_COMMANDS.has((await Deno.readTextFile(`/proc/${pid}/comm`)).trim())) {
      return pid;
    }
    const children = await Deno.readTextFile(
      `/proc/${pid}/task/${pid}/children`,
    );
    for (const child of children.trim().split(/\s+/).filter(Boolean)) {
      if (SERVER_COMMANDS.has((await Deno.readTextFile(`/proc/${child}/comm`)).trim())) {
        return Number(child);
      }
    }
  } catch { /* no /proc: CPU and memory columns stay empty */ }
  return pid;
}

const CLIENT_COMMANDS = new Set([
  "publish",
  "evalsha",
  "eval",
  "subscribe",
  "unsubscribe",
  "ping",
]);

/** Redis's counters that the cluster rows report. */
async function redisCounters(
  port: number,
): Promise<{ calls: number; publishes: number; reads: number }> {
  const info = await output("redis-cli", ["-p", String(port), "INFO", "all"]);
  let calls = 0;
  let publishes = 0;
  // Commands the nodes sent; the ones their Lua scripts run inside are counted by Redis too.
  for (const match of info.matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)) {
    if (!CLIENT_COMMANDS.has(match[1]!)) continue;
    calls += Number(match[2]);
    if (match[1] === "publish") publishes += Number(match[2]);
  }
  const reads = Number(/^total_reads_processed:(\d+)/m.exec(info)?.[1] ?? 0);
  return { calls, publishes, reads };
}

/** redis-server and two relay nodes on it, all pinned where the server goes. */
async function startCluster(
  pin: string[],
  extraFlags: string[],
  profileDir: string | undefined,
): Promise<RunningServer> {
  const redisPort = freePort();
  const redis = new Deno.Command(pin[0] ?? "redis-server", {
    args: [
      ...pin.slice(1),
      ...(pin.length > 0 ? ["redis-server"] : []),
      "--port",
      String(redisPort),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
    ],
    stdout: "null",
    stderr: "null",
    stdin: "null",
  }).spawn();
  const stopRedis = async () => {
    try {
      redis.kill("SIGKILL");
    } catch { /* already gone */ }
    await redis.status;
  };
  const nodes: RunningServer[] = [];
  try {
    await waitForPort(redisPort, redis, 10_000);
    const flags = [...extraFlags, "--redis", `redis://127.0.0.1:${redisPort}`];
    for (let i = 0; i < 2; i++) {
      nodes.push(await startServer("relay-ws", pin, flags, profileDir));
    }
  } catch (error) {
    for (const node of nodes) await node.stop();
    await stopRedis();
    throw error;
  }
  const [a, b] = nodes as [RunningServer, RunningServer];
  return {
    pid: a.pid,
    port: a.port,
    tcpPort: a.tcpPort,
    log: () => a.log() + b.log(),
    stop: async () => {
      await Promise.all(nodes.map((node) => node.stop()));
      await stopRedis();
    },
    cluster: {
      ports: [a.port, b.port],
      pids: [a.pid, b.pid, redis.pid],
      redisPort,
    },
  };
}

async function startServer(
  target: Target,
  pin: string[],
  extraFlags: string[],
  profileDir: string | undefined,
): Promise<RunningServer> {
  if (target === "cluster-ws") {
    return await startCluster(pin, extraFlags, profileDir);
  }
  const port = freePort();
  const tcpPort = freePort();
  const profile = profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : [];
  if (target === "relay-ws-nohistory") {
    extraFlags = [...extraFlags, "--history", "0"];
  }
  const script = target === "baseline-ws"
    ? [
      "bench/baseline_server.ts",
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
    ]
    : [
      "main.ts",
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      "--tcp-port",
      String(tcpPort),
      ...extraFlags,
    ];
  const v8 = target === "baseline-ws" ? [] : [RELAY_V8_FLAGS];
  const runtime = runtimeOf(target);
  const argv = runtime
    ? [...pin, ...relayCommand(runtime), ...script.slice(1)]
    : [...pin, Deno.execPath(), "run", "-A", ...v8, ...profile, ...script];
  const child = new Deno.Command(argv[0]!, {
    args: argv.slice(1),
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const out = tail(child.stdout);
  const err = tail(child.stderr);
  const log = () => (out() + err()).trim();
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
    const timer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
    }, 5000);
    await child.status;
    clearTimeout(timer);
  };
  try {
    await waitForPort(port, child, 15_000);
    if (withoutRuntime(target) === "relay-tcp") await waitForPort(tcpPort, child, 5_000);
  } catch (error) {
    await stop();
    throw new Error(`${target}: ${(error as Error).message}\n${log()}`);
  }
  // `taskset -c 0 deno ...` execs deno in place, so this is normally child.pid.
  return { pid: await serverPid(child.pid), port, tcpPort, log, stop };
}

async function ensureWs(): Promise<void> {
  try {
    await Deno.stat(new URL("node_modules/ws/package.json", BENCH));
    return;
  } catch { /* install it */ }
  console.error(
    "bench: installing the load generator's dependency (npm ci in bench/)",
  );
  const { success } = await new Deno.Command("npm", {
    args: ["ci", "--no-fund", "--no-audit", "--loglevel=error"],
    cwd: BENCH,
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!success) {
    throw new Error("npm ci in bench/ failed; is Node with npm installed?");
  }
}

async function runGenerator(
  config: Record<string, unknown>,
  pin: string[],
  timeoutMs: number,
): Promise<GenResult> {
  const argv = [...pin, "node", "bench/loadgen.mjs", JSON.stringify(config)];
  const child = new Deno.Command(argv[0]!, {
    args: argv.slice(1),
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // The generator stops itself at config.timeoutMs; this is the backstop.
  const killer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  }, timeoutMs + 15_000);
  const { stdout, stderr } = await child.output();
  clearTimeout(killer);
  const text = new TextDecoder().decode(stdout);
  const line = text.split("\n").find((l) => l.startsWith("RESULT "));
  if (!line) {
    const why = new TextDecoder().decode(stderr).trim().split("\n").slice(-5)
      .join(" | ");
    return {
      ok: false,
      timedOut: true,
      firstError: `generator gave no result: ${why}`,
    };
  }
  return JSON.parse(line.slice("RESULT ".length)) as GenResult;
}

async function runOne(
  scenario: Scenario,
  target: Target,
  pins: { server: string[]; generator: string[] },
  clockTicks: number,
  extraFlags: string[],
  profileDir: string | undefined,
): Promise<GenResult> {
  let server: RunningServer;
  try {
    server = await startServer(target, pins.server, extraFlags, profileDir);
  } catch (error) {
    return {
      ok: false,
      firstError: (error as Error).message.split("\n")[0] ?? "",
    };
  }
  try {
    const cluster = server.cluster;
    const before = cluster ? await redisCounters(cluster.redisPort) : undefined;
    const result = await runGenerator(
      {
        ...scenario.config,
        target: target === "cluster-ws" || target === "relay-ws-nohistory" ||
            target === "relay-ws-plain"
          ? "relay-ws"
          : withoutRuntime(target),
        // Plain WebSocket clients never ask for batched frames.
        ...(target === "relay-ws-plain" ? { batch: false } : {}),
        host: "127.0.0.1",
        port: withoutRuntime(target) === "relay-tcp" ? server.tcpPort : server.port,
        ...(cluster ? { ports: cluster.ports, serverPids: cluster.pids } : {}),
        serverPid: server.pid,
        ...(pins.server.length > 0 ? { cores: { server: 0, generator: 1 } } : {}),
        clockTicks,
        textBytes: 64,
        timeoutMs: scenario.timeoutMs,
      },
      pins.generator,
      scenario.timeoutMs,
    );
    if (cluster && before) {
      const after = await redisCounters(cluster.redisPort);
      const published = Number(scenario.config.messages ?? 0) +
        Number(scenario.config.warmup ?? 0);
      result.redisCommandsPerMessage = (after.calls - before.calls) / published;
      result.redisReadsPerMessage = (after.reads - before.reads) / published;
      result.publishesPerMessage = (after.publishes - before.publishes) /
        published;
    }
    return result;
  } finally {
    await server.stop();
  }
}

// ------------------------------------------------------------------ the table

const fmt = (n: number, digits = 0) =>
  n.toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });

function headline(kind: Kind, r: GenResult): number | undefined {
  if (!r.ok) return undefined;
  switch (kind) {
    case "throughput":
      return r.rate;
    case "latency":
    case "rooms":
      return r.p99Ms;
    case "roundtrip":
      return r.p50Ms;
    case "memory":
      return r.perConnKB;
  }
}

/** The headline's unit (with its leading space) and how many decimals it is shown with. */
function unitOf(kind: Kind): { unit: string; digits: number } {
  switch (kind) {
    case "throughput":
      return { unit: " msg/s", digits: 0 };
    case "memory":
      return { unit: " KB/conn", digits: 1 };
    default:
      return { unit: " ms", digits: 3 };
  }
}

function describe(kind: Kind, r: GenResult): string {
  if (r.timedOut) return `timed out (${r.phase ?? "?"})`;
  if (!r.ok) return "failed";
  switch (kind) {
    case "throughput":
      return `${fmt(r.rate ?? NaN)} msg/s`;
    case "latency":
    case "roundtrip":
      return `p50 ${fmt(r.p50Ms ?? NaN, 3)} ms, p99 ${fmt(r.p99Ms ?? NaN, 3)} ms`;
    case "rooms":
      return `p50 ${fmt(r.p50Ms ?? NaN, 3)} ms, p99 ${fmt(r.p99Ms ?? NaN, 3)} ms, p999 ${
        fmt(r.p999Ms ?? NaN, 3)
      } ms; ${fmt(r.rate ?? NaN)} deliveries/s`;
    case "memory":
      return `${fmt(r.perConnKB ?? NaN, 1)} KB/conn`;
  }
}

/** A number a summary line shows besides the headline, for some kinds. */
interface Extra {
  label: string;
  unit: string;
  digits: number;
  value: (r: GenResult) => number | undefined;
}

const cpuShare = (r: GenResult) =>
  r.serverCpuMs !== undefined && r.elapsedMs ? (r.serverCpuMs / r.elapsedMs) * 100 : undefined;

function extras(kind: Kind): Extra[] {
  switch (kind) {
    case "latency":
      return [{ label: "p50", unit: " ms", digits: 3, value: (r) => r.p50Ms }];
    case "roundtrip":
      return [{ label: "p99", unit: " ms", digits: 3, value: (r) => r.p99Ms }];
    case "rooms":
      return [
        { label: "p50", unit: " ms", digits: 3, value: (r) => r.p50Ms },
        { label: "p999", unit: " ms", digits: 3, value: (r) => r.p999Ms },
        { label: "", unit: " deliveries/s", digits: 0, value: (r) => r.rate },
        {
          label: "server CPU",
          unit: " s",
          digits: 2,
          value: (r) => r.serverCpuMs === undefined ? undefined : r.serverCpuMs / 1000,
        },
        { label: "", unit: "% of a core", digits: 0, value: cpuShare },
      ];
    default:
      return [];
  }
}

/** Higher is better for throughput, lower for everything else. */
function meets(kind: Kind, value: number, bound: number): boolean {
  return kind === "throughput" ? value >= bound : value <= bound;
}

/**
 * Whether `goal` is met: an absolute goal by the headline `value`, a ratio goal by `ratio`.
 * Undefined when the number it needs is missing (a failed run).
 */
function metGoal(
  kind: Kind,
  target: Target,
  goal: Goal,
  value: number | undefined,
  ratio: number | undefined,
): boolean | undefined {
  if (typeof goal === "object") {
    return value === undefined ? undefined : meets(kind, value, goal.absolute);
  }
  if (ratio === undefined) return undefined;
  // Without history at most 1/0.85 times as fast: with it, at most 15% slower.
  return target === "relay-ws-nohistory" ? ratio <= goal : meets(kind, ratio, goal);
}

function goalText(kind: Kind, target: Target, goal: Goal | undefined): string {
  if (goal === undefined) return "";
  const what = kind === "latency" || kind === "rooms" ? "p99 " : kind === "roundtrip" ? "p50 " : "";
  if (typeof goal === "object") {
    const { unit, digits } = unitOf(kind);
    return `${what}${kind === "throughput" ? ">=" : "<="} ${
      fmt(goal.absolute, Math.min(digits, 1))
    }${unit} (absolute)`;
  }
  if (target === "relay-ws-nohistory") {
    return `<= ${fmt(goal, 2)}x (history costs <= 15%)`;
  }
  return `${what}${kind === "throughput" ? ">=" : "<="} ${fmt(goal, 2)}x`;
}

function cpu(ms: number | undefined, elapsedMs: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return "";
  const share = elapsedMs ? ` (${fmt((ms / elapsedMs) * 100)}%)` : "";
  return `${fmt(ms / 1000, 2)} s${share}`;
}

/** Other processes took more than this share of the server's or the generator's core. */
const CONTENDED = 0.05;
/** ... and more than this (ms): /proc/stat counts in clock ticks, a few of them are noise. */
const CONTENDED_MIN_MS = 50;

/** How much of the two pinned cores other processes took while measuring; "" when unknown. */
function others(r: GenResult): string {
  if (r.otherServerCoreMs === undefined || r.otherGenCoreMs === undefined) return "";
  return `${fmt(r.otherServerCoreMs / 1000, 2)} s / ${fmt(r.otherGenCoreMs / 1000, 2)} s${
    contended(r) ? " CONTENDED" : ""
  }`;
}

/** True when other processes took a noticeable share of either pinned core while measuring. */
function contended(r: GenResult): boolean {
  const busy = (ms: number | undefined) =>
    r.elapsedMs !== undefined && ms !== undefined && ms > CONTENDED_MIN_MS &&
    ms / r.elapsedMs > CONTENDED;
  return busy(r.otherServerCoreMs) || busy(r.otherGenCoreMs);
}

/**
 * What a target is measured against: a cluster against the single node it replaces, history
 * off against history on (so the ratio is how much faster it is without), the rest against
 * the baseline.
 */
function referenceOf(target: Target): Target {
  return target === "cluster-ws" || target === "relay-ws-nohistory" ? "relay-ws" : "baseline-ws";
}

/** The row's headline against its reference's in the same run, when both have one. */
function ratioOf(rows: Row[], row: Row): number | undefined {
  const base = rows.find((r) =>
    r.scenario === row.scenario && r.run === row.run && r.target === referenceOf(row.target)
  );
  const value = headline(row.scenario.kind, row.result);
  const baseValue = base ? headline(row.scenario.kind, base.result) : undefined;
  if (value === undefined || baseValue === undefined || !(baseValue > 0)) return undefined;
  return value / baseValue;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** "median (min-max)" of a list, or n/a. */
function spread(list: number[], digits: number): string {
  return list.length === 0
    ? "n/a"
    : list.length === 1
    ? fmt(list[0]!, digits)
    : `${fmt(median(list), digits)} (${fmt(Math.min(...list), digits)}-${
      fmt(Math.max(...list), digits)
    })`;
}

/** One line per scenario and server: the median of the runs, and their spread. */
function summary(rows: Row[]): string {
  const lines = [
    "| scenario | server | median (spread) | vs reference: median (spread) | target | also: median (spread) |",
    "| --- | --- | --- | --- | --- | --- |",
  ];
  const seen = new Set<string>();
  for (const row of rows) {
    const key = `${row.scenario.name} ${row.target}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const runs = rows.filter((r) => r.scenario === row.scenario && r.target === row.target);
    const { kind } = row.scenario;
    const values = runs.flatMap((r) => headline(kind, r.result) ?? []);
    const ratios = runs.flatMap((r) => ratioOf(rows, r) ?? []);
    const { unit, digits } = unitOf(kind);
    const goal = row.scenario.goal[row.target];
    const reference = referenceOf(row.target);
    const met = goal === undefined ? undefined : metGoal(
      kind,
      row.target,
      goal,
      values.length > 0 ? median(values) : undefined,
      ratios.length > 0 ? median(ratios) : undefined,
    );
    const verdict = goal === undefined
      ? ""
      : `${goalText(kind, row.target, goal)}: ${
        met === undefined ? "n/a" : met ? "met" : "MISSED"
      } on the median`;
    const ok = runs.filter((r) => r.result.ok).length;
    const busy = runs.filter((r) => contended(r.result)).length;
    const also = extras(kind).map((extra) => {
      const list = runs.flatMap((r) => r.result.ok ? extra.value(r.result) ?? [] : []);
      return `${extra.label ? extra.label + " " : ""}${spread(list, extra.digits)}${extra.unit}`;
    }).join("; ");
    lines.push(
      `| ${row.scenario.title} | ${row.target} | ${
        spread(values, digits)
      }${unit} (${ok} of ${runs.length} runs ok${busy > 0 ? `, ${busy} contended` : ""}) | ${
        row.target === "baseline-ws" ? "" : `${spread(ratios, 2)}x of ${reference}`
      } | ${verdict} | ${also} |`,
    );
  }
  return lines.join("\n");
}

function table(rows: Row[]): string {
  const lines = [
    "| scenario | run | server | result | vs baseline | target | server CPU | server CPU wait | generator CPU | other processes on server / generator core | check |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const row of rows) {
    const { scenario, target, result } = row;
    const { kind } = scenario;
    const reference = referenceOf(target);
    const value = headline(kind, result);
    const ratio = ratioOf(rows, row);
    const goal = scenario.goal[target];
    const ratioText = target === "baseline-ws"
      ? "1.00x"
      : ratio === undefined
      ? "n/a"
      : `${fmt(ratio, 2)}x${reference === "relay-ws" ? " of relay-ws" : ""}`;
    const met = goal === undefined ? undefined : metGoal(kind, target, goal, value, ratio);
    const verdict = met === undefined ? "" : met ? ": met" : ": MISSED";
    const redis = result.redisCommandsPerMessage === undefined
      ? ""
      : `; Redis per message: ${fmt(result.redisCommandsPerMessage, 3)} commands sent (${
        fmt(result.publishesPerMessage ?? NaN, 3)
      } PUBLISH, logins included), ${fmt(result.redisReadsPerMessage ?? NaN, 3)} reads`;
    const setup = result.connectMs === undefined
      ? ""
      : `; ${fmt(result.messages ?? 0)} sent, ${fmt(result.samples ?? 0)} latencies; connect ${
        fmt(result.connectMs / 1000, 1)
      } s, join ${fmt((result.joinMs ?? 0) / 1000, 1)} s, barrier ${
        fmt((result.barrierMs ?? 0) / 1000, 1)
      } s`;
    const check = result.ok
      ? (result.expected !== undefined ? `ok, ${fmt(result.delivered ?? 0)} delivered` : "ok") +
        redis + setup
      : `${result.timedOut ? "TIMED OUT" : "FAILED"}: ${
        (result.firstError ?? "").replaceAll("|", "/").slice(0, 120)
      }`;
    // Memory is measured over connect and settle; its CPU share would mislead.
    const elapsed = kind === "memory" ? undefined : result.elapsedMs;
    lines.push(
      `| ${scenario.title} | ${row.run} | ${target} | ${describe(kind, result)} | ${ratioText} | ${
        goal === undefined ? "" : goalText(kind, target, goal) + verdict
      } | ${cpu(result.serverCpuMs, elapsed)} | ${cpu(result.serverWaitMs, elapsed)} | ${
        cpu(result.genCpuMs, elapsed)
      } | ${others(result)} | ${check} |`,
    );
  }
  return lines.join("\n");
}

// ------------------------------------------------------------------ main

async function loadAverage(): Promise<string> {
  try {
    return (await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3)
      .join(" ");
  } catch {
    return "unknown";
  }
}

async function machine(pinned: boolean, loadBefore: string): Promise<string> {
  let model = "unknown";
  try {
    const info = await Deno.readTextFile("/proc/cpuinfo");
    model = /^model name\s*:\s*(.+)$/m.exec(info)?.[1]?.trim() ?? model;
  } catch { /* not Linux */ }
  const cores = (await output("nproc", [])) ||
    String(navigator.hardwareConcurrency);
  const node = await output("node", ["--version"]);
  return [
    `- machine: ${cores} cores, ${model}, ${Deno.build.os} ${Deno.osRelease()}`,
    `- deno ${Deno.version.deno} (V8 ${Deno.version.v8}); generator: node ${node} with ws`,
    `- ${
      pinned
        ? "server pinned to core 0, generator to core 1 (taskset)"
        : "no taskset: nothing pinned"
    }; loopback; 64-byte message texts`,
    "- CPU columns: CPU seconds over the measured phase (share of one core); server CPU wait:" +
    " time the server was runnable but another thread or process had its core (/proc/PID/schedstat);" +
    " other processes: CPU time the rest of the machine took on the two pinned cores" +
    ` (/proc/stat), CONTENDED above ${CONTENDED * 100}% of either core (and ${CONTENDED_MIN_MS}` +
    " ms): such a run's numbers," +
    " latencies most, are skewed",
    `- load average before / after the run: ${loadBefore} / ${await loadAverage()}` +
    " (other work on the machine skews every number)",
  ].join("\n");
}

function stamp(date: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${p(date.getMonth() + 1)}-${p(date.getDate())}-${
    p(date.getHours())
  }${p(date.getMinutes())}`;
}

async function main(): Promise<void> {
  const flags = parseArgs({
    args: Deno.args,
    options: {
      quick: { type: "boolean", default: false },
      only: { type: "string" },
      "cpu-prof": { type: "boolean", default: false },
      runs: { type: "string" },
      runtime: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  }).values;
  const all = scenarios(flags.quick);
  if (flags.help) {
    console.log(
      "Usage: deno run -A bench/run.ts [--quick] [--only NAME[,NAME]] [--runs N] [--cpu-prof]\n" +
        "                                [--runtime deno,node,bun]\n" +
        "Each scenario runs N times (default 3; 1 with --quick), all servers in each run.\n" +
        "--runtime also runs relay-ws and relay-tcp on Node (relay-ws@node, ...) and Bun.\n" +
        `Scenarios: ${all.map((s) => s.name).join(", ")}`,
    );
    return;
  }
  const wanted = flags.only?.split(",").map((s) => s.trim()).filter(Boolean);
  const unknown = wanted?.filter((name) => !all.some((s) => s.name === name)) ??
    [];
  if (unknown.length > 0) {
    console.error(`bench: unknown scenario ${unknown.join(", ")}; try --help`);
    Deno.exit(2);
  }
  const chosen = wanted ? all.filter((s) => wanted.includes(s.name)) : all;
  let runtimes;
  try {
    runtimes = parseRuntimes(flags.runtime);
    for (const runtime of runtimes) await prepareRuntime(runtime, ROOT);
  } catch (error) {
    console.error(`bench: ${(error as Error).message}`);
    Deno.exit(2);
  }
  const targets: Target[] = [
    ...TARGETS,
    ...runtimes.flatMap((r) => [`relay-ws@${r}`, `relay-tcp@${r}`] as const),
  ];

  await ensureWs();
  const pinned = (navigator.hardwareConcurrency ?? 1) >= 2 &&
    await new Deno.Command("taskset", {
      args: ["-c", "1", "true"],
      stderr: "null",
    }).output()
      .then((o) => o.success, () => false);
  const pins = pinned
    ? { server: ["taskset", "-c", "0"], generator: ["taskset", "-c", "1"] }
    : { server: [], generator: [] };
  const clockTicks = Number(await output("getconf", ["CLK_TCK"])) || 100;
  const started = new Date();
  const loadBefore = await loadAverage();
  const profileDir = flags["cpu-prof"]
    ? new URL(`results/cpuprof-${stamp(started)}.tmp`, BENCH).pathname
    : undefined;

  const extraFlags = await relayFlags();
  if (extraFlags.length > 0) {
    console.error(`bench: relay flags ${extraFlags.join(" ")}`);
  }

  const runs = Number(flags.runs ?? (flags.quick ? 1 : 3));
  if (!Number.isInteger(runs) || runs < 1) {
    console.error("bench: --runs must be a whole number of 1 or more");
    Deno.exit(2);
  }
  const rows: Row[] = [];
  for (const scenario of chosen) {
    // Every server once per run, runs one after another: a ratio compares servers of one run.
    for (let run = 1; run <= runs; run++) {
      for (const target of targets) {
        if (target === "cluster-ws" && !scenario.cluster) continue;
        if (target === "relay-ws-nohistory" && !scenario.history) continue;
        const t0 = performance.now();
        const result = await runOne(scenario, target, pins, clockTicks, extraFlags, profileDir);
        rows.push({ scenario, target, run, result });
        console.error(
          `bench: ${scenario.name} run ${run} ${target}: ${describe(scenario.kind, result)}${
            result.ok ? "" : ` (${result.firstError ?? ""})`
          } [${fmt((performance.now() - t0) / 1000, 1)} s]`,
        );
      }
    }
  }

  const report = [
    `# crosswire bench, ${started.toISOString().slice(0, 16).replace("T", " ")} UTC${
      flags.quick ? " (quick)" : ""
    }`,
    "",
    `\`deno run -A bench/run.ts${flags.quick ? " --quick" : ""}${
      wanted ? ` --only ${wanted.join(",")}` : ""
    }${flags.runs ? ` --runs ${flags.runs}` : ""}${
      flags.runtime ? ` --runtime ${flags.runtime}` : ""
    }\``,
    "",
    await machine(pinned, loadBefore),
    "",
    summary(rows),
    "",
    "Every run:",
    "",
    table(rows),
    "",
  ].join("\n");
  console.log("\n" + summary(rows) + "\n");
  await Deno.mkdir(new URL("results/", BENCH), { recursive: true });
  // Two runs started in the same minute must not overwrite each other.
  let file = new URL(`results/${stamp(started)}${flags.quick ? "-quick" : ""}.md`, BENCH);
  for (let n = 2; await Deno.stat(file).then(() => true, () => false); n++) {
    file = new URL(`results/${stamp(started)}${flags.quick ? "-quick" : ""}-${n}.md`, BENCH);
  }
  await Deno.writeTextFile(file, report);
  // The repository's `deno fmt --check` covers Markdown too.
  await new Deno.Command(Deno.execPath(), {
    // The repo config (line width) applies only when named: deno fmt FILE alone uses defaults.
    args: [
      "fmt",
      "--quiet",
      "--config",
      new URL("deno.json", ROOT).pathname,
      file.pathname,
    ],
    cwd: ROOT,
  })
    .output().catch(() => undefined);
  console.log(
    `bench: wrote ${file.pathname.replace(new URL(ROOT).pathname, "")}`,
  );
  if (profileDir) console.log(`bench: CPU profiles in ${profileDir}`);
}

if (import.meta.main) await main();
