// Helpers for the IRC tests: a raw IRC client on a TcpLineClient, and the
// real IRC clients (python3-irc, irssi) that a test drives, with the loud
// skip (a failure under CI=true) when one is missing.

import { TcpLineClient, WAIT_MS } from "./_helpers.ts";

/** Connects to `port` (with TLS when `ca` is given) and registers `nick` as an IRC client. */
export async function ircLogin(port: number, nick: string, ca?: string): Promise<TcpLineClient> {
  const client = ca === undefined
    ? await TcpLineClient.connect(port)
    : await TcpLineClient.connectTls(port, ca);
  await client.write(`CAP LS 302\r\nNICK ${nick}\r\nUSER ${nick} 0 * :${nick}\r\n`);
  await client.expect(":crosswire CAP * LS :");
  await client.send("CAP END");
  await client.expect(`:crosswire 001 ${nick} `);
  await client.expect(`:crosswire 366 ${nick} #lobby `);
  return client;
}

/** Waits for a line matching `pattern` on an IRC connection. */
export function ircExpect(client: TcpLineClient, pattern: RegExp, ms = WAIT_MS): Promise<string> {
  return client.expect((line) => pattern.test(line), ms);
}

const CI = Deno.env.get("CI") === "true";

function runs(command: string, args: string[]): boolean {
  try {
    return new Deno.Command(command, { args, stdout: "null", stderr: "null", stdin: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

/**
 * A Python 3 that has the `irc` library (Debian's python3-irc): `python3` on
 * PATH when it has it, else the system's. Undefined when there is none.
 */
export const PYTHON_IRC: string | undefined = ["python3", "/usr/bin/python3"].find((python) =>
  runs(python, ["-c", "import irc.client"])
);

/** Whether irssi is installed. */
export const IRSSI: boolean = runs("irssi", ["--version"]);

/**
 * `ignore` for a test that needs a real IRC client: skipped loudly when it is
 * missing, and a failure instead under CI=true.
 */
export function ircClientMissing(what: string, present: boolean, apt: string): boolean {
  if (present) return false;
  if (CI) throw new Error(`${what} is missing, and CI=true: install it (apt-get install ${apt})`);
  console.warn(`⚠️  SKIPPING the ${what} test: it is not installed (apt-get install ${apt}).`);
  return true;
}
