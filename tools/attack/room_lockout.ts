/**
 * room-lockout: 326 telnet sessions from only 4 source addresses each join
 * new rooms until refused (31 each, plus the lobby), which is enough to reach
 * the server-wide room limit (10,000). Then an honest new user from another
 * address tries to create a room. Recorded: rooms created, the refusals the
 * attackers saw, and whether the honest user could create a room.
 *
 * @module
 */
import { type Attack, tally } from "./_attack.ts";
import { delay, errorCodeIn, LineConn, RawWs } from "./_net.ts";
import { createRooms, roomCount } from "./_rooms.ts";

const SESSIONS = 326;
const PER_ADDRESS = 82; // 4 addresses

/** 326 sessions from 4 addresses exhaust the room limit. */
export const roomLockout: Attack = {
  name: "room-lockout",
  summary: "326 sessions from 4 addresses create rooms until refused; can an honest user?",
  async run(context) {
    const { server, signal } = context;
    const { conns, errors, refusals } = await createRooms(
      server.tcpPort,
      SESSIONS,
      PER_ADDRESS,
      28,
      "rl",
      signal,
    );
    context.note("sessions", `${conns.length}/${SESSIONS} from 4 addresses`);
    if (errors.length > 0) context.note("session failures", tally(errors));
    await delay(3000, signal);
    context.note("rooms", await roomCount(server.httpPort));
    context.note("attacker refusals", tally(refusals));

    const honest = await LineConn.open({ port: server.tcpPort, localAddress: "127.29.0.1" });
    const login = await honest.login("honest");
    context.note("honest login", login.ok ? "yes" : `no (${login.code ?? login.line})`);
    if (login.ok) {
      const mark = honest.lineCount;
      honest.send("/join honest-room");
      const reply = await honest.waitFor(
        (line) => line.includes("honest-room") || errorCodeIn(line) !== undefined,
        5000,
        mark,
      );
      const code = reply === undefined ? "no reply" : errorCodeIn(reply);
      context.note(
        "honest user created a room (telnet)",
        code === undefined ? "yes" : `no (${code})`,
      );
    }
    honest.destroy();
    const ws = await RawWs.open({ port: server.httpPort, localAddress: "127.29.0.2" });
    if ((await ws.login("honestws")).ok) {
      const reply = await ws.request({ type: "join", room: "honest-ws-room" }, [
        "presence",
        "error",
      ]);
      const code = reply?.startsWith('{"type":"error"')
        ? /"code":"([a-z_]+)"/.exec(reply)?.[1]
        : undefined;
      context.note(
        "honest user created a room (WS)",
        reply === undefined ? "no reply" : code === undefined ? "yes" : `no (${code})`,
      );
    }
    ws.destroy();
    for (const conn of conns) conn.destroy();
  },
};
