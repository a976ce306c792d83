/**
 * dm-flood and dm-flood-telnet: a victim named `victim` reads as fast as it
 * can (over WebSocket, or over telnet-style TCP with a 64 KiB SO_RCVBUF);
 * 100 TCP sessions log in and each sends 50 private messages of 8,000 bytes
 * to it, all at once (40 MB in all, each sender well inside its rate limit).
 * Recorded: whether the victim was dropped, when and how; then, 3 s later,
 * whether an attacker can log in under the name `victim`.
 *
 * @module
 */
import {
  type Attack,
  type AttackContext,
  jsonReader,
  seconds,
  spawnHelper,
  tally,
  tell,
} from "./_attack.ts";
import { delay, LineConn, pool, sourceAddress } from "./_net.ts";
import { TCP_VICTIM_PY } from "./_victim.ts";

const SENDERS = 100;
const MESSAGES_EACH = 50;
const TEXT_BYTES = 8000;
const RCVBUF = 65536;

async function dmFloodRun(context: AttackContext, victimOver: "ws" | "tcp"): Promise<void> {
  const { server, signal } = context;
  const victim = victimOver === "ws"
    ? spawnHelper(Deno.execPath(), [
      "run",
      "-A",
      new URL("./_victim.ts", import.meta.url).pathname,
      "--port",
      String(server.httpPort),
      "--name",
      "victim",
    ])
    : spawnHelper("python3", [
      "-c",
      TCP_VICTIM_PY,
      String(server.tcpPort),
      "victim",
      String(RCVBUF),
    ]);
  const events = jsonReader(victim);
  const ready = await events(20_000);
  if (ready?.event !== "ready") {
    context.note("victim", `could not log in: ${JSON.stringify(ready)}`);
    return;
  }
  if (ready.rcvbuf) context.note("victim SO_RCVBUF (kernel doubles it)", Number(ready.rcvbuf));

  const logins = await pool(SENDERS, 25, async (i) => {
    const conn = await LineConn.open({
      port: server.tcpPort,
      localAddress: sourceAddress(22, i % 10),
    });
    const login = await conn.login(`flood${i}`);
    if (!login.ok) {
      conn.destroy();
      throw new Error(login.code ?? login.line);
    }
    return conn;
  }, signal);
  const senders = logins.flatMap((r) => r.status === "fulfilled" ? [r.value] : []);
  context.note("senders logged in", `${senders.length}/${SENDERS}`);
  const failures = logins.flatMap((r) => r.status === "rejected" ? [String(r.reason)] : []);
  if (failures.length > 0) context.note("sender login failures", tally(failures));

  const encoder = new TextEncoder();
  const payloads = senders.map((_, i) => {
    const lines = Array.from({ length: MESSAGES_EACH }, (_, j) => {
      const head = `dmflood-${i}-${j} `;
      return `/msg victim ${head}${"x".repeat(TEXT_BYTES - head.length)}\r\n`;
    });
    return encoder.encode(lines.join(""));
  });
  const started = Date.now();
  senders.forEach((conn, i) => conn.write(payloads[i]!));
  context.note(
    "MB sent to victim",
    Math.round((senders.length * MESSAGES_EACH * TEXT_BYTES) / 1e6),
  );

  // Wait for the victim to be dropped, or for the flood to have had its chance.
  const closed = await events(25_000);
  if (closed?.event === "closed") {
    const how = closed.code ? `close ${closed.code}` : "connection closed";
    const last = (closed.last as string[] | undefined)?.at(-1);
    context.note(
      "victim dropped",
      `yes after ${seconds(Number(closed.at) - started)} (${how}${
        last ? `; last line: ${last.slice(0, 120)}` : ""
      })`,
    );
    context.note("DMs victim got before", `${closed.directs}/${senders.length * MESSAGES_EACH}`);
  } else {
    context.note("victim dropped", "no");
  }
  await delay(3000, signal);

  const thief = await LineConn.open({ port: server.tcpPort, localAddress: sourceAddress(22, 99) });
  const stolen = await thief.login("victim");
  context.note(
    "name taken by attacker",
    stolen.ok ? "yes" : `no (${stolen.code ?? stolen.line.slice(0, 80)})`,
  );
  thief.destroy();

  await tell(victim, "report");
  const report = await events(5000);
  if (report?.event === "report" && closed?.event !== "closed") {
    context.note("DMs victim got", `${report.directs}/${senders.length * MESSAGES_EACH}`);
  }
  const dropped = senders.filter((conn) => conn.closedAt !== undefined).length;
  context.note("senders dropped", dropped);
  for (const conn of senders) conn.destroy();
}

/** The victim is a WebSocket user. */
export const dmFlood: Attack = {
  name: "dm-flood",
  summary: "100 sessions x 50 DMs of 8,000 bytes at a WebSocket victim; then steal its name",
  run: (context) => dmFloodRun(context, "ws"),
};

/** The victim is a telnet user with a small receive buffer. */
export const dmFloodTelnet: Attack = {
  name: "dm-flood-telnet",
  summary: "the same at a telnet victim with SO_RCVBUF 64 KiB",
  run: (context) => dmFloodRun(context, "tcp"),
};
