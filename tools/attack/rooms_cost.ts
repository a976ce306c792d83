/**
 * rooms-cost: fill the server with 10,000 rooms (330 telnet sessions from 11
 * source addresses, 31 new rooms each, up to the server's room limit), then
 * 40 logged-in WebSocket clients each send 48 `{"type":"rooms"}` requests at
 * once (inside the burst of 50). Recorded: rooms created, the size of one
 * reply, replies delivered, clients dropped, server CPU; the canary shows the
 * stall.
 *
 * @module
 */
import { type Attack, cpuMeter, seconds, tally } from "./_attack.ts";
import { delay, pool, RawWs, sourceAddress } from "./_net.ts";
import { createRooms, roomCount } from "./_rooms.ts";

const CREATORS = 330;
const ASKERS = 40;
const ASKS_EACH = 48;

/** 10,000 rooms, then 40 x 48 room-list requests. */
export const roomsCost: Attack = {
  name: "rooms-cost",
  summary: "10,000 rooms, then 40 clients x 48 {type:rooms} requests at once",
  async run(context) {
    const { server, signal } = context;
    const { conns, errors, refusals } = await createRooms(
      server.tcpPort,
      CREATORS,
      30,
      25,
      "rc",
      signal,
    );
    context.note("creator sessions", `${conns.length}/${CREATORS}`);
    if (errors.length > 0) context.note("creator failures", tally(errors));
    await delay(3000, signal);
    context.note("rooms", await roomCount(server.httpPort));
    context.note("join refusals", tally(refusals));

    const logins = await pool(ASKERS, 10, async (i) => {
      const ws = await RawWs.open({
        port: server.httpPort,
        localAddress: sourceAddress(26, Math.floor(i / 10)),
      });
      if (!(await ws.login(`rq${i}`)).ok) throw new Error("login refused");
      return ws;
    }, signal);
    const askers = logins.flatMap((r) => r.status === "fulfilled" ? [r.value] : []);
    let replies = 0;
    let replyBytes = 0;
    for (const ws of askers) {
      ws.onText = (text) => {
        if (!text.startsWith('{"type":"rooms"')) return;
        replies++;
        replyBytes ||= new TextEncoder().encode(text).length;
      };
    }
    const meter = cpuMeter(server);
    const started = performance.now();
    const request = JSON.stringify({ type: "rooms" });
    for (const ws of askers) {
      for (let i = 0; i < ASKS_EACH; i++) ws.sendText(request);
    }
    const wanted = askers.length * ASKS_EACH;
    while (!signal.aborted && performance.now() - started < 30_000) {
      const open = askers.filter((ws) => ws.closedAt === undefined).length;
      if (replies >= wanted || (open === 0 && askers.length > 0)) break;
      await delay(100, signal);
    }
    context.note(
      "requests answered",
      `${replies}/${wanted} in ${seconds(performance.now() - started)}`,
    );
    context.note("one reply bytes", replyBytes);
    context.note("server CPU while answering", meter());
    const dropped = askers.filter((ws) => ws.closedAt !== undefined)
      .map((ws) => `${ws.closeCode ?? "reset"} ${ws.errors.at(-1) ?? ""}`.trim());
    context.note("askers dropped", `${dropped.length}/${askers.length} (${tally(dropped)})`);
    for (const ws of askers) ws.destroy();
    for (const conn of conns) conn.destroy();
  },
};
