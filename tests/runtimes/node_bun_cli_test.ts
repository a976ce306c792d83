// The CLI on Node and Bun behaves as `deno task start` does: the same flags,
// PORT from the environment, one line and exit code 1 when a port is taken
// or the host is wrong, and on SIGTERM a notice to every client, close 1001
// and exit code 0.

import assert from "node:assert/strict";
import { WAIT_MS, within, WsJsonClient } from "../_helpers.ts";
import { type Runtime, runtimeAvailable, serverCommand } from "./_node_bun.ts";

const FILE = "tests/runtimes/node_bun_cli_test.ts";

/** Runs the server with `flags` to its end; stdout, stderr (non-empty lines) and the exit code. */
async function runToExit(runtime: Runtime, flags: string[]) {
  const { command, args, cwd } = await serverCommand(runtime, flags);
  const child = new Deno.Command(command, {
    args,
    cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = await within(child.output(), 15_000, `${runtime} to exit`);
  const lines = (bytes: Uint8Array) =>
    new TextDecoder().decode(bytes).split("\n").filter((line) => line.trim() !== "");
  return { code: output.code, stdout: lines(output.stdout), stderr: lines(output.stderr) };
}

for (const runtime of ["node", "bun"] as const) {
  const ignore = !(await runtimeAvailable(runtime, FILE));

  Deno.test({
    name: `${runtime}: a taken port or a bad host is one line on stderr and exit code 1`,
    ignore,
  }, async () => {
    using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = String(taken.addr.port);
    const cases: [string[], RegExp][] = [
      [["--port", port, "--tcp-port", "0"], new RegExp(`the HTTP port ${port} is already in use`)],
      [["--port", "0", "--tcp-port", port], new RegExp(`the TCP port ${port} is already in use`)],
      [["--port", "0", "--no-tcp", "--hostname", "not-a-host"], /no such host name/],
      [["--port", "0", "--no-tcp", "--hostname", "192.0.2.1"], /not an address of this machine/],
      [["--rate", "fast"], /^crosswire: --rate must be a number above 0, not "fast"$/],
    ];
    for (const [flags, expected] of cases) {
      const host = flags.includes("--hostname") ? [] : ["--hostname", "127.0.0.1"];
      const { code, stderr } = await runToExit(runtime, [...host, ...flags]);
      assert.equal(code, 1, `${flags.join(" ")}: ${stderr.join("\n")}`);
      assert.equal(stderr.length, 1, `one line for ${flags.join(" ")}:\n${stderr.join("\n")}`);
      assert.match(stderr[0]!, expected);
    }
  });

  Deno.test({ name: `${runtime}: --help shows how this runtime starts it`, ignore }, async () => {
    const { code, stdout, stderr } = await runToExit(runtime, ["--help"]);
    assert.equal(code, 0);
    assert.deepEqual(stderr, []);
    const usage = stdout.find((line) => line.startsWith("Usage:"));
    assert.match(usage ?? "", runtime === "node" ? /node dist\/node\/main\.mjs/ : /bun runtimes/);
    assert.ok(stdout.some((line) => line.includes("--tcp-port")));
  });

  Deno.test({
    name: `${runtime}: PORT sets the HTTP port; SIGTERM closes WebSockets with 1001 and exits 0`,
    ignore,
  }, async () => {
    const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = probe.addr.port;
    probe.close();
    const { command, args, cwd } = await serverCommand(runtime, [
      "--hostname",
      "127.0.0.1",
      "--no-tcp",
    ]);
    const child = new Deno.Command(command, {
      args,
      cwd,
      env: { PORT: String(port) },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const stderr = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
    const stderrText = (async () => {
      let text = "";
      for (let chunk = await stderr.read(); !chunk.done; chunk = await stderr.read()) {
        text += chunk.value;
      }
      return text;
    })();
    const stdout = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    const read = async (pattern: RegExp) => {
      while (!pattern.test(text)) {
        const chunk = await stdout.read();
        if (chunk.done) throw new Error(`${runtime} ended; it printed: ${text}`);
        text += chunk.value;
      }
    };
    try {
      await within(read(/file descriptors|file descriptor limit/), WAIT_MS * 2, "the ready lines");
      assert.match(text, new RegExp(`ws://127\\.0\\.0\\.1:${port}/ws`));
      assert.doesNotMatch(text, /TCP on/);
      await using user = await WsJsonClient.login(`ws://127.0.0.1:${port}/ws`, "stays");
      child.kill("SIGTERM");
      const closed = await within(user.closed, WAIT_MS, "the WebSocket to close");
      assert.equal(closed.code, 1001);
      assert.ok(
        user.inbox.seen.some((event) =>
          event.type === "notice" && /shutting down/.test(event.text)
        ),
        "a shutdown notice before the close",
      );
      assert.equal((await within(child.status, WAIT_MS, "the exit")).code, 0);
      await read(/shutting down/);
    } finally {
      try {
        child.kill("SIGKILL");
      } catch { /* exited */ }
      await child.status;
      while (!(await stdout.read()).done) { /* drain */ }
      assert.equal((await stderrText).trim(), "", "nothing on stderr");
    }
  });
}
