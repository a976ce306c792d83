/**
 * api-abuse, run: the server API and `/metrics` under a server started with
 * `--api-key`. In turn: wrong keys at a high rate; 10 MB bodies (with a
 * length, chunked, and with a wrong key) and deeply nested JSON to
 * `/api/publish`; a publish flood with the right key into the canary's room;
 * `/metrics` scraped in a tight loop while 2,000 idle users are online.
 *
 * @module
 */
import { type AttackContext, cpuMeter, mib, tally } from "./_attack.ts";
import { boundClients, streamPost, timedFetch, Timings } from "./_http.ts";
import { leakSummary, LeakWatch } from "./_leaks.ts";
import { delay, HOST, LineConn, pool, sourceAddress } from "./_net.ts";
import { LEAK_MARKER, randomB64 } from "./_tokens.ts";

const encoder = new TextEncoder();
const TEN_MB = 10 * 1024 * 1024;
const IDLE_USERS = 2000;

// Runs `task` on `workers` loops until `ms` pass (or the signal aborts).
async function loops(
  workers: number,
  ms: number,
  signal: AbortSignal,
  task: (worker: number) => Promise<void>,
): Promise<number> {
  const started = performance.now();
  const until = started + ms;
  await Promise.all(Array.from({ length: workers }, async (_, worker) => {
    while (performance.now() < until && !signal.aborted) await task(worker);
  }));
  return (performance.now() - started) / 1000;
}

/** Runs api-abuse against a server started with `--api-key apiKey`. */
export async function apiAbuse(context: AttackContext, apiKey: string): Promise<void> {
  const { server, signal } = context;
  const base = `http://${HOST}:${server.httpPort}`;
  const leaks = new LeakWatch(server, [apiKey]);
  const clients = boundClients(88, 8);
  const right = { authorization: `Bearer ${apiKey}` };
  // The highest RSS of each phase, sampled every 50 ms.
  const rss: string[] = [];
  let peak = 0;
  const sampler = setInterval(() => peak = Math.max(peak, server.memory().rssKiB), 50);
  const phase = async (name: string, run: () => Promise<void>) => {
    peak = server.memory().rssKiB;
    await run();
    rss.push(`${name} ${mib(peak)}`);
  };
  try {
    await phase("wrong keys", () => wrongKeys(context, base, clients));
    await phase("10 MB bodies", () => bigBodies(context, apiKey));
    await phase("nested", () => nestedBodies(context, base, clients[0]!, right));
    await phase("publish flood", async () => {
      await publishFlood(context, base, clients, right, 4000);
      await publishFlood(context, base, clients, right, 800);
    });
    await phase("metrics", () => scrapeWithIdleUsers(context, base, clients, right));
  } finally {
    clearInterval(sampler);
    for (const client of clients) client.close();
  }
  context.note("peak RSS by phase (MiB)", rss.join(", "));
  if (signal.aborted) context.note("stopped early", "time limit");
  context.note("API key or wrong keys in the server's output", leakSummary(leaks.stop()));
}

// Wrong keys (and malformed Authorization headers) as fast as 32 loops go.
async function wrongKeys(context: AttackContext, base: string, clients: Deno.HttpClient[]) {
  const timings = new Timings();
  const meter = cpuMeter(context.server);
  const headers = [
    () => ({ authorization: `Bearer ${LEAK_MARKER}${randomB64(40)}` }),
    () => ({ authorization: `Bearer ${randomB64(4000)}` }),
    () => ({ authorization: `Basic ${btoa(`admin:${LEAK_MARKER}`)}` }),
    () => ({ authorization: `Bearer  ${LEAK_MARKER} x` }),
    () => ({}),
  ];
  let n = 0;
  const wall = await loops(32, 8000, context.signal, async (worker) => {
    const path = n % 4 === 3 ? "/metrics" : "/api/publish";
    const init: RequestInit = path === "/metrics"
      ? { headers: headers[n++ % headers.length]!() }
      : {
        method: "POST",
        headers: headers[n++ % headers.length]!(),
        body: '{"room":"lobby","text":"wrong key"}',
      };
    await timedFetch(clients[worker % clients.length]!, base + path, init, timings);
  });
  context.note(
    "wrong keys",
    `${timings.count} requests (${Math.round(timings.count / wall)}/s) from 8 addresses: ` +
      `${timings.outcomes()}; ${timings.latency()}; server ${meter()}`,
  );
}

// 10 MB bodies: with Content-Length, chunked, and with a wrong key; 8 of each at once.
async function bigBodies(context: AttackContext, apiKey: string) {
  const { server } = context;
  const chunk = encoder.encode(`{"room":"lobby","text":"${"x".repeat(65_000)}`);
  const kinds = [
    { kind: "10 MB, Content-Length", chunked: false, key: apiKey },
    { kind: "10 MB, chunked", chunked: true, key: apiKey },
    { kind: "10 MB, wrong key", chunked: false, key: `${LEAK_MARKER}wrongkey0123456789` },
  ];
  for (const { kind, chunked, key } of kinds) {
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) =>
      streamPost({
        port: server.httpPort,
        localAddress: sourceAddress(88, 20 + i),
        path: "/api/publish",
        headers: { authorization: `Bearer ${key}` },
        totalBytes: TEN_MB,
        chunk,
        chunked,
        timeoutMs: 20_000,
      })));
    const ms = results.map((r) => r.msToStatus).sort((a, b) => a - b);
    const read = results.map((r) => r.bytesWritten).sort((a, b) => a - b);
    context.note(
      kind,
      `${tally(results.map((r) => String(r.status || "no answer")))} in ${ms[0]}-${
        ms.at(-1)
      } ms; ` +
        `body bytes sent before the answer ${Math.round(read[0]! / 1024)}-${
          Math.round(read.at(-1)! / 1024)
        } KiB; ${JSON.stringify(results[0]!.body.slice(0, 80))}`,
    );
  }
}

// JSON nested as deep as the body limit allows, in an unknown field and in `text`.
async function nestedBodies(
  context: AttackContext,
  base: string,
  client: Deno.HttpClient,
  right: Record<string, string>,
) {
  const limit = 1_400_000; // under the default frame limit (1,402,200 bytes)
  const arrays = (depth: number) => "[".repeat(depth) + "]".repeat(depth);
  const objects = (depth: number) => '{"a":'.repeat(depth) + "1" + "}".repeat(depth);
  const bodies = [
    {
      kind: "nested arrays in an unknown field",
      body: `{"room":"lobby","text":"x","x":${arrays((limit - 40) / 2)}}`,
    },
    { kind: "nested arrays as text", body: `{"room":"lobby","text":${arrays((limit - 40) / 2)}}` },
    {
      kind: "nested objects as file",
      body: `{"room":"lobby","data":"AA==","file":${objects(Math.floor((limit - 60) / 6))}}`,
    },
  ];
  const meter = cpuMeter(context.server);
  for (const { kind, body } of bodies) {
    const timings = new Timings();
    let answer = "";
    for (let i = 0; i < 10 && !context.signal.aborted; i++) {
      answer = await timedFetch(client, `${base}/api/publish`, {
        method: "POST",
        headers: right,
        body,
      }, timings);
    }
    context.note(
      `${kind} (${Math.round(body.length / 1024)} KiB)`,
      `${timings.outcomes()}; ${timings.latency()}; ${JSON.stringify(answer.slice(0, 90))}`,
    );
  }
  context.note("server CPU for the 30 nested bodies", meter());
}

// The right key, 16 loops publishing `size`-byte texts into the canary's room.
async function publishFlood(
  context: AttackContext,
  base: string,
  clients: Deno.HttpClient[],
  right: Record<string, string>,
  size: number,
) {
  const timings = new Timings();
  const meter = cpuMeter(context.server);
  const text = `apiflood ${"y".repeat(size - 9)}`;
  const body = JSON.stringify({ room: "lobby", text });
  const codes: string[] = [];
  const from = Date.now();
  const wall = await loops(16, 8000, context.signal, async (worker) => {
    const answer = await timedFetch(clients[worker % clients.length]!, `${base}/api/publish`, {
      method: "POST",
      headers: right,
      body,
    }, timings);
    const code = /"code":"([a-z_]+)"/.exec(answer)?.[1];
    if (code) codes.push(code);
  });
  // What the canary's telnet users were told meanwhile (their refusals are lines too).
  const told = (await context.canary.lines()).filter((l) => l.at >= from)
    .flatMap((l) => /error ([a-z_]+)/.exec(l.text)?.[1] ?? []);
  const ok = timings.statuses.get("200") ?? 0;
  context.note(
    `publish flood into the lobby (${size}-byte texts, right key)`,
    `${timings.count} requests (${Math.round(timings.count / wall)}/s): ${timings.outcomes()}` +
      `${codes.length ? ` (${tally(codes)})` : ""}; accepted ${
        ((ok * text.length) / wall / 1024 / 1024).toFixed(2)
      } MiB/s; ${timings.latency()}; server ${meter()}; canary's telnet users were told: ${
        tally(told)
      }`,
  );
}

// 2,000 users online doing nothing, while /metrics is scraped by 4 loops.
async function scrapeWithIdleUsers(
  context: AttackContext,
  base: string,
  clients: Deno.HttpClient[],
  right: Record<string, string>,
) {
  const { server, signal } = context;
  const results = await pool(IDLE_USERS, 50, async (i) => {
    const conn = await LineConn.open({
      port: server.tcpPort,
      localAddress: sourceAddress(89, i % 25),
    });
    const login = await conn.login(`idle${i}`);
    if (!login.ok) {
      conn.destroy();
      throw new Error(login.code ?? "no welcome");
    }
    return conn;
  }, signal);
  const idle = results.flatMap((r) => r.status === "fulfilled" ? [r.value] : []);
  const failed = results.flatMap((r) => r.status === "rejected" ? [String(r.reason)] : []);
  context.note(
    "idle users online",
    `${idle.length}/${IDLE_USERS}${failed.length ? ` (failed: ${tally(failed)})` : ""}`,
  );
  await delay(1000, signal);
  const timings = new Timings();
  let bytes = 0;
  let sample = "";
  const meter = cpuMeter(server);
  const wall = await loops(4, 10_000, signal, async (worker) => {
    const body = await timedFetch(clients[worker]!, `${base}/metrics`, { headers: right }, timings);
    bytes = body.length;
    sample = body;
  });
  const ready = /crosswire_connections\{transport="tcp",state="ready"\} (\d+)/.exec(sample)?.[1];
  context.note(
    "/metrics scraped with the idle users online",
    `${timings.count} scrapes (${Math.round(timings.count / wall)}/s): ${timings.outcomes()}; ` +
      `${timings.latency()}; ${Math.round(bytes / 1024)} KiB each; tcp ready gauge ${
        ready ?? "missing"
      }; server ${meter()}`,
  );
  const stats = new Timings();
  await timedFetch(clients[0]!, `${base}/api/stats`, { headers: right }, stats);
  const open = new Timings();
  await timedFetch(clients[0]!, `${base}/metrics`, {}, open);
  context.note("/api/stats; /metrics without the key", `${stats.outcomes()}; ${open.outcomes()}`);
  for (const conn of idle) conn.destroy();
}
