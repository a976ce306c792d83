/**
 * over-limit-frame: a logged-in WebSocket client sends one 2 MiB text frame,
 * over the default JSON message limit (1,402,200 bytes), and records what
 * comes back. Documented: error `too_large`, then close 1009.
 *
 * @module
 */
import { type Attack, seconds } from "./_attack.ts";
import { delay, RawWs } from "./_net.ts";

/** A logged-in client sends a 2 MiB text frame. */
export const overLimitFrame: Attack = {
  name: "over-limit-frame",
  summary: "a logged-in WebSocket sends one 2 MiB text frame (limit ~1.4 MB)",
  async run(context) {
    const ws = await RawWs.open({ port: context.server.httpPort, localAddress: "127.21.0.100" });
    const login = await ws.login("biggy");
    context.note("logged in", login.ok);
    const text = "a".repeat(2 * 1024 * 1024);
    const started = Date.now();
    ws.sendJson({ type: "publish", room: "lobby", text });
    await Promise.race([ws.closed, delay(10_000, context.signal)]);
    context.note("error events", ws.errors.join(",") || "none");
    context.note("close code", ws.closeCode ?? (ws.closedAt ? "none (reset)" : "not closed"));
    if (ws.closeReason) context.note("close reason", ws.closeReason);
    if (ws.closedAt) context.note("closed after", seconds(ws.closedAt - started));
    else {
      const pong = await ws.request({ type: "ping" }, ["pong"], 5000);
      context.note("connection still usable (ping)", pong !== undefined);
    }
    ws.destroy();
  },
};
