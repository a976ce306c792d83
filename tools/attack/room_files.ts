/**
 * room-files: 120 WebSocket members of room `files` read as fast as they can
 * (in their own process, see `_crowd.ts`); 20 attacker sessions, also
 * members, each share one 1 MiB file per second into the room for 10 s as
 * binary frames (each inside the byte rate limit). Recorded: how many members
 * were dropped, with which close codes, and how many files they got.
 *
 * @module
 */
import { type Attack, jsonReader, seconds, spawnHelper, tally, tell } from "./_attack.ts";
import { delay, frameHeader, masked, Op, pool, RawWs, sourceAddress } from "./_net.ts";

const MEMBERS = 120;
const ATTACKERS = 20;
const FILE_BYTES = 1024 * 1024;
const SHARE_SECONDS = 10;

/** One masked binary frame holding a file share request for `room`. */
function fileFrame(room: string): Uint8Array {
  const header = new TextEncoder().encode(
    JSON.stringify({ room, file: { name: "blob.bin", type: "application/octet-stream" } }),
  );
  const body = new Uint8Array(3 + header.length + FILE_BYTES);
  body[0] = 1;
  new DataView(body.buffer).setUint16(1, header.length);
  body.set(header, 3);
  crypto.getRandomValues(body.subarray(3 + header.length, 3 + header.length + 65536));
  const mask = crypto.getRandomValues(new Uint8Array(4));
  const head = frameHeader(Op.binary, body.length, mask);
  const frame = new Uint8Array(head.length + body.length);
  frame.set(head);
  frame.set(masked(body, mask), head.length);
  return frame;
}

/** 20 senders x 1 MiB/s into a room of 120 readers. */
export const roomFiles: Attack = {
  name: "room-files",
  summary: "20 sessions share 1 MiB/s each for 10 s into a room of 120 WebSocket readers",
  async run(context) {
    const { server, signal } = context;
    const crowd = spawnHelper(Deno.execPath(), [
      "run",
      "-A",
      new URL("./_crowd.ts", import.meta.url).pathname,
      "--port",
      String(server.httpPort),
      "--count",
      String(MEMBERS),
      "--room",
      "files",
      "--block",
      "40",
    ]);
    const events = jsonReader(crowd);
    const ready = await events(45_000);
    context.note("members ready", `${ready?.members ?? 0}/${MEMBERS}`);
    if (ready?.event !== "ready") return;

    const logins = await pool(ATTACKERS, 10, async (i) => {
      const ws = await RawWs.open({ port: server.httpPort, localAddress: sourceAddress(41, i) });
      if (!(await ws.login(`filer${i}`)).ok) throw new Error("login refused");
      await ws.request({ type: "join", room: "files" }, ["presence", "error"]);
      return ws;
    }, signal);
    const attackers = logins.flatMap((r) => r.status === "fulfilled" ? [r.value] : []);
    context.note("attackers", `${attackers.length}/${ATTACKERS}`);

    const frame = fileFrame("files");
    await tell(crowd, "start");
    const started = performance.now();
    let written = 0;
    let skipped = 0;
    for (let second = 0; second < SHARE_SECONDS && !signal.aborted; second++) {
      for (const ws of attackers) {
        // A sender whose last file the server has not taken yet skips a turn.
        if (ws.socket.writableLength > FILE_BYTES) skipped++;
        else if (ws.write(frame)) written++;
      }
      await delay(started + (second + 1) * 1000 - performance.now(), signal);
    }
    context.note("files sent", written);
    if (skipped) context.note("sends skipped (server not reading)", skipped);
    // The server may still be working through its backlog: give it 15 s.
    await delay(15_000, signal);

    await tell(crowd, "report");
    const report = await events(10_000);
    if (report?.event === "report") {
      context.note("members dropped", `${report.dropped}/${report.members}`);
      context.note("member close codes", tally(report.closeCodes as string[]));
      const after = report.droppedAfterMs as number[];
      if (after.length > 0) {
        context.note("first drop after", seconds(Math.min(...after)));
      }
      context.note(
        "files per member min/avg/max",
        `${report.filesMin}/${Math.round(Number(report.filesAvg))}/${report.filesMax}`,
      );
    }
    const senderCodes = attackers.filter((ws) => ws.closedAt !== undefined)
      .map((ws) => String(ws.closeCode ?? "reset"));
    context.note("attackers dropped", `${senderCodes.length} (${tally(senderCodes)})`);
    for (const ws of attackers) ws.destroy();
  },
};
