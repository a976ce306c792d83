/**
 * history-replay and its variants: a room, `vault`, is filled to its history
 * limits (99 texts of 8,000 `"` characters, which JSON doubles, then one
 * 1 MiB file: about 2.6 MB per full replay over WebSocket, 3 MB over TCP
 * JSON). Then its members ask for it over and over for 20 s, four requests
 * a second each, alternating `history` (limit 100) and `join` with
 * `since: {offset: 0, epoch}`. Readers read as fast as they can (bytes only
 * counted, not parsed); stallers are WebSocket members that never read a
 * byte after joining. Halfway, an honest WebSocket user joins the room with
 * `history: 100` and is timed. Recorded: what the readers got, what became
 * of the stallers, /healthz latency, the server's CPU, RSS with the stallers
 * still connected and after everyone left.
 *
 * - history-replay: 100 TCP JSON-mode readers and 100 stallers.
 * - history-replay-ws: 100 WebSocket readers (no base64 on the way out).
 * - history-replay-few: 20 TCP JSON-mode readers.
 * - history-replay-stallers: 200 stallers only.
 *
 * @module
 */
import { type Attack, type AttackContext, cpuMeter, tally } from "./_attack.ts";
import { delay, pool, RawWs, sourceAddress } from "./_net.ts";
import {
  countingWs,
  errorTally,
  fileFrame,
  JsonTcp,
  nodeStats,
  type ReplyCounts,
} from "./history_common.ts";

const ROOM = "vault";
const FILLERS = 4;
const TEXTS_EACH = 25;
const TEXT = '"'.repeat(8000);
const ADDRESSES = 10;
const ASK_SECONDS = 20;
const ASK_INTERVAL_MS = 250;

/** Who asks. */
interface Askers {
  tcpReaders: number;
  wsReaders: number;
  stallers: number;
}

/** One asking member, whatever its transport. */
interface Asker {
  send(message: unknown): boolean;
  closed(): boolean;
  /** The WebSocket close code it got, if any. */
  closeCode?: () => number | undefined;
  destroy(): void;
}

type Reader = Asker & ReplyCounts;

/** Fills the room; resolves to its epoch, and the fillers (still connected). */
async function fill(context: AttackContext): Promise<{ epoch?: string; fillers: RawWs[] }> {
  const { server, signal } = context;
  const port = server.httpPort;
  // 100 texts (the oldest falls out), then the file.
  const fillers = (await pool(FILLERS, FILLERS, async (i) => {
    const ws = await RawWs.open({ port, localAddress: sourceAddress(64, i) });
    if (!(await ws.login(`hfill${i}`)).ok) throw new Error("login refused");
    await ws.request({ type: "join", room: ROOM }, ["presence", "error"]);
    for (let j = 0; j < TEXTS_EACH; j++) ws.sendJson({ type: "publish", room: ROOM, text: TEXT });
    return ws;
  })).flatMap((r) => r.status === "fulfilled" ? [r.value] : []);
  await delay(1500, signal);
  fillers[0]?.write(fileFrame({ room: ROOM }, 1024 * 1024));
  await delay(1500, signal);
  const head = await fillers[1]?.request({ type: "history", room: ROOM, limit: 1 }, [
    "history",
    "error",
  ]);
  const room = head ? JSON.parse(head) as { epoch?: string; offset?: number } : {};
  context.note("room filled", `offset ${room.offset} epoch ${room.epoch}`);
  context.note("filler errors", errorTally(fillers));
  return room.epoch === undefined ? { fillers } : { epoch: room.epoch, fillers };
}

/** Logs in and joins the room; `kind` says how it reads from then on. */
async function asker(
  context: AttackContext,
  kind: "tcp" | "ws" | "staller",
  i: number,
): Promise<Asker | Reader> {
  const { server } = context;
  if (kind === "tcp") {
    const conn = await JsonTcp.open(server.tcpPort, sourceAddress(65, i % ADDRESSES));
    await conn.login(`hread${i}`);
    await conn.request({ type: "join", room: ROOM }, ["presence", "error"]);
    conn.countOnly();
    return Object.assign(conn, { closed: () => conn.closedAt !== undefined });
  }
  const block = kind === "ws" ? 68 : 66;
  const ws = await RawWs.open({
    port: server.httpPort,
    localAddress: sourceAddress(block, i % ADDRESSES),
  });
  if (!(await ws.login(`h${kind}${i}`)).ok) throw new Error("login refused");
  await ws.request({ type: "join", room: ROOM }, ["presence", "error"]);
  if (kind === "ws") {
    const counting = countingWs(ws);
    return Object.assign(counting, { closed: () => counting.closedAt() !== undefined });
  }
  ws.socket.pause();
  return {
    send: (message) => ws.sendJson(message),
    closed: () => ws.closedAt !== undefined,
    destroy: () => ws.destroy(),
    closeCode: () => ws.closeCode,
  };
}

/** Times an honest user joining the room with `history: 100`. */
async function honestJoin(port: number): Promise<string> {
  const ws = await RawWs.open({ port, localAddress: sourceAddress(67, 1), timeoutMs: 30_000 });
  try {
    const opened = performance.now();
    if (!(await ws.login("honest", 30_000)).ok) return "login refused";
    const asked = performance.now();
    const mark = ws.textCount;
    let files = 0;
    ws.onBinary = () => files++;
    const reply = await ws.request({ type: "join", room: ROOM, history: 100 }, [
      "history",
      "error",
    ], 30_000);
    if (!reply?.startsWith('{"type":"history"')) return `got ${reply?.slice(0, 80)}`;
    const count = JSON.parse(reply).count as number;
    const deadline = performance.now() + 30_000;
    // The presence reply, the history header, then `count` messages.
    while (ws.textCount - mark + files < count + 2 && performance.now() < deadline) await delay(20);
    const login = ((asked - opened) / 1000).toFixed(2);
    return `login ${login} s, then ${count} messages in ${
      ((performance.now() - asked) / 1000).toFixed(2)
    } s`;
  } finally {
    ws.destroy();
  }
}

async function replayRun(context: AttackContext, askers: Askers): Promise<void> {
  const { server, signal } = context;
  const port = server.httpPort;
  const { epoch, fillers } = await fill(context);
  if (epoch === undefined) return;
  const since = { offset: 0, epoch };

  const kinds = [
    ...Array<"tcp">(askers.tcpReaders).fill("tcp"),
    ...Array<"ws">(askers.wsReaders).fill("ws"),
    ...Array<"staller">(askers.stallers).fill("staller"),
  ];
  const results = await pool(kinds.length, 16, (i) => asker(context, kinds[i]!, i), signal);
  const members = results.flatMap((r) => r.status === "fulfilled" ? [r.value] : []);
  const readers = members.filter((m): m is Reader => "bytesIn" in m);
  const stallers = members.filter((m) => !("bytesIn" in m));
  const failures = results.flatMap((r) => r.status === "rejected" ? [String(r.reason)] : []);
  context.note("askers", `${readers.length} readers, ${stallers.length} stallers`);
  if (failures.length > 0) context.note("asker login failures", tally(failures));

  const cpu = cpuMeter(server);
  const started = performance.now();
  const elapsed = () => ((performance.now() - started) / 1000).toFixed(1);
  let requests = 0;
  const healthTimes: string[] = [];
  const health = (async () => {
    while (performance.now() - started < ASK_SECONDS * 1000 && !signal.aborted) {
      const at = elapsed();
      const stats = await nodeStats(port);
      healthTimes.push(`${at}s:${stats ? stats.ms : "timeout"}`);
      context.log(`t=${at} s /healthz ${stats?.ms ?? "timed out"} ms`);
      await delay(1000, signal);
    }
  })();
  const honest = delay((ASK_SECONDS * 1000) / 2, signal).then(() => honestJoin(port))
    .catch((error) => `failed: ${(error as Error).message}`);
  const ask = (i: number) =>
    i % 2 === 0 ? { type: "history", room: ROOM, limit: 100 } : { type: "join", room: ROOM, since };
  await Promise.all(members.map(async (member) => {
    for (let i = 0; performance.now() - started < ASK_SECONDS * 1000 && !signal.aborted; i++) {
      if (member.send(ask(i))) requests++;
      await delay(ASK_INTERVAL_MS, signal);
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  context.note("server CPU while asked", cpu());
  context.note("requests sent", requests);
  await health;
  context.note("/healthz while asked (at:ms)", healthTimes.join(" "));
  context.note("honest join with history: 100, halfway", await honest);

  if (readers.length > 0) {
    const bytes = readers.reduce((sum, r) => sum + r.bytesIn, 0);
    const replies = readers.reduce((sum, r) => sum + (r.types.get("history") ?? 0), 0);
    const most = Math.max(...readers.map((r) => r.bytesIn));
    context.note("readers got, MB", Math.round(bytes / 1e6));
    context.note(
      "replays per reader per second",
      (replies / readers.length / seconds).toFixed(2),
    );
    context.note(
      "MB/s per reader: mean / most",
      `${(bytes / readers.length / seconds / 1e6).toFixed(2)} / ${
        (most / seconds / 1e6).toFixed(2)
      }`,
    );
    context.note("reader errors (approx.)", errorTally(readers));
    context.note("readers dropped", readers.filter((r) => r.closed()).length);
  }
  await delay(3000, signal);
  if (stallers.length > 0) {
    const gone = stallers.filter((s) => s.closed());
    context.note(
      "stallers dropped",
      `${gone.length} (${tally(gone.map((s) => String(s.closeCode?.() ?? "reset")))})`,
    );
  }
  context.note(
    "RSS MiB with the askers still connected",
    (server.memory().rssKiB / 1024).toFixed(1),
  );
  for (const member of members) member.destroy();
  for (const ws of fillers) ws.destroy();
  await delay(3000, signal);
  context.note("RSS MiB 3 s after they left", (server.memory().rssKiB / 1024).toFixed(1));
}

/** 100 TCP JSON readers and 100 WebSocket stallers. */
export const historyReplay: Attack = {
  name: "history-replay",
  summary: "100 TCP JSON readers + 100 non-reading WS members ask 4/s for a full room's history",
  timeLimitMs: 120_000,
  run: (context) => replayRun(context, { tcpReaders: 100, wsReaders: 0, stallers: 100 }),
};

/** 100 WebSocket readers. */
export const historyReplayWs: Attack = {
  name: "history-replay-ws",
  summary: "100 WebSocket readers ask 4/s for a full room's history",
  timeLimitMs: 120_000,
  run: (context) => replayRun(context, { tcpReaders: 0, wsReaders: 100, stallers: 0 }),
};

/** 20 TCP JSON readers. */
export const historyReplayFew: Attack = {
  name: "history-replay-few",
  summary: "20 TCP JSON readers ask 4/s for a full room's history",
  timeLimitMs: 120_000,
  run: (context) => replayRun(context, { tcpReaders: 20, wsReaders: 0, stallers: 0 }),
};

/** 200 WebSocket members that never read. */
export const historyReplayStallers: Attack = {
  name: "history-replay-stallers",
  summary: "200 WebSocket members that never read ask 4/s for a full room's history",
  timeLimitMs: 120_000,
  run: (context) => replayRun(context, { tcpReaders: 0, wsReaders: 0, stallers: 200 }),
};
