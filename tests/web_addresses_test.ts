// Where others can join from (web/_addresses.ts): the page's own addresses,
// the TCP port the server describes at `GET /` (Accept: application/json),
// and that description itself (server/app.ts).

import assert from "node:assert/strict";
import { upgradeWebSocket } from "hono/deno";
import { createApp } from "../server/app.ts";
import { Relay } from "../core/mod.ts";
import { pageAddresses, telnetCommand, withServerAddresses } from "../web/_addresses.ts";

Deno.test("pageAddresses() derives the page and WebSocket addresses from the page's own", () => {
  assert.deepEqual(pageAddresses({ href: "http://127.0.0.1:8080/?x=1#top" }), {
    page: "http://127.0.0.1:8080/",
    websocket: "ws://127.0.0.1:8080/ws",
  });
  // Behind TLS, and under a path prefix (a reverse proxy).
  assert.deepEqual(pageAddresses({ href: "https://chat.example/relay/" }), {
    page: "https://chat.example/relay/",
    websocket: "wss://chat.example/relay/ws",
  });
});

Deno.test("withServerAddresses() adds the TCP port the server describes, and nothing else", () => {
  const known = pageAddresses({ href: "http://chat.example:8080/" });
  assert.deepEqual(withServerAddresses(known, { tcp: { host: "ignored", port: 4040 } }), {
    ...known,
    tcp: { host: "chat.example", port: 4040 },
  });
  for (
    const odd of [
      null,
      "text",
      {},
      { tcp: null },
      { tcp: { port: "4040" } },
      {
        tcp: { port: 0 },
      },
      { tcp: { port: 70000 } },
      { tcp: { port: 40.5 } },
    ]
  ) {
    assert.equal(withServerAddresses(known, odd), known, JSON.stringify(odd));
  }
  // IPv6: telnet takes the address without brackets.
  const v6 = withServerAddresses(pageAddresses({ href: "http://[::1]:8080/" }), {
    tcp: { port: 4040 },
  });
  assert.equal(telnetCommand(v6.tcp!), "telnet ::1 4040");
});

Deno.test("GET / with Accept: application/json describes the addresses, TCP when it runs", async () => {
  const headers = { accept: "application/json", host: "chat.example:8080" };
  const allowedHosts = ["chat.example"];
  const withTcp = createApp(new Relay(), { upgradeWebSocket, tcpPort: 4040, allowedHosts });
  let response = await withTcp.request("http://chat.example:8080/", { headers });
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
  assert.equal(response.headers.get("vary"), "accept");
  assert.deepEqual(await response.json(), {
    websocket: "ws://chat.example:8080/ws",
    tcp: { host: "chat.example", port: 4040 },
  });
  const withoutTcp = createApp(new Relay(), { upgradeWebSocket, allowedHosts });
  response = await withoutTcp.request("http://chat.example:8080/", { headers });
  assert.deepEqual(await response.json(), { websocket: "ws://chat.example:8080/ws" });
  // Browsers still get the page, and curl the text.
  response = await withTcp.request("/", { headers: { accept: "text/html,*/*" } });
  assert.match(response.headers.get("content-type") ?? "", /^text\/html/);
  await response.body?.cancel();
  response = await withTcp.request("/", { headers: { accept: "*/*" } });
  assert.match(await response.text(), /telnet localhost 4040/);
});
