/**
 * A JWT verifier for the relay: turns `--jwt-secret`, `--jwt-public-key` or
 * `--jwks` into an {@link Authenticator} that accepts only tokens signed with
 * the configured algorithm(s).
 *
 * @module
 */
import {
  type CryptoKey,
  errors,
  jwtVerify,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
} from "jose";
import type { Authenticator, Identity } from "../core/auth.ts";
import { RelayError } from "../core/errors.ts";
import { identityFrom } from "./_claims.ts";
import { failure } from "./_failures.ts";
import { loadJwks } from "./_jwks.ts";
import { loadPublicKey } from "./_pem.ts";

/** Longest token accepted, in characters; longer ones are refused unread. */
export const MAX_TOKEN_LENGTH = 8192;

/** Shortest HS256 secret, in bytes (UTF-8): RFC 7518 wants at least the hash size. */
export const MIN_SECRET_BYTES = 32;

/**
 * How tokens are checked: exactly one of `secret`, `publicKey` or `jwks`,
 * and optionally the audience and issuer they must name.
 */
export interface JwtOptions {
  /**
   * HS256 shared secret (at least 32 bytes once UTF-8 encoded). Make one with
   * `openssl rand -base64 32`. @default undefined
   */
  secret?: string | undefined;
  /**
   * PEM text (`-----BEGIN PUBLIC KEY-----`, SPKI) of an RSA (2048 bits or more),
   * P-256 EC or Ed25519 key; tokens must be signed with RS256, ES256 or EdDSA
   * respectively, as the key's type says. @default undefined
   */
  publicKey?: string | undefined;
  /**
   * Text of a JWKS document (`{"keys": [...]}`) holding RS256, ES256 or EdDSA
   * public keys; a token's `kid` picks its key. Keys of other kinds, and keys
   * marked for encryption (`"use": "enc"`), are ignored. @default undefined
   */
  jwks?: string | undefined;
  /** When set, a token's `aud` must name it. @default undefined */
  audience?: string | undefined;
  /** When set, a token's `iss` must be it. @default undefined */
  issuer?: string | undefined;
  /** Leeway for clocks that disagree, applied to `exp` and `nbf`. @default 5 */
  clockToleranceSeconds?: number | undefined;
}

/** What verifies a signature, and the only algorithms it may be used with. */
interface Verification {
  key: Uint8Array | CryptoKey | JWTVerifyGetKey;
  algorithms: string[];
}

/**
 * Makes an {@link Authenticator} that verifies JWTs with `jose`, accepting only
 * the algorithm the key calls for (HS256 for a secret, the key's own for a
 * public key or JWKS: never `none`, never another), requiring `exp` and `sub`,
 * and checking `aud` and `iss` when configured.
 *
 * The identity it returns: `subject` is `sub` (1 to 256 characters), `name` is
 * the `name` claim or else `sub`, `admin` is whether `admin` is `true`,
 * `expires` is `exp` in milliseconds, and `rooms` is the `rooms` claim (room
 * names or `*` patterns mapped to `"join"`, `"publish"`, `"history"`; at most
 * 64) when present. Every refusal is a `RelayError` with code `auth_failed`
 * and a short message that never repeats the token.
 *
 * @param options The key to verify with, and the claims to check.
 * @returns A function from a token to the identity it proves.
 * @throws {Error} When not exactly one of `secret`, `publicKey` and `jwks` is
 * given, the secret is too short, or the key or JWKS cannot be used (a
 * one-line message that names the command-line flag).
 *
 * @example Verify an HS256 token
 * ```ts
 * import { createJwtVerifier } from "@crosswire/relay/jwt";
 * import { SignJWT } from "jose";
 * const secret = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
 * const verify = await createJwtVerifier({ secret });
 * const token = await new SignJWT({ name: "ann" })
 *   .setProtectedHeader({ alg: "HS256" })
 *   .setSubject("user-17")
 *   .setExpirationTime("1h")
 *   .sign(new TextEncoder().encode(secret));
 * const ann = await verify(token);
 * if (ann.name !== "ann" || ann.subject !== "user-17") throw new Error("unexpected identity");
 * ```
 */
export async function createJwtVerifier(options: JwtOptions): Promise<Authenticator> {
  const { key, algorithms } = await verification(options);
  const verifyOptions = checkOptions(options, algorithms);
  return async (token: string): Promise<Identity> => {
    if (typeof token !== "string") throw new RelayError("auth_failed", "not a token");
    if (token.length > MAX_TOKEN_LENGTH) {
      throw new RelayError(
        "auth_failed",
        `the token is longer than ${MAX_TOKEN_LENGTH} characters`,
      );
    }
    let payload: Record<string, unknown>;
    try {
      payload = await verify(token.trim(), key, verifyOptions);
    } catch (error) {
      throw failure(error, algorithms);
    }
    return identityFrom(payload);
  };
}

async function verification(options: JwtOptions): Promise<Verification> {
  const given = [options.secret, options.publicKey, options.jwks].filter((k) => k !== undefined);
  if (given.length !== 1) {
    throw new Error(
      given.length === 0
        ? "give one of --jwt-secret, --jwt-public-key or --jwks to verify tokens"
        : "give only one of --jwt-secret, --jwt-public-key and --jwks",
    );
  }
  if (options.secret !== undefined) {
    const secret = new TextEncoder().encode(options.secret);
    if (secret.length < MIN_SECRET_BYTES) {
      throw new Error(
        `the JWT secret (--jwt-secret) is ${secret.length} bytes; it must be at least ` +
          `${MIN_SECRET_BYTES} (make one with: openssl rand -base64 32)`,
      );
    }
    return { key: secret, algorithms: ["HS256"] };
  }
  if (options.publicKey !== undefined) return await loadPublicKey(options.publicKey);
  return await loadJwks(options.jwks!);
}

function checkOptions(options: JwtOptions, algorithms: string[]): JWTVerifyOptions {
  const tolerance = options.clockToleranceSeconds ?? 5;
  if (!Number.isFinite(tolerance) || tolerance < 0) {
    throw new Error("the JWT clock tolerance must be a number of seconds, 0 or more");
  }
  const verifyOptions: JWTVerifyOptions = {
    algorithms,
    requiredClaims: ["exp", "sub"],
    clockTolerance: tolerance,
  };
  if (options.audience !== undefined) {
    if (options.audience === "") throw new Error("the JWT audience (--jwt-audience) is empty");
    verifyOptions.audience = options.audience;
  }
  if (options.issuer !== undefined) {
    if (options.issuer === "") throw new Error("the JWT issuer (--jwt-issuer) is empty");
    verifyOptions.issuer = options.issuer;
  }
  return verifyOptions;
}

// A JWKS with several keys that fit a token without a `kid` makes jose throw
// with the candidates attached; the token is good if any of them verifies it.
async function verify(
  token: string,
  key: Verification["key"],
  options: JWTVerifyOptions,
): Promise<Record<string, unknown>> {
  try {
    return (await jwtVerify(token, key, options)).payload;
  } catch (error) {
    if (!(error instanceof errors.JWKSMultipleMatchingKeys)) throw error;
    for await (const candidate of error) {
      try {
        return (await jwtVerify(token, candidate, options)).payload;
      } catch (tried) {
        if (!(tried instanceof errors.JWSSignatureVerificationFailed)) throw tried;
      }
    }
    throw new errors.JWSSignatureVerificationFailed();
  }
}
