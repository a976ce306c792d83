// The server CLI (main.ts) as a process: signals, a port in use, --help.
import assert from "node:assert/strict";
import {
  eventually,
  SpawnedProcess,
  startTestServer,
  TcpLineClient,
  WAIT_MS,
  within,
  WsJsonClient,
} from "./_helpers.ts";
import { ignoreTmux, requireTmux, TmuxPane } from "./_tmux.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const ROOT = new URL("..", import.meta.url).pathname;
/** Startup includes type-checking nothing but loading modules; give it room. */
const START_MS = 20_000;

function startMain(args: string[]): SpawnedProcess {
  return SpawnedProcess.deno(["run", "-A", MAIN, "--host", "127.0.0.1", ...args], { cwd: ROOT });
}

/** Reads the real ports from the startup lines of a server started on port 0. */
async function ports(server: SpawnedProcess): Promise<{ http: number; tcp: number }> {
  const ws = await server.expect(/wss?:\/\/[^\s/]+:\d+\/ws/, START_MS);
  const tcp = await server.expect(/(TCP|TLS).* on \S+:\d+/, START_MS);
  return {
    http: Number(/wss?:\/\/[^\s/]+:(\d+)\/ws/.exec(ws)![1]),
    tcp: Number(/ on \S+:(\d+)/.exec(tcp)![1]),
  };
}

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  Deno.test(`main.ts: ${signal} tells clients, closes WebSockets with 1001 and exits 0`, async () => {
    await using server = startMain(["--port", "0", "--tcp-port", "0"]);
    const { http, tcp } = await ports(server);
    await using tom = await TcpLineClient.login(tcp, "tom");
    await using wes = await WsJsonClient.login(`ws://127.0.0.1:${http}/ws`, "wes");
    server.child.kill(signal);
    const notice = await tom.expect("shutting down");
    assert.match(notice, /^-!- /, "a server notice line");
    await tom.expectClosed();
    const closed = await within(wes.closed, WAIT_MS, "the WebSocket close");
    assert.equal(closed.code, 1001);
    const status = await server.status();
    assert.equal(status.code, 0, server.stderr.seen.join("\n"));
    assert.deepEqual(server.stderr.seen, [], "nothing on stderr");
  });
}

// The relay queues "The server is shutting down." for every session; WebSocket
// clients must get it (and anything queued before it) before the 1001 close.
Deno.test("shutdown(): WebSocket clients get the shutdown notice before close 1001", async () => {
  const server = await startTestServer();
  await using tom = await TcpLineClient.login(server.tcpPort, "tom");
  await using wes = await WsJsonClient.login(server.wsUrl, "wes");
  await tom.send("last words before the end");
  await wes.expect("message");
  await server.server.shutdown(2000);
  const closed = await within(wes.closed, WAIT_MS, "the WebSocket close");
  assert.equal(closed.code, 1001);
  assert.ok(
    wes.inbox.seen.some((event) => event.type === "notice" && /shutting down/.test(event.text)),
    `no shutdown notice before the close (close reason: "${closed.reason}")`,
  );
  await tom.expect("The server is shutting down.");
  await tom.expectClosed();
});

// A supervisor may signal as soon as it sees the startup line: the signal
// handlers must already be installed by then, or the default action kills it (143).
Deno.test("main.ts: SIGTERM right after the startup line exits 0 at once", async () => {
  await using server = startMain(["--port", "0", "--no-tcp"]);
  await server.expect("/ws", START_MS);
  const started = Date.now();
  server.child.kill("SIGTERM");
  assert.equal((await server.status()).code, 0);
  assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
});

for (const which of ["HTTP", "TCP"] as const) {
  Deno.test(`main.ts: the ${which} port in use is one line on stderr and exit code 1`, async () => {
    using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = String(taken.addr.port);
    await using server = startMain(
      which === "HTTP" ? ["--port", port, "--tcp-port", "0"] : ["--port", "0", "--tcp-port", port],
    );
    const status = await server.status(START_MS);
    assert.equal(status.code, 1);
    const stderr = server.stderr.seen.filter((line) => line.trim() !== "");
    assert.equal(stderr.length, 1, `exactly one line on stderr:\n${stderr.join("\n")}`);
    // It names the port that is taken, and only that one.
    assert.equal(
      stderr[0],
      which === "HTTP"
        ? `crosswire: the HTTP port ${port} is already in use; pick another with --port`
        : `crosswire: the TCP port ${port} is already in use; pick another with --tcp-port (or --no-tcp)`,
    );
    assert.doesNotMatch(stderr[0]!, /\bat\b.*:\d+:\d+|Error:|Stack/);
  });
}

Deno.test({
  name: "deno task start: Ctrl-C in a terminal prints one shutdown line",
  ignore: ignoreTmux,
}, async () => {
  requireTmux();
  // In a terminal, Ctrl-C signals the whole foreground group: deno task and
  // the server both get SIGINT, and deno task forwards its own too. The output
  // goes to a file, read once the server has exited.
  const dir = await Deno.makeTempDir({ prefix: "crosswire_ctrl_c_" });
  const out = `${dir}/out.txt`;
  const read = () => Deno.readTextFile(out).catch(() => "");
  try {
    await using pane = await TmuxPane.start([
      "sh",
      "-c",
      // The shell outlives the Ctrl-C (a handler, unlike an ignored signal, is not inherited).
      `trap : INT; "$0" task start --host 127.0.0.1 --port 0 --no-tcp > "$1" 2>&1; echo "[done]" >> "$1"`,
      Deno.execPath(),
      out,
    ], { cwd: ROOT });
    let port = 0;
    await eventually(
      async () => {
        port = Number(/ws:\/\/127\.0\.0\.1:(\d+)\/ws/.exec(await read())?.[1] ?? 0);
        return port > 0;
      },
      "the startup line",
      START_MS,
    );
    await pane.press("C-c");
    await eventually(async () => (await read()).includes("[done]"), "the server to exit");
    const lines = (await read()).split("\n").filter((line) => line.includes("shutting down"));
    assert.deepEqual(lines, ["crosswire: shutting down"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("main.ts: a bad PORT in the environment names PORT, a bad --port names --port", async () => {
  const run = async (args: string[], env: Record<string, string>) => {
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN, "--host", "127.0.0.1", "--no-tcp", ...args],
      env,
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    return { code: output.code, stderr: new TextDecoder().decode(output.stderr).trim() };
  };
  assert.deepEqual(await run([], { PORT: "abc" }), {
    code: 1,
    stderr: 'crosswire: PORT must be a port number from 0 to 65535, not "abc"',
  });
  assert.deepEqual(await run(["--port", "99999"], { PORT: "8080" }), {
    code: 1,
    stderr: 'crosswire: --port must be a port number from 0 to 65535, not "99999"',
  });
  assert.deepEqual(await run([], { PORT: " " }), {
    code: 1,
    stderr: 'crosswire: PORT must be a port number from 0 to 65535, not " "',
  });
});

Deno.test("main.ts: --help lists the flags and exits 0", async () => {
  await using server = startMain(["--help"]);
  const status = await server.status(START_MS);
  assert.equal(status.code, 0);
  const help = server.stdout.seen.join("\n");
  const flags = [
    "--port",
    "--tcp-port",
    "--cert",
    "--key",
    "--allow-origin",
    "--allowed-host",
    "--keepalive",
    "--login-timeout",
    "--max-pending-per-address",
    "--max-login-bytes",
    "--headers-timeout",
    "--room-rate-bytes",
    "--name-grace",
  ];
  for (const flag of flags) {
    assert.ok(help.includes(flag), `--help mentions ${flag}`);
  }
  assert.deepEqual(server.stderr.seen, []);
});
