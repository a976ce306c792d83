// The chat page's serving (GET / by Accept, the asset routes, the CSP), that the
// committed server/_web_assets.ts matches web/, and the page's pure helpers.

import assert from "node:assert/strict";
import { upgradeWebSocket } from "hono/deno";
import { createApp } from "../server/app.ts";
import { Relay } from "../core/mod.ts";
import { APP_JS, INDEX_HTML, STYLE_CSS } from "../server/_web_assets.ts";
import { renderAssets } from "../web/build.ts";
import { parseLine } from "../web/_commands.ts";
import { formatBytes, isPreviewableImage, splitLinks } from "../web/_format.ts";

function app() {
  return createApp(new Relay(), { upgradeWebSocket, tcpPort: 4040 });
}

Deno.test("GET / with Accept: text/html serves the chat page with a strict CSP", async () => {
  const response = await app().request("/", {
    headers: { accept: "text/html,application/xhtml+xml,*/*;q=0.8" },
  });
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /^text\/html/);
  const csp = response.headers.get("content-security-policy") ?? "";
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'self'(;|$)/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  assert.equal(response.headers.get("x-content-type-options"), "nosniff");
  const html = await response.text();
  assert.equal(html, INDEX_HTML);
  assert.match(html, /<script type="module" src="app.js"><\/script>/);
  // Every script is an external file: nothing inline for the CSP to forbid.
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/);
  assert.doesNotMatch(html, /\son[a-z]+=/i, "no inline event handlers");
});

Deno.test("GET / without text/html keeps the plain-text description for curl", async () => {
  const response = await app().request("/", { headers: { accept: "*/*" } });
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /^text\/plain/);
  const text = await response.text();
  assert.match(text, /WebSocket: ws:\/\/localhost\/ws/);
  assert.match(text, /telnet localhost 4040/);
});

Deno.test("GET /app.js and /style.css serve the built assets with their types", async () => {
  const js = await app().request("/app.js");
  assert.equal(js.status, 200);
  assert.match(js.headers.get("content-type") ?? "", /^text\/javascript/);
  assert.equal(await js.text(), APP_JS);
  const css = await app().request("/style.css");
  assert.equal(css.status, 200);
  assert.match(css.headers.get("content-type") ?? "", /^text\/css/);
  assert.equal(await css.text(), STYLE_CSS);
  // The bundle needs no eval: a CSP without 'unsafe-eval' lets it run.
  assert.doesNotMatch(APP_JS, /\beval\(|new Function\(/);
});

Deno.test("server/_web_assets.ts is up to date with web/ (run `deno task build:web`)", async () => {
  const committed = await Deno.readTextFile(new URL("../server/_web_assets.ts", import.meta.url));
  const fresh = await renderAssets();
  assert.ok(
    committed === fresh,
    "server/_web_assets.ts is stale: run `deno task build:web` and commit the result",
  );
});

Deno.test("parseLine() tells text from the page's commands", () => {
  assert.deepEqual(parseLine("hello"), { kind: "say", text: "hello" });
  assert.deepEqual(parseLine("//shrug"), { kind: "say", text: "/shrug" });
  assert.deepEqual(parseLine("/me waves"), { kind: "me", text: "waves" });
  assert.deepEqual(parseLine("/msg bob see you  there"), {
    kind: "msg",
    to: "bob",
    text: "see you  there",
  });
  assert.equal(parseLine("/msg bob").kind, "usage");
  assert.deepEqual(parseLine("/join #games"), { kind: "join", room: "#games" });
  assert.deepEqual(parseLine("/leave"), { kind: "leave", room: undefined });
  assert.deepEqual(parseLine("/NICK ann2"), { kind: "nick", name: "ann2" });
  assert.deepEqual(parseLine("/echo off"), { kind: "raw", line: "/echo off" });
});

Deno.test("splitLinks() links only http(s) URLs", () => {
  assert.deepEqual(splitLinks("see https://deno.com/x."), [
    { text: "see " },
    { text: "https://deno.com/x", href: "https://deno.com/x" },
    { text: "." },
  ]);
  assert.deepEqual(splitLinks("javascript:alert(1)"), [{ text: "javascript:alert(1)" }]);
  assert.equal(isPreviewableImage("image/png"), true);
  assert.equal(isPreviewableImage("image/svg+xml"), false);
  assert.equal(formatBytes(1536), "1.5 KiB");
  assert.equal(formatBytes(1024 * 1024), "1 MiB");
});
