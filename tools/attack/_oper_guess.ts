/**
 * oper-guess, run: connections from many addresses log in and send a burst of
 * wrong operator passwords at once (`/oper` in text mode, `oper` in JSON,
 * `OPER` on IRC), then reconnect under a new name and do it again. Counted:
 * wrong guesses the server answered (it should close a connection after 3),
 * guesses per second over the run, and whether any guess made an operator.
 * Then the right password from an address that guessed all along.
 *
 * @module
 */
import { type AttackContext, cpuMeter, tally } from "./_attack.ts";
import { leakSummary, LeakWatch } from "./_leaks.ts";
import { delay, errorCodeIn, LineConn, RawWs, sourceAddress } from "./_net.ts";
import { LEAK_MARKER } from "./_tokens.ts";
import { nodeStats } from "./history_common.ts";

/** Guesses sent in one burst per connection: more than the 3 the server should answer. */
const BURST = 6;
const RUN_SECONDS = 20;

interface Tally {
  connections: number;
  answered: number;
  /** Wrong guesses answered on each connection: "3×120". */
  perConnection: string[];
  operators: number;
  loginFailures: string[];
  closeWaitMs: number[];
  /** Sessions taken back with `resume` after the server closed them. */
  resumes: number;
}

function guess(worker: number, n: number, i: number): string {
  return `${LEAK_MARKER}-${worker}-${n}-${i}`;
}

// One connection's worth: log in, burst, wait for the close (or 3 s).
async function textGuesser(port: number, address: string, name: string, tally: Tally) {
  let answered = 0;
  let operator = false;
  const conn = await LineConn.open({ port, localAddress: address });
  conn.onLine = (line) => {
    if (line.includes("wrong operator password")) answered++;
    if (line.includes("You are now an operator")) operator = true;
  };
  try {
    const login = await conn.login(name);
    if (!login.ok) return void tally.loginFailures.push(login.code ?? "no welcome");
    tally.connections++;
    const sent = performance.now();
    conn.send(
      Array.from({ length: BURST }, (_, i) => `/oper ${guess(0, 0, i)}${name}`).join("\r\n"),
    );
    await Promise.race([conn.closed, delay(3000)]);
    tally.closeWaitMs.push(performance.now() - sent);
  } finally {
    conn.destroy();
    tally.answered += answered;
    tally.perConnection.push(String(answered));
    if (operator) tally.operators++;
  }
}

async function wsGuesser(port: number, address: string, name: string, tally: Tally) {
  let answered = 0;
  let operator = false;
  const ws = await RawWs.open({ port, localAddress: address });
  ws.onText = (text) => {
    if (text.includes("wrong operator password")) answered++;
    if (text.includes("You are now an operator")) operator = true;
  };
  try {
    const login = await ws.login(name);
    if (!login.ok) return void tally.loginFailures.push(login.code ?? "no welcome");
    tally.connections++;
    const sent = performance.now();
    for (let i = 0; i < BURST; i++) ws.sendJson({ type: "oper", password: guess(1, 0, i) + name });
    await Promise.race([ws.closed, delay(3000)]);
    tally.closeWaitMs.push(performance.now() - sent);
  } finally {
    ws.destroy();
    tally.answered += answered;
    tally.perConnection.push(String(answered));
    if (operator) tally.operators++;
  }
}

async function ircGuesser(port: number, address: string, name: string, tally: Tally) {
  let answered = 0;
  let operator = false;
  const conn = await LineConn.open({ port, localAddress: address });
  conn.onLine = (line) => {
    // 464 for the first two; the third is a NOTICE with the same words, then ERROR.
    if (line.includes("wrong operator password") && !line.startsWith("ERROR")) answered++;
    if (/^:\S+ 381 /.test(line)) operator = true;
  };
  try {
    conn.send(`NICK ${name}\r\nUSER ${name} 0 * :x`);
    const welcome = await conn.waitFor((l) => / (001|4\d\d) /.test(l), 10_000);
    if (welcome === undefined || !/ 001 /.test(welcome)) {
      return void tally.loginFailures.push(welcome?.replace(/^:\S+ /, "").slice(0, 40) ?? "none");
    }
    tally.connections++;
    const sent = performance.now();
    conn.send(
      Array.from({ length: BURST }, (_, i) => `OPER x ${guess(2, 0, i)}${name}`).join("\r\n"),
    );
    await Promise.race([conn.closed, delay(3000)]);
    tally.closeWaitMs.push(performance.now() - sent);
  } finally {
    conn.destroy();
    tally.answered += answered;
    tally.perConnection.push(String(answered));
    if (operator) tally.operators++;
  }
}

/**
 * Logs in once, then: a burst, the close, a `resume` with the session's
 * resume token on a new connection, another burst... A session closed for
 * wrong passwords must not come back (or must come back still counting).
 */
async function wsResumer(
  port: number,
  address: string,
  name: string,
  tally: Tally,
  signal?: AbortSignal,
) {
  let ws = await RawWs.open({ port, localAddress: address });
  try {
    const welcome = await ws.request({ type: "login", name }, ["welcome", "error"]);
    let token = welcome?.startsWith('{"type":"welcome"')
      ? (JSON.parse(welcome) as { resume?: string }).resume
      : undefined;
    if (token === undefined) return void tally.loginFailures.push("no welcome with resume");
    tally.connections++;
    while (!signal?.aborted) {
      let answered = 0;
      ws.onText = (text) => {
        if (text.includes("wrong operator password")) answered++;
        if (text.includes("You are now an operator")) tally.operators++;
      };
      const sent = performance.now();
      for (let i = 0; i < BURST; i++) {
        ws.sendJson({ type: "oper", password: guess(3, 0, i) + name });
      }
      await Promise.race([ws.closed, delay(3000)]);
      tally.closeWaitMs.push(performance.now() - sent);
      tally.answered += answered;
      tally.perConnection.push(String(answered));
      if (ws.closedAt === undefined) return;
      ws = await RawWs.open({ port, localAddress: address });
      const back = await ws.request({ type: "resume", token }, ["welcome", "error"]);
      if (!back?.startsWith('{"type":"welcome"')) {
        tally.loginFailures.push(
          `resume: ${/"code":"([a-z_]+)"/.exec(back ?? "")?.[1] ?? "no reply"}`,
        );
        return;
      }
      tally.resumes++;
      token = (JSON.parse(back) as { resume: string }).resume;
    }
  } finally {
    ws.destroy();
  }
}

function newTally(): Tally {
  return {
    connections: 0,
    answered: 0,
    perConnection: [],
    operators: 0,
    loginFailures: [],
    closeWaitMs: [],
    resumes: 0,
  };
}

/** Runs oper-guess against a server started with `--admin-password password`. */
export async function operGuess(context: AttackContext, password: string): Promise<void> {
  const { server, signal } = context;
  const leaks = new LeakWatch(server, [password]);
  const groups: {
    way: string;
    run: (port: number, address: string, name: string, t: Tally, s: AbortSignal) => Promise<void>;
    port: number;
    block: number;
    addresses: number;
    workers: number;
  }[] = [
    {
      way: "text /oper",
      run: textGuesser,
      port: server.tcpPort,
      block: 84,
      addresses: 24,
      workers: 48,
    },
    {
      way: "json oper",
      run: wsGuesser,
      port: server.httpPort,
      block: 85,
      addresses: 16,
      workers: 32,
    },
    {
      way: "irc OPER",
      run: ircGuesser,
      port: server.tcpPort,
      block: 86,
      addresses: 8,
      workers: 16,
    },
    {
      way: "json oper, resuming",
      run: wsResumer,
      port: server.httpPort,
      block: 87,
      addresses: 4,
      workers: 8,
    },
  ];
  const tallies = groups.map(() => newTally());
  const controller = new AbortController();
  const stop = () => controller.abort();
  signal.addEventListener("abort", stop, { once: true });
  const timer = setTimeout(stop, RUN_SECONDS * 1000);
  const meter = cpuMeter(server);
  const started = performance.now();
  await Promise.all(
    groups.flatMap((group, g) =>
      Array.from({ length: group.workers }, async (_, worker) => {
        for (let n = 0; !controller.signal.aborted; n++) {
          const address = sourceAddress(group.block, worker % group.addresses);
          try {
            await group.run(
              group.port,
              address,
              `og${g}w${worker}n${n}`,
              tallies[g]!,
              controller.signal,
            );
          } catch {
            tallies[g]!.loginFailures.push("connect failed");
            await delay(200, controller.signal);
          }
        }
      })
    ),
  );
  clearTimeout(timer);
  signal.removeEventListener("abort", stop);
  const wall = (performance.now() - started) / 1000;
  context.note("server CPU", meter());

  let total = 0;
  groups.forEach((group, g) => {
    const t = tallies[g]!;
    total += t.answered;
    const waits = [...t.closeWaitMs].sort((a, b) => a - b);
    context.note(
      group.way,
      `${t.answered} wrong guesses answered (${Math.round(t.answered / wall)}/s) on ` +
        `${t.connections} logins from ${group.addresses} addresses; answered per connection ` +
        `(of ${BURST} sent at once): ${tally(t.perConnection)}; closed ${
          Math.round(waits[Math.floor(waits.length / 2)] ?? 0)
        } ms after the burst (median)` +
        (t.resumes > 0 ? `; sessions resumed after the close: ${t.resumes}` : "") +
        (t.loginFailures.length > 0 ? `; login failures: ${tally(t.loginFailures)}` : ""),
    );
    if (t.operators > 0) context.note(`${group.way}: BECAME OPERATOR`, t.operators);
  });
  context.note(
    "guesses per second, all ways",
    `${Math.round(total / wall)} (${total} in ${wall.toFixed(1)} s)`,
  );
  const stats = await nodeStats(server.httpPort);
  if (stats) {
    context.note(
      "server after (users / sessions / parked)",
      `${stats.users} / ${stats.sessions} / ${stats.parked}`,
    );
  }

  // The right password, from an address that guessed all along: is it locked out?
  const admin = await LineConn.open({ port: server.tcpPort, localAddress: sourceAddress(84, 0) });
  const login = await admin.login("operright");
  if (login.ok) {
    const mark = admin.lineCount;
    admin.send(`/oper ${password}`);
    const reply = await admin.waitFor((l) => /operator|error/.test(l), 5000, mark);
    context.note(
      "right password from a guessing address",
      reply?.includes("You are now an operator")
        ? "accepted (no lockout)"
        : `refused: ${errorCodeIn(reply ?? "") ?? reply ?? "no reply"}`,
    );
  } else {
    context.note("right password from a guessing address", `could not log in: ${login.line}`);
  }
  admin.destroy();
  await delay(300);
  context.note("guesses or the password in the server's output", leakSummary(leaks.stop()));
}
