// The terminal client, spawned with `deno run` against a real server on free ports.

import assert from "node:assert/strict";
import { CuttingProxy } from "./_helpers.ts";
import { Cli, RawTcpUser, tcpArgs, withServer, wsArgs } from "./_cli.ts";

Deno.test("cli logs in with --name, says typed lines and prints what others say", async () => {
  await withServer(async (server, cleanup) => {
    const tess = await RawTcpUser.login(server, "tess");
    cleanup.push(() => tess.close());
    const cli = new Cli([...tcpArgs(server), "--name", "carl"]);
    cleanup.push(() => cli.dispose());
    await cli.stdout.waitFor("Welcome, carl!");
    await cli.stdout.waitFor("[lobby] 2 here: tess, carl");

    await cli.type("hello from the terminal client");
    await tess.output.waitFor("[lobby] carl: hello from the terminal client");
    await tess.type("hi carl");
    await cli.stdout.waitFor("[lobby] tess: hi carl");
    await cli.type("/who");
    await cli.stdout.waitFor(/2 here: tess, carl[\s\S]*2 here: tess, carl/);

    await cli.endInput();
    const status = await cli.status();
    assert.equal(status.code, 0, cli.stderr.text);
    assert.ok(!cli.stdout.text.includes("\x1b"), "no escape codes when piped");
    await tess.output.waitFor("-!- [lobby] carl disconnected");
  });
});

Deno.test("cli saves a file another cli shares with /send, with identical bytes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "crosswire_cli_" });
  try {
    await withServer(async (server, cleanup) => {
      const downloads = `${dir}/downloads`;
      const file = `${dir}/cat.png`;
      const bytes = crypto.getRandomValues(new Uint8Array(5000));
      await Deno.writeFile(file, bytes);

      const bob = new Cli([...tcpArgs(server), "--name", "bob", "--downloads", downloads]);
      cleanup.push(() => bob.dispose());
      await bob.stdout.waitFor("Welcome, bob!");
      const ann = new Cli([...wsArgs(server), "--name", "ann"]);
      cleanup.push(() => ann.dispose());
      await ann.stdout.waitFor("2 here: bob, ann");

      await ann.type(`/send ${file}`);
      await ann.stdout.waitFor("* sent cat.png (4.9 KiB) to lobby");
      await bob.stdout.waitFor(
        `ann shared a file: "cat.png" (4.9 KiB, image/png); saved to ${downloads}/cat.png`,
      );
      assert.deepEqual(await Deno.readFile(`${downloads}/cat.png`), bytes);

      await ann.type(`/send ${file} bob`);
      await bob.stdout.waitFor(
        `-!- [private ann -> bob] ann shared a file: "cat.png" (4.9 KiB, image/png); saved to ${downloads}/cat (1).png`,
      );
      assert.deepEqual(await Deno.readFile(`${downloads}/cat (1).png`), bytes);

      await ann.type("/quit");
      assert.equal((await ann.status()).code, 0, ann.stderr.text);
      await bob.endInput();
      assert.equal((await bob.status()).code, 0, bob.stderr.text);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli refuses to /send a file over the server's limit", async () => {
  const dir = await Deno.makeTempDir({ prefix: "crosswire_cli_" });
  try {
    await withServer(async (server, cleanup) => {
      await Deno.writeFile(`${dir}/big.bin`, new Uint8Array(2048));
      const cli = new Cli([...wsArgs(server), "--name", "ann"]);
      cleanup.push(() => cli.dispose());
      await cli.stdout.waitFor("Welcome, ann!");
      await cli.type(`/send ${dir}/big.bin`);
      await cli.stderr.waitFor("not sent: " + `${dir}/big.bin is 2.0 KiB`);
      assert.match(cli.stderr.text, /accepts files up to 1\.0 KiB/);
      await cli.endInput();
      assert.equal((await cli.status()).code, 0);
    }, { maxFileBytes: 1024 });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli asks for a name on stdin, and again when it is taken", async () => {
  await withServer(async (server, cleanup) => {
    const tess = await RawTcpUser.login(server, "tess");
    cleanup.push(() => tess.close());
    const cli = new Cli(tcpArgs(server));
    cleanup.push(() => cli.dispose());
    await cli.stdout.waitFor("Your name: ");
    await cli.type("Tess");
    await cli.stderr.waitFor('the name "Tess" is taken');
    await cli.stdout.waitFor((text) => text.split("Your name: ").length === 3, "a second prompt");
    await cli.type("fresh");
    await cli.stdout.waitFor("Welcome, fresh!");
    await tess.output.waitFor("-!- [lobby] fresh joined");
    await cli.endInput();
    assert.equal((await cli.status()).code, 0);
  });
});

Deno.test("cli --no-reconnect exits 1 saying the connection was lost when the server shuts down", async () => {
  for (const args of [tcpArgs, wsArgs]) {
    await withServer(async (server, cleanup) => {
      const cli = new Cli([...args(server), "--name", "ann", "--no-reconnect"]);
      cleanup.push(() => cli.dispose());
      await cli.stdout.waitFor("[lobby] 1 here: ann");
      await server.shutdown();
      const status = await cli.status();
      assert.equal(status.code, 1);
      assert.match(cli.stderr.text, /connection to the server was lost/);
    });
  }
});

Deno.test("cli --help prints the flags and exits 0", async () => {
  const cli = new Cli(["--help"]);
  try {
    const status = await cli.status();
    assert.equal(status.code, 0);
    for (
      const flag of [
        "--url",
        "--host",
        "--port",
        "--name",
        "--downloads",
        "--no-reconnect",
        "/send",
      ]
    ) {
      assert.ok(cli.stdout.text.includes(flag), `help mentions ${flag}`);
    }
  } finally {
    await cli.dispose();
  }
});

for (const kind of ["tcp", "ws"] as const) {
  Deno.test(`cli over ${kind} reconnects after the connection drops and shows what it missed`, async () => {
    await withServer(async (server, cleanup) => {
      const proxy = new CuttingProxy(kind === "ws" ? server.httpAddr.port : server.tcpAddr!.port);
      cleanup.push(() => proxy.close());
      const tess = await RawTcpUser.login(server, "tess");
      cleanup.push(() => tess.close());
      const url = kind === "ws"
        ? `ws://127.0.0.1:${proxy.port}/ws`
        : `tcp://127.0.0.1:${proxy.port}`;
      const cli = new Cli(["--url", url, "--name", "carl"]);
      cleanup.push(() => cli.dispose());
      await cli.stdout.waitFor("[lobby] 2 here: tess, carl");
      await tess.type("before");
      await cli.stdout.waitFor("[lobby] tess: before");

      proxy.refusing = true;
      proxy.cut();
      await cli.stdout.waitFor(/\* connection lost \(\d+[^)]*\); reconnecting in \d+\.\d s…/);
      for (const n of [1, 2, 3]) await tess.type(`missed ${n}`);
      await tess.type("/who");
      await tess.output.waitFor(/here: .*carl/); // carl's session is kept, and tess was heard
      proxy.refusing = false;
      await cli.stdout.waitFor("* reconnected: 3 missed messages recovered");
      // What was missed shows when it was said, as history does.
      assert.match(cli.stdout.text, /\[lobby \d\d:\d\d\] tess: missed 1\n.*missed 2\n.*missed 3\n/);
      await tess.type("live");
      await cli.stdout.waitFor("[lobby] tess: live");
      assert.ok(!cli.stdout.text.includes("could not be recovered"));
      await cli.endInput();
      assert.equal((await cli.status()).code, 0, cli.stderr.text);
    });
  });
}

Deno.test("cli shows a gap line when the server no longer has everything it missed", async () => {
  await withServer(async (server, cleanup) => {
    const proxy = new CuttingProxy(server.tcpAddr!.port);
    cleanup.push(() => proxy.close());
    const tess = await RawTcpUser.login(server, "tess");
    cleanup.push(() => tess.close());
    const cli = new Cli(["--host", "127.0.0.1", "--port", String(proxy.port), "--name", "carl"]);
    cleanup.push(() => cli.dispose());
    await cli.stdout.waitFor("[lobby] 2 here: tess, carl");
    await tess.type("before");
    await cli.stdout.waitFor("[lobby] tess: before");
    proxy.refusing = true;
    proxy.cut();
    await cli.stdout.waitFor("reconnecting in");
    for (const n of [1, 2, 3, 4, 5]) await tess.type(`missed ${n}`);
    await tess.type("/who");
    await tess.output.waitFor(/here: .*carl/);
    proxy.refusing = false;
    await cli.stdout.waitFor("* reconnected: 2 missed messages recovered");
    const text = cli.stdout.text;
    const gap = text.indexOf("-- some messages in #lobby could not be recovered --");
    assert.ok(gap > 0, text);
    assert.ok(gap < text.indexOf("tess: missed 4"), "the gap line comes before what follows it");
    assert.ok(!text.includes("missed 3"), text);
    await cli.endInput();
    assert.equal((await cli.status()).code, 0, cli.stderr.text);
  }, { historySize: 2 });
});

Deno.test("cli shows /history between a server line and the messages, each with its time", async () => {
  await withServer(async (server, cleanup) => {
    const tess = await RawTcpUser.login(server, "tess");
    cleanup.push(() => tess.close());
    await tess.type("one");
    await tess.type("two");
    const cli = new Cli([...wsArgs(server), "--name", "carl"]);
    cleanup.push(() => cli.dispose());
    await cli.stdout.waitFor("[lobby] 2 here: tess, carl");
    await cli.type("/history 5");
    await cli.stdout.waitFor(
      /-!- \[lobby\] the last 2 messages \(times in UTC\):\n\[lobby \d\d:\d\d\] tess: one\n\[lobby \d\d:\d\d\] tess: two\n/,
    );
    await tess.type("live");
    await cli.stdout.waitFor("\n[lobby] tess: live");
    await cli.endInput();
    assert.equal((await cli.status()).code, 0, cli.stderr.text);
  });
});
