/**
 * json-keys: 40 WebSocket connections that never log in each send a 1.18 MB
 * JSON object with 125,000 keys every 1.25 s for 20 s (under the frame limit
 * and, at 0.94 MB/s, under the 1 MiB/s byte rate). Parsing is the server's
 * cost. Recorded: server CPU during the flood, what the senders got back;
 * the canary shows the stall.
 *
 * @module
 */
import { type Attack, cpuMeter, tally } from "./_attack.ts";
import { delay, maskedFrame, Op, pool, RawWs, sourceAddress } from "./_net.ts";

const SENDERS = 40;
const KEYS = 125_000;
const OBJECT_BYTES = 1_180_000;
const PERIOD_MS = 1250;
const FLOOD_MS = 20_000;

/** A JSON object of exactly `bytes` bytes with `keys` short keys (and one padding field). */
export function manyKeys(keys: number, bytes: number): string {
  const parts: string[] = [];
  for (let i = 0; i < keys - 1; i++) parts.push(`"${i.toString(36)}":0`);
  const body = parts.join(",");
  const padding = bytes - body.length - '{,"pad":""}'.length;
  return `{${body},"pad":"${"p".repeat(Math.max(0, padding))}"}`;
}

/** 40 never-logged-in sockets send 125,000-key objects. */
export const jsonKeys: Attack = {
  name: "json-keys",
  summary: "40 unauthenticated WebSockets send a 1.18 MB, 125,000-key JSON object every 1.25 s",
  async run(context) {
    const { server, signal } = context;
    const json = manyKeys(KEYS, OBJECT_BYTES);
    const frame = maskedFrame(Op.text, new TextEncoder().encode(json));
    context.note("object bytes", json.length);
    const opened = await pool(SENDERS, 10, (i) =>
      RawWs.open({
        port: server.httpPort,
        localAddress: sourceAddress(27, Math.floor(i / 10)),
      }), signal);
    const senders = opened.flatMap((r) => r.status === "fulfilled" ? [r.value] : []);
    context.note("senders", `${senders.length}/${SENDERS}`);
    const meter = cpuMeter(server);
    const started = performance.now();
    let sent = 0;
    let skipped = 0;
    for (let round = 0; round * PERIOD_MS < FLOOD_MS && !signal.aborted; round++) {
      for (const ws of senders) {
        // The server has not taken the last two yet: skip a turn rather than pile up here.
        if (ws.socket.writableLength > 2 * frame.length) skipped++;
        else if (ws.write(frame)) sent++;
      }
      await delay(started + (round + 1) * PERIOD_MS - performance.now(), signal);
    }
    context.note("objects sent", sent);
    if (skipped) context.note("sends skipped (server not reading)", skipped);
    context.note("server CPU during flood", meter());
    await delay(2000, signal);
    context.note("replies to senders", tally(senders.flatMap((ws) => [...ws.errorCounts])));
    const closed = senders.filter((ws) => ws.closedAt !== undefined)
      .map((ws) => String(ws.closeCode ?? "reset"));
    context.note("senders closed", `${closed.length} (${tally(closed)})`);
    for (const ws of senders) ws.destroy();
  },
};
