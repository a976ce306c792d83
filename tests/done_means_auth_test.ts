// Issue 13's "done means", as a new user would do it, in one run: keys made
// and a token signed by openssl itself log a browser in under the token's name
// with the rooms it grants and nothing else; a telnet operator kicks and bans
// it; the server API publishes into a room a telnet user sees; /metrics shows
// the traffic. Everything is real: main.ts, Chromium, openssl, sockets.

import assert from "node:assert/strict";
import type { Page } from "npm:playwright-core@1.65.1";
import { ignoreBrowser, requireBrowser, say, watch, withChromium } from "./_browser.ts";
import { TcpLineClient } from "./_helpers.ts";
import { spawnCli } from "./_server_helpers.ts";
import { base64url, ignoreOpenssl, requireOpenssl } from "./auth/_openssl.ts";

async function openssl(args: string[], cwd: string, stdin?: Uint8Array): Promise<Uint8Array> {
  const child = new Deno.Command("openssl", {
    args,
    cwd,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(stdin);
    await writer.close();
  }
  const { success, stdout, stderr } = await child.output();
  if (!success) throw new Error(`openssl ${args[0]}: ${new TextDecoder().decode(stderr)}`);
  return stdout;
}

/** An EdDSA JWT whose signature openssl made with `key.pem` in `dir`. */
async function opensslToken(dir: string, claims: Record<string, unknown>): Promise<string> {
  const input = `${base64url(JSON.stringify({ alg: "EdDSA", typ: "JWT" }))}.${
    base64url(JSON.stringify(claims))
  }`;
  await Deno.writeTextFile(`${dir}/input`, input);
  const signature = await openssl(
    ["pkeyutl", "-sign", "-inkey", "key.pem", "-rawin", "-in", "input"],
    dir,
  );
  return `${input}.${base64url(signature)}`;
}

function joinedRooms(page: Page): Promise<string[]> {
  return page.locator("#room-list [data-key]").evaluateAll((items) =>
    items.map((item) => (item as unknown as { dataset: { key: string } }).dataset.key)
  );
}

Deno.test({
  name: "done means: an openssl-signed token in a browser, a telnet operator, curl and /metrics",
  ignore: ignoreBrowser || ignoreOpenssl,
  async fn() {
    requireBrowser();
    requireOpenssl();
    const dir = await Deno.makeTempDir({ prefix: "crosswire_done_" });
    try {
      await openssl(["genpkey", "-algorithm", "ed25519", "-out", "key.pem"], dir);
      await openssl(["pkey", "-in", "key.pem", "-pubout", "-out", "public.pem"], dir);
      await Deno.writeTextFile(
        `${dir}/crosswire.json`,
        `{
          // staff rooms need a token that names them
          "rooms": { "staff-*": { "private": true }, "announcements": { "readOnly": true } },
        }`,
      );
      const key = crypto.randomUUID().replaceAll("-", "");
      await using server = await spawnCli({
        flags: [
          "--jwt-public-key",
          `${dir}/public.pem`,
          "--jwt-audience",
          "chat",
          "--config",
          `${dir}/crosswire.json`,
          "--admin-password",
          "op password 1",
          "--api-key",
          key,
        ],
      });
      assert.ok(
        server.startup.some((line) => line.includes("tokens: EdDSA")),
        server.startup.join("\n"),
      );
      const token = await opensslToken(dir, {
        sub: "user-17",
        name: "bob",
        aud: "chat",
        exp: Math.floor(Date.now() / 1000) + 3600,
        rooms: { "support-*": ["join", "publish", "history"], news: ["join"] },
      });
      const origin = `http://127.0.0.1:${server.httpPort}`;
      const api = (path: string, body?: unknown, bearer = key) =>
        fetch(`${origin}${path}`, {
          method: body === undefined ? "GET" : "POST",
          headers: { authorization: `Bearer ${bearer}` },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });

      await using op = await TcpLineClient.login(server.tcpPort, "op");
      await op.send("/oper op password 1");
      await op.expect("-!- You are now an operator.");
      const problems: string[] = [];
      await withChromium(async (context) => {
        const page = await context.newPage();
        watch(page, "bob", problems);
        await page.goto(`${origin}/#token=${token}`);
        await page.locator('#status[data-state="online"]').waitFor();
        // Under the token's name, in the one room it names exactly, not the lobby.
        assert.equal(await page.locator("#me-name").textContent(), "bob");
        await page.locator('#room-list [data-key="#news"]').waitFor();
        assert.deepEqual(await joinedRooms(page), ["#news"]);
        // A pattern's room may be joined; anything else is refused.
        await say(page, "/join support-eu");
        await page.locator('#room-list [data-key="#support-eu"]').waitFor();
        for (const room of ["lobby", "staff-1"]) {
          await say(page, `/join ${room}`);
          await page.locator("#log .line.error", { hasText: `you may not join ${room}` }).waitFor();
        }
        await op.send("/join support-eu");
        await op.expect("-!- [support-eu] 2 here:");
        await say(page, "hello from the page");
        await op.expect("[support-eu] bob: hello from the page");

        // The telnet operator kicks the page's user, then bans the name.
        await op.send("/kick bob testing");
        await op.expect("-!- [support-eu] bob was kicked by op (testing)");
        // The page says it in the log (and again once the connection has closed).
        await page.locator("#log .line.error", { hasText: "You were kicked by op" }).first()
          .waitFor();
        await page.locator('#status[data-state="offline"]').waitFor();
        await op.send("/ban bob 5");
        await op.expect((line) => line.startsWith("-!- bob is banned until"));
      });
      assert.deepEqual(problems, []);
      // The ban holds for the token's name, whatever the connection.
      {
        await using again = await TcpLineClient.connect(server.tcpPort);
        await again.expect("What's your name?");
        await again.write(`/auth ${token}\r\n`);
        await again.expect("-!- error banned: you are banned until");
      }

      // curl to the API: without the key refused, with it everyone in the room sees it.
      assert.equal(
        (await api("/api/publish", { room: "support-eu", text: "x" }, "wrong-key")).status,
        401,
      );
      const published = await api("/api/publish", { room: "support-eu", text: "Deploy finished" });
      assert.equal(published.status, 200, await published.clone().text());
      await published.body?.cancel();
      await op.expect("[support-eu] server: Deploy finished");

      // /metrics shows what happened.
      const metrics = await (await api("/metrics")).text();
      const value = (series: string) => {
        const line = metrics.split("\n").find((l) => l.startsWith(series + " "));
        return line === undefined ? undefined : Number(line.slice(series.length + 1));
      };
      assert.equal(value('crosswire_logins_total{method="token"}'), 1);
      assert.equal(value('crosswire_logins_total{method="anonymous"}'), 1);
      assert.equal(value('crosswire_moderation_actions_total{action="kick"}'), 1);
      assert.equal(value('crosswire_moderation_actions_total{action="ban"}'), 1);
      assert.equal(value('crosswire_disconnects_total{reason="kicked"}'), 1);
      assert.ok(value('crosswire_messages_received_total{transport="websocket"}')! >= 4);
      assert.ok((value('crosswire_errors_total{code="forbidden"}') ?? 0) >= 2);
      assert.ok(
        !server.stderr.join("\n").includes(token.split(".")[2]!),
        "the token is not logged",
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
