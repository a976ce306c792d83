// The conformance suite against the Node server (runtimes/node, built into
// dist/node/main.mjs first), in its own process.

import { LOOPBACK_FLAGS, runtimeAvailable, serverCommand } from "../runtimes/_node_bun.ts";
import { launch, runConformance } from "./mod.ts";

const NODE = await runtimeAvailable("node", "tests/conformance/node_test.ts");

Deno.test({
  name: "conformance: node",
  ignore: !NODE,
  sanitizeResources: true,
  sanitizeOps: true,
}, async (t) => {
  const { command, args, cwd } = await serverCommand("node", LOOPBACK_FLAGS);
  const server = await launch(command, args, { tcp: true, cwd });
  try {
    await runConformance(t, { name: "node", ws: server.ws, tcp: server.tcp });
  } catch (error) {
    console.error(`the server printed:\n${server.output()}`);
    throw error;
  } finally {
    await server.stop();
  }
});
