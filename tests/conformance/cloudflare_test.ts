// The conformance suite against Cloudflare Workers: the Worker and its
// Durable Object run locally by `wrangler dev` (workerd), offline, started by
// runtimes/cloudflare/start.ts. There is no TCP listener on Workers, so the
// text-mode cases are left out.

import {
  cloudflareCommand,
  LOOPBACK_FLAGS,
  WRANGLER_READY_MS,
  wranglerAvailable,
} from "../runtimes/_cloudflare.ts";
import { launch, runConformance } from "./mod.ts";

const WRANGLER = await wranglerAvailable("tests/conformance/cloudflare_test.ts");

/**
 * Cases about the WebSocket protocol itself, which the Workers runtime owns
 * (the relay there sees messages, never frames), and where workerd differs.
 */
const RUNTIME_DEVIATIONS: Record<string, string> = {
  "close: a WebSocket protocol violation (a 126-byte ping) is closed with 1002":
    "workerd answers a 126-byte ping with a pong instead of closing with 1002 " +
    "(its WebSocket layer checks fragmented control frames, not their length)",
};

Deno.test({
  name: "conformance: cloudflare",
  ignore: !WRANGLER,
  sanitizeResources: true,
  sanitizeOps: true,
}, async (t) => {
  const { command, args, cwd } = cloudflareCommand(LOOPBACK_FLAGS);
  const server = await launch(command, args, { cwd, timeoutMs: WRANGLER_READY_MS });
  try {
    await runConformance(t, {
      name: "cloudflare",
      ws: server.ws,
      deviations: RUNTIME_DEVIATIONS,
    });
  } catch (error) {
    console.error(`the server printed:\n${server.output()}`);
    throw error;
  } finally {
    await server.stop();
  }
});
