/**
 * Signed tokens (JWTs) for crosswire: {@link createJwtVerifier} turns an HS256
 * secret, a PEM public key (RS256, ES256, EdDSA) or a JWKS into the
 * `authenticate` function a `Relay` takes. Only the algorithm the key calls for
 * is accepted (never `none`), `exp` and `sub` are required, and `aud` and `iss`
 * are checked when configured. It uses only web-standard APIs and npm `jose`,
 * so it runs on Deno, Node, Bun and Cloudflare Workers.
 *
 * A token's claims become the user's identity: `sub`, `name` (else `sub`),
 * `"admin": true`, and `"rooms": {"support-*": ["join", "publish", "history"]}`.
 *
 * Give the verifier to a relay as `new Relay({ authenticate })`, or to
 * `startServer({ relay: { authenticate } })`.
 *
 * @example Check tokens signed with a shared secret
 * ```ts
 * import { createJwtVerifier } from "@crosswire/relay/jwt";
 * import { SignJWT } from "jose";
 * const secret = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
 * const authenticate = await createJwtVerifier({ secret, audience: "chat" });
 * const token = await new SignJWT({ rooms: { "support-*": ["join", "publish"] } })
 *   .setProtectedHeader({ alg: "HS256" })
 *   .setSubject("ann")
 *   .setAudience("chat")
 *   .setExpirationTime("10m")
 *   .sign(new TextEncoder().encode(secret));
 * const ann = await authenticate(token);
 * if (ann.name !== "ann" || ann.rooms?.["support-*"]?.length !== 2) throw new Error("unexpected");
 * ```
 *
 * @module
 */
export { createJwtVerifier } from "./jwt.ts";
export type { JwtOptions } from "./jwt.ts";
