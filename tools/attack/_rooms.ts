/**
 * Room creation shared by rooms-cost and room-lockout: many telnet sessions
 * from a few source addresses, each joining new rooms until refused, and the
 * server's room count from /healthz.
 *
 * @module
 */
import { httpGet, LineConn, pool, sourceAddress } from "./_net.ts";

const ROOMS_EACH = 31; // plus the lobby: 32, the per-user limit

/** Rooms the server reports in /healthz, or -1. */
export async function roomCount(port: number): Promise<number> {
  const health = await httpGet({ port, path: "/healthz", timeoutMs: 10_000 });
  const rooms = /"rooms":(\d+)/.exec(health.body)?.[1];
  return rooms === undefined ? -1 : Number(rooms);
}

/**
 * Opens `count` telnet sessions (`perAddress` per address of `block`); each
 * joins 32 new rooms, one more than it may. `refusals` collects the error
 * codes they got back.
 */
export async function createRooms(
  port: number,
  count: number,
  perAddress: number,
  block: number,
  prefix: string,
  signal: AbortSignal,
): Promise<{ conns: LineConn[]; errors: string[]; refusals: string[] }> {
  const refusals: string[] = [];
  const results = await pool(count, 30, async (i) => {
    const conn = await LineConn.open({
      port,
      localAddress: sourceAddress(block, Math.floor(i / perAddress)),
    });
    const login = await conn.login(`${prefix}${i}`);
    if (!login.ok) {
      conn.destroy();
      throw new Error(login.code ?? login.line);
    }
    conn.onLine = (line) => {
      const code = /\b(too_many_rooms|room_limit|rate_limited|room_invalid)\b/.exec(line)?.[1];
      if (code) refusals.push(code);
    };
    const joins = Array.from({ length: ROOMS_EACH + 1 }, (_, j) => `/join ${prefix}${i}-${j}\r\n`);
    conn.write(new TextEncoder().encode(joins.join("")));
    return conn;
  }, signal);
  const conns = results.flatMap((r) => r.status === "fulfilled" ? [r.value] : []);
  const errors = results.flatMap((r) => r.status === "rejected" ? [String(r.reason)] : []);
  return { conns, errors, refusals };
}
