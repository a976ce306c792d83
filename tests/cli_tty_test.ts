// The terminal client on a real terminal (a tmux pane) against a real server:
// what others say goes above the input line, and the half-typed line stays
// intact under it, with the cursor where it was. Also history, Tab and Ctrl-C.

import assert from "node:assert/strict";
import { startServer } from "../server/mod.ts";
import type { RunningServer } from "../mod.ts";
import { connect, type CrosswireClient } from "../client/mod.ts";
import { within } from "./_helpers.ts";
import { ignoreTmux, requireTmux, TmuxPane } from "./_tmux.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const WAIT_MS = 15_000;

/** A server, a terminal client in tmux logged in as `carl`, and a library user `wes`. */
interface Scene extends AsyncDisposable {
  server: RunningServer;
  pane: TmuxPane;
  wes: CrosswireClient;
  /** The room texts carl says, as wes hears them. */
  heard: string[];
}

async function scene(): Promise<Scene> {
  requireTmux();
  const server = await startServer({ hostname: "127.0.0.1", port: 0, tcpPort: 0 });
  const cleanup: (() => Promise<void>)[] = [() => server.shutdown(2000)];
  const dispose = async () => {
    for (const step of cleanup.reverse()) await step();
  };
  try {
    const wes = await connect(`ws://127.0.0.1:${server.httpAddr.port}/ws`, { name: "wes" });
    cleanup.push(() => wes.close());
    const heard: string[] = [];
    wes.on("message", (message) => {
      if (message.from === "carl") heard.push(message.text ?? "");
    });
    const pane = await TmuxPane.start([
      Deno.execPath(),
      "run",
      "-A",
      "client/mod.ts",
      "--host",
      "127.0.0.1",
      "--port",
      String(server.tcpAddr!.port),
      "--name",
      "carl",
    ], { cwd: ROOT, env: { NO_COLOR: "1" } });
    cleanup.push(() => pane[Symbol.asyncDispose]());
    await pane.waitFor((screen) => screen.at(-1) === "[lobby] >", "carl's prompt");
    await pane.waitFor(
      (screen) => screen.some((line) => line.includes("2 here: wes, carl")),
      "presence",
    );
    return { server, pane, wes, heard, [Symbol.asyncDispose]: dispose };
  } catch (error) {
    await dispose();
    throw error;
  }
}

/** Resolves once wes has heard `count` texts from carl; fails after a while. */
function hearing(wes: CrosswireClient, heard: string[], count: number): Promise<void> {
  if (heard.length >= count) return Promise.resolve();
  let stop = () => {};
  const enough = new Promise<void>((resolve) => {
    stop = wes.on("message", () => {
      if (heard.length >= count) resolve();
    });
  });
  return within(enough, WAIT_MS, `wes to hear ${count} lines (so far ${JSON.stringify(heard)})`)
    .finally(stop);
}

const said = (n: number) => `[lobby] wes: line ${n} of the chatter, long enough to matter`;

/** Every line of wes's on screen is whole, each once, in order; and none is torn. */
function assertIntact(lines: string[], count: number): void {
  const mine = lines.filter((line) => line.includes("wes: line"));
  assert.deepEqual(mine, Array.from({ length: count }, (_, n) => said(n)), lines.join("\n"));
}

Deno.test({
  name: "cli on a terminal keeps the half-typed line intact while others talk",
  ignore: ignoreTmux,
  async fn() {
    await using s = await scene();
    const { pane, wes, heard } = s;
    await pane.type("half typed li");
    await pane.waitFor((screen) => screen.at(-1) === "[lobby] > half typed li", "the half line");

    // A burst while the line waits.
    for (let n = 0; n < 30; n++) wes.send("lobby", said(n).slice("[lobby] wes: ".length));
    let screen = await pane.waitFor((lines) => lines.includes(said(29)), "the burst");
    assert.equal(screen.at(-1), "[lobby] > half typed li", screen.join("\n"));
    assert.equal(screen.at(-2), said(29));
    assert.deepEqual(await pane.cursor(), {
      x: "[lobby] > half typed li".length,
      y: screen.length - 1,
    });

    // The rest typed a few keys at a time while more arrives in between.
    const rest = "ne, and the rest of it";
    for (let n = 30; n < 40; n++) {
      wes.send("lobby", said(n).slice("[lobby] wes: ".length));
      const at = (n - 30) * 3;
      if (at < rest.length) await pane.type(rest.slice(at, at + 3));
    }
    await pane.type(rest.slice(30));
    const whole = "half typed line, and the rest of it";
    screen = await pane.waitFor(
      (lines) => lines.includes(said(39)) && lines.at(-1) === `[lobby] > ${whole}`,
      "the whole line under the chatter",
    );
    assert.deepEqual(await pane.cursor(), { x: `[lobby] > ${whole}`.length, y: screen.length - 1 });

    await pane.press("Enter");
    await hearing(wes, heard, 1);
    assert.deepEqual(heard, [whole]);
    wes.send("lobby", said(40).slice("[lobby] wes: ".length));
    screen = await pane.waitFor((lines) => lines.at(-2) === said(40), "a line after the sent one");
    assert.equal(screen.at(-1), "[lobby] >");

    // The whole session, scrollback included: nothing torn, the sent line shown once, whole.
    const history = await pane.history();
    assertIntact(history, 41);
    // Each redraw took the old prompt away: only the sent line and today's prompt remain.
    assert.deepEqual(history.filter((line) => line.startsWith("[lobby] >")), [
      `[lobby] > ${whole}`,
      "[lobby] >",
    ]);
    assert.ok(
      history.every((line) => !line.includes("typed li[") && !/\S\[lobby\]/.test(line)),
      history.join("\n"),
    );
  },
});

Deno.test({
  name: "cli on a terminal recalls earlier lines with the up arrow",
  ignore: ignoreTmux,
  async fn() {
    await using s = await scene();
    const { pane, wes, heard } = s;
    await pane.type("first line");
    await pane.press("Enter");
    await pane.type("second");
    await pane.press("Enter");
    await hearing(wes, heard, 2);
    await pane.press("Up");
    await pane.waitFor((screen) => screen.at(-1) === "[lobby] > second", "the last line back");
    await pane.press("Up");
    await pane.waitFor((screen) => screen.at(-1) === "[lobby] > first line", "the one before");
    await pane.type(" again");
    await pane.press("Enter");
    await hearing(wes, heard, 3);
    assert.deepEqual(heard, ["first line", "second", "first line again"]);
  },
});

Deno.test({
  name: "cli on a terminal completes names in the room and commands with Tab",
  ignore: ignoreTmux,
  async fn() {
    await using s = await scene();
    const { server, pane, wes, heard } = s;
    const parker = await connect(`ws://127.0.0.1:${server.httpAddr.port}/ws`, { name: "parker" });
    try {
      await pane.waitFor((screen) => screen.includes("-!- [lobby] parker joined"), "parker");

      await pane.type("hi par");
      await pane.press("Tab");
      await pane.waitFor((screen) => screen.at(-1) === "[lobby] > hi parker", "the name");
      await pane.type("how are you");
      await pane.press("Enter");
      await hearing(wes, heard, 1);
      assert.deepEqual(heard, ["hi parker how are you"]);

      // A name that starts the line is addressed; `@` stays when typed.
      await pane.type("pa");
      await pane.press("Tab");
      await pane.type("see @w");
      await pane.press("Tab");
      await pane.type("too");
      await pane.waitFor(
        (screen) => screen.at(-1) === "[lobby] > parker: see @wes too",
        "an address and a mention",
      );
      await pane.press("C-u", "/jo", "Tab");
      await pane.waitFor((screen) => screen.at(-1) === "[lobby] > /join", "a command");
      await pane.type("games");
      await pane.press("Enter");
      await pane.waitFor((screen) => screen.at(-1) === "[games] >", "the new room in the prompt");
    } finally {
      await parker.close();
    }
  },
});

Deno.test({
  name: "cli on a terminal clears the line on Ctrl-C, and quits on Ctrl-C at an empty line",
  ignore: ignoreTmux,
  async fn() {
    await using s = await scene();
    const { pane, wes, heard } = s;
    await pane.type("never to be sent");
    await pane.waitFor((screen) => screen.at(-1) === "[lobby] > never to be sent", "the line");
    await pane.press("C-c");
    await pane.waitFor((screen) => screen.at(-1) === "[lobby] >", "an empty line");
    const left = new Promise<void>((resolve) =>
      wes.on("left", (event) => event.name === "carl" && resolve())
    );
    await pane.press("C-c");
    assert.equal(await pane.exitStatus(), 0);
    await within(left, WAIT_MS, "carl to leave");
    assert.deepEqual(heard, []);
    // The prompt is gone from the last screen: the shell's comes next.
    const screen = await pane.screen();
    assert.ok(!screen.some((line) => line.startsWith("[lobby] >")), screen.join("\n"));
  },
});

Deno.test({
  name: "cli on a terminal shows its own commands and keys after the server's /help",
  ignore: ignoreTmux,
  async fn() {
    await using s = await scene();
    const { pane } = s;
    await pane.type("/help");
    await pane.press("Enter");
    const screen = await pane.waitFor(
      (lines) => lines.some((line) => line.includes("Ctrl-C")),
      "the client's help",
    );
    const text = screen.join("\n");
    assert.match(
      text,
      /-!- {3}\/join ROOM[\s\S]*\* Added by this terminal client:\n\* {3}\/send FILE/,
    );
    assert.match(text, /\* {3}Tab {2,}complete/);
    assert.equal(screen.at(-1), "[lobby] >");
  },
});
