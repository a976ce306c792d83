// Keys made, and tokens signed, by the openssl command line: what a user of
// `--jwt-public-key` would do, so the verifier is tested against keys jose did
// not make. Without openssl the tests that use it are skipped with a warning;
// under CI=true that is a failure instead (see `requireOpenssl`).

const CI = Deno.env.get("CI") === "true";

function opensslInstalled(): boolean {
  try {
    return new Deno.Command("openssl", { args: ["version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

/** Whether openssl is missing (warned about once, loudly, when it is). */
export const opensslMissing: boolean = !opensslInstalled();
if (opensslMissing && !CI) {
  console.warn(
    "\n⚠️  SKIPPING the JWT tests that need keys: openssl is missing (apt-get install openssl).\n",
  );
}

/** `ignore` for a test that needs openssl: skipped without it, except under CI=true. */
export const ignoreOpenssl: boolean = opensslMissing && !CI;

/** Throws under CI=true when openssl is missing: call first in every openssl test. */
export function requireOpenssl(): void {
  if (opensslMissing) {
    throw new Error("CI=true but openssl is missing: the JWT key tests cannot run");
  }
}

/** A key pair as PEM text: PKCS#8 private key, SPKI public key. */
export interface PemPair {
  privatePem: string;
  publicPem: string;
}

/** Every key the tests use. */
export interface TestKeys {
  rsa: PemPair;
  rsa2: PemPair;
  ec: PemPair;
  ed25519: PemPair;
  /** Keys the verifier must refuse to be configured with. */
  rsa1024: PemPair;
  p384: PemPair;
}

async function openssl(args: string[], cwd: string): Promise<Uint8Array> {
  const { success, stdout, stderr } = await new Deno.Command("openssl", {
    args,
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!success) {
    throw new Error(`openssl ${args[0]} failed: ${new TextDecoder().decode(stderr).trim()}`);
  }
  return stdout;
}

async function inTempDir<T>(work: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "crosswire_jwt_" });
  try {
    return await work(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function generate(dir: string, name: string, options: string[]): Promise<PemPair> {
  await openssl(["genpkey", ...options, "-out", `${name}.pem`], dir);
  await openssl(["pkey", "-in", `${name}.pem`, "-pubout", "-out", `${name}.pub.pem`], dir);
  return {
    privatePem: await Deno.readTextFile(`${dir}/${name}.pem`),
    publicPem: await Deno.readTextFile(`${dir}/${name}.pub.pem`),
  };
}

let keys: Promise<TestKeys> | undefined;

/** Makes the test keys with openssl, once per test file (RSA key generation is slow). */
export function testKeys(): Promise<TestKeys> {
  keys ??= inTempDir(async (dir) => {
    const rsa = (bits: number) => ["-algorithm", "RSA", "-pkeyopt", `rsa_keygen_bits:${bits}`];
    const ec = (curve: string) => ["-algorithm", "EC", "-pkeyopt", `ec_paramgen_curve:${curve}`];
    const [rsa1, rsa2, p256, ed25519, rsa1024, p384] = await Promise.all([
      generate(dir, "rsa", rsa(2048)),
      generate(dir, "rsa2", rsa(2048)),
      generate(dir, "ec", ec("P-256")),
      generate(dir, "ed25519", ["-algorithm", "ed25519"]),
      generate(dir, "rsa1024", rsa(1024)),
      generate(dir, "p384", ec("P-384")),
    ]);
    return { rsa: rsa1, rsa2, ec: p256, ed25519, rsa1024, p384 };
  });
  return keys;
}

/** base64url of bytes or of text's UTF-8. */
export function base64url(data: Uint8Array | string): string {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_")
    .replace(/=+$/, "");
}

/**
 * An RS256 token signed by `openssl dgst -sha256 -sign`, not by jose.
 *
 * @param payload The claims, as JSON text or an object.
 * @param privatePem The RSA private key.
 * @param header Extra header fields (such as `kid`).
 */
export function signRs256WithOpenssl(
  payload: Record<string, unknown>,
  privatePem: string,
  header: Record<string, unknown> = {},
): Promise<string> {
  return inTempDir(async (dir) => {
    const input = `${base64url(JSON.stringify({ alg: "RS256", typ: "JWT", ...header }))}.${
      base64url(JSON.stringify(payload))
    }`;
    await Deno.writeTextFile(`${dir}/key.pem`, privatePem);
    await Deno.writeTextFile(`${dir}/input`, input);
    const signature = await openssl(
      ["dgst", "-sha256", "-sign", "key.pem", "-binary", "input"],
      dir,
    );
    return `${input}.${base64url(signature)}`;
  });
}
