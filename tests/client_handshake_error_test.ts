// A WebSocket handshake that fails says why: the client asks the same URL over
// HTTP and reports its status (a wrong path, not a crosswire server, a refusal),
// rather than "cannot connect ... (0)".

import assert from "node:assert/strict";
import { startServer } from "../server/mod.ts";
import { connect, CrosswireClientError } from "../client/mod.ts";
import { describe } from "../client/_handshake_error.ts";

const CLI = new URL("../client/mod.ts", import.meta.url).pathname;

async function failure(url: string): Promise<CrosswireClientError> {
  try {
    const client = await connect(url, { name: "ann", reconnect: false, timeoutMs: 5000 });
    await client.close();
  } catch (error) {
    assert.ok(error instanceof CrosswireClientError, String(error));
    return error;
  }
  throw new Error(`connected to ${url}`);
}

Deno.test("connect() to a wrong path says HTTP 404 and where the relay listens", async () => {
  const server = await startServer({ hostname: "127.0.0.1", port: 0, tcpPort: null });
  try {
    const error = await failure(`ws://127.0.0.1:${server.httpAddr.port}/wrong`);
    assert.equal(error.code, "connect_failed");
    assert.equal(
      error.message,
      "no WebSocket endpoint at /wrong (HTTP 404): is this a crosswire server? " +
        "The relay listens on /ws",
    );
    assert.ok(error.cause instanceof CrosswireClientError, "the handshake's own error is chained");
  } finally {
    await server.shutdown();
  }
});

Deno.test("connect() to a web server that is no relay names its HTTP status", async () => {
  const web = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => new Response("<h1>my blog</h1>", { headers: { "content-type": "text/html" } }),
  );
  try {
    const error = await failure(`ws://127.0.0.1:${web.addr.port}/ws`);
    assert.equal(error.code, "connect_failed");
    assert.equal(
      error.message,
      "no WebSocket connection at /ws (HTTP 200): is this a crosswire server?",
    );
  } finally {
    await web.shutdown();
  }
});

Deno.test("connect() to a port nobody listens on says the connection was refused", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  const error = await failure(`ws://127.0.0.1:${port}/ws`);
  assert.equal(error.code, "connect_failed");
  assert.match(
    error.message,
    new RegExp(`^cannot connect to ws://127\\.0\\.0\\.1:${port}/ws: .*refused`, "i"),
  );
});

Deno.test("describe() quotes the relay's reason for a refusal, and nothing else's", () => {
  const url = new URL("ws://chat.example:8080/ws");
  const body = JSON.stringify({
    error: { code: "host_denied", message: 'this server does not answer to the host "x"\x1b[2J' },
  });
  assert.equal(
    describe(url, 403, body),
    'the server refused the WebSocket connection to /ws (HTTP 403): this server does not answer to the host "x"[2J',
  );
  assert.equal(
    describe(url, 502, "<html>Bad Gateway</html>"),
    "no WebSocket connection at /ws (HTTP 502): is this a crosswire server?",
  );
});

Deno.test("cli with a wrong WebSocket path says what went wrong and exits 1", async () => {
  const server = await startServer({ hostname: "127.0.0.1", port: 0, tcpPort: null });
  try {
    const url = `ws://127.0.0.1:${server.httpAddr.port}/chat`;
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", CLI, "--url", url, "--name", "ann"],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    assert.equal(output.code, 1);
    assert.equal(
      new TextDecoder().decode(output.stderr),
      `crosswire: cannot connect to ${url}: no WebSocket endpoint at /chat (HTTP 404): ` +
        "is this a crosswire server? The relay listens on /ws\n",
    );
  } finally {
    await server.shutdown();
  }
});
