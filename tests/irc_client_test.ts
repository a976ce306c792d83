// Real IRC clients nobody here wrote, against the real server: Python's `irc`
// library (python3-irc) driven through stdin, and irssi in a tmux pane. Each
// registers, joins, hears a WebSocket user, answers, changes nick and quits.
// A missing client skips loudly; under CI=true it fails.

import assert from "node:assert/strict";
import { SpawnedProcess, startTestServer, TcpLineClient, WsJsonClient } from "./_helpers.ts";
import { ircClientMissing, IRSSI, PYTHON_IRC } from "./_irc.ts";
import { ignoreTmux, requireTmux, TmuxPane } from "./_tmux.ts";

const SCRIPT = new URL("./irc_python_client.py", import.meta.url).pathname;

Deno.test({
  name: "IRC: python3-irc registers, joins, hears the web, answers, renames and quits",
  ignore: ircClientMissing("python3-irc", PYTHON_IRC !== undefined, "python3-irc"),
}, async () => {
  await using server = await startTestServer();
  await using wes = await WsJsonClient.login(server.wsUrl, "wes");
  await using tess = await TcpLineClient.login(server.tcpPort, "tess");
  await using py = new SpawnedProcess(
    PYTHON_IRC!,
    [SCRIPT, "127.0.0.1", String(server.tcpPort), "wes"],
    { stdin: true },
  );
  try {
    await pythonSession(py, wes, tess);
  } catch (error) {
    throw new Error(
      `${(error as Error).message}\npython3-irc's stderr:\n${py.stderr.seen.join("\n")}`,
    );
  }
  await py.closeStdin();
  assert.equal((await py.child.status).code, 0);
});

async function pythonSession(py: SpawnedProcess, wes: WsJsonClient, tess: TcpLineClient) {
  // "wes" is taken: the client hears 433 and registers as "wes_".
  await py.expect("NICKINUSE wes");
  await py.expect("WELCOME wes_");
  await py.expect("JOINED #lobby");
  await py.expect(/^NAMES #lobby .*\bwes_\b/);
  await wes.expect((e) => e.type === "joined" && e.name === "wes_");

  wes.send({ type: "publish", room: "lobby", text: "hello, IRC client" });
  await py.expect("PUBMSG wes #lobby hello, IRC client");
  await tess.send("/me waves");
  await py.expect("ACTION tess #lobby waves");
  await py.write("say #lobby hello back from python\n");
  const heard = await wes.expect((e) => e.type === "message" && e.from === "wes_");
  assert.equal(heard.text, "hello back from python");
  await tess.expect("[lobby] wes_: hello back from python");
  wes.send({ type: "direct", to: "wes_", text: "psst" });
  await py.expect("PRIVMSG wes wes_ psst");

  await py.write("nick pyro\n");
  await py.expect("NICK wes_ pyro");
  await wes.expect((e) => e.type === "renamed" && e.from === "wes_" && e.to === "pyro");
  await py.write("quit bye\n");
  await py.expect("DISCONNECTED");
  await wes.expect((e) => e.type === "left" && e.name === "pyro");
  await tess.expect("-!- [lobby] pyro disconnected");
}

Deno.test({
  name: "IRC: irssi in a terminal connects, joins #lobby and chats with the web and telnet",
  ignore: ircClientMissing("irssi", IRSSI, "irssi") || ignoreTmux,
}, async () => {
  requireTmux();
  await using server = await startTestServer();
  await using wes = await WsJsonClient.login(server.wsUrl, "wes");
  await using tess = await TcpLineClient.login(server.tcpPort, "tess");
  const home = await Deno.makeTempDir({ prefix: "crosswire_irssi_" });
  try {
    await using pane = await TmuxPane.start(
      ["irssi", `--home=${home}`, "-c", "127.0.0.1", "-p", String(server.tcpPort), "-n", "irene"],
      { cwd: home, env: { TERM: "screen-256color", LANG: "C.UTF-8" }, width: 120, height: 40 },
    );
    await wes.expect((e) => e.type === "joined" && e.name === "irene");
    const shows = (pattern: RegExp) =>
      pane.waitFor((screen) => screen.some((line) => pattern.test(line)), String(pattern));
    const enter = async (line: string) => {
      await pane.type(line);
      await pane.press("Enter");
    };
    await enter("/join #lobby");
    wes.send({ type: "publish", room: "lobby", text: "hello irssi" });
    await shows(/wes.*hello irssi/);
    await enter("hello from irssi");
    const heard = await wes.expect((e) => e.type === "message" && e.from === "irene");
    assert.equal(heard.text, "hello from irssi");
    await tess.expect("[lobby] irene: hello from irssi");
    await tess.send("hi irene");
    await shows(/tess.*hi irene/);
    await enter("/nick irena");
    await wes.expect((e) => e.type === "renamed" && e.from === "irene" && e.to === "irena");
    await enter("/quit see you");
    await wes.expect((e) => e.type === "left" && e.name === "irena");
    await tess.expect("-!- [lobby] irena disconnected");
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});
