/**
 * history-files, history-small-files and history-small-files-apart: filling
 * room history to inflate the server's memory.
 *
 * history-files: 60 WebSocket sessions from 20 addresses each, once a
 * second for 15 s, join a new room, share one 1 MiB file (the default
 * maxFileBytes) into it and leave it: 900 files in 900 rooms. A room keeps
 * 2 MiB of history and outlives its last member for the history TTL, so
 * only the 256 MiB the node keeps in all bounds this. Then 12 fresh
 * sessions join rooms from the start and the end of the run with
 * `history: 1` to see which files are still kept.
 *
 * history-room-refill: 30 sessions, each alone in its own room, share a
 * 1 MiB file there every second for 40 s: each room keeps one file (2 MiB
 * of history), so 30 MiB in all should stay, whatever was sent.
 *
 * history-small-files: 100 sessions from 10 addresses each send 16-byte
 * files, 9 a second for 20 s (40 per room, then a new room), each in the same
 * TCP write as a 60 KB `ping` (within the byte rate). A kept file costs 144
 * bytes of the history budget; what it holds in memory is measured.
 * history-small-files-apart: the same, with each `ping` written 30 ms after
 * its file (so in its own read): the control.
 *
 * @module
 */
import { type Attack, type AttackContext, cpuMeter, tally } from "./_attack.ts";
import { delay, pool, RawWs, sourceAddress } from "./_net.ts";
import { errorTally, fileFrame, jsonFrame, nodeStats } from "./history_common.ts";

const FILE_BYTES = 1024 * 1024;
const SENDERS = 60;
const SENDER_ADDRESSES = 20;
const SEND_SECONDS = 15;

/** Logs in `count` WebSocket sessions named `${prefix}${i}` from `addresses` addresses of `block`. */
async function logins(
  context: AttackContext,
  count: number,
  addresses: number,
  block: number,
  prefix: string,
): Promise<RawWs[]> {
  const { server, signal } = context;
  const results = await pool(count, 16, async (i) => {
    const ws = await RawWs.open({
      port: server.httpPort,
      localAddress: sourceAddress(block, i % addresses),
    });
    const login = await ws.login(`${prefix}${i}`);
    if (!login.ok) {
      ws.destroy();
      throw new Error(login.code ?? "refused");
    }
    return ws;
  }, signal);
  const failures = results.flatMap((r) => r.status === "rejected" ? [String(r.reason)] : []);
  if (failures.length > 0) context.note("login failures", tally(failures));
  return results.flatMap((r) => r.status === "fulfilled" ? [r.value] : []);
}

/** 900 files of 1 MiB, each into its own new room. */
export const historyFiles: Attack = {
  name: "history-files",
  summary: "60 sessions x 15 s: join a new room, share a 1 MiB file, leave (900 rooms' history)",
  timeLimitMs: 120_000,
  async run(context) {
    const { server, signal } = context;
    const senders = await logins(context, SENDERS, SENDER_ADDRESSES, 60, "hfile");
    context.note("senders", `${senders.length}/${SENDERS} from ${SENDER_ADDRESSES} addresses`);
    const cpu = cpuMeter(server);
    const started = performance.now();
    let written = 0;
    let skipped = 0;
    await Promise.all(senders.map(async (ws, i) => {
      for (let k = 0; k < SEND_SECONDS && !signal.aborted; k++) {
        const room = `hf${i}r${k}`;
        // A sender whose last file the server has not taken yet skips a turn.
        if (ws.socket.writableLength > FILE_BYTES) skipped++;
        else {
          ws.write(jsonFrame({ type: "join", room }));
          ws.write(fileFrame({ room }, FILE_BYTES));
          ws.write(jsonFrame({ type: "leave", room }));
          written++;
        }
        await delay(started + (k + 1) * 1000 - performance.now(), signal);
      }
    }));
    context.note("files sent (MiB)", written);
    if (skipped) context.note("sends skipped (server not reading)", skipped);
    context.note("server CPU while sending", cpu());
    await delay(5000, signal);
    context.note("sender errors", errorTally(senders));
    context.note("senders dropped", senders.filter((ws) => ws.closedAt !== undefined).length);
    const stats = await nodeStats(server.httpPort);
    if (stats) context.note("rooms open after", stats.rooms);

    // Which files are still kept: rooms of the first and the last seconds.
    const probes = [0, 1, 2, SEND_SECONDS - 3, SEND_SECONDS - 2, SEND_SECONDS - 1]
      .flatMap((k) => [[0, k], [SENDERS / 2, k]] as const);
    const kept = await pool(probes.length, probes.length, async (n) => {
      const [i, k] = probes[n]!;
      const ws = await RawWs.open({ port: server.httpPort, localAddress: sourceAddress(61, n) });
      try {
        if (!(await ws.login(`hprobe${n}`)).ok) return "login refused";
        const reply = await ws.request({ type: "join", room: `hf${i}r${k}`, history: 1 }, [
          "history",
          "error",
        ]);
        const event = reply ? JSON.parse(reply) : undefined;
        return event?.type === "history" ? `${k}:${event.count}` : `${k}:${event?.code ?? "none"}`;
      } finally {
        ws.destroy();
      }
    }, signal);
    const early = kept.slice(0, 6).map((r) => r.status === "fulfilled" ? r.value : "failed");
    const late = kept.slice(6).map((r) => r.status === "fulfilled" ? r.value : "failed");
    context.note(
      "files kept in probed rooms (second:count)",
      `first 3 s: ${early.join(" ")}; last 3 s: ${late.join(" ")}`,
    );
    context.note("RSS MiB after probes", (server.memory().rssKiB / 1024).toFixed(1));
    for (const ws of senders) ws.destroy();
  },
};

const REFILL_SENDERS = 30;
const REFILL_ADDRESSES = 10;
const REFILL_SECONDS = 40;

/** 30 rooms, each refilled with a 1 MiB file every second for 40 s. */
export const historyRoomRefill: Attack = {
  name: "history-room-refill",
  summary: "30 sessions, each alone in its room, share a 1 MiB file a second there for 40 s",
  timeLimitMs: 120_000,
  async run(context) {
    const { server, signal } = context;
    const senders = await logins(context, REFILL_SENDERS, REFILL_ADDRESSES, 63, "hrefill");
    context.note(
      "senders",
      `${senders.length}/${REFILL_SENDERS} from ${REFILL_ADDRESSES} addresses`,
    );
    await Promise.all(
      senders.map((ws, i) => ws.request({ type: "join", room: `hr${i}` }, ["presence", "error"])),
    );
    const before = server.memory().rssKiB;
    const cpu = cpuMeter(server);
    const started = performance.now();
    let written = 0;
    let skipped = 0;
    await Promise.all(senders.map(async (ws, i) => {
      const frame = fileFrame({ room: `hr${i}` }, FILE_BYTES);
      for (let k = 0; k < REFILL_SECONDS && !signal.aborted; k++) {
        if (ws.socket.writableLength > FILE_BYTES) skipped++;
        else if (ws.write(frame)) written++;
        await delay(started + (k + 1) * 1000 - performance.now(), signal);
      }
    }));
    context.note("files sent (MiB)", written);
    if (skipped) context.note("sends skipped (server not reading)", skipped);
    context.note("server CPU while sending", cpu());
    context.note(
      "history the rooms may keep (2 MiB each fits one file), MiB",
      senders.length,
    );
    await delay(10_000, signal);
    context.note(
      "RSS growth 10 s after the last file, MiB",
      ((server.memory().rssKiB - before) / 1024).toFixed(1),
    );
    const reply = await senders[0]?.request({ type: "history", room: "hr0", limit: 100 }, [
      "history",
      "error",
    ]);
    if (reply) context.note("history of one room", reply.slice(0, 120));
    context.note("sender errors", errorTally(senders));
    context.note("senders dropped", senders.filter((ws) => ws.closedAt !== undefined).length);
    for (const ws of senders) ws.destroy();
  },
};

const SMALL_SENDERS = 100;
const SMALL_ADDRESSES = 10;
const SMALL_SECONDS = 20;
const SMALL_FILE_BYTES = 16;
const FILES_PER_ROOM = 40;
const PAIR_INTERVAL_MS = 110;
const PAD = jsonFrame({ type: "ping", pad: "x".repeat(60_000) });

async function smallFiles(context: AttackContext, apart: boolean): Promise<void> {
  const { server, signal } = context;
  const senders = await logins(context, SMALL_SENDERS, SMALL_ADDRESSES, 62, "hsmall");
  context.note("senders", `${senders.length}/${SMALL_SENDERS} from ${SMALL_ADDRESSES} addresses`);
  const before = server.memory().rssKiB;
  const cpu = cpuMeter(server);
  const started = performance.now();
  let files = 0;
  let skipped = 0;
  await Promise.all(senders.map(async (ws, i) => {
    for (let k = 0; performance.now() - started < SMALL_SECONDS * 1000 && !signal.aborted; k++) {
      const room = `hs${i}r${k}`;
      ws.write(jsonFrame({ type: "join", room }));
      const tiny = fileFrame({ room }, SMALL_FILE_BYTES);
      for (let j = 0; j < FILES_PER_ROOM && !signal.aborted; j++) {
        if (ws.socket.writableLength > 256 * 1024) skipped++;
        else if (apart) {
          ws.write(tiny);
          files++;
          await delay(30, signal);
          ws.write(PAD);
        } else {
          const pair = new Uint8Array(tiny.length + PAD.length);
          pair.set(tiny);
          pair.set(PAD, tiny.length);
          ws.write(pair);
          files++;
        }
        await delay(apart ? PAIR_INTERVAL_MS - 30 : PAIR_INTERVAL_MS, signal);
      }
      ws.write(jsonFrame({ type: "leave", room }));
    }
  }));
  context.note("server CPU while sending", cpu());
  context.note("16-byte files sent", files);
  context.note("padding MB sent", Math.round((files * PAD.length) / 1e6));
  context.note(
    "history budget they use (128 + 16 bytes each), MiB",
    ((files * (128 + SMALL_FILE_BYTES)) / 1048576).toFixed(1),
  );
  if (skipped) context.note("sends skipped (server not reading)", skipped);
  await delay(10_000, signal);
  const grew = (server.memory().rssKiB - before) / 1024;
  context.note("RSS growth 10 s after the last file, MiB", grew.toFixed(1));
  context.note("RSS growth per file sent, KiB", ((grew * 1024) / Math.max(files, 1)).toFixed(1));
  context.note("sender errors", errorTally(senders));
  context.note("senders dropped", senders.filter((ws) => ws.closedAt !== undefined).length);
  for (const ws of senders) ws.destroy();
}

/** Tiny files, each sharing a TCP write with a 60 KB ping. */
export const historySmallFiles: Attack = {
  name: "history-small-files",
  summary: "100 sessions x 20 s: 16-byte files, each in one write with a 60 KB ping",
  timeLimitMs: 120_000,
  run: (context) => smallFiles(context, false),
};

/** The control: the same files and pings, written apart. */
export const historySmallFilesApart: Attack = {
  name: "history-small-files-apart",
  summary: "the same, each ping written 30 ms after its file (control)",
  timeLimitMs: 120_000,
  run: (context) => smallFiles(context, true),
};

/** Control: the same traffic with history off. */
export const historyFilesOff: Attack = {
  ...historyFiles,
  name: "history-files-off",
  summary: "history-files against --history 0 (control)",
  server: { flags: ["--history", "0"] },
};
