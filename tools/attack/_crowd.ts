/**
 * A crowd of WebSocket members in one room, in its own process so they read
 * as fast as they can while the harness attacks:
 * `deno run -A _crowd.ts --port P --count N --room R --block B`.
 * Members connect from 127.B.x.y (10 per address), log in as `member<i>`,
 * join the room and count what arrives. Prints `ready`; on "start" (stdin)
 * notes the time; on "report" prints a `report` with who was dropped, how
 * and when (after "start"), and exits.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { pool, RawWs, sourceAddress } from "./_net.ts";

async function runCrowd(options: { port: number; count: number; room: string; block: number }) {
  const print = (event: unknown) => console.log(JSON.stringify(event));
  const results = await pool(options.count, 20, async (i) => {
    const ws = await RawWs.open({
      port: options.port,
      localAddress: sourceAddress(options.block, Math.floor(i / 10)),
    });
    const login = await ws.login(`member${i}`);
    if (!login.ok) throw new Error(`login: ${login.code}`);
    const joined = await ws.request({ type: "join", room: options.room }, ["presence", "error"]);
    if (!joined?.startsWith('{"type":"presence"')) throw new Error(`join: ${joined}`);
    return ws;
  });
  const members = results.flatMap((r) => r.status === "fulfilled" ? [r.value] : []);
  const failed = results.flatMap((r) => r.status === "rejected" ? [String(r.reason)] : []);
  print({ event: "ready", members: members.length, failed: failed.slice(0, 3) });
  let started = Date.now();
  const decoder = new TextDecoder();
  for await (const chunk of Deno.stdin.readable) {
    const commands = decoder.decode(chunk);
    if (commands.includes("start")) started = Date.now();
    if (commands.includes("report")) break;
  }
  const dropped = members.filter((ws) => ws.closedAt !== undefined);
  const files = members.map((ws) => ws.binaryFrames);
  print({
    event: "report",
    members: members.length,
    dropped: dropped.length,
    closeCodes: dropped.map((ws) => String(ws.closeCode ?? "reset")),
    errors: dropped.map((ws) => ws.errors.at(-1) ?? "none"),
    droppedAfterMs: dropped.map((ws) => ws.closedAt! - started),
    filesMin: Math.min(...files),
    filesMax: Math.max(...files),
    filesAvg: files.reduce((a, b) => a + b, 0) / Math.max(1, files.length),
  });
  for (const ws of members) ws.destroy();
}

if (import.meta.main) {
  const flags = parseArgs({
    args: Deno.args,
    options: {
      port: { type: "string" },
      count: { type: "string", default: "120" },
      room: { type: "string", default: "files" },
      block: { type: "string", default: "40" },
    },
  }).values;
  await runCrowd({
    port: Number(flags.port),
    count: Number(flags.count),
    room: flags.room,
    block: Number(flags.block),
  });
  Deno.exit(0);
}
