// The terminal client with tokens and moderation, spawned with `deno run`
// against a real server (a stand-in `authenticate`) on free ports: --token and
// CROSSWIRE_TOKEN log in without a name, the token is never printed, /auth
// replaces it, and kicks, mutes and topics are shown in the server's voice.

import assert from "node:assert/strict";
import { type Identity, RelayError } from "../mod.ts";
import { Cli, RawTcpUser, tcpArgs, withServer, wsArgs } from "./_cli.ts";

const ARGS = { tcp: tcpArgs, ws: wsArgs };

/** Tokens long and odd enough that finding one in the output means it was printed. */
const TOKENS: Record<string, Omit<Identity, "expires">> = {
  "tok-ann-3f9c1e7b2d": { subject: "u1", name: "ann", admin: true },
  "tok-ann-new-88a2c4": { subject: "u1", name: "ann", admin: true },
  "tok-bob-51d0e9aa7c": {
    subject: "u2",
    name: "bob",
    admin: false,
    rooms: { support: ["join", "publish", "history"] },
  },
};

function authenticate(token: string): Promise<Identity> {
  const holder = TOKENS[token];
  if (!holder) return Promise.reject(new RelayError("auth_failed", "unknown token"));
  return Promise.resolve({ ...holder, expires: Date.now() + 3_600_000 });
}

/** Fails when any token shows up in what the client printed. */
function assertNoToken(cli: Cli): void {
  for (const token of [...Object.keys(TOKENS), "tok-forged-0b7e"]) {
    assert.ok(!cli.stdout.text.includes(token), `token on stdout:\n${cli.stdout.text}`);
    assert.ok(!cli.stderr.text.includes(token), `token on stderr:\n${cli.stderr.text}`);
  }
}

for (const kind of ["tcp", "ws"] as const) {
  Deno.test(`cli over ${kind} with --token logs in under the token's name, in its rooms, asking nothing`, async () => {
    await withServer(async (server, cleanup) => {
      const cli = new Cli([...ARGS[kind](server), "--token", "tok-bob-51d0e9aa7c"]);
      cleanup.push(() => cli.dispose());
      await cli.stdout.waitFor("Welcome, bob!");
      await cli.stdout.waitFor("You are in support;");
      await cli.stdout.waitFor("[support] 1 here: bob");
      assert.ok(!cli.stdout.text.includes("Your name:"), "no name asked");
      await cli.type("/join lobby");
      await cli.stdout.waitFor("error forbidden: you may not join lobby");
      await cli.endInput();
      assert.equal((await cli.status()).code, 0, cli.stderr.text);
      assertNoToken(cli);
    }, { authenticate });
  });
}

Deno.test("cli takes its token from CROSSWIRE_TOKEN, and /auth replaces it without printing it", async () => {
  await withServer(async (server, cleanup) => {
    const cli = new Cli(wsArgs(server), { CROSSWIRE_TOKEN: "tok-ann-3f9c1e7b2d" });
    cleanup.push(() => cli.dispose());
    await cli.stdout.waitFor("Welcome, ann!");
    await cli.type("/auth tok-ann-new-88a2c4");
    await cli.stdout.waitFor("-!- Token accepted; it is valid until");
    await cli.type("/auth tok-forged-0b7e");
    await cli.stdout.waitFor("-!- error auth_failed:");
    await cli.endInput();
    assert.equal((await cli.status()).code, 0, cli.stderr.text);
    assertNoToken(cli);
  }, { authenticate });
});

Deno.test("cli exits 1 when its token is refused, or when the server wants one it lacks", async () => {
  await withServer(async (server) => {
    const url = `ws://127.0.0.1:${server.httpAddr.port}/ws?token=tok-forged-0b7e`;
    const refused = new Cli(["--url", url, "--token", "tok-forged-0b7e"]);
    try {
      assert.equal((await refused.status()).code, 1);
      assert.match(refused.stderr.text, /the token was refused: unknown token/);
      assertNoToken(refused);
    } finally {
      await refused.dispose();
    }
    const lacking = new Cli([...tcpArgs(server), "--name", "carl"]);
    try {
      assert.equal((await lacking.status()).code, 1);
      assert.match(lacking.stderr.text, /this server needs a token: run with --token TOKEN/);
    } finally {
      await lacking.dispose();
    }
  }, { authenticate, requireAuth: true });
});

Deno.test("cli passes admin commands to the server and shows topics, mutes and kicks", async () => {
  await withServer(async (server, cleanup) => {
    const ann = new Cli([...wsArgs(server), "--token", "tok-ann-3f9c1e7b2d"]);
    cleanup.push(() => ann.dispose());
    await ann.stdout.waitFor("[lobby] 1 here: ann");
    const tess = await RawTcpUser.login(server, "tess");
    cleanup.push(() => tess.close());
    const carl = new Cli([...wsArgs(server), "--name", "carl"]);
    cleanup.push(() => carl.dispose());
    await carl.stdout.waitFor("[lobby] 3 here: ann, tess, carl");

    await ann.type("/topic be kind");
    await carl.stdout.waitFor("-!- [lobby] topic: be kind (set by ann)");
    await ann.stdout.waitFor("-!- [lobby] topic: be kind (set by ann)");
    await ann.type("/mute carl 5 too loud");
    await carl.stdout.waitFor(/-!- \[lobby\] carl was muted by ann until .* UTC \(too loud\)/);
    await carl.type("can I talk?");
    await carl.stdout.waitFor("-!- error muted: you are muted");
    await ann.type("/unmute carl");
    await carl.stdout.waitFor("-!- [lobby] carl may speak again by ann");

    await ann.type("/kick tess spam");
    await ann.stdout.waitFor("-!- [lobby] tess was kicked by ann (spam)");
    await carl.stdout.waitFor("-!- [lobby] tess was kicked by ann (spam)");
    await ann.type("/kick carl enough");
    // Kicked, the client says why and exits rather than reconnect.
    const status = await carl.status();
    assert.equal(status.code, 1);
    assert.match(carl.stdout.text, /-!- \[lobby\] carl was kicked by ann \(enough\)/);
    assert.match(carl.stderr.text, /you were disconnected by an admin \(4010: /);
    assert.ok(!carl.stdout.text.includes("reconnecting"), carl.stdout.text);

    // A non-admin is refused.
    const bob = new Cli([...wsArgs(server), "--token", "tok-bob-51d0e9aa7c"]);
    cleanup.push(() => bob.dispose());
    await bob.stdout.waitFor("[support] 1 here: bob");
    await bob.type("/kick ann");
    await bob.stdout.waitFor("-!- error forbidden: only admins may kick");
    assertNoToken(ann);
    assertNoToken(bob);
  }, { authenticate });
});

Deno.test("cli /oper with the operator password makes an admin", async () => {
  await withServer(async (server, cleanup) => {
    const cli = new Cli([...tcpArgs(server), "--name", "ann"]);
    cleanup.push(() => cli.dispose());
    await cli.stdout.waitFor("[lobby] 1 here: ann");
    await cli.type("/oper wrong");
    await cli.stdout.waitFor("-!- error forbidden: wrong operator password");
    await cli.type("/oper sesame-open");
    await cli.stdout.waitFor("-!- You are now an operator.");
    await cli.type("/topic welcome");
    await cli.stdout.waitFor("-!- [lobby] topic: welcome (set by ann)");
  }, { adminPassword: "sesame-open" });
});
