/**
 * fd-http and fd-tcp: the server runs under `prlimit --nofile=1024:1024`, and
 * 1,100 idle TCP connections (never a byte sent) from 22 source addresses
 * are held for 20 s on the HTTP port (fd-http) or the TCP port (fd-tcp).
 * Then fresh honest clients try /healthz, a WebSocket login and a telnet
 * login; the server's CPU during the hold shows whether a failing accept()
 * spins. The idle connections are then released and the checks repeated, to
 * see whether the server recovers.
 *
 * @module
 */
import { type Attack, type AttackContext, cpuMeter, seconds, tally } from "./_attack.ts";
import { delay, httpGet, LineConn, pool, RawWs, sourceAddress } from "./_net.ts";

const IDLE_CONNECTIONS = 1100;
const ADDRESSES = 22;
const HOLD_MS = 20_000;
const NOFILE = 1024;

async function wsLogin(port: number, name: string): Promise<string> {
  const started = performance.now();
  try {
    const ws = await RawWs.open({ port, timeoutMs: 5000 });
    const result = await ws.login(name, 5000);
    ws.destroy();
    const took = seconds(performance.now() - started);
    return result.ok ? `yes (${took})` : `no: ${result.code}`;
  } catch (error) {
    return `no: ${(error as Error).message}`;
  }
}

async function healthz(port: number): Promise<string> {
  const started = performance.now();
  const result = await httpGet({ port, path: "/healthz", timeoutMs: 5000 });
  if (result.status === 200) return `yes (${seconds(performance.now() - started)})`;
  return `no: ${result.status || result.error}`;
}

async function telnetLogin(port: number, name: string): Promise<string> {
  try {
    const conn = await LineConn.open({ port, timeoutMs: 5000 });
    const result = await conn.login(name, 5000);
    conn.destroy();
    return result.ok ? "yes" : `no: ${result.line.slice(0, 80)}`;
  } catch (error) {
    return `no: ${(error as Error).message}`;
  }
}

// One at a time, so a check that kills the server is the one noted just before it.
async function checks(context: AttackContext, when: string, round: number): Promise<void> {
  const { server } = context;
  context.note(`${when}: healthz`, await healthz(server.httpPort));
  await delay(1000, context.signal); // a crash takes a moment to show as an exit
  context.note(`${when}: alive 1 s after one HTTP request`, server.alive);
  context.note(`${when}: WS login`, await wsLogin(server.httpPort, `fresh${round}w`));
  context.note(`${when}: telnet login`, await telnetLogin(server.tcpPort, `fresh${round}t`));
}

async function holdIdle(context: AttackContext, target: "http" | "tcp"): Promise<void> {
  const { server, signal } = context;
  const port = target === "http" ? server.httpPort : server.tcpPort;
  context.note("server fds before", server.openFiles() ?? "?");
  const results = await pool(IDLE_CONNECTIONS, 100, (i) =>
    LineConn.open({
      port,
      localAddress: sourceAddress(20, i % ADDRESSES),
      read: "none",
      timeoutMs: 5000,
    }), signal);
  const conns = results.flatMap((r) => r.status === "fulfilled" ? [r.value] : []);
  context.note("idle connections opened", `${conns.length}/${IDLE_CONNECTIONS}`);
  const failures = results.flatMap((r) =>
    r.status === "rejected" ? [String((r.reason as Error).message).replace(/ \S+:\d+$/, "")] : []
  );
  if (failures.length > 0) context.note("open failures", tally(failures));
  const meter = cpuMeter(server);
  await delay(HOLD_MS, signal);
  context.note("server CPU during hold", meter());
  context.note("server fds during hold", server.openFiles() ?? "gone");
  context.note("idle closed by server", conns.filter((c) => c.closedAt !== undefined).length);
  context.note("alive after the hold", server.alive);
  await checks(context, "held", 0);
  for (const conn of conns) conn.destroy();
  await delay(3000, signal);
  await checks(context, "released", 1);
}

/** 1,100 idle connections to the HTTP port of a server limited to 1,024 files. */
export const fdHttp: Attack = {
  name: "fd-http",
  summary: "1,100 idle connections to the HTTP port under nofile=1024; then healthz and WS login",
  server: { nofile: NOFILE },
  run: (context) => holdIdle(context, "http"),
};

/** 1,100 idle connections to the TCP port of a server limited to 1,024 files. */
export const fdTcp: Attack = {
  name: "fd-tcp",
  summary: "1,100 idle connections to the TCP port under nofile=1024; CPU during the hold",
  server: { nofile: NOFILE },
  run: (context) => holdIdle(context, "tcp"),
};
