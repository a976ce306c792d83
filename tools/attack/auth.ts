/**
 * Attacks on who may do what (issue 13): tokens, the operator password, the
 * server API and metrics, and moderation notices. The canary chats through
 * each, as in every attack.
 *
 * - token-flood: many connections from several addresses present hostile
 *   tokens (garbage, 8 KiB of base64url, `alg: none`, an RS256 header to an
 *   HS256 server, expired, wrong signature, nested JSON, `exp` of `1e999`)
 *   over WebSocket `login`, `/ws?token=`, text-mode `/auth` and IRC `PASS`.
 *   Noted: tries and refusals per way in, server CPU per refused token, and
 *   whether any token (or its claims, or the secret) reached the server's
 *   output. Then a few tokens the backend really signed, with odd `exp`, and
 *   a valid token given as IRC's PASS.
 * - token-flood-rs256: the same against `--jwt-public-key` (an RSA 2048 key
 *   made with openssl), only the tokens that cost a full RSA verification:
 *   verifications per second, and the canary's stall.
 * - oper-guess: connections from many addresses log in and guess `/oper`
 *   passwords (3 per connection, then the server closes it) as fast as they
 *   can: guesses per second, over text mode and WebSocket.
 * - api-abuse: wrong API keys at a high rate, 10 MB and deeply nested bodies
 *   to `/api/publish`, a publish flood into the canary's room with the right
 *   key, and `/metrics` scraped in a tight loop with 2,000 idle users online.
 * - moderation-forgery: ordinary users try to make text, JSON and IRC
 *   observers see what looks like a kick, ban, mute or topic; then admins (by
 *   `/oper`, and the API) moderate with reasons and topics full of newlines and
 *   control characters, which must arrive cleaned, as one notice each.
 *
 * @module
 */
import type { Attack } from "./_attack.ts";
import { b64url, importRsaPrivateKey } from "./_tokens.ts";
import { tokenFlood } from "./_token_flood.ts";
import { operGuess } from "./_oper_guess.ts";
import { apiAbuse } from "./_api_abuse.ts";
import { moderationForgery } from "./_moderation_forgery.ts";

// Throwaway secrets for this run (the harness logs the server's command line,
// which holds them); the attacks sign and log in with them.
const JWT_SECRET = b64url(crypto.getRandomValues(new Uint8Array(36)));
const ADMIN_PASSWORD = b64url(crypto.getRandomValues(new Uint8Array(18)));
const API_KEY = crypto.getRandomValues(new Uint8Array(24)).toHex();

// An RSA 2048 key pair made with openssl the first time an attack needs it.
let rsaFiles: { dir: string; privatePem: string; publicPem: string } | undefined;
function rsaKeyPair(): { dir: string; privatePem: string; publicPem: string } {
  if (rsaFiles) return rsaFiles;
  const dir = Deno.makeTempDirSync({ prefix: "crosswire-attack-rsa-" });
  const run = (args: string[]) => {
    const result = new Deno.Command("openssl", { args, stdout: "null", stderr: "piped" })
      .outputSync();
    if (!result.success) {
      throw new Error(`openssl ${args[0]} failed: ${new TextDecoder().decode(result.stderr)}`);
    }
  };
  run([
    "genpkey",
    "-algorithm",
    "RSA",
    "-pkeyopt",
    "rsa_keygen_bits:2048",
    "-out",
    `${dir}/private.pem`,
  ]);
  run(["pkey", "-in", `${dir}/private.pem`, "-pubout", "-out", `${dir}/public.pem`]);
  rsaFiles = {
    dir,
    privatePem: Deno.readTextFileSync(`${dir}/private.pem`),
    publicPem: Deno.readTextFileSync(`${dir}/public.pem`),
  };
  return rsaFiles;
}

/** Hostile tokens against an HS256 server. */
export const tokenFloodAttack: Attack = {
  name: "token-flood",
  summary: "hostile tokens over ws login, /ws?token=, /auth and IRC PASS; CPU, leaks, canary",
  canaryIrc: true,
  server: { flags: ["--jwt-secret", JWT_SECRET] },
  timeLimitMs: 60_000,
  run: (context) => tokenFlood(context, { secret: JWT_SECRET }, { seconds: 20 }),
};

/** Tokens that each cost an RSA verification, against an RS256 server. */
export const tokenFloodRs256: Attack = {
  name: "token-flood-rs256",
  summary: "RS256 (openssl RSA 2048) tokens that need a full verification: verifications/s",
  canaryIrc: true,
  // A getter: the key pair is made only when this attack runs.
  get server() {
    return { flags: ["--jwt-public-key", `${rsaKeyPair().dir}/public.pem`] };
  },
  timeLimitMs: 60_000,
  async run(context) {
    const pair = rsaKeyPair();
    try {
      const rsaKey = await importRsaPrivateKey(pair.privatePem);
      await tokenFlood(context, { rsaKey, publicPem: pair.publicPem }, {
        seconds: 20,
        costlyOnly: true,
      });
    } finally {
      await Deno.remove(pair.dir, { recursive: true }).catch(() => {});
      rsaFiles = undefined;
    }
  },
};

/** Wrong operator passwords from many addresses, as fast as the server answers them. */
export const operGuessAttack: Attack = {
  name: "oper-guess",
  summary: "bursts of wrong /oper passwords from many addresses (text, JSON, IRC): guesses/s",
  canaryIrc: true,
  server: { flags: ["--admin-password", ADMIN_PASSWORD] },
  timeLimitMs: 60_000,
  run: (context) => operGuess(context, ADMIN_PASSWORD),
};

/** The server API and /metrics, with and without the right key. */
export const apiAbuseAttack: Attack = {
  name: "api-abuse",
  summary: "wrong API keys, 10 MB and nested bodies, a publish flood, /metrics with 2,000 users",
  server: { flags: ["--api-key", API_KEY] },
  timeLimitMs: 120_000,
  run: (context) => apiAbuse(context, API_KEY),
};

/** Ordinary users forge moderation notices; admins moderate with hostile reasons. */
export const moderationForgeryAttack: Attack = {
  name: "moderation-forgery",
  summary: "users forge kick/ban/mute/topic notices; admins' reasons and topics with controls",
  canaryIrc: true,
  server: { flags: ["--admin-password", ADMIN_PASSWORD, "--api-key", API_KEY] },
  timeLimitMs: 90_000,
  run: (context) => moderationForgery(context, { adminPassword: ADMIN_PASSWORD, apiKey: API_KEY }),
};

/** Every attack of this file, in the order they run. */
export const AUTH_ATTACKS: readonly Attack[] = [
  tokenFloodAttack,
  tokenFloodRs256,
  operGuessAttack,
  apiAbuseAttack,
  moderationForgeryAttack,
];
