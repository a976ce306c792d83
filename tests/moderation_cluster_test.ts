// Moderation across a cluster: redis-server and two `main.ts --redis` nodes
// with an operator password. A telnet operator on one node kicks, mutes and
// bans users connected to the other; a node started later keeps the ban.

import assert from "node:assert/strict";
import { TcpLineClient, within, WsJsonClient } from "./_helpers.ts";
import { cliNode, redisMissing, startRedis } from "./_redis.ts";

const ignore = redisMissing();
const FLAGS = ["--admin-password", "open sesame 1"];

Deno.test({
  name: "moderation cluster: a telnet operator on node A kicks, mutes and bans users on node B",
  ignore,
}, async () => {
  await using redis = await startRedis();
  const prefix = `mod${crypto.randomUUID().slice(0, 8)}:`;
  await using a = await cliNode(redis, prefix, FLAGS);
  await using b = await cliNode(redis, prefix, FLAGS);
  await using op = await TcpLineClient.login(a.tcpPort, "op");
  await op.send("/oper open sesame 1");
  await op.expect("-!- You are now an operator.");
  await using watcher = await WsJsonClient.login(b.wsUrl, "watcher");
  await using tess = await TcpLineClient.login(b.tcpPort, "tess");

  // A kick reaches the node holding the user; everyone in the room sees it once.
  {
    await using bob = await WsJsonClient.login(b.wsUrl, "bob");
    await watcher.expect((e) => e.type === "joined" && e.name === "bob");
    await op.send("/kick bob off topic");
    await op.expect("-!- bob was kicked.");
    const seen = await watcher.expect("moderated");
    assert.deepEqual(
      [seen.action, seen.name, seen.by, seen.reason, seen.room],
      ["kick", "bob", "op", "off topic", "lobby"],
    );
    await tess.expect("-!- [lobby] bob was kicked by op (off topic)");
    await op.expect("-!- [lobby] bob was kicked by op (off topic)");
    const closed = await within(bob.closed, 5000, "bob to be closed");
    assert.equal(closed.code, 4010);
  }

  // A mute made on A holds on B, where the user speaks.
  await op.send("/mute tess 1 calm down");
  await op.expect((line: string) => line.startsWith("-!- tess is muted until"));
  await tess.expect((line: string) => line.startsWith("-!- [lobby] tess was muted by op until"));
  await tess.send("can I speak?");
  await tess.expect((line: string) => line.startsWith("-!- error muted: you are muted for"));
  await op.send("/unmute tess");
  await tess.expect("-!- [lobby] tess was unmuted by op");
  await tess.send("thanks");
  await op.expect("[lobby] tess: thanks");

  // A ban made on A refuses the name on B, and on a node that starts after it.
  {
    await using eve = await WsJsonClient.login(b.wsUrl, "eve");
    await op.send("/ban eve 10 spam");
    const closed = await within(eve.closed, 5000, "eve to be closed");
    assert.equal(closed.code, 4011);
  }
  await using c = await cliNode(redis, prefix, FLAGS);
  for (const node of [b, c]) {
    await using again = await WsJsonClient.open(node.wsUrl);
    again.send({ type: "login", name: "eve" });
    const refused = await again.expect("error");
    assert.equal(refused.code, "banned");
    assert.equal((await within(again.closed, 5000, "the refused login to close")).code, 4011);
  }
  // A topic set on A reaches B's members and a joiner on the late node.
  await op.send("/topic cluster-wide topic");
  assert.equal((await watcher.expect("topic")).text, "cluster-wide topic");
  await using late = await WsJsonClient.login(c.wsUrl, "late");
  assert.equal((await late.expect("topic")).text, "cluster-wide topic");
});
