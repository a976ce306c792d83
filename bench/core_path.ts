/**
 * The relay core's per-message path, without any network: one publisher and N
 * members in one room, on the in-memory engine, every member's queue drained
 * every 64 messages as a transport would. Run it on two checkouts in a row to
 * compare them (three runs each, interleaved, each in a fresh process, with
 * their spread):
 *
 * ```sh
 * git worktree add /tmp/before c15ca82
 * deno run -A bench/core_path.ts --repo /tmp/before --repo .
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";

const flags = parseArgs({
  args: Deno.args,
  options: {
    repo: { type: "string", multiple: true, default: ["."] },
    runs: { type: "string", default: "3" },
    deliveries: { type: "string", default: "2000000" },
    one: { type: "string" },
  },
  strict: true,
}).values;

interface Port {
  framing: "lines" | "frames";
  wake(): void;
  close(): void;
}

interface SessionLike {
  receiveText(text: string): void;
  feed(bytes: Uint8Array): void;
  outbound: { take(): unknown[] };
}

const LIFTED = {
  rateMessagesPerSecond: 1e9,
  rateMessageBurst: 1e9,
  rateBytesPerSecond: 1e12,
  maxConnections: 1e6,
  maxConnectionsPerAddress: 1e6,
  maxPendingPerAddress: 1e6,
  roomBytesPerSecond: 1e12,
  maxAnnouncedRoomSize: 1e6,
  // HISTORY=0 turns the room history off (checkouts older than history ignore it).
  ...(Deno.env.get("HISTORY") === undefined
    ? {}
    : { historySize: Number(Deno.env.get("HISTORY")) }),
};

/** Deliveries per second for one run. */
async function run(
  root: string,
  members: number,
  framing: "lines" | "frames",
): Promise<number> {
  const { Relay } = await import(new URL("core/mod.ts", root).href);
  const relay = new Relay(LIFTED);
  const port: Port = { framing, wake: () => {}, close: () => {} };
  const sessions: SessionLike[] = [];
  const encoder = new TextEncoder();
  for (let i = 0; i < members; i++) {
    const session: SessionLike = relay.connect(port);
    if (framing === "frames") {
      session.receiveText(JSON.stringify({ type: "login", name: `u${i}` }));
    } else session.feed(encoder.encode(`u${i}\n`));
    sessions.push(session);
  }
  const publisher = sessions[0]!;
  const text = "x".repeat(56);
  const say = framing === "frames"
    ? () =>
      publisher.receiveText(
        JSON.stringify({ type: "publish", room: "lobby", text }),
      )
    : () => publisher.feed(encoder.encode(text + "\n"));
  const messages = Math.round(Number(flags.deliveries) / members);
  for (const session of sessions) session.outbound.take();
  const started = performance.now();
  for (let i = 0; i < messages; i++) {
    say();
    if (i % 64 === 63) {
      for (const session of sessions) session.outbound.take();
    }
  }
  const seconds = (performance.now() - started) / 1000;
  return (messages * (members - 1)) / seconds;
}

// One run per process, so neither checkout warms the JIT or the heap for the other.
if (flags.one !== undefined) {
  const [root, members, framing] = JSON.parse(flags.one) as [
    string,
    number,
    "lines" | "frames",
  ];
  console.log(await run(root, members, framing));
  Deno.exit(0);
}

async function fresh(
  root: string,
  members: number,
  framing: string,
): Promise<number> {
  const { stdout, success } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      import.meta.filename!,
      "--deliveries",
      flags.deliveries,
      "--one",
      JSON.stringify([root, members, framing]),
    ],
    stderr: "inherit",
  }).output();
  if (!success) throw new Error(`the run on ${root} failed`);
  return Number(new TextDecoder().decode(stdout).trim());
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
console.log(
  "| checkout | members | framing | deliveries/s (median of runs) | spread |",
);
console.log("| --- | --- | --- | --- | --- |");
for (const members of [100, 1000]) {
  for (const framing of ["frames", "lines"] as const) {
    const rates = new Map<string, number[]>(
      flags.repo.map((repo) => [repo, []]),
    );
    for (let r = 0; r < Number(flags.runs); r++) {
      for (const repo of flags.repo) {
        const root = new URL(
          repo.endsWith("/") ? repo : repo + "/",
          `file://${Deno.cwd()}/`,
        ).href;
        rates.get(repo)!.push(await fresh(root, members, framing));
      }
    }
    for (const [repo, list] of rates) {
      list.sort((a, b) => a - b);
      const median = fmt(list[Math.floor(list.length / 2)]!);
      const spread = `${fmt(list[0]!)}-${fmt(list.at(-1)!)}`;
      console.log(
        `| ${repo} | ${members} | ${framing} | ${median} | ${spread} |`,
      );
    }
  }
}
