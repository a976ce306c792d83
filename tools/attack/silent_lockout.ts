/**
 * silent-lockout: 9,997 connections that never log in (half telnet-style TCP,
 * half WebSocket) from 100 source addresses, each keeping itself "active"
 * with an empty line (TCP) or a ping frame (WebSocket) every 10 s. With the
 * canary's 3 that is the default 10,000-connection limit. Then an honest
 * client tries to connect and log in; and 60 s after they were opened, how
 * many silent connections are still open.
 *
 * @module
 */
import { type Attack, seconds, tally } from "./_attack.ts";
import { delay, httpGet, LineConn, maskedFrame, Op, pool, RawWs, sourceAddress } from "./_net.ts";

const SILENT = 9997;
const ADDRESSES = 100;
const KEEPALIVE_MS = 10_000;
const HOLD_MS = 60_000;

type Silent = { kind: "tcp"; conn: LineConn } | { kind: "ws"; ws: RawWs };

function isOpen(silent: Silent): boolean {
  return (silent.kind === "tcp" ? silent.conn.closedAt : silent.ws.closedAt) === undefined;
}

/** Nearly 10,000 silent connections hold every slot. */
export const silentLockout: Attack = {
  name: "silent-lockout",
  summary: "9,997 never-logged-in TCP/WS connections from 100 addresses; can an honest user in?",
  timeLimitMs: 125_000,
  async run(context) {
    const { server, signal } = context;
    const started = performance.now();
    const opened = await pool(SILENT, 200, async (i): Promise<Silent> => {
      const localAddress = sourceAddress(30, i % ADDRESSES);
      if (i % 2 === 0) {
        return {
          kind: "tcp",
          conn: await LineConn.open({ port: server.tcpPort, localAddress, read: "count" }),
        };
      }
      return { kind: "ws", ws: await RawWs.open({ port: server.httpPort, localAddress }) };
    }, AbortSignal.any([signal, AbortSignal.timeout(45_000)]));
    const silent = opened.flatMap((r) => r.status === "fulfilled" ? [r.value] : []);
    const failures = opened.flatMap((r) =>
      r.status === "rejected" ? [String((r.reason as Error).message ?? r.reason).slice(0, 60)] : []
    );
    const openedAt = performance.now();
    context.note(
      "silent connections opened",
      `${silent.length}/${SILENT} in ${seconds(openedAt - started)}`,
    );
    if (failures.length > 0) context.note("open failures", tally(failures));

    // Keep every one of them active: one tenth each second.
    const newline = new TextEncoder().encode("\r\n");
    const ping = maskedFrame(Op.ping, new Uint8Array(0));
    let tick = 0;
    const keepalive = setInterval(() => {
      const slice = tick++ % (KEEPALIVE_MS / 1000);
      for (let i = slice; i < silent.length; i += KEEPALIVE_MS / 1000) {
        const one = silent[i]!;
        if (one.kind === "tcp") one.conn.write(newline);
        else one.ws.write(ping);
      }
    }, 1000);
    try {
      await delay(2000, signal);
      const health = await httpGet({ port: server.httpPort, path: "/healthz", timeoutMs: 5000 });
      const sessions = /"sessions":(\d+)/.exec(health.body)?.[1];
      context.note("server sessions", sessions ?? `healthz: ${health.status || health.error}`);

      const tcp = await LineConn.open({ port: server.tcpPort, localAddress: "127.31.0.1" })
        .then((conn) => conn.login("honest").finally(() => conn.destroy()))
        .catch((error) => ({ ok: false, line: String(error), code: undefined }));
      context.note(
        "honest telnet login",
        tcp.ok ? "yes" : `no (${tcp.code ?? tcp.line.slice(0, 80)})`,
      );
      let wsResult: string;
      try {
        const ws = await RawWs.open({ port: server.httpPort, localAddress: "127.31.0.2" });
        const login = await ws.login("honestws", 5000);
        wsResult = login.ok
          ? "yes"
          : `no (${login.code}${ws.closeCode ? `, close ${ws.closeCode}` : ""})`;
        ws.destroy();
      } catch (error) {
        wsResult = `no (${(error as Error).message})`;
      }
      context.note("honest WS login", wsResult);

      await delay(openedAt + HOLD_MS - performance.now(), signal);
      const still = silent.filter(isOpen).length;
      context.note(
        `silent still open after ${seconds(performance.now() - openedAt)}`,
        `${still}/${silent.length}`,
      );
    } finally {
      clearInterval(keepalive);
      for (const one of silent) one.kind === "tcp" ? one.conn.destroy() : one.ws.destroy();
    }
  },
};
