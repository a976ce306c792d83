/**
 * resume-tokens: `resume` requests before login, from strangers.
 *
 * First a catalog, one fresh connection per case: random and garbage tokens;
 * `rooms` and `direct` of the wrong type; 64, 65 and 300 rooms; negative,
 * fractional, unsafe and huge offsets; long epochs; deep nesting; a token over
 * the 16 KiB login budget; over TCP in JSON mode; and the tokens that do
 * exist: a live session's (not parked), one already used, one raced by two
 * connections, and a real one with 64 rooms and huge offsets. Each case has
 * an expected reply; any other is noted.
 *
 * Then a flood for 20 s: 300 connections at a time (12 per address from 25
 * addresses, two in three over WebSocket, the rest over TCP in JSON mode),
 * each sending garbage `resume` requests 25 times a second (over the message
 * rate) until the server closes it, then reconnecting. Every request sent
 * while the connection was within its 16 KiB budget must get an error; none
 * may get anything else.
 *
 * @module
 */
import { type Attack, type AttackContext, cpuMeter, tally } from "./_attack.ts";
import { delay, pool, RawWs, sourceAddress } from "./_net.ts";
import { JsonTcp, nodeStats } from "./history_common.ts";

const BLOCK = 75;
const LOGIN_BUDGET = 16 * 1024;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

function hex(bytes: number): string {
  return [...crypto.getRandomValues(new Uint8Array(bytes))]
    .map((b) => b.toString(16).padStart(2, "0")).join("");
}

function positions(count: number, offset: unknown = 1): Record<string, unknown> {
  return Object.fromEntries(
    Array.from({ length: count }, (_, i) => [`room${i}`, { offset, epoch: "e" }]),
  );
}

const nested = (depth: number) => "[".repeat(depth) + "]".repeat(depth);

/** One catalog case: what is sent (JSON text) and the reply expected. */
interface Case {
  label: string;
  payload: () => string;
  /** An error code, or `close <code>`. */
  expect: string;
}

const resume = (fields: Record<string, unknown>) => JSON.stringify({ type: "resume", ...fields });
const token = () => hex(32);

const CASES: Case[] = [
  {
    label: "random 64-hex token",
    payload: () => resume({ token: token() }),
    expect: "resume_failed",
  },
  { label: "empty token", payload: () => resume({ token: "" }), expect: "resume_failed" },
  {
    label: "8 KB token",
    payload: () => resume({ token: "a".repeat(8000) }),
    expect: "resume_failed",
  },
  {
    label: "20 KB token (over the budget)",
    payload: () => resume({ token: "a".repeat(20_000) }),
    expect: "close 1009",
  },
  { label: "token 123", payload: () => resume({ token: 123 }), expect: "bad_message" },
  { label: "token null", payload: () => resume({ token: null }), expect: "bad_message" },
  { label: "token []", payload: () => resume({ token: [] }), expect: "bad_message" },
  { label: "token {}", payload: () => resume({ token: {} }), expect: "bad_message" },
  { label: "no token", payload: () => resume({}), expect: "bad_message" },
  {
    label: 'rooms "lobby"',
    payload: () => resume({ token: token(), rooms: "lobby" }),
    expect: "bad_message",
  },
  {
    label: "rooms []",
    payload: () => resume({ token: token(), rooms: [] }),
    expect: "bad_message",
  },
  {
    label: "rooms null",
    payload: () => resume({ token: token(), rooms: null }),
    expect: "bad_message",
  },
  {
    label: "rooms 42",
    payload: () => resume({ token: token(), rooms: 42 }),
    expect: "bad_message",
  },
  {
    label: "64 rooms",
    payload: () => resume({ token: token(), rooms: positions(64) }),
    expect: "resume_failed",
  },
  {
    label: "65 rooms",
    payload: () => resume({ token: token(), rooms: positions(65) }),
    expect: "bad_message",
  },
  {
    label: "300 rooms",
    payload: () => resume({ token: token(), rooms: positions(300) }),
    expect: "bad_message",
  },
  {
    label: "offset -1",
    payload: () => resume({ token: token(), rooms: positions(1, -1) }),
    expect: "bad_message",
  },
  {
    label: "offset -0",
    payload: () =>
      resume({ token: token(), rooms: { lobby: JSON.parse('{"offset":-0,"epoch":"e"}') } }),
    expect: "resume_failed",
  },
  {
    label: "offset 2^53-1",
    payload: () => resume({ token: token(), rooms: positions(64, MAX_SAFE) }),
    expect: "resume_failed",
  },
  {
    label: "offset 2^53",
    payload: () => resume({ token: token(), rooms: positions(1, MAX_SAFE + 1) }),
    expect: "bad_message",
  },
  {
    label: "offset 1e308",
    payload: () => resume({ token: token(), rooms: positions(1, 1e308) }),
    expect: "bad_message",
  },
  {
    label: "offset 1e999 (Infinity)",
    payload: () =>
      `{"type":"resume","token":"${token()}","rooms":{"lobby":{"offset":1e999,"epoch":"e"}}}`,
    expect: "bad_message",
  },
  {
    label: "offset 1.5",
    payload: () => resume({ token: token(), rooms: positions(1, 1.5) }),
    expect: "bad_message",
  },
  {
    label: 'offset "5"',
    payload: () => resume({ token: token(), rooms: positions(1, "5") }),
    expect: "bad_message",
  },
  {
    label: "epoch of 65 chars",
    payload: () =>
      resume({ token: token(), rooms: { lobby: { offset: 1, epoch: "e".repeat(65) } } }),
    expect: "bad_message",
  },
  {
    label: "epoch 7",
    payload: () => resume({ token: token(), rooms: { lobby: { offset: 1, epoch: 7 } } }),
    expect: "bad_message",
  },
  {
    label: "no epoch",
    payload: () => resume({ token: token(), rooms: { lobby: { offset: 1 } } }),
    expect: "bad_message",
  },
  {
    label: "position 5",
    payload: () => resume({ token: token(), rooms: { lobby: 5 } }),
    expect: "bad_message",
  },
  {
    label: "room __proto__",
    payload: () =>
      `{"type":"resume","token":"${token()}","rooms":{"__proto__":{"offset":1,"epoch":"e"}}}`,
    expect: "resume_failed",
  },
  {
    label: 'room ""',
    payload: () => resume({ token: token(), rooms: { "": { offset: 1, epoch: "e" } } }),
    expect: "resume_failed",
  },
  {
    label: "direct -1",
    payload: () => resume({ token: token(), direct: -1 }),
    expect: "bad_message",
  },
  {
    label: 'direct "x"',
    payload: () => resume({ token: token(), direct: "x" }),
    expect: "bad_message",
  },
  {
    label: "direct offset 1e20",
    payload: () => resume({ token: token(), direct: { offset: 1e20, epoch: "e" } }),
    expect: "bad_message",
  },
  {
    label: "direct []",
    payload: () => resume({ token: token(), direct: [] }),
    expect: "bad_message",
  },
  {
    label: 'echo "yes"',
    payload: () => resume({ token: token(), echo: "yes" }),
    expect: "bad_message",
  },
  {
    label: "a position nested 3000 deep",
    payload: () => `{"type":"resume","token":"${token()}","rooms":{"lobby":${nested(3000)}}}`,
    expect: "bad_message",
  },
  {
    label: "rooms nested 7000 deep",
    payload: () => `{"type":"resume","token":"${token()}","rooms":${nested(7000)}}`,
    expect: "bad_message",
  },
  {
    label: "ref {}",
    payload: () => `{"type":"resume","token":"${token()}","ref":{"a":1}}`,
    expect: "resume_failed",
  },
  { label: "not JSON", payload: () => '{"type":"resume","token":', expect: "bad_json" },
];

/** Sends `payload` on a fresh WebSocket; the first error, welcome or close it gets. */
async function tryWs(port: number, address: number, payload: string): Promise<string> {
  const ws = await RawWs.open({ port, localAddress: sourceAddress(BLOCK, address) });
  try {
    const mark = ws.textCount;
    ws.sendText(payload);
    const event = await ws.waitType(["error", "welcome", "history"], 5000, mark);
    if (event === undefined) {
      await ws.closed.then(() => {}, () => {});
      return ws.closeCode !== undefined ? `close ${ws.closeCode}` : "no reply";
    }
    const parsed = JSON.parse(event);
    return parsed.type === "error" ? parsed.code : parsed.type;
  } finally {
    ws.destroy();
  }
}

/** A session logged in over WebSocket, and its welcome. */
async function loggedIn(port: number, address: number, name: string) {
  const ws = await RawWs.open({ port, localAddress: sourceAddress(BLOCK, address) });
  const reply = await ws.request({ type: "login", name }, ["welcome", "error"]);
  const welcome = reply ? JSON.parse(reply) : undefined;
  if (welcome?.type !== "welcome") throw new Error(`login: ${reply}`);
  return { ws, welcome: welcome as { resume: string; direct?: unknown } };
}

/** Resumes with `fields` on a fresh WebSocket: the reply (its type or error code), the history headers. */
async function resumeWith(port: number, address: number, fields: Record<string, unknown>) {
  const ws = await RawWs.open({ port, localAddress: sourceAddress(BLOCK, address) });
  const mark = ws.textCount;
  const histories: string[] = [];
  ws.onText = (text) => {
    if (!text.startsWith('{"type":"history"')) return;
    const h = JSON.parse(text);
    histories.push(
      `${h.room ?? "direct"}:${h.recovered ? "recovered" : "not recovered"}/${h.count}`,
    );
  };
  ws.sendJson({ type: "resume", ...fields });
  const reply = await ws.waitType(["welcome", "error"], 5000, mark);
  const event = reply ? JSON.parse(reply) : undefined;
  return {
    ws,
    histories,
    result: event?.type === "error" ? event.code : event?.type ?? "no reply",
    event,
  };
}

/** The cases about tokens that exist. */
async function realTokens(context: AttackContext): Promise<Record<string, string>> {
  const port = context.server.httpPort;
  const out: Record<string, string> = {};

  // A live session's token: it is not parked, so it cannot be taken.
  const live = await loggedIn(port, 1, "rtlive");
  const steal = await resumeWith(port, 2, { token: live.welcome.resume });
  steal.ws.destroy();
  await delay(300);
  out["live session's token"] = `${steal.result}; live session still connected: ${
    live.ws.closedAt === undefined ? "yes" : "no"
  }`;
  live.ws.destroy();

  // A real parked session, resumed with 64 rooms and the largest offsets.
  const own = await loggedIn(port, 3, "rtown");
  own.ws.destroy();
  await delay(500);
  const rooms = { ...positions(63, MAX_SAFE), lobby: { offset: MAX_SAFE, epoch: "x".repeat(64) } };
  const back = await resumeWith(port, 4, {
    token: own.welcome.resume,
    rooms,
    direct: { offset: MAX_SAFE, epoch: "y" },
  });
  await delay(500);
  out["own token, 64 rooms, offsets 2^53-1"] = `${back.result}${
    back.event?.resumed ? " resumed" : ""
  }; histories ${back.histories.join(" ") || "none"}`;
  const newToken = back.event?.resume as string | undefined;
  back.ws.destroy();
  await delay(500);

  // The token that was just used no longer works; the new one does.
  const old = await resumeWith(port, 5, { token: own.welcome.resume });
  old.ws.destroy();
  out["token already used"] = old.result;
  const again = await resumeWith(port, 6, { token: newToken });
  out["the new token"] = `${again.result}${again.event?.resumed ? " resumed" : ""}`;
  again.ws.sendJson({ type: "quit" });
  again.ws.destroy();

  // Two connections race for one parked session.
  const raced = await loggedIn(port, 7, "rtrace");
  raced.ws.destroy();
  await delay(500);
  const both = await Promise.all(
    [7, 8].map((a) => resumeWith(port, a, { token: raced.welcome.resume })),
  );
  out["one token, two connections at once"] = tally(both.map((b) => b.result));
  for (const b of both) b.ws.destroy();

  // A failed resume leaves the connection open for a login.
  const failed = await resumeWith(port, 9, { token: token() });
  const login = await failed.ws.login("rtafter");
  out["login after resume_failed, same connection"] = `${failed.result} then ${
    login.ok ? "welcome" : login.code
  }`;
  // And a resume after login is refused.
  const after = await failed.ws.request({ type: "resume", token: token() }, ["error", "welcome"]);
  out["resume after login"] = after ? JSON.parse(after).code ?? "welcome" : "no reply";
  failed.ws.destroy();

  // The same over TCP in JSON mode.
  const conn = await JsonTcp.open(context.server.tcpPort, sourceAddress(BLOCK, 10));
  const tcp = await conn.request({ type: "resume", token: token() }, ["error", "welcome"]);
  out["TCP JSON mode, random token"] = String(tcp?.code ?? tcp?.type ?? "no reply");
  conn.destroy();
  return out;
}

/** Garbage for the flood: small enough that many fit in the budget. */
function garbage(): string {
  const pick = Math.floor(Math.random() * 8);
  switch (pick) {
    case 0:
      return resume({ token: token() });
    case 1:
      return resume({ token: Math.random() });
    case 2:
      return resume({ token: token(), rooms: positions(8, Math.floor(Math.random() * MAX_SAFE)) });
    case 3:
      return resume({ token: token(), rooms: positions(1, -Math.random() * 1e6) });
    case 4:
      return resume({ token: token(), direct: { offset: 1e21, epoch: "e" } });
    case 5:
      return resume({ token: token(), rooms: positions(65) });
    case 6:
      return resume({ token: hex(200), rooms: { lobby: { offset: 0, epoch: hex(32) } } });
    default:
      return `{"type":"resume","token":"${token()}","rooms":${nested(200)}}`;
  }
}

const FLOOD_ADDRESSES = 25;
const FLOOD_PER_ADDRESS = 12;
const FLOOD_SECONDS = 20;
const FLOOD_INTERVAL_MS = 40;

/** What the flood saw. */
interface FloodTally {
  connections: number;
  requests: number;
  withinBudget: number;
  errors: Map<string, number>;
  unansweredWithinBudget: Map<string, number>;
  otherReplies: Map<string, number>;
  closes: Map<string, number>;
  connectFailures: Map<string, number>;
}

function bump(map: Map<string, number>, key: string, by = 1): void {
  map.set(key, (map.get(key) ?? 0) + by);
}

/** One flooding connection, from open to close; adds what it saw to `t`. */
async function floodOne(
  context: AttackContext,
  address: number,
  overWs: boolean,
  until: number,
  t: FloodTally,
): Promise<void> {
  const { server, signal } = context;
  const localAddress = sourceAddress(BLOCK + 1, address);
  let sent = 0;
  let within = 0;
  let used = 0;
  const other = new Map<string, number>();
  if (overWs) {
    const ws = await RawWs.open({ port: server.httpPort, localAddress });
    t.connections++;
    ws.onText = (text) => {
      const type = /^\{"type":"([a-z_]+)"/.exec(text)?.[1] ?? "?";
      if (type !== "error" && type !== "hello") bump(other, type);
    };
    while (ws.closedAt === undefined && Date.now() < until && !signal.aborted) {
      const text = garbage();
      used += text.length + (text.length < 126 ? 6 : 8);
      if (used <= LOGIN_BUDGET) within++;
      ws.sendText(text);
      sent++;
      await delay(FLOOD_INTERVAL_MS, signal);
    }
    await Promise.race([ws.closed, delay(2000)]);
    const answered = [...ws.errorCounts.values()].reduce((a, b) => a + b, 0);
    for (const [code, count] of ws.errorCounts) bump(t.errors, code, count);
    const how = ws.closedAt === undefined ? "still open" : String(ws.closeCode ?? "reset");
    bump(t.unansweredWithinBudget, `WS ${how}`, Math.max(0, within - answered));
    bump(t.closes, how);
    ws.destroy();
  } else {
    const conn = await JsonTcp.open(server.tcpPort, localAddress);
    t.connections++;
    conn.onEvent = (event) => {
      if (event.type !== "error" && event.type !== "hello") bump(other, String(event.type));
    };
    while (conn.closedAt === undefined && Date.now() < until && !signal.aborted) {
      const line = garbage() + "\n";
      used += line.length;
      if (used <= LOGIN_BUDGET) within++;
      conn.write(new TextEncoder().encode(line));
      sent++;
      await delay(FLOOD_INTERVAL_MS, signal);
    }
    await Promise.race([conn.closed, delay(2000)]);
    const answered = [...conn.errorCounts.values()].reduce((a, b) => a + b, 0);
    for (const [code, count] of conn.errorCounts) bump(t.errors, code, count);
    const how = conn.closedAt === undefined ? "still open" : "tcp closed";
    bump(t.unansweredWithinBudget, `TCP ${how}`, Math.max(0, within - answered));
    bump(t.closes, how);
    conn.destroy();
  }
  t.requests += sent;
  t.withinBudget += within;
  for (const [type, count] of other) bump(t.otherReplies, type, count);
}

/** Random, malformed and borrowed resume tokens before login. */
export const resumeTokens: Attack = {
  name: "resume-tokens",
  summary: "a catalog of bad resume requests, then 300 connections flooding them for 20 s",
  timeLimitMs: 120_000,
  async run(context) {
    const { server, signal } = context;
    const port = server.httpPort;
    const results = await pool(CASES.length, 8, async (i) => {
      const got = await tryWs(port, 11 + (i % 8), CASES[i]!.payload());
      return { label: CASES[i]!.label, expect: CASES[i]!.expect, got };
    }, signal);
    const outcomes = results.map((r, i) =>
      r.status === "fulfilled"
        ? r.value
        : { label: CASES[i]!.label, expect: CASES[i]!.expect, got: `failed: ${r.reason}` }
    );
    const unexpected = outcomes.filter((o) => o.got !== o.expect);
    context.note(
      "catalog: cases answered as expected",
      `${outcomes.length - unexpected.length}/${outcomes.length}`,
    );
    context.note("catalog replies", tally(outcomes.map((o) => o.got)));
    if (unexpected.length > 0) {
      context.note(
        "catalog surprises",
        unexpected.map((o) => `${o.label}: ${o.got} (expected ${o.expect})`).join("; "),
      );
    }
    for (const [label, got] of Object.entries(await realTokens(context))) {
      context.note(label, got);
    }

    const t: FloodTally = {
      connections: 0,
      requests: 0,
      withinBudget: 0,
      errors: new Map(),
      unansweredWithinBudget: new Map(),
      otherReplies: new Map(),
      closes: new Map(),
      connectFailures: new Map(),
    };
    const cpu = cpuMeter(server);
    const until = Date.now() + FLOOD_SECONDS * 1000;
    let slowestHealth = 0;
    const health = (async () => {
      while (Date.now() < until && !signal.aborted) {
        slowestHealth = Math.max(slowestHealth, (await nodeStats(port))?.ms ?? 15_000);
        await delay(1000, signal);
      }
    })();
    await Promise.all(
      Array.from({ length: FLOOD_ADDRESSES * FLOOD_PER_ADDRESS }, async (_, slot) => {
        const address = slot % FLOOD_ADDRESSES;
        while (Date.now() < until && !signal.aborted) {
          try {
            await floodOne(context, address, slot % 3 !== 2, until, t);
          } catch (error) {
            bump(t.connectFailures, (error as Error).message.slice(0, 60));
            await delay(200, signal);
          }
        }
      }),
    );
    await health;
    context.note("flood: server CPU", cpu());
    context.note("flood: connections", t.connections);
    context.note("flood: requests sent / within the budget", `${t.requests} / ${t.withinBudget}`);
    context.note("flood: errors received", tally([...t.errors]));
    context.note(
      "flood: requests within the budget with no reply",
      tally([...t.unansweredWithinBudget].filter(([, n]) => n > 0)),
    );
    context.note("flood: replies other than errors", tally([...t.otherReplies]));
    context.note("flood: how connections ended", tally([...t.closes]));
    if (t.connectFailures.size > 0) {
      context.note("flood: connect failures", tally([...t.connectFailures]));
    }
    context.note("flood: slowest /healthz, ms", slowestHealth);
  },
};
