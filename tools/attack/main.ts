/**
 * The attack harness: `deno run -A tools/attack/main.ts [--only NAME[,NAME]]
 * [--repo DIR] [--json OUT] [--repeat N] [--list] [--runtime node|bun]`.
 *
 * For each attack it starts the server from `--repo` (default: the checkout
 * holding this script) in its own process on free ports, starts the canary
 * (honest users chatting, see `_canary.ts`), runs the attack, keeps the canary
 * going ~5 s more, and prints one row: server alive, server RSS at start /
 * peak / end, canary messages sent, lost, duplicated, its longest delivery
 * delay, whether a canary user was dropped, and what the attack observed.
 * A Markdown table of all rows comes at the end; `--json` also writes them.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { parseRuntimes, prepareRuntime, type RuntimeName } from "../../bench/_runtimes.ts";
import { type Attack, type AttackContext, killHelpers, mib, type Observation } from "./_attack.ts";
import { AUTH_ATTACKS } from "./auth.ts";
import { Canary, type CanaryReport } from "./_canary.ts";
import { delay, destroyAllSockets } from "./_net.ts";
import { raiseFileLimit, ServerProcess } from "./_server.ts";
import { bigFrames, bigFrames64 } from "./big_frames.ts";
import { dmFlood, dmFloodTelnet } from "./dm_flood.ts";
import { fdHttp, fdTcp } from "./fd_exhaustion.ts";
import { forgedNotices } from "./forged_notices.ts";
import {
  historyFiles,
  historyFilesOff,
  historyRoomRefill,
  historySmallFiles,
  historySmallFilesApart,
} from "./history_files.ts";
import {
  historyReplay,
  historyReplayFew,
  historyReplayStallers,
  historyReplayWs,
} from "./history_replay.ts";
import { IRC_ATTACKS } from "./irc.ts";
import { jsonKeys } from "./json_keys.ts";
import { lookalikeNames } from "./lookalike_names.ts";
import { overLimitFrame } from "./over_limit_frame.ts";
import { resumeParking } from "./resume_parking.ts";
import { resumeTokens } from "./resume_tokens.ts";
import { roomFiles } from "./room_files.ts";
import { roomLockout } from "./room_lockout.ts";
import { roomsCost } from "./rooms_cost.ts";
import { silentLockout } from "./silent_lockout.ts";
import { smaller } from "./smaller.ts";
import { stall, stallIdle } from "./stall.ts";

/** Every attack, in the order they run. */
const ATTACKS: readonly Attack[] = [
  fdHttp,
  fdTcp,
  bigFrames,
  bigFrames64,
  overLimitFrame,
  dmFlood,
  dmFloodTelnet,
  roomFiles,
  forgedNotices,
  lookalikeNames,
  roomsCost,
  jsonKeys,
  roomLockout,
  silentLockout,
  stall,
  stallIdle,
  smaller,
  historyFiles,
  historyFilesOff,
  historyRoomRefill,
  historySmallFiles,
  historySmallFilesApart,
  historyReplay,
  historyReplayWs,
  historyReplayFew,
  historyReplayStallers,
  resumeParking,
  resumeTokens,
  ...IRC_ATTACKS,
  ...AUTH_ATTACKS,
];

/** One attack's outcome. */
interface AttackResult {
  attack: string;
  /** How the server was started. */
  server?: string;
  alive: boolean;
  exit?: string;
  rssStartMiB: string;
  rssPeakMiB: string;
  rssEndMiB: string;
  canary?: CanaryReport;
  observations: Record<string, Observation>;
  seconds: number;
}

const CANARY_WARMUP_MS = 2000;
const CANARY_TAIL_MS = 5000;

function log(message: string): void {
  console.error(`[${new Date().toISOString().slice(11, 19)}] ${message}`);
}

// What to kill if the harness itself is interrupted.
const running: { server: ServerProcess | undefined; canary: Canary | undefined } = {
  server: undefined,
  canary: undefined,
};

function interrupted(): void {
  log("interrupted: stopping the server and helpers");
  destroyAllSockets();
  killHelpers();
  running.canary?.kill();
  running.server?.signal("SIGCONT");
  running.server?.signal("SIGKILL");
  Deno.exit(130);
}

async function runAttack(
  attack: Attack,
  repo: string,
  runtime: RuntimeName | undefined,
): Promise<AttackResult> {
  const started = performance.now();
  const observations: Record<string, Observation> = {};
  const server = running.server = await ServerProcess.start(repo, {
    ...attack.server,
    ...(runtime === undefined ? {} : { runtime }),
  });
  log(`${attack.name}: server pid ${server.pid}: ${server.command}`);
  let canary: Canary | undefined;
  let report: CanaryReport | undefined;
  let rssStart = server.memory().rssKiB;
  let attackStarted = Date.now();
  try {
    canary = running.canary = await Canary.start(
      server.httpPort,
      server.tcpPort,
      4,
      attack.canaryIrc ?? false,
    );
    await delay(CANARY_WARMUP_MS);
    rssStart = server.memory().rssKiB;
    attackStarted = Date.now();
    const controller = new AbortController();
    const limit = attack.timeLimitMs ?? 90_000;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, limit);
    const context: AttackContext = {
      server,
      canary,
      signal: controller.signal,
      note: (key, value) => observations[key] = value,
      log: (message) => log(`${attack.name}: ${message}`),
    };
    // An attack that ignores its signal is still cut off 10 s later.
    let late: ReturnType<typeof setTimeout> | undefined;
    const overdue = new Promise<"overdue">((resolve) =>
      late = setTimeout(() => resolve("overdue"), limit + 10_000)
    );
    try {
      const done = attack.run(context).then(() => "done" as const);
      if (await Promise.race([done, overdue]) === "overdue") {
        observations.harness = "attack overran its time limit";
      } else if (timedOut) {
        observations.harness = "time limit reached";
      }
    } catch (error) {
      observations.harness = `attack failed: ${(error as Error).stack ?? error}`;
    } finally {
      clearTimeout(timer);
      clearTimeout(late);
      controller.abort();
    }
    await delay(CANARY_TAIL_MS);
    report = await canary.stop();
  } catch (error) {
    observations.harness = `harness failed: ${(error as Error).message}`;
    canary?.kill();
  }
  const alive = server.alive;
  const end = server.memory().rssKiB;
  destroyAllSockets();
  killHelpers();
  const exit = server.exit;
  const result: AttackResult = {
    attack: attack.name,
    server: server.command,
    alive,
    rssStartMiB: mib(rssStart),
    rssPeakMiB: mib(server.peakRssKiB),
    rssEndMiB: mib(end),
    observations,
    seconds: 0,
  };
  if (exit) {
    result.exit = exit.signal ? `signal ${exit.signal}` : `exit ${exit.code}`;
    observations["server died"] = `${
      ((server.exitedAt! - attackStarted) / 1000).toFixed(1)
    } s into the attack`;
    // deno-lint-ignore no-control-regex -- colour codes, in case NO_COLOR was ignored
    const lines = server.tail("stderr").replace(/\x1b\[[0-9;]*m/g, "").split("\n")
      .map((line) => line.trim()).filter(Boolean);
    const error = lines.findLastIndex((line) => /error/i.test(line));
    const tail = (error < 0 ? lines.slice(-2) : lines.slice(error, error + 2)).join(" / ");
    if (tail) observations["server stderr"] = tail.slice(0, 300);
  }
  if (report) result.canary = report;
  await server.stop();
  running.server = running.canary = undefined;
  result.seconds = Math.round((performance.now() - started) / 1000);
  return result;
}

function cell(value: string): string {
  return value.replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
}

/** One Markdown table row per result. */
function markdownTable(results: AttackResult[]): string {
  const rows = [
    "| attack | server alive | RSS MiB start / peak / end | canary sent | lost | dup | longest stall ms | canary dropped | observations |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const result of results) {
    const canary = result.canary;
    const dropped = canary === undefined
      ? "n/a"
      : canary.disconnects.length === 0
      ? "no"
      : `yes: ${
        canary.disconnects.map((d) => `${d.user}${d.code ? ` (${d.code})` : ""}`).join(", ")
      }`;
    const errors = canary && Object.keys(canary.errors).length > 0
      ? `canary errors: ${
        Object.entries(canary.errors).map(([code, count]) => `${code}×${count}`).join(", ")
      }; `
      : "";
    const notes = Object.entries(result.observations)
      .map(([key, value]) => `${key}: ${value === true ? "yes" : value === false ? "no" : value}`)
      .join("; ");
    rows.push(
      "| " + [
        result.attack,
        result.alive ? "yes" : `no (${result.exit ?? "?"})`,
        `${result.rssStartMiB} / ${result.rssPeakMiB} / ${result.rssEndMiB}`,
        canary ? String(canary.sent) : "n/a",
        canary ? String(canary.lost) : "n/a",
        canary ? String(canary.duplicated) : "n/a",
        canary ? String(canary.maxDelayMs) : "n/a",
        dropped,
        errors + notes,
      ].map(cell).join(" | ") + " |",
    );
  }
  return rows.join("\n");
}

async function main(): Promise<void> {
  const flags = parseArgs({
    args: Deno.args,
    options: {
      only: { type: "string" },
      repo: { type: "string", default: new URL("../..", import.meta.url).pathname },
      json: { type: "string" },
      repeat: { type: "string", default: "1" },
      list: { type: "boolean", default: false },
      runtime: { type: "string" },
    },
  }).values;
  if (flags.list) {
    for (const attack of ATTACKS) console.log(`${attack.name.padEnd(18)} ${attack.summary}`);
    return;
  }
  const names = flags.only?.split(",").map((name) => name.trim()).filter(Boolean);
  const unknown = names?.filter((name) => !ATTACKS.some((attack) => attack.name === name)) ?? [];
  if (unknown.length > 0) {
    console.error(`unknown attack: ${unknown.join(", ")} (try --list)`);
    Deno.exit(2);
  }
  const selected = names ? ATTACKS.filter((attack) => names.includes(attack.name)) : ATTACKS;
  const repo = flags.repo.replace(/\/$/, "");
  // --runtime node|bun: the same attacks against the relay on another runtime.
  const runtime = parseRuntimes(flags.runtime)[0];
  if (runtime !== undefined) await prepareRuntime(runtime, new URL(`file://${repo}/`));
  const files = await raiseFileLimit();
  Deno.addSignalListener("SIGINT", interrupted);
  Deno.addSignalListener("SIGTERM", interrupted);
  log(`repo ${repo}; open-files limit ${files}; ${selected.length} attack(s)`);

  const results: AttackResult[] = [];
  for (let round = 0; round < Number(flags.repeat); round++) {
    for (const attack of selected) {
      log(`${attack.name}: starting`);
      let result: AttackResult;
      try {
        result = await runAttack(attack, repo, runtime);
      } catch (error) {
        result = {
          attack: attack.name,
          alive: false,
          exit: "did not start",
          rssStartMiB: "?",
          rssPeakMiB: "?",
          rssEndMiB: "?",
          observations: { harness: `could not run: ${(error as Error).message}` },
          seconds: 0,
        };
      }
      results.push(result);
      console.log(markdownTable([result]).split("\n").at(-1));
      log(`${attack.name}: done in ${result.seconds} s`);
    }
  }
  console.log("\n" + markdownTable(results));
  Deno.removeSignalListener("SIGINT", interrupted);
  Deno.removeSignalListener("SIGTERM", interrupted);
  if (flags.json) {
    await Deno.writeTextFile(
      flags.json,
      JSON.stringify({ repo, date: new Date().toISOString(), results }, null, 2) + "\n",
    );
  }
}

if (import.meta.main) await main();
