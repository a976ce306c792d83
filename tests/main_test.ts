import assert from "node:assert/strict";
import { TcpLineClient, WsJsonClient } from "./_helpers.ts";
import { hasPrlimit, spawnCli } from "./_server_helpers.ts";

Deno.test("main.ts: --motd greets every user and --announce-every broadcasts the time to all", async () => {
  await using server = await spawnCli({ flags: ["--motd", "be kind", "--announce-every", "0.2"] });
  await using tess = await TcpLineClient.login(server.tcpPort, "tess");
  assert.ok(tess.inbox.seen.includes("-!- be kind"));
  await using wes = await WsJsonClient.login(server.wsUrl, "wes");
  const [line, notice] = await Promise.all([
    tess.expect("Server time:"),
    wes.expect((event) => event.type === "notice" && event.text.startsWith("Server time:")),
  ]);
  assert.match(line, /^-!- Server time: \d{4}-\d\d-\d\dT/);
  assert.ok(!Number.isNaN(Date.parse(notice.text.slice("Server time: ".length))));
  assert.equal(wes.inbox.seen.find((event) => event.type === "welcome")?.motd, "be kind");
});

Deno.test("main.ts: PORT from the environment sets the HTTP port; bad flags say so and exit 1", async () => {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = probe.addr.port;
  probe.close();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "main.ts", "--host", "127.0.0.1", "--no-tcp"],
    env: { PORT: String(port) },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) text += (await reader.read()).value ?? "";
  assert.match(text, new RegExp(`ws://127\\.0\\.0\\.1:${port}/ws`));
  child.kill("SIGTERM");
  while (!(await reader.read()).done) { /* drain */ }
  await child.stderr.cancel();
  assert.equal((await child.status).code, 0);

  const bad = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "main.ts", "--rate", "fast"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(bad.code, 1);
  assert.equal(
    new TextDecoder().decode(bad.stderr).trim(),
    'crosswire: --rate must be a number above 0, not "fast"',
  );
});

Deno.test("main.ts: a bad --host is one clear line on stderr and exit code 1", async () => {
  const cases: [string, RegExp][] = [
    ["999.1.1.1", /--host "999\.1\.1\.1" is not an IPv4 address/],
    ["a b", /--host "a b" is not an IP address or a host name/],
    ["not-a-host", /cannot listen on --host not-a-host: no such host name/],
  ];
  for (const [host, expected] of cases) {
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "main.ts", "--host", host, "--port", "0", "--tcp-port", "0"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(output.stderr).trim();
    assert.equal(output.code, 1, `--host ${host}: ${stderr}`);
    assert.equal(stderr.split("\n").length, 1, `one line for --host ${host}:\n${stderr}`);
    assert.match(stderr, expected);
  }
});

Deno.test("main.ts: the startup says which open-files limit it runs with and what it admits", async () => {
  await using plain = await spawnCli();
  assert.match(
    plain.startup.at(-1)!,
    /^crosswire: file descriptors: \d+ \(.*\d+ in use\); accepting up to 10000 connections$/,
  );
  if (!(await hasPrlimit())) return;
  await using small = await spawnCli({ prefix: ["prlimit", "--nofile=512:512"] });
  const line = small.startup.at(-1)!;
  assert.match(line, /file descriptors: 512 \(the hard limit; \d+ in use\); accepting up to \d+ /);
  assert.match(line, /fewer than configured/);
  assert.ok(Number(/up to (\d+)/.exec(line)![1]) < 512 - 100);
});
