/**
 * stall and stall-idle: the server process is frozen (SIGSTOP) for 20 s while
 * the canary keeps talking, then resumed (SIGCONT). What the canary sent in
 * the meantime waited in socket buffers and must not be dropped as
 * rate-limited. stall-idle runs the server with `--idle-timeout 15`: were
 * the canary sessions closed as idle although they had sent all along?
 *
 * @module
 */
import type { Attack, AttackContext } from "./_attack.ts";
import { delay } from "./_net.ts";

const STOP_MS = 20_000;

async function freeze(context: AttackContext): Promise<void> {
  const { server, signal } = context;
  await delay(3000, signal);
  context.note("SIGSTOP sent", server.signal("SIGSTOP"));
  const stopped = performance.now();
  await delay(STOP_MS, signal);
  server.signal("SIGCONT");
  context.note("stopped for", `${((performance.now() - stopped) / 1000).toFixed(1)} s`);
  await delay(10_000, signal);
}

/** The server is frozen for 20 s. */
export const stall: Attack = {
  name: "stall",
  summary: "SIGSTOP the server for 20 s, then SIGCONT; canary input must not be dropped",
  run: freeze,
};

/** The same, with a 15 s idle timeout. */
export const stallIdle: Attack = {
  name: "stall-idle",
  summary: "the same with --idle-timeout 15: are canary sessions closed as idle?",
  server: { flags: ["--idle-timeout", "15"] },
  run: freeze,
};
