// The "who may do what" flags: tokens, --require-auth, --token-grace,
// --admin-password and --api-key (and their CROSSWIRE_* variables), checked
// at startup with one line, loaded into the relay, and never printed.

import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { SignJWT } from "jose";
import { loadAccess } from "../cli/auth.ts";
import { CliError } from "../cli/errors.ts";
import { type CliConfig, readFlags } from "../cli/flags.ts";
import { accessLine } from "../cli/startup.ts";
import { WsJsonClient } from "./_helpers.ts";
import { spawnCli } from "./_server_helpers.ts";

const SECRET = "a-test-secret-of-more-than-32-bytes!";
const API_KEY = "an-api-key-for-the-tests";
const PASSWORD = "operator-password";

function flags(args: string[], env: Record<string, string> = {}): CliConfig {
  return readFlags(args, (name) => env[name]);
}

/** The one-line message of the CliError that `run` throws (or its promise rejects with). */
async function mistake(run: () => unknown): Promise<string> {
  try {
    await run();
  } catch (error) {
    assert.ok(error instanceof CliError, `a CliError, not ${error}`);
    assert.ok(!error.message.includes("\n"), `one line: ${error.message}`);
    return error.message;
  }
  assert.fail("it was accepted");
}

const read = (path: string) => Deno.readTextFileSync(path);

Deno.test("readFlags() refuses token flags that cannot work, each with one line", async () => {
  const keys = "--jwt-secret (or CROSSWIRE_JWT_SECRET), --jwt-public-key or --jwks";
  const cases: [string[], Record<string, string>, string][] = [
    [["--jwt-secret", SECRET, "--jwks", "k.json"], {}, `give only one of ${keys}`],
    [["--jwt-public-key", "k.pem", "--jwks", "k.json"], {}, `give only one of ${keys}`],
    [["--jwks", "k.json"], { CROSSWIRE_JWT_SECRET: SECRET }, `give only one of ${keys}`],
    [["--require-auth"], {}, `--require-auth needs a key to check tokens: ${keys}`],
    [[], { CROSSWIRE_REQUIRE_AUTH: "1" }, `--require-auth needs a key to check tokens: ${keys}`],
    [["--jwt-audience", "chat"], {}, `--jwt-audience needs a key to check tokens: ${keys}`],
    [["--jwt-issuer", "me"], {}, `--jwt-issuer needs a key to check tokens: ${keys}`],
    [["--token-grace", "5"], {}, `--token-grace needs a key to check tokens: ${keys}`],
    [
      ["--jwt-secret", SECRET, "--token-grace", "soon"],
      {},
      '--token-grace must be a number of 0 or more, not "soon"',
    ],
    [["--jwt-secret", ""], {}, "--jwt-secret must not be empty"],
    [["--config", ""], {}, "--config must not be empty"],
    [
      ["--api-key", "short"],
      {},
      "--api-key must be at least 16 characters (make one with: openssl rand -hex 32)",
    ],
    [
      ["--admin-password", "sesame"],
      {},
      "--admin-password must be at least 12 characters (make one with: openssl rand -base64 18)",
    ],
    [
      ["--api-key", "has spaces and !bangs"],
      {},
      "--api-key may hold only letters, digits and - . _ ~ + / (then = at the end); " +
      "make one with: openssl rand -hex 32",
    ],
    [
      [],
      { CROSSWIRE_API_KEY: "short" },
      "CROSSWIRE_API_KEY must be at least 16 characters (make one with: openssl rand -hex 32)",
    ],
    [
      [],
      { CROSSWIRE_REQUIRE_AUTH: "maybe", CROSSWIRE_JWT_SECRET: SECRET },
      'CROSSWIRE_REQUIRE_AUTH must be 1, true or yes (or 0, false, no), not "maybe"',
    ],
  ];
  for (const [args, env, expected] of cases) {
    assert.equal(await mistake(() => flags(args, env)), expected, args.join(" "));
  }
});

Deno.test("readFlags() takes secrets from CROSSWIRE_* variables; a flag wins over its variable", () => {
  const env = {
    CROSSWIRE_JWT_SECRET: SECRET,
    CROSSWIRE_API_KEY: API_KEY,
    CROSSWIRE_ADMIN_PASSWORD: PASSWORD,
    CROSSWIRE_REQUIRE_AUTH: "true",
  };
  const fromEnv = flags([], env);
  assert.deepEqual(fromEnv.access.tokens, {
    key: { secret: SECRET },
    audience: undefined,
    issuer: undefined,
    requireAuth: true,
  });
  assert.equal(fromEnv.server.apiKey, API_KEY);
  assert.equal(fromEnv.relay.adminPassword, PASSWORD);
  assert.equal(fromEnv.relay.requireAuth, true);

  const fromFlags = flags(
    [
      "--jwt-secret",
      `${SECRET}2`,
      "--api-key",
      `${API_KEY}2`,
      "--admin-password",
      "another password",
    ],
    env,
  );
  assert.deepEqual(fromFlags.access.tokens?.key, { secret: `${SECRET}2` });
  assert.equal(fromFlags.server.apiKey, `${API_KEY}2`);
  assert.equal(fromFlags.relay.adminPassword, "another password");

  // Empty variables count as unset (as compose files write them): everything stays off.
  const empty = flags([], {
    CROSSWIRE_JWT_SECRET: "",
    CROSSWIRE_API_KEY: "",
    CROSSWIRE_ADMIN_PASSWORD: "",
    CROSSWIRE_REQUIRE_AUTH: "",
  });
  assert.equal(empty.access.tokens, undefined);
  assert.equal(empty.server.apiKey, undefined);
  assert.equal(empty.relay.adminPassword, undefined);
  assert.equal(empty.relay.requireAuth, undefined);
});

Deno.test("readFlags() puts the token flags where the relay and loadAccess read them", () => {
  const config = flags([
    "--jwks",
    "keys.json",
    "--jwt-audience",
    "chat",
    "--jwt-issuer",
    "https://auth.example",
    "--require-auth",
    "--token-grace",
    "5",
    "--config",
    "crosswire.json",
  ]);
  assert.deepEqual(config.access, {
    tokens: {
      key: { jwksFile: "keys.json" },
      audience: "chat",
      issuer: "https://auth.example",
      requireAuth: true,
    },
    configFile: "crosswire.json",
  });
  assert.equal(config.relay.requireAuth, true);
  assert.equal(config.relay.tokenGraceMs, 5000);
  assert.equal(config.relay.authenticate, undefined, "made later, by loadAccess");
  // Without any of these, nothing changes.
  const plain = flags([]);
  assert.deepEqual(plain.access, { tokens: undefined, configFile: undefined });
  for (const option of ["requireAuth", "tokenGraceMs", "adminPassword", "rooms"] as const) {
    assert.equal(plain.relay[option], undefined, option);
  }
  assert.equal(plain.server.apiKey, undefined);
});

Deno.test("loadAccess() names a key file it cannot read or use, in one line", async () => {
  const dir = await Deno.makeTempDir({ prefix: "crosswire-keys-" });
  try {
    assert.equal(
      await mistake(() => loadAccess(flags(["--jwt-public-key", `${dir}/nope.pem`]).access, read)),
      `cannot read --jwt-public-key ${dir}/nope.pem: No such file or directory`,
    );
    assert.equal(
      await mistake(() => loadAccess(flags(["--jwks", `${dir}/nope.json`]).access, read)),
      `cannot read --jwks ${dir}/nope.json: No such file or directory`,
    );
    const { privateKey } = generateKeyPairSync("ed25519");
    const pem = privateKey.export({ type: "pkcs8", format: "pem" }) as string;
    await Deno.writeTextFile(`${dir}/private.pem`, pem);
    const privateKeyLine = await mistake(() =>
      loadAccess(flags(["--jwt-public-key", `${dir}/private.pem`]).access, read)
    );
    assert.match(privateKeyLine, new RegExp(`^${dir}/private\\.pem: .*private key`));
    assert.ok(!privateKeyLine.includes("PRIVATE KEY-----"), "no key material in the message");
    await Deno.writeTextFile(`${dir}/keys.json`, "{not json");
    assert.match(
      await mistake(() => loadAccess(flags(["--jwks", `${dir}/keys.json`]).access, read)),
      new RegExp(`^${dir}/keys\\.json: .*not JSON`),
    );
    const short = await mistake(() => loadAccess(flags(["--jwt-secret", "short"]).access, read));
    assert.match(short, /at least 32/);
    assert.ok(!short.includes("short"), "the secret is not repeated");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadAccess() makes a verifier from a secret or a PEM public key, and says which", async () => {
  const dir = await Deno.makeTempDir({ prefix: "crosswire-keys-" });
  try {
    const hs = await loadAccess(
      flags(["--jwt-secret", SECRET, "--jwt-audience", "chat"]).access,
      read,
    );
    assert.equal(hs.tokens, 'HS256, audience "chat"');
    assert.equal(hs.rooms, undefined);
    const token = await new SignJWT({ name: "ann" })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("u1")
      .setAudience("chat")
      .setExpirationTime("1h")
      .sign(new TextEncoder().encode(SECRET));
    assert.equal((await hs.authenticate!(token)).name, "ann");

    const { publicKey, privateKey } = generateKeyPairSync("ed25519");
    await Deno.writeTextFile(
      `${dir}/key.pem`,
      publicKey.export({ type: "spki", format: "pem" }) as string,
    );
    await Deno.writeTextFile(`${dir}/rules.jsonc`, '{"rooms": {"news": {"readOnly": true},}}');
    const ed = await loadAccess(
      flags(["--jwt-public-key", `${dir}/key.pem`, "--config", `${dir}/rules.jsonc`]).access,
      read,
    );
    assert.equal(ed.tokens, `EdDSA, key from ${dir}/key.pem`);
    assert.deepEqual(ed.rooms, { news: { readOnly: true } });
    const signed = await new SignJWT({})
      .setProtectedHeader({ alg: "EdDSA" })
      .setSubject("bob")
      .setExpirationTime("1h")
      .sign(privateKey);
    assert.equal((await ed.authenticate!(signed)).name, "bob");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("accessLine() says what is on, never a secret, and nothing when all is off", () => {
  const off = { tokens: undefined, requireAuth: false, rules: undefined };
  assert.equal(accessLine({ ...off, adminPassword: false, api: false }), undefined);
  assert.equal(
    accessLine({
      tokens: "HS256",
      requireAuth: true,
      rules: { count: 3, file: "crosswire.json" },
      adminPassword: true,
      api: true,
    }),
    "tokens: HS256 (required); room rules: 3 from crosswire.json; admin password: set; " +
      "server API: on (/api, /metrics need the key)",
  );
  assert.equal(
    accessLine({ ...off, tokens: "HS256", adminPassword: false, api: false }),
    "tokens: HS256 (anonymous users allowed)",
  );
});

Deno.test("main.ts: tokens, room rules, an admin password and an API key start, unprinted", async () => {
  const dir = await Deno.makeTempDir({ prefix: "crosswire-access-" });
  try {
    const config = `${dir}/crosswire.json`;
    await Deno.writeTextFile(config, '{"rooms": {"news": {"readOnly": true}, "staff-*": {}}}');
    await using server = await spawnCli({
      flags: [
        ...["--jwt-secret", SECRET, "--require-auth", "--config", config],
        ...["--api-key", API_KEY, "--admin-password", PASSWORD],
      ],
    });
    const access = server.startup.filter((line) => line.includes("tokens:"));
    assert.deepEqual(access, [
      `crosswire: tokens: HS256 (required); room rules: 2 from ${config}; ` +
      "admin password: set; server API: on (/api, /metrics need the key)",
    ]);
    for (const line of [...server.startup, ...server.stderr]) {
      for (const secret of [SECRET, API_KEY, PASSWORD]) {
        assert.ok(!line.includes(secret), `"${line}" shows a secret`);
      }
    }

    // The verifier reached the relay: a token logs in under its name, no token is refused.
    const token = await new SignJWT({ name: "ann" })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("user-1")
      .setExpirationTime("1h")
      .sign(new TextEncoder().encode(SECRET));
    await using ann = await WsJsonClient.open(server.wsUrl);
    ann.send({ type: "login", token });
    assert.equal((await ann.expect("welcome")).name, "ann");
    await using anon = await WsJsonClient.open(server.wsUrl);
    anon.send({ type: "login", name: "bob" });
    assert.equal((await anon.expect("error")).code, "auth_required");

    // The API key reached the server: /metrics wants it.
    const metrics = `http://127.0.0.1:${server.httpPort}/metrics`;
    const refused = await fetch(metrics);
    await refused.body?.cancel();
    assert.equal(refused.status, 401);
    const allowed = await fetch(metrics, { headers: { authorization: `Bearer ${API_KEY}` } });
    await allowed.body?.cancel();
    assert.equal(allowed.status, 200);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
