/**
 * big-frames and big-frames-64: 32 (or 64) WebSockets that, before logging
 * in, each stream one 60 MiB text frame (written here frame header and masked
 * 1 MiB chunk at a time, so the harness holds one chunk, not 60 MiB per
 * connection); the server's peak RSS and the canary tell what that costs.
 *
 * @module
 */
import { type Attack, type AttackContext, seconds, tally } from "./_attack.ts";
import { delay, masked, Op, RawWs, sourceAddress } from "./_net.ts";

const FRAME_BYTES = 60 * 1024 * 1024;
const CHUNK_BYTES = 1024 * 1024;
const STREAM_LIMIT_MS = 60_000;

async function bigFrameFlood(context: AttackContext, count: number): Promise<void> {
  const { server, signal } = context;
  const mask = crypto.getRandomValues(new Uint8Array(4));
  const chunk = masked(new Uint8Array(CHUNK_BYTES).fill(0x61), mask); // "aaaa..."
  const streams = AbortSignal.any([signal, AbortSignal.timeout(STREAM_LIMIT_MS)]);
  const started = performance.now();
  const outcomes = await Promise.all(Array.from({ length: count }, async (_, i) => {
    let ws: RawWs;
    try {
      ws = await RawWs.open({ port: server.httpPort, localAddress: sourceAddress(21, i % 8) });
    } catch (error) {
      return { sent: 0, result: `upgrade failed: ${(error as Error).message}`, ms: 0 };
    }
    const sent = await ws.streamFrame(Op.text, FRAME_BYTES, chunk, mask, streams);
    const wrote = performance.now() - started;
    // What the server does with it: wait a little for an answer or a close.
    await Promise.race([ws.closed, ws.waitType(["error"], 10_000), delay(10_000, signal)]);
    const result = ws.closeCode !== undefined
      ? `close ${ws.closeCode}`
      : ws.closedAt !== undefined
      ? "reset"
      : ws.errors.length > 0
      ? `error ${ws.errors.join(",")}`
      : "no answer";
    const errors = ws.errors.length > 0 ? ` after ${ws.errors.join(",")}` : "";
    ws.destroy();
    return { sent, result: result + (result.startsWith("close") ? errors : ""), ms: wrote };
  }));
  const complete = outcomes.filter((o) => o.sent === FRAME_BYTES).length;
  context.note("frames written in full", `${complete}/${count}`);
  context.note(
    "MiB written",
    Math.round(outcomes.reduce((sum, o) => sum + o.sent, 0) / CHUNK_BYTES),
  );
  context.note("slowest write", seconds(Math.max(...outcomes.map((o) => o.ms))));
  context.note("attackers got (10 s after writing)", tally(outcomes.map((o) => o.result)));
}

/** 32 WebSockets each send one 60 MiB text frame before login. */
export const bigFrames: Attack = {
  name: "big-frames",
  summary: "32 WebSockets each stream one 60 MiB text frame before logging in",
  run: (context) => bigFrameFlood(context, 32),
};

/** 64 WebSockets each send one 60 MiB text frame before login. */
export const bigFrames64: Attack = {
  name: "big-frames-64",
  summary: "64 WebSockets each stream one 60 MiB text frame before logging in",
  run: (context) => bigFrameFlood(context, 64),
};
