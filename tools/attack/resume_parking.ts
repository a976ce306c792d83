/**
 * resume-parking: sessions parked for the resume window, as many as the
 * server lets a stranger park. 99 addresses each log in 100 JSON sessions
 * (even addresses over WebSocket, odd ones over TCP in JSON mode) and drop
 * each TCP connection right after `welcome` (FIN, no close frame, no `quit`):
 * 9,900 sessions parked in the lobby, each holding its name and its place
 * there for 120 s. Then 10 of those addresses drop 50 more each (over their
 * per-address cap: none should be parked), and 10 new addresses drop 100
 * each (only 100 fit under the node's cap, maxConnections). Then an honest user logs in and asks the lobby's presence,
 * five parked sessions are resumed with their tokens, and the attack waits
 * for the window to run out. Recorded: parked count from /healthz after each
 * step and its latency, the timings, and how long the parked took to end.
 *
 * @module
 */
import { type Attack, type AttackContext, cpuMeter, tally } from "./_attack.ts";
import { delay, pool, RawWs, sourceAddress } from "./_net.ts";
import { JsonTcp, nodeStats } from "./history_common.ts";

const BLOCK = 70;
const ADDRESSES = 99;
const PER_ADDRESS = 100;
const OVER_ADDRESSES = 10;
const OVER_EACH = 50;
const NEW_ADDRESSES = 10;
const NEW_EACH = 100;
const WINDOW_MS = 120_000;

/** A parked session: its name, its token, its transport. */
interface Dropped {
  name: string;
  token: string | undefined;
  kind: "ws" | "tcp";
}

/** Logs in `name` from `address` and drops the connection right after `welcome`. */
async function loginAndDrop(
  port: { http: number; tcp: number },
  address: number,
  name: string,
): Promise<Dropped> {
  const localAddress = sourceAddress(BLOCK, address);
  if (address % 2 === 0) {
    const ws = await RawWs.open({ port: port.http, localAddress });
    try {
      const reply = await ws.request({ type: "login", name }, ["welcome", "error"]);
      const event = reply ? JSON.parse(reply) : undefined;
      if (event?.type !== "welcome") throw new Error(event?.code ?? "no reply");
      return { name, token: event.resume, kind: "ws" };
    } finally {
      ws.destroy();
    }
  }
  const conn = await JsonTcp.open(port.tcp, localAddress);
  try {
    const welcome = await conn.login(name);
    return { name, token: welcome.resume as string | undefined, kind: "tcp" };
  } finally {
    conn.destroy();
  }
}

/** `count` sessions from addresses `first`.. (`each` per address), interleaved. */
async function wave(
  context: AttackContext,
  first: number,
  addresses: number,
  each: number,
  prefix: string,
): Promise<{ dropped: Dropped[]; seconds: number }> {
  const { server, signal } = context;
  const port = { http: server.httpPort, tcp: server.tcpPort };
  const started = performance.now();
  const count = addresses * each;
  // Interleaved, so no address has more than 64 / addresses logins pending at once.
  const results = await pool(count, Math.min(64, addresses * 8), (i) => {
    const address = first + (i % addresses);
    return loginAndDrop(port, address, `${prefix}${address}x${Math.floor(i / addresses)}`);
  }, signal);
  const dropped = results.flatMap((r) => r.status === "fulfilled" ? [r.value] : []);
  const failures = results.flatMap((r) =>
    r.status === "rejected" ? [String((r.reason as Error).message ?? r.reason)] : []
  );
  if (failures.length > 0) context.note(`${prefix} login failures`, tally(failures));
  return { dropped, seconds: (performance.now() - started) / 1000 };
}

async function parked(context: AttackContext): Promise<string> {
  await delay(1500); // the server notices the last drops
  const stats = await nodeStats(context.server.httpPort);
  return stats
    ? `parked ${stats.parked}, users ${stats.users}, sessions ${stats.sessions} (/healthz ${stats.ms} ms)`
    : "no /healthz";
}

/** Resumes `dropped` with its token; says how it went and how long it took. */
async function resume(context: AttackContext, dropped: Dropped, n: number): Promise<string> {
  const ws = await RawWs.open({
    port: context.server.httpPort,
    localAddress: sourceAddress(BLOCK + 1, n),
  });
  try {
    const started = performance.now();
    const reply = await ws.request({ type: "resume", token: dropped.token, rooms: {} }, [
      "welcome",
      "error",
    ]);
    const ms = Math.round(performance.now() - started);
    const event = reply ? JSON.parse(reply) : undefined;
    if (event?.type !== "welcome") return `${event?.code ?? "no reply"} (${ms} ms)`;
    ws.sendJson({ type: "quit" });
    await ws.closed;
    return event.resumed === true && event.name === dropped.name
      ? `resumed (${ms} ms)`
      : `welcome without resumed (${ms} ms)`;
  } finally {
    ws.destroy();
  }
}

/** 9,900 sessions parked from 99 addresses, then more over both caps. */
export const resumeParking: Attack = {
  name: "resume-parking",
  summary:
    "99 addresses x 100 JSON sessions dropped after login (parked 120 s), then over the caps",
  timeLimitMs: 240_000,
  async run(context) {
    const { server, signal } = context;
    const cpu = cpuMeter(server);
    const main = await wave(context, 0, ADDRESSES, PER_ADDRESS, "pk");
    const firstParked = Date.now() - main.seconds * 1000;
    context.note(
      "dropped after login",
      `${main.dropped.length}/${ADDRESSES * PER_ADDRESS} in ${main.seconds.toFixed(1)} s (${
        tally(main.dropped.map((d) => d.kind))
      })`,
    );
    context.note("server CPU while they came and went", cpu());
    context.note("after them", await parked(context));

    const over = await wave(context, 0, OVER_ADDRESSES, OVER_EACH, "po");
    context.note(
      `${OVER_EACH} more from ${OVER_ADDRESSES} of those addresses`,
      `${over.dropped.length} dropped; ${await parked(context)}`,
    );
    const fresh = await wave(context, ADDRESSES, NEW_ADDRESSES, NEW_EACH, "pn");
    context.note(
      `${NEW_EACH} each from ${NEW_ADDRESSES} new addresses`,
      `${fresh.dropped.length} dropped; ${await parked(context)}`,
    );

    // An honest user, among the ghosts.
    const honest = await RawWs.open({
      port: server.httpPort,
      localAddress: sourceAddress(BLOCK + 2, 1),
    });
    const loginStarted = performance.now();
    const login = await honest.login("honest");
    const loginMs = Math.round(performance.now() - loginStarted);
    const presence = await honest.request({ type: "presence", room: "lobby" }, [
      "presence",
      "error",
    ]);
    const count = presence ? JSON.parse(presence).count : undefined;
    context.note(
      "honest login; lobby presence count",
      `${login.ok ? "yes" : login.code} in ${loginMs} ms; ${count}`,
    );
    honest.sendJson({ type: "quit" });

    const tokens = main.dropped.filter((d) => d.token !== undefined);
    const picks = [0, 1, 2, 3, 4].map((k) => tokens[Math.floor((k * tokens.length) / 5)]!)
      .filter(Boolean);
    const resumed = await Promise.all(picks.map((d, n) => resume(context, d, n)));
    context.note(
      "5 parked sessions resumed with their tokens",
      tally(resumed.map((r) => r.replace(/ \(\d+ ms\)/, ""))),
    );
    context.note("resume times", resumed.map((r) => /\((\d+ ms)\)/.exec(r)?.[1]).join(", "));
    context.note("after the resumes", await parked(context));
    context.note("RSS MiB with them parked", (server.memory().rssKiB / 1024).toFixed(1));

    // The window runs out: every parked session ends, the lobby sees them leave.
    const until = firstParked + WINDOW_MS + 45_000;
    let last = "";
    let ended: number | undefined;
    while (Date.now() < until && !signal.aborted) {
      await delay(5000, signal);
      const stats = await nodeStats(server.httpPort);
      last = stats ? `parked ${stats.parked} (/healthz ${stats.ms} ms)` : "no /healthz";
      context.log(last);
      if (stats?.parked === 0) {
        ended = Date.now();
        break;
      }
    }
    context.note(
      "window ran out",
      ended
        ? `all ended ${((ended - firstParked) / 1000).toFixed(0)} s after the first was parked`
        : `not yet: ${last}`,
    );
    context.note("RSS MiB after", (server.memory().rssKiB / 1024).toFixed(1));
  },
};
