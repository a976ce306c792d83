// IRC across a cluster: redis-server and three `main.ts --redis` nodes, an IRC
// user on one, a telnet user on another and a WebSocket user on the third.

import assert from "node:assert/strict";
import { TcpLineClient, WsJsonClient } from "./_helpers.ts";
import { ircLogin } from "./_irc.ts";
import { cliNode, redisMissing, startRedis } from "./_redis.ts";

const ignore = redisMissing();

Deno.test({
  name: "IRC cluster: IRC, telnet and WebSocket users on three nodes share a room",
  ignore,
}, async () => {
  await using redis = await startRedis();
  const prefix = `irc${crypto.randomUUID().slice(0, 8)}:`;
  await using a = await cliNode(redis, prefix);
  await using b = await cliNode(redis, prefix);
  await using c = await cliNode(redis, prefix);
  await using wes = await WsJsonClient.login(c.wsUrl, "wes");
  await using tess = await TcpLineClient.login(b.tcpPort, "tess");
  await using ian = await ircLogin(a.tcpPort, "ian");
  await wes.expect((e) => e.type === "joined" && e.name === "ian");
  await tess.expect("-!- [lobby] ian joined");

  // A nick taken on another node is 433 here, as on one node.
  await using other = await TcpLineClient.connect(a.tcpPort);
  await other.write("NICK wes\r\nUSER x 0 * :x\r\n");
  await other.expect(':crosswire 433 * wes :the name "wes" is taken; try another');
  await other.close();

  await tess.send("/join games");
  await tess.expect("-!- [games] 1 here: tess");
  wes.send({ type: "join", room: "games" });
  await wes.expect((e) => e.type === "presence" && e.room === "games");
  await ian.send("JOIN #games");
  await ian.expect(":ian!ian@crosswire JOIN #games");
  await ian.expect((line) =>
    line.startsWith(":crosswire 353 ian = #games :") && line.includes("wes")
  );

  await ian.send("PRIVMSG #games :hello from irc");
  assert.equal(
    (await wes.expect((e) => e.type === "message" && e.from === "ian")).text,
    "hello from irc",
  );
  await tess.expect("[games] ian: hello from irc");
  wes.send({ type: "publish", room: "games", text: "hello from the web" });
  await ian.expect(":wes!wes@crosswire PRIVMSG #games :hello from the web");
  await tess.send("/me waves");
  await ian.expect(":tess!tess@crosswire PRIVMSG #games :\x01ACTION waves\x01");

  // Private messages, WHOIS and presence reach across nodes.
  await ian.send("PRIVMSG wes :psst");
  assert.equal((await wes.expect("direct")).text, "psst");
  await tess.send("/msg ian hi");
  await ian.expect(":tess!tess@crosswire PRIVMSG ian :hi");
  await ian.send("WHOIS tess");
  await ian.expect(":crosswire 311 ian tess tess crosswire * :tess");
  await ian.send("NAMES #lobby");
  await ian.expect((line) =>
    /^:crosswire 353 ian = #lobby :/.test(line) &&
    ["wes", "tess", "ian"].every((n) => line.includes(n))
  );

  // A rename and a quit are the same events for everyone, everywhere.
  await ian.send("NICK ianto");
  await ian.expect(":ian!ian@crosswire NICK :ianto");
  await wes.expect((e) => e.type === "renamed" && e.from === "ian" && e.to === "ianto");
  await tess.expect("-!- [games] ian is now ianto");
  await ian.send("QUIT");
  await ian.expectClosed();
  await wes.expect((e) => e.type === "left" && e.name === "ianto" && e.room === "games");
  await tess.expect("-!- [games] ianto disconnected");
});
