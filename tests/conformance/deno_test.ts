// The conformance suite against the Deno server, main.ts, in its own process.

import { launch, runConformance } from "./mod.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

Deno.test({
  name: "conformance: deno",
  sanitizeResources: true,
  sanitizeOps: true,
}, async (t) => {
  const server = await launch(
    Deno.execPath(),
    ["run", "-A", MAIN, "--hostname", "127.0.0.1", "--port", "0", "--tcp-port", "0"],
    { tcp: true },
  );
  try {
    await runConformance(t, { name: "deno", ws: server.ws, tcp: server.tcp });
  } catch (error) {
    console.error(`the server printed:\n${server.output()}`);
    throw error;
  } finally {
    await server.stop();
  }
});
