// The terminal client on a real terminal (a tmux pane) with a token: Tab
// completes the admin commands, and a typed `/auth TOKEN` is masked on screen
// and kept out of the up arrow's history.

import assert from "node:assert/strict";
import { startServer } from "../server/mod.ts";
import { type Identity, RelayError } from "../mod.ts";
import { ignoreTmux, requireTmux, TmuxPane } from "./_tmux.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const FIRST = "tok-first-5c2e91ab";
// Longer than the pane is wide, as JWTs are: the masked line must replace every row it took.
const SECOND = `tok-second-${"77d0f3ce".repeat(30)}`;

function authenticate(token: string): Promise<Identity> {
  if (token !== FIRST && token !== SECOND) {
    return Promise.reject(new RelayError("auth_failed", "unknown token"));
  }
  return Promise.resolve({ subject: "u1", name: "ann", admin: true, expires: Date.now() + 60_000 });
}

Deno.test({
  name: "cli on a terminal completes admin commands and masks a typed /auth TOKEN",
  ignore: ignoreTmux,
  async fn() {
    requireTmux();
    const server = await startServer({
      hostname: "127.0.0.1",
      port: 0,
      tcpPort: null,
      relay: { authenticate },
    });
    try {
      await using pane = await TmuxPane.start([
        Deno.execPath(),
        "run",
        "-A",
        "client/mod.ts",
        "--url",
        `ws://127.0.0.1:${server.httpAddr.port}/ws`,
      ], { cwd: ROOT, env: { NO_COLOR: "1", CROSSWIRE_TOKEN: FIRST } });
      await pane.waitFor((screen) => screen.at(-1) === "[lobby] >", "ann's prompt");
      await pane.waitFor((screen) => screen.some((line) => line.includes("Welcome, ann!")), "ann");

      for (const [typed, completed] of [["/ki", "/kick"], ["/unm", "/unmute"], ["/to", "/topic"]]) {
        await pane.press("C-u");
        await pane.type(typed!);
        await pane.press("Tab");
        await pane.waitFor((screen) => screen.at(-1) === `[lobby] > ${completed}`, completed!);
      }
      await pane.press("C-u");
      await pane.type(`/auth ${SECOND}`);
      await pane.press("Enter");
      await pane.waitFor(
        (screen) => screen.some((line) => line.includes("Token accepted")),
        "the relay's notice",
      );
      await pane.waitFor((screen) => screen.includes("[lobby] > /auth ********"), "the mask");
      // Up recalls nothing: the line with the token is not kept.
      await pane.press("Up");
      await pane.type("x");
      await pane.waitFor((screen) => screen.at(-1) === "[lobby] > x", "an empty history");
      const everything = (await pane.history()).join("\n");
      assert.ok(!everything.includes(SECOND), everything);
      assert.ok(!everything.includes(FIRST), everything);
      await pane.press("C-u", "C-d");
      assert.equal(await pane.exitStatus(), 0);
    } finally {
      await server.shutdown();
    }
  },
});
