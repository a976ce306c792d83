// The chat page served by the Node and Bun servers, in Chromium: it loads
// under its Content-Security-Policy, logs in over the runtime's WebSocket
// port and chats both ways with a telnet user on the runtime's TCP port.

import assert from "node:assert/strict";
import { TcpLineClient } from "../_helpers.ts";
import {
  ignoreBrowser,
  login,
  message,
  requireBrowser,
  say,
  watch,
  withChromium,
} from "../_browser.ts";
import { launch } from "../conformance/launch.ts";
import { LOOPBACK_FLAGS, runtimeAvailable, serverCommand } from "./_node_bun.ts";

const FILE = "tests/runtimes/node_bun_browser_test.ts";

for (const runtime of ["node", "bun"] as const) {
  Deno.test({
    name: `${runtime}: the chat page in Chromium talks to a telnet user`,
    ignore: ignoreBrowser || !(await runtimeAvailable(runtime, FILE)),
  }, async () => {
    requireBrowser();
    const { command, args, cwd } = await serverCommand(runtime, LOOPBACK_FLAGS);
    const server = await launch(command, args, { cwd, tcp: true });
    const problems: string[] = [];
    try {
      await using tess = await TcpLineClient.login(server.tcp!.port, "tess");
      await withChromium(async (context) => {
        const ann = await context.newPage();
        watch(ann, "ann", problems);
        await login(ann, server.http, "ann");
        await ann.locator('#member-list [data-name="tess"]').waitFor();
        await tess.expect("[lobby] ann joined");

        await say(ann, `hello from the page on ${runtime}`);
        await tess.expect(`[lobby] ann: hello from the page on ${runtime}`);
        await tess.send("hi from telnet");
        await message(ann, "tess", "hi from telnet").waitFor();
        await ann.close();
      });
    } catch (error) {
      console.error(`the ${runtime} server printed:\n${server.output()}`);
      throw error;
    } finally {
      await server.stop();
    }
    assert.deepEqual(problems, []);
  });
}
