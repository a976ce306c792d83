// A JWKS document's signing keys, and the algorithms they allow. Each key's
// algorithm comes from its own kty/crv/alg; keys for anything but RS256, ES256
// and EdDSA are left out, so a token can only ever be checked with those.
import { createLocalJWKSet, importJWK, type JWK, type JWTVerifyGetKey } from "jose";
import { checkRsaSize, ED25519_ALGORITHMS, oneLine } from "./_pem.ts";

const WHAT = "the JWKS (--jwks)";

/** Most keys a JWKS may hold: a token without a `kid` may be tried against each. */
export const MAX_JWKS_KEYS = 100;

// Members that only a private or secret key has; a JWKS to verify with has none.
const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/**
 * Reads a JWKS document and imports its RS256, ES256 and EdDSA signing keys.
 *
 * @param text The JWKS document (`{"keys": [...]}`).
 * @returns What finds a token's key, and the algorithms the keys allow.
 * @throws {Error} A one-line message when the document is not JSON, holds a
 * private key or a key that cannot be imported, or has no usable key.
 */
export async function loadJwks(
  text: string,
): Promise<{ key: JWTVerifyGetKey; algorithms: string[] }> {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new Error(`${WHAT} is not JSON: ${oneLine(error)}`);
  }
  const keys = (document as { keys?: unknown } | null)?.keys;
  if (typeof document !== "object" || !Array.isArray(keys)) {
    throw new Error(`${WHAT} must be a JSON object with a "keys" array`);
  }
  if (keys.length > MAX_JWKS_KEYS) {
    throw new Error(`${WHAT} holds ${keys.length} keys; at most ${MAX_JWKS_KEYS}`);
  }
  const usable: JWK[] = [];
  const algorithms = new Set<string>();
  for (const [index, jwk] of keys.entries()) {
    const allowed = await checkKey(jwk, index);
    if (allowed.length === 0) continue;
    usable.push(jwk as JWK);
    for (const alg of allowed) algorithms.add(alg);
  }
  if (usable.length === 0) {
    throw new Error(`${WHAT} has no RS256, ES256 or EdDSA signing key`);
  }
  return { key: createLocalJWKSet({ keys: usable }), algorithms: [...algorithms] };
}

// The algorithms a key may verify (none: leave it out), after importing it once
// so that a broken key fails at startup rather than at the first token.
async function checkKey(jwk: unknown, index: number): Promise<string[]> {
  if (typeof jwk !== "object" || jwk === null || Array.isArray(jwk)) {
    throw new Error(`${WHAT} key ${index + 1} is not a JSON object`);
  }
  const { kty, crv, alg, use, kid, key_ops: ops } = jwk as Record<string, unknown>;
  const which = typeof kid === "string" ? `key "${kid}"` : `key ${index + 1}`;
  if (PRIVATE_MEMBERS.some((member) => Object.hasOwn(jwk, member))) {
    throw new Error(`${WHAT} ${which} is a private or secret key; publish only public keys`);
  }
  if (use !== undefined && use !== "sig") return [];
  if (ops !== undefined && !(Array.isArray(ops) && ops.includes("verify"))) return [];
  const allowed = algorithmsOf(kty, crv, alg);
  if (allowed.length === 0) return [];
  try {
    const key = await importJWK(jwk as JWK, allowed[0]);
    if (key instanceof Uint8Array) throw new Error("a secret key");
    checkRsaSize(key, `${WHAT} ${which}`);
  } catch (error) {
    const message = oneLine(error);
    throw new Error(
      message.startsWith(WHAT) ? message : `${WHAT} ${which} cannot be imported: ${message}`,
    );
  }
  return allowed;
}

function algorithmsOf(kty: unknown, crv: unknown, alg: unknown): string[] {
  const fits = (algorithms: readonly string[]) =>
    alg === undefined ? [...algorithms] : algorithms.filter((a) => a === alg);
  if (kty === "RSA") return fits(["RS256"]);
  if (kty === "EC" && crv === "P-256") return fits(["ES256"]);
  if (kty === "OKP" && crv === "Ed25519") return fits(ED25519_ALGORITHMS);
  return [];
}
