// A PEM public key (SPKI) and the one algorithm its type calls for. The type is
// read from the key itself (its algorithm identifier), never from a token, so a
// token cannot choose how it is checked.
import { type CryptoKey, importSPKI } from "jose";

const WHAT = "the JWT public key (--jwt-public-key)";

// Object identifiers (DER content bytes, in hex) from RFC 3279, 5480, 8410.
const RSA = "2a864886f70d010101";
const RSA_PSS = "2a864886f70d01010a";
const EC = "2a8648ce3d0201";
const ED25519 = "2b6570";
const CURVES: Readonly<Record<string, string>> = {
  "2a8648ce3d030107": "P-256",
  "2b81040022": "P-384",
  "2b81040023": "P-521",
  "2b8104000a": "secp256k1",
};
const OTHER_KEYS: Readonly<Record<string, string>> = {
  [RSA_PSS]: "an RSA-PSS key",
  "2b6571": "an Ed448 key",
  "2b656e": "an X25519 key",
  "2b656f": "an X448 key",
  "2a8648ce380401": "a DSA key",
};

/** Ed25519 signatures go by two names: `EdDSA` (RFC 8037) and `Ed25519` (RFC 9864). */
export const ED25519_ALGORITHMS: readonly string[] = ["EdDSA", "Ed25519"];

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([^-]*)-----END \1-----/g;

/**
 * Imports a PEM public key and says which algorithms may be used with it.
 *
 * @param pem PEM text holding one `PUBLIC KEY` block.
 * @returns The key, and RS256, ES256 or EdDSA (Ed25519) as its type calls for.
 * @throws {Error} A one-line message when the text is not such a key.
 */
export async function loadPublicKey(
  pem: string,
): Promise<{ key: CryptoKey; algorithms: string[] }> {
  const base64 = publicKeyBase64(pem);
  let der: Uint8Array;
  try {
    der = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  } catch {
    throw new Error(`${WHAT} is not valid base64 between its BEGIN and END lines`);
  }
  const algorithms = algorithmsFor(der);
  let key: CryptoKey;
  try {
    // jose wants the block alone, with nothing before it.
    const block = `-----BEGIN PUBLIC KEY-----\n${base64}\n-----END PUBLIC KEY-----`;
    key = await importSPKI(block, algorithms[0]!);
  } catch (error) {
    throw new Error(`${WHAT} cannot be imported: ${oneLine(error)}`);
  }
  checkRsaSize(key, WHAT);
  return { key, algorithms };
}

function publicKeyBase64(pem: string): string {
  const blocks = [...pem.matchAll(BLOCK)];
  const publicKeys = blocks.filter((block) => block[1] === "PUBLIC KEY");
  if (publicKeys.length === 1) return publicKeys[0]![2]!.replace(/\s+/g, "");
  if (publicKeys.length > 1) {
    throw new Error(
      `${WHAT} holds ${publicKeys.length} keys; give one, or several in a JWKS (--jwks)`,
    );
  }
  const label = blocks[0]?.[1];
  if (label === "RSA PUBLIC KEY") {
    throw new Error(
      `${WHAT} is PKCS#1 (BEGIN RSA PUBLIC KEY); convert it to SPKI with: ` +
        "openssl rsa -RSAPublicKey_in -in key.pem -pubout",
    );
  }
  if (label?.includes("PRIVATE KEY")) {
    throw new Error(
      `${WHAT} is a private key; give its public half (openssl pkey -in key.pem -pubout)`,
    );
  }
  if (label === "CERTIFICATE") {
    throw new Error(
      `${WHAT} is a certificate; take its public key with: openssl x509 -in cert.pem -pubkey -noout`,
    );
  }
  throw new Error(`${WHAT} is not a PEM public key (-----BEGIN PUBLIC KEY-----)`);
}

// One DER element (tag, length, content) at `at`: its content, and where it ends.
function element(bytes: Uint8Array, at: number, tag: number): { content: Uint8Array; end: number } {
  const invalid = () => new Error(`${WHAT} is not a valid SPKI public key`);
  if (bytes[at++] !== tag) throw invalid();
  let length = bytes[at++] ?? 0;
  if (length & 0x80) {
    const size = length & 0x7f;
    if (size > 3) throw invalid();
    length = 0;
    for (let i = 0; i < size; i++) length = length * 256 + (bytes[at++] ?? 0);
  }
  if (at + length > bytes.length) throw invalid();
  return { content: bytes.subarray(at, at + length), end: at + length };
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// SubjectPublicKeyInfo ::= SEQUENCE { SEQUENCE { OID algorithm, parameters }, BIT STRING }
function algorithmsFor(der: Uint8Array): string[] {
  const spki = element(der, 0, 0x30).content;
  const algorithm = element(spki, 0, 0x30).content;
  const oid = element(algorithm, 0, 0x06);
  const type = hex(oid.content);
  if (type === RSA) return ["RS256"];
  if (type === ED25519) return [...ED25519_ALGORITHMS];
  if (type === EC) {
    const named = algorithm[oid.end] === 0x06;
    const curve = named ? CURVES[hex(element(algorithm, oid.end, 0x06).content)] : undefined;
    if (curve === "P-256") return ["ES256"];
    throw new Error(`${WHAT} is an EC key on ${curve ?? "an unknown curve"}; ES256 needs P-256`);
  }
  throw new Error(
    `${WHAT} is ${OTHER_KEYS[type] ?? "of an unknown type"}; give an RSA, P-256 EC or Ed25519 key`,
  );
}

/**
 * Refuses RSA keys under 2048 bits (jose would refuse every token signed with one).
 *
 * @param key An imported public key.
 * @param what Which key, for the message.
 */
export function checkRsaSize(key: CryptoKey, what: string): void {
  const { modulusLength } = key.algorithm as { modulusLength?: number };
  if (modulusLength !== undefined && modulusLength < 2048) {
    throw new Error(`${what} is a ${modulusLength}-bit RSA key; it must be 2048 bits or more`);
  }
}

/**
 * The first line of an error's message.
 *
 * @param error Anything thrown.
 * @returns One line.
 */
export function oneLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split("\n")[0]!;
}
