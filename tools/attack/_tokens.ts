/**
 * Hostile JSON Web Tokens for the token attacks, built by hand (not with a
 * JWT library) so their header and payload can be any text: `alg: none`, an
 * RS256 header over an HMAC signature, JSON nested thousands deep, `exp` as
 * `1e999`. Tokens with claims carry {@link LEAK_MARKER} in `sub`, so a token
 * (or its decoded claims) in the server's output is easy to spot.
 *
 * @module
 */

/** In every hostile token's claims (and garbage), so a logged token is easy to find. */
export const LEAK_MARKER = "h8leak";

const encoder = new TextEncoder();

/** Bytes as base64url without padding. */
export function b64url(bytes: Uint8Array): string {
  return bytes.toBase64({ alphabet: "base64url", omitPadding: true });
}

/** UTF-8 text as base64url. */
function b64text(text: string): string {
  return b64url(encoder.encode(text));
}

function randomBytes(count: number): Uint8Array {
  const bytes = new Uint8Array(count);
  for (let at = 0; at < count; at += 65536) {
    crypto.getRandomValues(bytes.subarray(at, Math.min(count, at + 65536)));
  }
  return bytes;
}

/** Random base64url text of exactly `length` characters. */
export function randomB64(length: number): string {
  return b64url(randomBytes(Math.ceil((length * 3) / 4) + 3)).slice(0, length);
}

/** A short random tag, to tell tokens apart. */
function tag(): string {
  return randomB64(8);
}

async function hmac(secret: string | Uint8Array, data: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    typeof secret === "string" ? encoder.encode(secret) : new Uint8Array(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return b64url(new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(data))));
}

/** `header.payload` from raw JSON texts, signed with HS256 under `secret`. */
export async function signHs256(
  headerJson: string,
  payloadJson: string,
  secret: string | Uint8Array,
): Promise<string> {
  const input = `${b64text(headerJson)}.${b64text(payloadJson)}`;
  return `${input}.${await hmac(secret, input)}`;
}

/** An RSA private key (PKCS#8 PEM, as `openssl genpkey` writes it) for RS256. */
export async function importRsaPrivateKey(pem: string): Promise<CryptoKey> {
  const body = pem.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, "");
  return await crypto.subtle.importKey(
    "pkcs8",
    Uint8Array.fromBase64(body),
    { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
    false,
    ["sign"],
  );
}

/** `header.payload` from raw JSON texts, signed with RS256. */
export async function signRs256(
  headerJson: string,
  payloadJson: string,
  key: CryptoKey,
): Promise<string> {
  const input = `${b64text(headerJson)}.${b64text(payloadJson)}`;
  const signature = await crypto.subtle.sign("RSASSA-PKCS1-v1_5", key, encoder.encode(input));
  return `${input}.${b64url(new Uint8Array(signature))}`;
}

/** Claims as JSON text: `sub` (with the marker), `exp` as given (raw JSON), and extras. */
export function claims(exp: string, extra = ""): string {
  return `{"sub":"${LEAK_MARKER}-${tag()}","exp":${exp}${extra}}`;
}

/** `exp` an hour from now, as JSON text. */
export function soon(): string {
  return String(Math.floor(Date.now() / 1000) + 3600);
}

/** `"x":[[[...]]]` nested `depth` deep, as a JSON member to append to an object. */
export function nested(depth: number): string {
  return `,"x":${"[".repeat(depth)}${"]".repeat(depth)}`;
}

/** A family of refused tokens: a name and a maker (fresh tokens on each call). */
export interface TokenFamily {
  readonly name: string;
  /** A new token of this family. */
  make(): Promise<string>;
}

/** What the families are made with. */
export interface TokenKeys {
  /** The server's HS256 secret, when it has one (to sign expired or confused tokens). */
  secret?: string;
  /** The private half of the server's RSA key, when it has one. */
  rsaKey?: CryptoKey;
  /** The server's RSA public key PEM (used as an HMAC secret: the classic confusion). */
  publicPem?: string;
  /** Longest token to make, in characters (a transport's line limit). @default 8192 */
  maxLength?: number;
}

const HS256 = '{"alg":"HS256","typ":"JWT"}';
const RS256 = '{"alg":"RS256","typ":"JWT"}';

/**
 * Families of tokens the server must refuse, for a server keyed with
 * `keys.secret` (HS256) or `keys.rsaKey` (RS256). Each family is one way in:
 * garbage, near-limit base64url, `alg: none`, an algorithm the server was not
 * configured with, expired, a wrong signature, nested JSON, absurd `exp`.
 */
export function refusedFamilies(keys: TokenKeys): TokenFamily[] {
  const max = keys.maxLength ?? 8192;
  const wrongSecret = randomB64(43);
  // Of a JSON text of `bytes`, the nesting depth that fits (two brackets a level).
  const depthFor = (bytes: number) => Math.max(1, Math.floor((bytes - 80) / 2));
  // Base64 grows by 4/3; leave room for the header and the signature.
  const payloadBudget = Math.floor(((max - 420) * 3) / 4);
  const families: TokenFamily[] = [
    {
      name: "garbage",
      make: () => {
        const kinds = [
          `${LEAK_MARKER}${tag()}`,
          `${LEAK_MARKER}.${tag()}.${tag()}`,
          `..${LEAK_MARKER}${tag()}`,
          `eyJ${tag()}.eyJ${LEAK_MARKER}.`,
          `☃.${LEAK_MARKER}${tag()}.☃`,
          `${LEAK_MARKER}${'%00\\u0000"'.repeat(3)}${tag()}`,
        ];
        return Promise.resolve(kinds[Math.floor(Math.random() * kinds.length)]!);
      },
    },
    {
      name: "b64-near-limit",
      // Three random segments, `max` characters in all: decoding the header already fails.
      make: () => {
        const third = Math.floor((max - 2) / 3);
        return Promise.resolve(
          [randomB64(third), randomB64(third), randomB64(max - 2 - 2 * third)].join("."),
        );
      },
    },
    {
      name: "b64-payload-near-limit",
      // A sound header over a random near-limit payload: the HMAC runs over it all.
      make: () =>
        Promise.resolve(
          `${b64text(HS256)}.${randomB64(max - 90)}.${randomB64(43)}`,
        ),
    },
    {
      name: "alg-none",
      make: () => {
        const alg = ["none", "None", "NONE", "nOnE"][Math.floor(Math.random() * 4)];
        const token = `${b64text(`{"alg":"${alg}","typ":"JWT"}`)}.${b64text(claims(soon()))}.`;
        return Promise.resolve(token);
      },
    },
    {
      name: "expired",
      make: () =>
        keys.rsaKey
          ? signRs256(RS256, claims(String(Math.floor(Date.now() / 1000) - 3600)), keys.rsaKey)
          : signHs256(HS256, claims(String(Math.floor(Date.now() / 1000) - 3600)), secretOf(keys)),
    },
    {
      name: "wrong-signature",
      make: () => signHs256(keys.rsaKey ? RS256 : HS256, claims(soon()), wrongSecret),
    },
    {
      name: "nested-header",
      // The header is parsed before any signature is checked.
      make: () =>
        signHs256(
          `{"alg":"HS256"${nested(depthFor(payloadBudget))}}`,
          claims(soon()),
          wrongSecret,
        ),
    },
    {
      name: "nested-payload",
      make: () =>
        keys.rsaKey
          ? signHs256(RS256, claims(soon(), nested(depthFor(payloadBudget))), wrongSecret)
          : signHs256(HS256, claims(soon(), nested(depthFor(payloadBudget))), wrongSecret),
    },
    {
      name: "exp-1e999",
      // Well signed: JSON reads 1e999 as Infinity, which must not mean "never expires".
      make: () =>
        keys.rsaKey
          ? signRs256(RS256, claims("1e999"), keys.rsaKey)
          : signHs256(HS256, claims("1e999"), secretOf(keys)),
    },
    {
      name: "exp-string",
      make: () =>
        keys.rsaKey
          ? signRs256(RS256, claims('"99999999999999999999"'), keys.rsaKey)
          : signHs256(HS256, claims('"99999999999999999999"'), secretOf(keys)),
    },
  ];
  if (keys.secret !== undefined) {
    families.push({
      name: "rs256-header-hs256-server",
      // An RS256 header over an HMAC made with the server's own secret.
      make: () => signHs256(RS256, claims(soon()), keys.secret!),
    });
  }
  if (keys.rsaKey !== undefined) {
    families.push(
      {
        name: "rs256-bad-signature",
        // A full RSA verification, then refused: the costly case.
        make: () =>
          Promise.resolve(`${b64text(RS256)}.${b64text(claims(soon()))}.${randomB64(342)}`),
      },
      {
        name: "hs256-with-public-key",
        // The classic confusion: HMAC keyed with the public key's PEM text.
        make: () => signHs256(HS256, claims(soon()), keys.publicPem ?? ""),
      },
    );
  }
  return families.map((family) => pooled(family));
}

/**
 * The same family, making only `size` tokens and then handing them out in
 * turn: signing with RSA costs the attacker a millisecond or two a token, and
 * a busy attacker would otherwise measure itself rather than the server.
 */
export function pooled(family: TokenFamily, size = 32): TokenFamily {
  const made: Promise<string>[] = [];
  let next = 0;
  return {
    name: family.name,
    make: () => {
      if (made.length < size) made.push(family.make());
      return made[next++ % made.length]!;
    },
  };
}

function secretOf(keys: TokenKeys): string {
  if (keys.secret === undefined) throw new Error("this family needs the server's secret");
  return keys.secret;
}
