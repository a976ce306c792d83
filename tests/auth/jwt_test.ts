import assert from "node:assert/strict";
import { exportJWK, importPKCS8, importSPKI, type JWTPayload, SignJWT } from "jose";
import { createJwtVerifier } from "../../auth/mod.ts";
import { RelayError } from "../../core/errors.ts";
import type { Authenticator } from "../../core/auth.ts";
import {
  base64url,
  ignoreOpenssl,
  type PemPair,
  requireOpenssl,
  signRs256WithOpenssl,
  testKeys,
} from "./_openssl.ts";

const SECRET = "a-test-secret-of-more-than-32-bytes!";
const secretKey = new TextEncoder().encode(SECRET);
const now = () => Math.floor(Date.now() / 1000);

function hs256(claims: JWTPayload, key: Uint8Array = secretKey): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).sign(key);
}

/** A token with `exp` an hour away and `sub` "user-1", plus `claims`. */
function claims(extra: JWTPayload = {}): JWTPayload {
  return { sub: "user-1", exp: now() + 3600, ...extra };
}

async function signWith(
  pair: PemPair,
  alg: string,
  payload: JWTPayload,
  header: Record<string, unknown> = {},
): Promise<string> {
  const key = await importPKCS8(pair.privatePem, alg);
  return new SignJWT(payload).setProtectedHeader({ ...header, alg }).sign(key);
}

// HMAC-SHA256 over header.payload with any key bytes: for tokens jose would not make.
async function handSigned(
  header: object,
  payloadJson: string,
  key: Uint8Array<ArrayBuffer>,
): Promise<string> {
  const input = `${base64url(JSON.stringify(header))}.${base64url(payloadJson)}`;
  const hmac = await crypto.subtle.importKey(
    "raw",
    key,
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const signature = new Uint8Array(
    await crypto.subtle.sign("HMAC", hmac, new TextEncoder().encode(input)),
  );
  return `${input}.${base64url(signature)}`;
}

/** Asserts `verify(token)` fails with `auth_failed` and `message`, and never quotes the token. */
async function refused(verify: Authenticator, token: string, message: string | RegExp) {
  const error = await verify(token).then(
    () => assert.fail("the token was accepted"),
    (error: unknown) => error,
  );
  assert.ok(error instanceof RelayError, `not a RelayError: ${error}`);
  assert.equal(error.code, "auth_failed");
  if (typeof message === "string") assert.equal(error.message, message);
  else assert.match(error.message, message);
  for (const part of token.split(".")) {
    if (part.length >= 8) assert.ok(!error.message.includes(part), "the message quotes the token");
  }
  assert.equal(error.cause, undefined, "nothing from jose (it holds the claims) is chained");
}

async function creationFails(options: Parameters<typeof createJwtVerifier>[0], message: RegExp) {
  const error = await createJwtVerifier(options).then(
    () => assert.fail("the verifier was created"),
    (error: unknown) => error,
  );
  assert.ok(error instanceof Error);
  assert.match(error.message, message);
  assert.ok(!error.message.includes("\n"), "one line");
}

Deno.test("createJwtVerifier() with a secret turns an HS256 token's claims into an identity", async () => {
  const verify = await createJwtVerifier({ secret: SECRET });
  const exp = now() + 600;
  const ann = await verify(
    await hs256({
      sub: "user-17",
      name: "ann",
      exp,
      admin: true,
      rooms: { "support-*": ["join", "publish", "history"], "#news": ["join", "join"] },
    }),
  );
  assert.deepEqual(ann, {
    subject: "user-17",
    name: "ann",
    admin: true,
    expires: exp * 1000,
    rooms: { "support-*": ["join", "publish", "history"], news: ["join"] },
  });
  assert.ok(Object.isFrozen(ann.rooms), "grants cannot be changed after the check");
});

Deno.test("createJwtVerifier() takes the name from sub without a name claim; admin only when true", async () => {
  const verify = await createJwtVerifier({ secret: SECRET });
  const bob = await verify(await hs256(claims({ sub: "bob", admin: "true" })));
  assert.equal(bob.name, "bob");
  assert.equal(bob.subject, "bob");
  assert.equal(bob.admin, false, 'only admin === true makes an admin, not "true"');
  assert.equal(bob.rooms, undefined, "no rooms claim, no room grants");
  assert.ok(!("rooms" in bob));
});

Deno.test("createJwtVerifier() refuses an expired token, within the clock tolerance too", async () => {
  const verify = await createJwtVerifier({ secret: SECRET, clockToleranceSeconds: 30 });
  await refused(verify, await hs256(claims({ exp: now() - 60 })), "the token has expired");
  // Inside the tolerance it still passes: the leeway is applied, not ignored.
  assert.equal((await verify(await hs256(claims({ exp: now() - 10 })))).subject, "user-1");
  const strict = await createJwtVerifier({ secret: SECRET, clockToleranceSeconds: 0 });
  await refused(strict, await hs256(claims({ exp: now() - 10 })), "the token has expired");
});

Deno.test("createJwtVerifier() requires exp and sub", async () => {
  const verify = await createJwtVerifier({ secret: SECRET });
  await refused(verify, await hs256({ sub: "user-1" }), "the token has no exp claim");
  await refused(verify, await hs256({ exp: now() + 60 }), "the token has no sub claim");
  await refused(
    verify,
    await hs256({ sub: "user-1", exp: "tomorrow" as unknown as number }),
    "the token's exp claim is not a number",
  );
  // JSON reads 1e999 as Infinity: a token that would never expire.
  const forever = await handSigned(
    { alg: "HS256", typ: "JWT" },
    '{"sub":"user-1","exp":1e999}',
    secretKey,
  );
  await refused(verify, forever, "the token's exp claim is not a valid time");
  // Past 8.64e12 seconds no date holds it: refused, not a crash when the expiry is shown.
  await refused(
    verify,
    await hs256({ sub: "user-1", exp: 9e12 }),
    "the token's exp claim is not a valid time",
  );
});

Deno.test("createJwtVerifier() refuses a sub that is not a string of 1 to 256 characters, or a name that is not a string", async () => {
  const verify = await createJwtVerifier({ secret: SECRET });
  const sub = /^the token's sub claim must be a string of 1 to 256 characters$/;
  await refused(verify, await hs256(claims({ sub: "" })), sub);
  await refused(verify, await hs256(claims({ sub: "x".repeat(257) })), sub);
  await refused(
    verify,
    await handSigned({ alg: "HS256" }, `{"sub":7,"exp":${now() + 60}}`, secretKey),
    sub,
  );
  assert.equal((await verify(await hs256(claims({ sub: "x".repeat(256) })))).name.length, 256);
  await refused(
    verify,
    await hs256(claims({ name: ["ann"] })),
    "the token's name claim must be a string",
  );
});

Deno.test("createJwtVerifier() refuses a token whose signature does not verify", async () => {
  const verify = await createJwtVerifier({ secret: SECRET });
  const other = new TextEncoder().encode("another-secret-of-more-than-32-bytes");
  await refused(verify, await hs256(claims(), other), "the token's signature does not verify");
  // A payload changed after signing (a user granting themselves admin).
  const [header, , signature] = (await hs256(claims())).split(".");
  const forged = `${header}.${base64url(JSON.stringify(claims({ admin: true })))}.${signature}`;
  await refused(verify, forged, "the token's signature does not verify");
});

Deno.test("createJwtVerifier() checks the audience and issuer when they are set", async () => {
  const verify = await createJwtVerifier({
    secret: SECRET,
    audience: "chat",
    issuer: "https://id",
  });
  const good = { aud: "chat", iss: "https://id" };
  assert.equal((await verify(await hs256(claims(good)))).subject, "user-1");
  assert.equal(
    (await verify(await hs256(claims({ ...good, aud: ["api", "chat"] })))).name,
    "user-1",
  );
  const audience = "the token's audience is not the one this server expects";
  await refused(verify, await hs256(claims({ ...good, aud: "other" })), audience);
  await refused(verify, await hs256(claims({ iss: "https://id" })), "the token has no aud claim");
  const issuer = "the token's issuer is not the one this server expects";
  await refused(verify, await hs256(claims({ ...good, iss: "https://evil" })), issuer);
  await refused(verify, await hs256(claims({ aud: "chat" })), "the token has no iss claim");
  // Without them configured, any aud and iss pass.
  const open = await createJwtVerifier({ secret: SECRET });
  assert.equal((await open(await hs256(claims({ aud: "x", iss: "y" })))).subject, "user-1");
});

Deno.test('createJwtVerifier() refuses alg "none"', async () => {
  const verify = await createJwtVerifier({ secret: SECRET });
  const header = base64url(JSON.stringify({ alg: "none", typ: "JWT" }));
  const payload = base64url(JSON.stringify(claims({ admin: true })));
  await refused(verify, `${header}.${payload}.`, "the token must be signed with HS256");
});

Deno.test("createJwtVerifier() refuses a token longer than 8192 characters before reading it", async () => {
  const verify = await createJwtVerifier({ secret: SECRET });
  const sized = async (length: number) => {
    const base = (await hs256(claims({ pad: "" }))).length;
    // Each 3 bytes of padding add 4 characters of base64url.
    return hs256(claims({ pad: "x".repeat(Math.ceil((length - base) * 3 / 4)) }));
  };
  const long = await sized(8200);
  assert.ok(long.length > 8192 && long.length < 8210);
  await refused(verify, long, "the token is longer than 8192 characters");
  const fits = await sized(8180);
  assert.ok(fits.length <= 8192);
  assert.equal(
    (await verify(fits)).subject,
    "user-1",
    "a validly signed long token is refused only for its length",
  );
});

Deno.test("createJwtVerifier() refuses malformed tokens as not tokens", async () => {
  const verify = await createJwtVerifier({ secret: SECRET });
  for (const token of ["", "abc", "a.b", "a.b.c.d", "!!!.???.***"]) {
    await refused(verify, token, "not a token");
  }
  const notJson = await handSigned({ alg: "HS256" }, "[1,2]", secretKey);
  await refused(verify, notJson, "the token's payload is not a JSON object");
});

Deno.test("createJwtVerifier() refuses a rooms claim that is not rooms mapped to grants", async () => {
  const verify = await createJwtVerifier({ secret: SECRET });
  const rooms = (value: unknown) => hs256(claims({ rooms: value }));
  const shape = "the token's rooms claim must be an object mapping rooms to lists of grants";
  for (const value of [["support"], "support", 1, null]) {
    await refused(verify, await rooms(value), shape);
  }
  await refused(
    verify,
    await rooms({ news: ["join"], "support-*": ["join", "moderate"] }),
    'entry 2 of the token\'s rooms claim must be a list of "join", "publish" and "history"',
  );
  await refused(
    verify,
    await rooms({ news: "join" }),
    /^entry 1 of the token's rooms claim must be a list/,
  );
  await refused(
    verify,
    await rooms({ "": ["join"] }),
    /^entry 1 .* must name a room or pattern of 1 to 64/,
  );
  await refused(
    verify,
    await rooms({ news: ["join"], "#news": ["publish"] }),
    /^entry 2 .* names a room that an earlier entry names$/,
  );
  const many = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`room-${i}`, ["join"]]));
  await refused(verify, await rooms(many), "the token's rooms claim has 65 entries; at most 64");
  delete many["room-0"];
  assert.equal(Object.keys((await verify(await rooms(many))).rooms!).length, 64);
});

Deno.test('createJwtVerifier() keeps a "__proto__" room as a plain key', async () => {
  const verify = await createJwtVerifier({ secret: SECRET });
  const token = await handSigned(
    { alg: "HS256" },
    `{"sub":"u","exp":${now() + 60},"rooms":{"__proto__":["join"]}}`,
    secretKey,
  );
  const { rooms } = await verify(token);
  assert.ok(Object.hasOwn(rooms!, "__proto__"));
  assert.deepEqual(rooms!["__proto__"], ["join"]);
  assert.equal(Object.getPrototypeOf(rooms), Object.prototype);
});

Deno.test("createJwtVerifier() needs exactly one key, and an HS256 secret of 32 bytes or more", async () => {
  await creationFails({}, /^give one of --jwt-secret, --jwt-public-key or --jwks/);
  await creationFails({ secret: SECRET, jwks: "{}" }, /^give only one of/);
  await creationFails(
    { secret: "x".repeat(31) },
    /--jwt-secret.* is 31 bytes; it must be at least 32/,
  );
  await creationFails({ secret: "" }, /is 0 bytes/);
  // 16 characters of 2 bytes each: the limit is in bytes.
  assert.ok(await createJwtVerifier({ secret: "é".repeat(16) }));
  await creationFails({ secret: SECRET, audience: "" }, /--jwt-audience/);
  await creationFails({ secret: SECRET, issuer: "" }, /--jwt-issuer/);
  await creationFails({ secret: SECRET, clockToleranceSeconds: -1 }, /clock tolerance/);
});

Deno.test({
  name: "createJwtVerifier() with a secret refuses an RS256 token signed by an RSA key",
  ignore: ignoreOpenssl,
  fn: async () => {
    requireOpenssl();
    const { rsa } = await testKeys();
    const verify = await createJwtVerifier({ secret: SECRET });
    const token = await signWith(rsa, "RS256", claims({ admin: true }));
    await refused(verify, token, "the token must be signed with HS256");
  },
});

Deno.test({
  name: "createJwtVerifier() with an RSA key refuses an HS256 token keyed with that key's PEM",
  ignore: ignoreOpenssl,
  fn: async () => {
    requireOpenssl();
    const { rsa } = await testKeys();
    const verify = await createJwtVerifier({ publicKey: rsa.publicPem });
    for (const secret of [rsa.publicPem, rsa.publicPem.trim()]) {
      const token = await hs256(claims({ admin: true }), new TextEncoder().encode(secret));
      await refused(verify, token, "the token must be signed with RS256");
    }
  },
});

Deno.test({
  name: "createJwtVerifier() with an openssl-made PEM key accepts RS256, ES256 and EdDSA tokens",
  ignore: ignoreOpenssl,
  fn: async () => {
    requireOpenssl();
    const keys = await testKeys();
    const cases: [PemPair, string, string[]][] = [
      [keys.rsa, "RS256", ["ES256", "EdDSA"]],
      [keys.ec, "ES256", ["RS256", "EdDSA"]],
      [keys.ed25519, "EdDSA", ["RS256", "ES256"]],
    ];
    const pairs: Record<string, PemPair> = { RS256: keys.rsa, ES256: keys.ec, EdDSA: keys.ed25519 };
    for (const [pair, alg, others] of cases) {
      const verify = await createJwtVerifier({ publicKey: pair.publicPem });
      const identity = await verify(await signWith(pair, alg, claims({ name: alg })));
      assert.equal(identity.name, alg);
      const expected = alg === "EdDSA" ? "EdDSA or Ed25519" : alg;
      for (const other of others) {
        const token = await signWith(pairs[other]!, other, claims());
        await refused(verify, token, `the token must be signed with ${expected}`);
      }
    }
    // The right algorithm, but another RSA key.
    const rs256 = await createJwtVerifier({ publicKey: keys.rsa.publicPem });
    const stranger = await signWith(keys.rsa2, "RS256", claims());
    await refused(rs256, stranger, "the token's signature does not verify");
    // Windows line endings in the PEM file are fine.
    const crlf = await createJwtVerifier({ publicKey: keys.rsa.publicPem.replace(/\n/g, "\r\n") });
    assert.equal((await crlf(await signWith(keys.rsa, "RS256", claims()))).subject, "user-1");
    // Ed25519 also goes by its RFC 9864 name.
    const verify = await createJwtVerifier({ publicKey: keys.ed25519.publicPem });
    assert.equal(
      (await verify(await signWith(keys.ed25519, "Ed25519", claims()))).subject,
      "user-1",
    );
  },
});

Deno.test({
  name: "createJwtVerifier() accepts an RS256 token signed by openssl dgst",
  ignore: ignoreOpenssl,
  fn: async () => {
    requireOpenssl();
    const { rsa, rsa2 } = await testKeys();
    const verify = await createJwtVerifier({ publicKey: rsa.publicPem, audience: "chat" });
    const payload = claims({ name: "ann", aud: "chat", rooms: { news: ["join"] } });
    const ann = await verify(await signRs256WithOpenssl(payload, rsa.privatePem));
    assert.equal(ann.name, "ann");
    assert.deepEqual(ann.rooms, { news: ["join"] });
    await refused(
      verify,
      await signRs256WithOpenssl(payload, rsa2.privatePem),
      "the token's signature does not verify",
    );
  },
});

Deno.test({
  name: "createJwtVerifier() explains a PEM it cannot use in one line",
  ignore: ignoreOpenssl,
  fn: async () => {
    requireOpenssl();
    const keys = await testKeys();
    const what = /^the JWT public key \(--jwt-public-key\) /;
    const fails = (publicKey: string, message: RegExp) => creationFails({ publicKey }, message);
    await fails("", what);
    await fails("not a key", /is not a PEM public key/);
    await fails(keys.rsa.privatePem, /is a private key; give its public half/);
    await fails(keys.rsa.publicPem + keys.ec.publicPem, /holds 2 keys/);
    await fails(keys.p384.publicPem, /is an EC key on P-384; ES256 needs P-256/);
    await fails(keys.rsa1024.publicPem, /is a 1024-bit RSA key; it must be 2048 bits or more/);
    const body = keys.rsa.publicPem.replace(/-----[A-Z ]+-----/g, "");
    await fails(`-----BEGIN RSA PUBLIC KEY-----${body}-----END RSA PUBLIC KEY-----`, /PKCS#1/);
    await fails(`-----BEGIN PUBLIC KEY-----\n@@@@\n-----END PUBLIC KEY-----`, /not valid base64/);
    await fails(`-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----`, /not a valid SPKI/);
    // Text around the block (comments, a trailing newline) is fine.
    assert.ok(await createJwtVerifier({ publicKey: `# signing key\n${keys.ec.publicPem}\n\n` }));
  },
});

async function jwk(pair: PemPair, alg: string, kid: string): Promise<Record<string, unknown>> {
  return {
    ...(await exportJWK(await importSPKI(pair.publicPem, alg, { extractable: true }))),
    kid,
  };
}

Deno.test({
  name: "createJwtVerifier() with a JWKS picks the key by kid, and refuses an unknown kid",
  ignore: ignoreOpenssl,
  fn: async () => {
    requireOpenssl();
    const keys = await testKeys();
    const dir = await Deno.makeTempDir({ prefix: "crosswire_jwks_" });
    try {
      const jwks = {
        keys: [
          await jwk(keys.rsa, "RS256", "rsa-1"),
          await jwk(keys.rsa2, "RS256", "rsa-2"),
          await jwk(keys.ec, "ES256", "ec-1"),
          { ...(await jwk(keys.ed25519, "EdDSA", "ed-1")), alg: "EdDSA", use: "sig" },
          // Ignored: not for signatures, and an algorithm that is not supported.
          { ...(await jwk(keys.rsa, "RS256", "enc-1")), use: "enc" },
          { ...(await jwk(keys.rsa, "RS256", "ps-1")), alg: "PS256" },
        ],
      };
      await Deno.writeTextFile(`${dir}/jwks.json`, JSON.stringify(jwks));
      const verify = await createJwtVerifier({ jwks: await Deno.readTextFile(`${dir}/jwks.json`) });
      const sign = (pair: PemPair, alg: string, kid?: string) =>
        signWith(pair, alg, claims({ name: kid ?? "none" }), kid ? { kid } : {});
      assert.equal((await verify(await sign(keys.rsa, "RS256", "rsa-1"))).name, "rsa-1");
      assert.equal((await verify(await sign(keys.rsa2, "RS256", "rsa-2"))).name, "rsa-2");
      assert.equal((await verify(await sign(keys.ec, "ES256", "ec-1"))).name, "ec-1");
      assert.equal((await verify(await sign(keys.ed25519, "EdDSA", "ed-1"))).name, "ed-1");
      assert.equal(
        (await verify(await signRs256WithOpenssl(claims(), keys.rsa2.privatePem, { kid: "rsa-2" })))
          .subject,
        "user-1",
      );
      // Without a kid, each key that fits the algorithm is tried.
      assert.equal((await verify(await sign(keys.rsa2, "RS256"))).name, "none");
      await refused(
        verify,
        await sign(keys.rsa, "RS256", "rsa-9"),
        "no key in the JWKS matches the token's kid and alg",
      );
      await refused(
        verify,
        await sign(keys.rsa, "RS256", "enc-1"),
        "no key in the JWKS matches the token's kid and alg",
      );
      await refused(
        verify,
        await sign(keys.rsa2, "RS256", "rsa-1"),
        "the token's signature does not verify",
      );
      const only = "the token must be signed with RS256, ES256 or EdDSA";
      await refused(verify, await sign(keys.p384, "ES384"), only);
      await refused(verify, await hs256(claims()), only);
      // The HS256-with-the-public-key attack, against a JWKS.
      await refused(
        verify,
        await hs256(claims(), new TextEncoder().encode(keys.rsa.publicPem)),
        only,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "createJwtVerifier() explains a JWKS it cannot use in one line",
  ignore: ignoreOpenssl,
  fn: async () => {
    requireOpenssl();
    const keys = await testKeys();
    const fails = (jwks: string, message: RegExp) => creationFails({ jwks }, message);
    await fails("{not json", /^the JWKS \(--jwks\) is not JSON: /);
    await fails("[]", /must be a JSON object with a "keys" array/);
    await fails('{"keys": {}}', /must be a JSON object with a "keys" array/);
    await fails('{"keys": []}', /has no RS256, ES256 or EdDSA signing key/);
    await fails('{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}', /key 1 is a private or secret key/);
    const privateJwk = await exportJWK(
      await importPKCS8(keys.ec.privatePem, "ES256", { extractable: true }),
    );
    await fails(
      JSON.stringify({ keys: [{ ...privateJwk, kid: "mine" }] }),
      /key "mine" is a private or secret key/,
    );
    await fails(
      JSON.stringify({ keys: [await jwk(keys.p384, "ES384", "p384")] }),
      /has no RS256, ES256 or EdDSA signing key/,
    );
    await fails(
      JSON.stringify({ keys: [await jwk(keys.rsa1024, "RS256", "small")] }),
      /key "small" is a 1024-bit RSA key/,
    );
    await fails(
      JSON.stringify({ keys: [{ kty: "OKP", crv: "Ed25519", x: "AAAA", kid: "short" }] }),
      /^the JWKS \(--jwks\) key "short" cannot be imported: /,
    );
    await fails(
      JSON.stringify({ keys: Array.from({ length: 101 }, () => ({})) }),
      /holds 101 keys; at most 100/,
    );
  },
});
