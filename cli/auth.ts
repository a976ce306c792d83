// Who may do what, the async half of the flags: reads the key files and the
// --config file, and makes the token verifier. Shared by the CLI (every
// runtime's) and the Deno Deploy entry point. A bad key or file is one line.

import { createPublicKey } from "node:crypto";
import type { Authenticator, RoomPolicies } from "../core/mod.ts";
import { readConfig } from "./config.ts";
import { CliError } from "./errors.ts";
import { readFlagFile } from "./files.ts";
import type { AccessConfig, CliConfig, TokenConfig } from "./flags.ts";
import type { AccessInfo } from "./startup.ts";

/** What {@link loadAccess} made: relay options, and what the startup line says of them. */
export interface LoadedAccess {
  /** The token verifier, when a key was given. */
  readonly authenticate: Authenticator | undefined;
  /** The room rules of --config, when given. */
  readonly rooms: RoomPolicies | undefined;
  /**
   * How tokens are checked, for the startup line, e.g. "HS256" or
   * `RS256, key from key.pem, audience "chat"`; never a secret.
   */
  readonly tokens: string | undefined;
}

/** Reads the files `access` names and makes the verifier; a CliError for anything wrong. */
export async function loadAccess(
  access: AccessConfig,
  readTextFile: (path: string) => string,
): Promise<LoadedAccess> {
  // The room rules first: reading them is quick, and a typo there is the likelier mistake.
  const rooms = access.configFile === undefined
    ? undefined
    : readConfig(access.configFile, readTextFile).rooms;
  if (access.tokens === undefined) return { authenticate: undefined, rooms, tokens: undefined };
  const { authenticate, tokens } = await verifier(access.tokens, readTextFile);
  const { audience, issuer } = access.tokens;
  const claims = [
    ...(audience === undefined ? [] : [`audience ${JSON.stringify(audience)}`]),
    ...(issuer === undefined ? [] : [`issuer ${JSON.stringify(issuer)}`]),
  ];
  return { authenticate, rooms, tokens: [tokens, ...claims].join(", ") };
}

/** What the startup line says of `config`'s access settings once `access` is loaded. */
export function accessInfo(config: CliConfig, access: LoadedAccess): AccessInfo {
  const file = config.access.configFile;
  return {
    tokens: access.tokens,
    requireAuth: config.relay.requireAuth === true,
    rules: access.rooms && file !== undefined
      ? { count: Object.keys(access.rooms).length, file }
      : undefined,
    adminPassword: config.relay.adminPassword !== undefined,
    api: config.server.apiKey !== undefined,
  };
}

async function verifier(
  config: TokenConfig,
  readTextFile: (path: string) => string,
): Promise<{ authenticate: Authenticator; tokens: string }> {
  const { key } = config;
  const claims = {
    ...(config.audience === undefined ? {} : { audience: config.audience }),
    ...(config.issuer === undefined ? {} : { issuer: config.issuer }),
  };
  // Only a server that checks tokens loads jose.
  const { createJwtVerifier } = await import("../auth/jwt.ts");
  if ("secret" in key) {
    const authenticate = await made(createJwtVerifier({ secret: key.secret, ...claims }), "");
    return { authenticate, tokens: "HS256" };
  }
  if ("publicKeyFile" in key) {
    const file = key.publicKeyFile;
    const publicKey = readFlagFile("jwt-public-key", file, readTextFile);
    const authenticate = await made(createJwtVerifier({ publicKey, ...claims }), `${file}: `);
    return { authenticate, tokens: `${publicKeyAlgorithm(publicKey)}, key from ${file}` };
  }
  const file = key.jwksFile;
  const jwks = readFlagFile("jwks", file, readTextFile);
  const authenticate = await made(createJwtVerifier({ jwks, ...claims }), `${file}: `);
  return { authenticate, tokens: `${jwksAlgorithms(jwks)}, JWKS from ${file}` };
}

/** The verifier, or a CliError with its one-line reason (which never holds the key). */
async function made(verifier: Promise<Authenticator>, where: string): Promise<Authenticator> {
  try {
    return await verifier;
  } catch (error) {
    throw new CliError(`${where}${(error as Error).message}`);
  }
}

// The verifier has accepted the key by now: these only name what it holds.

/** The algorithm a PEM public key is used with, from its key type. */
function publicKeyAlgorithm(pem: string): string {
  try {
    const type = createPublicKey(pem).asymmetricKeyType;
    return type === "rsa"
      ? "RS256"
      : type === "ec"
      ? "ES256"
      : type === "ed25519"
      ? "EdDSA"
      : "public";
  } catch {
    return "public";
  }
}

/** The algorithms of a JWKS's keys, e.g. "RS256/EdDSA". */
function jwksAlgorithms(jwks: string): string {
  const algorithms = new Set<string>();
  try {
    type Jwk = { kty?: string; alg?: string; use?: string };
    for (const { kty, alg, use } of (JSON.parse(jwks) as { keys: Jwk[] }).keys) {
      if (use !== undefined && use !== "sig") continue; // the verifier leaves these out
      const implied = kty === "RSA"
        ? "RS256"
        : kty === "EC"
        ? "ES256"
        : kty === "OKP"
        ? "EdDSA"
        : "";
      if (alg ?? implied) algorithms.add(alg ?? implied);
    }
  } catch { /* the verifier read it; nothing to name here */ }
  return algorithms.size === 0 ? "public" : [...algorithms].join("/");
}
