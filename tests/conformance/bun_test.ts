// The conformance suite against the Bun server (runtimes/bun, run from its
// TypeScript by Bun), in its own process.

import { LOOPBACK_FLAGS, runtimeAvailable, serverCommand } from "../runtimes/_node_bun.ts";
import { launch, runConformance } from "./mod.ts";

const BUN = await runtimeAvailable("bun", "tests/conformance/bun_test.ts");

Deno.test({
  name: "conformance: bun",
  ignore: !BUN,
  sanitizeResources: true,
  sanitizeOps: true,
}, async (t) => {
  const { command, args, cwd } = await serverCommand("bun", LOOPBACK_FLAGS);
  const server = await launch(command, args, { tcp: true, cwd });
  try {
    await runConformance(t, { name: "bun", ws: server.ws, tcp: server.tcp });
  } catch (error) {
    console.error(`the server printed:\n${server.output()}`);
    throw error;
  } finally {
    await server.stop();
  }
});
