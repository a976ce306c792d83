// The IRC-only port (`ircPort`, `--irc-port`): no text-mode greeting, IRC
// from the first line; TLS on it as on the TCP port; the CLI's flag, startup
// line and message for a taken port.

import assert from "node:assert/strict";
import { startServerWith, TcpLineClient, WsJsonClient } from "./_helpers.ts";
import { ircLogin } from "./_irc.ts";
import { spawnCli } from "./_server_helpers.ts";

const CI = Deno.env.get("CI") === "true";

async function opensslWorks(): Promise<boolean> {
  try {
    return (await new Deno.Command("openssl", { args: ["version"], stdout: "null", stderr: "null" })
      .output()).success;
  } catch {
    return false;
  }
}

const OPENSSL = await opensslWorks();
if (!OPENSSL) {
  if (CI) throw new Error("openssl is missing, and CI=true: the IRC TLS test cannot run");
  console.warn("⚠️  SKIPPING the IRC-over-TLS test: openssl is missing (apt-get install openssl).");
}

/** A throwaway CA and a certificate for 127.0.0.1 it signed, valid for a day. */
async function makeCertificate(dir: string): Promise<{ ca: string; cert: string; key: string }> {
  const openssl = async (...args: string[]) => {
    const output = await new Deno.Command("openssl", {
      args,
      cwd: dir,
      stdout: "null",
      stderr: "piped",
    })
      .output();
    if (!output.success) {
      throw new Error(`openssl failed: ${new TextDecoder().decode(output.stderr)}`);
    }
  };
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await openssl(
    "req",
    "-x509",
    ...ec,
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "1",
    "-subj",
    "/CN=irc test CA",
  );
  await openssl(
    "req",
    ...ec,
    "-keyout",
    "server.key",
    "-out",
    "server.csr",
    "-subj",
    "/CN=localhost",
  );
  await Deno.writeTextFile(
    `${dir}/server.ext`,
    "subjectAltName = IP:127.0.0.1, DNS:localhost\nbasicConstraints = critical, CA:FALSE\n" +
      "keyUsage = critical, digitalSignature\nextendedKeyUsage = serverAuth\n",
  );
  await openssl(
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "server.pem",
    "-days",
    "1",
    "-extfile",
    "server.ext",
  );
  const read = (name: string) => Deno.readTextFile(`${dir}/${name}`);
  return {
    ca: await read("ca.pem"),
    cert: await read("server.pem"),
    key: await read("server.key"),
  };
}

Deno.test("IRC port: IRC from the first line, no greeting; telnet stays on the TCP port", async () => {
  await using server = await startServerWith({ ircPort: 0 });
  const ircPort = server.server.ircAddr!.port;
  assert.notEqual(ircPort, server.tcpPort);
  await using wes = await WsJsonClient.login(server.wsUrl, "wes");
  await using tess = await TcpLineClient.login(server.tcpPort, "tess");

  await using raw = await TcpLineClient.connect(ircPort);
  await raw.send("HELLO there");
  assert.equal(await raw.expect(() => true), ":crosswire 451 * :You have not registered");
  await raw.send("CAP LS 302");
  assert.equal(await raw.expect(() => true), ":crosswire CAP * LS :");
  assert.ok(!raw.inbox.seen.some((line) => line.includes("What's your name?")));
  await raw.close();

  await using ian = await ircLogin(ircPort, "ian");
  await ian.send("PRIVMSG #lobby :hi from port 6667's stand-in");
  await tess.expect("[lobby] ian: hi from port 6667's stand-in");
  assert.equal((await wes.expect("message")).from, "ian");
  await tess.send("hello ian");
  await ian.expect(":tess!tess@crosswire PRIVMSG #lobby :hello ian");
});

Deno.test({
  name: "IRC port: TLS works on it as on the TCP port",
  ignore: !OPENSSL,
}, async () => {
  const dir = await Deno.makeTempDir({ prefix: "crosswire_irc_tls_" });
  try {
    const { ca, cert, key } = await makeCertificate(dir);
    await using server = await startServerWith({ ircPort: 0, tls: { cert, key } });
    const ircPort = server.server.ircAddr!.port;
    await using ian = await ircLogin(ircPort, "ian", ca);
    await using tess = await TcpLineClient.login(server.tcpPort, "tess", ca);
    await ian.send("PRIVMSG #lobby :over TLS");
    await tess.expect("[lobby] ian: over TLS");
    // IRC over TLS on the TCP port, by its first line, too.
    await using ida = await ircLogin(server.tcpPort, "ida", ca);
    await ida.send("PRIVMSG ian :psst");
    await ian.expect(":ida!ida@crosswire PRIVMSG ian :psst");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("IRC port: --irc-port on the command line, and a taken one named", async () => {
  await using cli = await spawnCli({ flags: ["--irc-port", "0"] });
  const line = cli.startup.find((line) => line.startsWith("crosswire: IRC on "));
  const port = Number(/:(\d+) \(try: irssi -c 127\.0\.0\.1 -p (\d+)\)$/.exec(line ?? "")?.[1]);
  assert.ok(port > 0, `no IRC startup line in ${JSON.stringify(cli.startup)}`);
  await using ian = await ircLogin(port, "ian");
  await ian.send("QUIT");
  await ian.expectClosed();

  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("../main.ts", import.meta.url).pathname,
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "--no-tcp",
      "--irc-port",
      String(port),
    ],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).output();
  assert.equal(output.code, 1);
  assert.match(
    new TextDecoder().decode(output.stderr),
    new RegExp(`the IRC port ${port} is already in use; pick another with --irc-port`),
  );
});
