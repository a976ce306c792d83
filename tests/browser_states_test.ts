// The chat page's empty and stale states in Chromium (see tests/_browser.ts):
// a room with no messages says who is here and how to join (telnet, WebSocket,
// the page), the member list is greyed while the connection is down and
// replaced by fresh presence after it, and layout details (the join field at
// 800 px, the time of a `/me` line, distinct colours in a room).
//
// Screenshots go to a temporary directory; with CROSSWIRE_SCREENSHOTS=docs/screenshots
// they are written there (empty room and reconnecting, at 1280 and 390 px, and
// the phone's member drawer while reconnecting).

import assert from "node:assert/strict";
import type { Page } from "npm:playwright-core@1.65.1";
import { type RunningServer, startServer } from "../server/mod.ts";
import { colorSlot } from "../web/_format.ts";
import { TcpLineClient } from "./_helpers.ts";
import {
  ignoreBrowser,
  login,
  message,
  requireBrowser,
  say,
  SocketGate,
  watch,
  withChromium,
} from "./_browser.ts";

const WIDE = { width: 1280, height: 720 };
const PHONE = { width: 390, height: 844 };

/** Where screenshots go: CROSSWIRE_SCREENSHOTS, else a fresh temporary directory. */
async function screenshotDir(): Promise<{ dir: string; temporary: boolean }> {
  const wanted = Deno.env.get("CROSSWIRE_SCREENSHOTS");
  if (wanted) {
    await Deno.mkdir(wanted, { recursive: true });
    return { dir: wanted, temporary: false };
  }
  return { dir: await Deno.makeTempDir({ prefix: "crosswire-states-" }), temporary: true };
}

/** Runs `fn` with a screenshot directory, removing it afterwards when it was temporary. */
async function withScreenshots(fn: (shoot: Shooter) => Promise<void>): Promise<void> {
  const { dir, temporary } = await screenshotDir();
  try {
    await fn(async (page, name) => {
      const path = `${dir}/${name}.png`;
      await page.screenshot({ path });
      console.log(`browser states: screenshot ${path}`);
    });
  } finally {
    if (temporary) await Deno.remove(dir, { recursive: true });
  }
}

type Shooter = (page: Page, name: string) => Promise<void>;

function serve(tcp = true): Promise<RunningServer> {
  return startServer({ hostname: "127.0.0.1", port: 0, tcpPort: tcp ? 0 : null });
}

/** The names listed in `selector`'s `[data-name]` children, in order. */
function names(page: Page, selector: string): Promise<string[]> {
  return page.locator(`${selector} [data-name]`).evaluateAll((items) =>
    items.map((item) => (item as unknown as { dataset: { name: string } }).dataset.name)
  );
}

/** The `cN` colour class of the first element matching `selector`. */
async function colorClass(page: Page, selector: string): Promise<string> {
  const classes = await page.locator(selector).first().getAttribute("class") ?? "";
  const match = /\bc(\d)\b/.exec(classes);
  assert.ok(match, `${selector} has a colour: "${classes}"`);
  return match[0];
}

/** Text of the invitation row `kind` (page, telnet, websocket) on the empty card. */
function invite(page: Page, kind: string) {
  return page.locator(`#empty [data-invite="${kind}"]`);
}

Deno.test({
  name: "chat page: a room with no messages shows who is here and how others can join",
  ignore: ignoreBrowser,
  async fn() {
    requireBrowser();
    const server = await serve();
    const bare = await serve(false); // like Cloudflare or Deno Deploy: no TCP listener
    const tcpPort = server.tcpAddr!.port;
    const base = `http://127.0.0.1:${server.httpAddr.port}/`;
    const problems: string[] = [];
    const users: TcpLineClient[] = [];
    try {
      await withScreenshots(async (shoot) => {
        await withChromium(async (context) => {
          const ann = await context.newPage();
          watch(ann, "ann", problems);
          users.push(await TcpLineClient.login(tcpPort, "tess"));
          await login(ann, base, "ann");

          const card = ann.locator('#empty[data-kind="room"]');
          await card.waitFor();
          await card.locator(".empty-title", { hasText: "No messages in #lobby yet" }).waitFor();
          await card.locator('.empty-members [data-name="tess"]').waitFor();
          assert.deepEqual(await names(ann, "#empty .empty-members"), ["tess", "ann"]);
          await invite(ann, "telnet").waitFor();
          assert.equal(await invite(ann, "telnet").textContent(), `telnet 127.0.0.1 ${tcpPort}`);
          assert.equal(await invite(ann, "page").textContent(), base);
          assert.equal(
            await invite(ann, "websocket").textContent(),
            `ws://127.0.0.1:${server.httpAddr.port}/ws`,
          );

          // The address on the card works: someone joins with it and shows up on the card.
          const shown = (await invite(ann, "telnet").textContent())!.split(" ");
          users.push(await TcpLineClient.login(Number(shown[2]), "tom"));
          await card.locator('.empty-members [data-name="tom"]').waitFor();
          await shoot(ann, "empty-room-1280");
          await ann.setViewportSize(PHONE);
          await card.locator(".empty-title").waitFor();
          await shoot(ann, "empty-room-390");
          await ann.setViewportSize(WIDE);

          // The first message replaces the card.
          await users[0]!.send("hello there");
          await message(ann, "tess", "hello there").waitFor();
          await ann.locator("#empty").waitFor({ state: "hidden" });

          // A new room: its card tells telnet users how to get there from the lobby.
          await ann.fill("#join-input", "games");
          await ann.press("#join-input", "Enter");
          await ann.locator("#empty .empty-title", { hasText: "No messages in #games yet" })
            .waitFor();
          assert.equal(
            await invite(ann, "telnet").textContent(),
            `telnet 127.0.0.1 ${tcpPort}then/join games`,
          );

          // Without TCP the card gives the page and the WebSocket only.
          const bob = await context.newPage();
          watch(bob, "bob", problems);
          const bareBase = `http://127.0.0.1:${bare.httpAddr.port}/`;
          // The page asks the server about TCP once, as it starts.
          const described = bob.waitForResponse((response) =>
            response.url() === bareBase &&
            response.request().headers()["accept"] === "application/json"
          );
          await login(bob, bareBase, "bob");
          assert.deepEqual(await (await described).json(), {
            websocket: `ws://127.0.0.1:${bare.httpAddr.port}/ws`,
          });
          await invite(bob, "websocket").waitFor();
          assert.equal(await invite(bob, "page").textContent(), bareBase);
          assert.equal(await invite(bob, "telnet").count(), 0);
          assert.deepEqual(problems, [], "no script errors, dialogs or CSP violations");
        }, { viewport: WIDE, reducedMotion: true });
      });
    } finally {
      for (const user of users) await user.close();
      await server.shutdown(2000);
      await bare.shutdown(2000);
    }
  },
});

Deno.test({
  name: "chat page greys the member list while reconnecting and shows fresh presence after",
  ignore: ignoreBrowser,
  async fn() {
    requireBrowser();
    const server = await serve();
    const tcpPort = server.tcpAddr!.port;
    const problems: string[] = [];
    const users: TcpLineClient[] = [];
    try {
      await withScreenshots(async (shoot) => {
        await withChromium(async (context) => {
          const ann = await context.newPage();
          watch(ann, "ann", problems);
          const gate = await SocketGate.install(ann);
          const tess = await TcpLineClient.login(tcpPort, "tess");
          const tom = await TcpLineClient.login(tcpPort, "tom");
          users.push(tess, tom);
          await login(ann, `http://127.0.0.1:${server.httpAddr.port}/`, "ann");
          await ann.locator('#member-list [data-name="tom"]').waitFor();
          await tess.send("is everyone here?");
          await say(ann, "I am");
          await tom.send("me too");
          await message(ann, "tom", "me too").waitFor();
          assert.equal(await ann.locator("#members-panel.stale").count(), 0);
          assert.equal(await ann.locator("#member-list").getAttribute("aria-busy"), "false");
          assert.equal(await ann.locator("#member-note").isVisible(), false);

          // The connection drops and stays down: the list is greyed, and says why.
          gate.hold();
          await gate.drop();
          await ann.locator('#status[data-state="reconnecting"]').waitFor();
          await ann.locator("#members-panel.stale").waitFor();
          assert.equal(await ann.locator("#member-list").getAttribute("aria-busy"), "true");
          assert.equal(
            await ann.locator("#member-list").getAttribute("aria-describedby"),
            "member-note",
          );
          await ann.locator("#member-note").waitFor({ state: "visible" });
          assert.equal(
            await ann.evaluate(`getComputedStyle(document.querySelector("#member-list")).opacity`),
            "0.5",
          );
          await gate.arrived();
          // Let the countdown settle on its next second before the pictures.
          await ann.locator("#status-text", { hasText: "attempt" }).waitFor();
          await shoot(ann, "reconnecting-1280");
          await ann.setViewportSize(PHONE);
          await ann.locator("#banner").waitFor({ state: "visible" });
          await shoot(ann, "reconnecting-390");
          await ann.click("#toggle-members");
          await ann.locator("#member-note").waitFor({ state: "visible" });
          await shoot(ann, "reconnecting-members-390");
          await ann.click("#scrim", { position: { x: 40, y: 400 } });
          await ann.setViewportSize(WIDE);

          // Meanwhile tom goes; the page cannot know until it is back.
          await tom.close();
          await tess.expect("-!- [lobby] tom disconnected");
          assert.deepEqual(await names(ann, "#member-list"), ["tess", "tom", "ann"]);

          gate.release();
          await ann.locator('#status[data-state="online"]').waitFor();
          await ann.locator("#members-panel:not(.stale)").waitFor();
          assert.deepEqual(await names(ann, "#member-list"), ["tess", "ann"]);
          assert.equal(await ann.locator("#member-list").getAttribute("aria-busy"), "false");
          assert.equal(await ann.locator("#member-note").isVisible(), false);
          assert.deepEqual(problems, [], "no script errors, dialogs or CSP violations");
        }, { viewport: WIDE, reducedMotion: true });
      });
    } finally {
      for (const user of users) await user.close();
      await server.shutdown(2000);
    }
  },
});

/** Whether the join field's placeholder fits in it, with the field's own font. */
function joinFieldFits(page: Page): Promise<{ fits: boolean; text: number; room: number }> {
  // A string: the test is type-checked without the DOM library.
  return page.evaluate(`(() => {
    const input = document.querySelector("#join-input");
    const style = getComputedStyle(input);
    const context = document.createElement("canvas").getContext("2d");
    context.font = style.font;
    const text = context.measureText(input.placeholder).width;
    const room = input.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    return { fits: text <= room, text, room };
  })()`);
}

/** Vertical middle and left edge of the first element matching `selector`. */
async function box(page: Page, selector: string) {
  const found = await page.locator(selector).first().boundingBox();
  assert.ok(found, `${selector} is on screen`);
  return { middle: found.y + found.height / 2, top: found.y, left: found.x, height: found.height };
}

Deno.test({
  name: "chat page layout: the join field fits at 800 px, /me keeps its time on the name's " +
    "row, and two people in a room get different colours",
  ignore: ignoreBrowser,
  async fn() {
    requireBrowser();
    const server = await serve();
    const problems: string[] = [];
    let twin: TcpLineClient | undefined;
    try {
      await withChromium(async (context) => {
        const ann = await context.newPage();
        watch(ann, "ann", problems);
        await login(ann, `http://127.0.0.1:${server.httpAddr.port}/`, "ann");

        // "Join or create a room" is not cut off, at the medium layout's 800 px and elsewhere.
        for (const width of [800, 700, 1280, 390]) {
          await ann.setViewportSize({ width, height: 700 });
          const fit = await joinFieldFits(ann);
          assert.ok(fit.fits, `at ${width} px the placeholder needs ${fit.text}, has ${fit.room}`);
        }
        await ann.setViewportSize(WIDE);

        // `/me`: the time is on the row the name starts, short or wrapped over lines.
        await say(ann, "/me waves");
        const short = '#log .msg.action:has-text("waves")';
        await ann.locator(short).waitFor();
        const actor = await box(ann, `${short} .actor`);
        const time = await box(ann, `${short} .time`);
        assert.ok(Math.abs(actor.middle - time.middle) < actor.height / 2, "same row");
        assert.ok(time.left > actor.left, "the time after the name");
        await say(ann, `/me ${"talks on and on ".repeat(20)}`);
        const long = '#log .msg.action:has-text("talks on")';
        await ann.locator(long).waitFor();
        const text = await box(ann, `${long} .text`);
        assert.ok(text.height > 2 * actor.height, "the long line wraps");
        const longActor = await box(ann, `${long} .actor`);
        const longTime = await box(ann, `${long} .time`);
        assert.ok(Math.abs(longActor.middle - longTime.middle) < longActor.height / 2);

        // Someone whose name has ann's colour joins: one of them gets another colour.
        const mine = colorSlot("ann");
        const name = Array.from({ length: 500 }, (_, i) => `t${i}`)
          .find((candidate) => colorSlot(candidate) === mine);
        assert.ok(name, "a name with ann's colour");
        twin = await TcpLineClient.login(server.tcpAddr!.port, name);
        await ann.locator(`#member-list [data-name="${name}"]`).waitFor();
        const annColor = await colorClass(ann, '#member-list [data-name="ann"] .avatar');
        const twinColor = await colorClass(ann, `#member-list [data-name="${name}"] .avatar`);
        assert.equal(annColor, `c${mine}`, "ann keeps her own colour");
        assert.notEqual(twinColor, annColor);
        await twin.send("same colour?");
        await message(ann, name, "same colour?").waitFor();
        assert.equal(await colorClass(ann, `#log .msg[data-from="${name}"] .avatar`), twinColor);
        assert.equal(await colorClass(ann, `#log .msg[data-from="${name}"] .from`), twinColor);
        assert.equal(await colorClass(ann, '#log .msg[data-from="ann"] .avatar'), annColor);
        assert.deepEqual(problems, [], "no script errors, dialogs or CSP violations");
      }, { viewport: WIDE, reducedMotion: true });
    } finally {
      await twin?.close();
      await server.shutdown(2000);
    }
  },
});
