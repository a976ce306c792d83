// Why jose refused a token, in words a user can act on. Nothing from the error
// is passed on: jose's errors carry the claims (`payload`), and its messages
// and causes can quote the token's text.
import { RelayError } from "../core/errors.ts";

// jose's own names for the claims it checks, so nothing else reaches a message.
const CLAIMS: ReadonlySet<string> = new Set(["exp", "sub", "aud", "iss", "nbf", "iat", "typ"]);

function message(error: unknown, algorithms: readonly string[]): string {
  const { code, claim, reason } = (typeof error === "object" && error !== null ? error : {}) as {
    code?: unknown;
    claim?: unknown;
    reason?: unknown;
  };
  switch (code) {
    case "ERR_JWT_EXPIRED":
      return "the token has expired";
    case "ERR_JWS_SIGNATURE_VERIFICATION_FAILED":
      return "the token's signature does not verify";
    case "ERR_JOSE_ALG_NOT_ALLOWED":
      return `the token must be signed with ${list(algorithms)}`;
    case "ERR_JOSE_NOT_SUPPORTED":
      return "the token's algorithm is not supported";
    case "ERR_JWKS_NO_MATCHING_KEY":
      return "no key in the JWKS matches the token's kid and alg";
    case "ERR_JWS_INVALID":
      return "not a token";
    case "ERR_JWT_INVALID":
      return "the token's payload is not a JSON object";
    case "ERR_JWT_CLAIM_VALIDATION_FAILED":
      return claimMessage(claim, reason);
    default:
      return "the token could not be verified";
  }
}

function claimMessage(claim: unknown, reason: unknown): string {
  if (typeof claim !== "string" || !CLAIMS.has(claim)) return "the token's claims are not valid";
  if (reason === "missing") return `the token has no ${claim} claim`;
  if (reason === "invalid") return `the token's ${claim} claim is not a number`;
  switch (claim) {
    case "aud":
      return "the token's audience is not the one this server expects";
    case "iss":
      return "the token's issuer is not the one this server expects";
    case "nbf":
      return "the token is not valid yet (nbf)";
    default:
      return `the token's ${claim} claim is not valid`;
  }
}

function list(algorithms: readonly string[]): string {
  if (algorithms.length < 2) return algorithms.join("");
  return `${algorithms.slice(0, -1).join(", ")} or ${algorithms.at(-1)}`;
}

/**
 * The `auth_failed` error to throw for a token jose refused.
 *
 * @param error What jose threw.
 * @param algorithms The algorithms the verifier accepts, to name in the message.
 * @returns The error, without the token or its claims.
 */
export function failure(error: unknown, algorithms: readonly string[]): RelayError {
  return new RelayError("auth_failed", message(error, algorithms));
}
