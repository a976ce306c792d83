// TLS end to end: a throwaway CA made with openssl at test time, then TLS
// telnet-style clients, openssl s_client, a WSS client and HTTPS on one server.
import assert from "node:assert/strict";
import {
  SpawnedProcess,
  startServerWith,
  TcpLineClient,
  type TestServer,
  WAIT_MS,
  within,
} from "./_helpers.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const CI = Deno.env.get("CI") === "true";
const encoder = new TextEncoder();

async function run(command: string, args: string[], cwd?: string): Promise<Deno.CommandOutput> {
  return await new Deno.Command(command, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    ...(cwd === undefined ? {} : { cwd }),
  }).output();
}

async function hasOpenssl(): Promise<boolean> {
  try {
    return (await run("openssl", ["version"])).success;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

const OPENSSL = await hasOpenssl();
if (!OPENSSL) {
  console.warn(
    "tls_test.ts: SKIPPING the TLS tests: `openssl` is not on PATH" +
      (CI ? " (CI=true, so they fail instead)" : ""),
  );
}

interface Pki {
  dir: string;
  caPath: string;
  certPath: string;
  keyPath: string;
  ca: string;
  cert: string;
  key: string;
}

/** A CA and a server certificate for 127.0.0.1 and localhost, valid for one day. */
async function makePki(dir: string): Promise<Pki> {
  // Arguments split on spaces; `subject` is passed whole, since it may hold spaces.
  const openssl = async (args: string, subject?: string) => {
    const argv = [...args.split(" "), ...(subject === undefined ? [] : ["-subj", subject])];
    const output = await run("openssl", argv, dir);
    if (!output.success) {
      throw new Error(`openssl ${args} failed: ${new TextDecoder().decode(output.stderr)}`);
    }
  };
  const ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
  await openssl(`req -x509 ${ec} -keyout ca.key -out ca.pem -days 1`, "/CN=crosswire test CA");
  await openssl(`req ${ec} -keyout server.key -out server.csr`, "/CN=localhost");
  await Deno.writeTextFile(
    `${dir}/server.ext`,
    [
      "subjectAltName = IP:127.0.0.1, DNS:localhost",
      "basicConstraints = critical, CA:FALSE",
      "keyUsage = critical, digitalSignature",
      "extendedKeyUsage = serverAuth",
      "",
    ].join("\n"),
  );
  await openssl(
    "x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 1" +
      " -extfile server.ext",
  );
  const pki = {
    dir,
    caPath: `${dir}/ca.pem`,
    certPath: `${dir}/server.pem`,
    keyPath: `${dir}/server.key`,
  };
  return {
    ...pki,
    ca: await Deno.readTextFile(pki.caPath),
    cert: await Deno.readTextFile(pki.certPath),
    key: await Deno.readTextFile(pki.keyPath),
  };
}

/** A telnet-style client over TLS: writes lines, reads CRLF or LF lines. */

// Deno's WebSocket takes no CA, so a WSS client runs in its own process with
// `--cert`: it sends each stdin line as a frame and prints each frame it gets.
const WSS_CLIENT = `
const ws = new WebSocket(Deno.args[0]);
ws.onopen = () => console.log(JSON.stringify({ type: "open" }));
ws.onmessage = (event) => console.log(event.data);
ws.onerror = (event) => console.error("error:", event.message);
const closed = new Promise((resolve) => ws.onclose = (event) => {
  console.log(JSON.stringify({ type: "closed", code: event.code }));
  resolve();
});
let pending = "";
for await (const text of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
  const lines = (pending + text).split("\\n");
  pending = lines.pop();
  for (const line of lines) if (line.trim() !== "") ws.send(line);
}
ws.close(1000);
await closed;
`;

/** Reads from a plain (non-TLS) connection until the server hangs up. */
async function readToEnd(conn: Deno.Conn): Promise<Uint8Array> {
  const chunks: number[] = [];
  const buffer = new Uint8Array(4096);
  const all = async () => {
    try {
      for (let count = await conn.read(buffer); count !== null; count = await conn.read(buffer)) {
        chunks.push(...buffer.subarray(0, count));
      }
    } catch { /* a reset also ends it */ }
  };
  await within(all(), WAIT_MS, "the server to hang up on a plain client");
  return new Uint8Array(chunks);
}

Deno.test({
  name: "TLS: TLS clients, openssl s_client, WSS and HTTPS chat on one server",
  ignore: !OPENSSL && !CI,
  async fn(t) {
    if (!OPENSSL) throw new Error("openssl is not on PATH, and CI=true: a skipped TLS test fails");
    const dir = await Deno.makeTempDir({ prefix: "crosswire_tls_" });
    try {
      const pki = await makePki(dir);
      await using server: TestServer = await startServerWith({
        tls: { cert: pki.cert, key: pki.key },
        // Clients that go leave at once (not kept for a resume): their leaves are checked.
        relay: { resumeWindowMs: 0 },
      });
      assert.ok(server.wsUrl.startsWith("wss://"));
      await using ann = await TcpLineClient.login(server.tcpPort, "ann", pki.ca);
      await using bob = await TcpLineClient.login(server.tcpPort, "bob", pki.ca);

      await t.step("two Deno.connectTls clients chat", async () => {
        await ann.send("hello over tls");
        await bob.expect("[lobby] ann: hello over tls");
        await bob.send("hi ann");
        await ann.expect("[lobby] bob: hi ann");
      });

      await t.step("openssl s_client logs in by name and chats", async () => {
        await using sam = new SpawnedProcess("openssl", [
          "s_client",
          "-quiet",
          "-connect",
          `127.0.0.1:${server.tcpPort}`,
          "-CAfile",
          pki.caPath,
          "-verify_return_error",
          "-verify_ip",
          "127.0.0.1",
        ], { stdin: true, cwd: dir });
        await sam.expect("What's your name?");
        await sam.write("sam\n");
        await sam.expect("Welcome, sam!");
        await ann.expect("sam joined");
        await ann.send("hi sam");
        await sam.expect("[lobby] ann: hi sam");
        await sam.write("hello from s_client\n");
        await bob.expect("[lobby] sam: hello from s_client");
        await sam.write("/quit\n");
        await sam.expect("Bye");
        await sam.status();
        await ann.expect("sam disconnected");
      });

      await t.step("the terminal client connects with --tls --ca and chats", async () => {
        await using tim = SpawnedProcess.deno(
          [
            "run",
            "-A",
            new URL("../client/mod.ts", import.meta.url).pathname,
            "--tls",
            "--host",
            "127.0.0.1",
            "--port",
            String(server.tcpPort),
            "--ca",
            pki.caPath,
            "--name",
            "tim",
          ],
          { stdin: true, cwd: dir },
        );
        await tim.expect("Welcome, tim!", 20_000);
        await ann.expect("tim joined");
        await tim.write("hello from the terminal client\n");
        await bob.expect("[lobby] tim: hello from the terminal client");
        await ann.send("hi tim");
        await tim.expect("[lobby] ann: hi tim");
        await tim.closeStdin();
        assert.equal((await tim.status()).code, 0, tim.stderr.seen.join("\n"));
        await ann.expect("tim disconnected");
      });

      await t.step("a WSS client (deno run --cert) chats with the TLS clients", async () => {
        const script = `${dir}/wss_client.js`;
        await Deno.writeTextFile(script, WSS_CLIENT);
        await using wes = SpawnedProcess.deno(
          ["run", "--allow-net", "--cert", pki.caPath, script, server.wsUrl],
          { stdin: true, cwd: dir },
        );
        await wes.expect('"type":"open"', 20_000);
        await wes.write(JSON.stringify({ type: "login", name: "wes" }) + "\n");
        await wes.expect('"type":"welcome"');
        await ann.expect("wes joined");
        await ann.send("hi wes");
        await wes.expect('"text":"hi wes"');
        await wes.write(
          JSON.stringify({ type: "publish", room: "lobby", text: "hi from wss" }) + "\n",
        );
        await bob.expect("[lobby] wes: hi from wss");
        await wes.closeStdin();
        await wes.expect('"type":"closed"');
        const status = await wes.status();
        assert.equal(status.code, 0, wes.stderr.seen.join("\n"));
        await ann.expect("wes disconnected");
      });

      await t.step("a plain TCP client on the TLS port fails cleanly", async () => {
        using plain = await Deno.connect({ hostname: "127.0.0.1", port: server.tcpPort });
        await plain.write(encoder.encode("mallory\r\nhello?\r\n"));
        const got = new TextDecoder().decode(await readToEnd(plain));
        assert.doesNotMatch(got, /Welcome|crosswire|mallory/, "no chat lines in the clear");
        await ann.send("still here");
        await bob.expect("[lobby] ann: still here");
        assert.equal(server.server.relay.stats().users, 2);
      });

      await t.step("plain HTTP to the HTTPS port gets no answer", async () => {
        using plain = await Deno.connect({ hostname: "127.0.0.1", port: server.httpPort });
        await plain.write(encoder.encode("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
        const got = new TextDecoder().decode(await readToEnd(plain));
        assert.doesNotMatch(got, /"status"|200 OK/);
      });

      await t.step("GET /healthz over HTTPS answers with the counts", async () => {
        using client = Deno.createHttpClient({ caCerts: [pki.ca] });
        const response = await fetch(`https://127.0.0.1:${server.httpPort}/healthz`, { client });
        const stats = await response.json();
        assert.deepEqual([stats.status, stats.node.sessions, stats.node.users], ["ok", 2, 2]);
      });

      await t.step("main.ts --cert --key announces wss:// and TLS", async () => {
        await using main = SpawnedProcess.deno([
          "run",
          "-A",
          `${ROOT}main.ts`,
          "--host",
          "127.0.0.1",
          "--port",
          "0",
          "--tcp-port",
          "0",
          "--cert",
          pki.certPath,
          "--key",
          pki.keyPath,
        ], { cwd: ROOT });
        const ws = await main.expect("/ws", 20_000);
        const tcp = await main.expect(/ on 127\.0\.0\.1:\d+/);
        const port = Number(/:(\d+)\/ws/.exec(ws)![1]);
        using client = Deno.createHttpClient({ caCerts: [pki.ca] });
        const health = await fetch(`https://127.0.0.1:${port}/healthz`, { client });
        assert.equal((await health.json()).status, "ok");
        main.child.kill("SIGTERM");
        assert.equal((await main.status()).code, 0);
        const startup = `${ws}\n${tcp}`;
        assert.match(ws, /wss:\/\/127\.0\.0\.1:\d+\/ws/, `startup lines:\n${startup}`);
        assert.match(tcp, /TLS/, `startup lines:\n${startup}`);
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
