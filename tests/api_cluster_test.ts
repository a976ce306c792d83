// The server API on a cluster: redis-server and two `main.ts --redis` nodes
// with --api-key. A backend that talks to node A reaches users on node B:
// publish, direct, presence, disconnect, ban and unban.

import assert from "node:assert/strict";
import { eventually, TcpLineClient, within, WsJsonClient } from "./_helpers.ts";
import { cliNode, redisMissing, startRedis } from "./_redis.ts";
import type { CliServer } from "./_server_helpers.ts";

const ignore = redisMissing();
const KEY = "cluster-key-0123456789abcdef";

// deno-lint-ignore no-explicit-any -- tests read arbitrary fields
async function call(node: CliServer, path: string, body?: unknown): Promise<[number, any]> {
  const headers = { authorization: `Bearer ${KEY}` };
  const response = await fetch(
    `http://127.0.0.1:${node.httpPort}${path}`,
    body === undefined ? { headers } : { method: "POST", headers, body: JSON.stringify(body) },
  );
  return [response.status, await response.json()];
}

Deno.test({
  name: "API cluster: a backend on node A publishes to, finds, disconnects and bans users on B",
  ignore,
}, async () => {
  await using redis = await startRedis();
  const prefix = `api${crypto.randomUUID().slice(0, 8)}:`;
  await using a = await cliNode(redis, prefix, ["--api-key", KEY]);
  await using b = await cliNode(redis, prefix, ["--api-key", KEY]);
  await using tess = await TcpLineClient.login(a.tcpPort, "tess");
  await using wes = await WsJsonClient.login(b.wsUrl, "wes");
  await tess.expect("-!- [lobby] wes joined");

  // A publish on A reaches both nodes' users, and the history that B serves.
  const [status, sent] = await call(a, "/api/publish", { room: "lobby", text: "from the backend" });
  assert.equal(status, 200, JSON.stringify(sent));
  const heard = await wes.expect((e) => e.type === "message" && e.id === sent.id);
  assert.equal(heard.from, "server");
  assert.equal(heard.text, "from the backend");
  await tess.expect("[lobby] server: from the backend");
  wes.send({ type: "history", room: "lobby", ref: "h" });
  await wes.expect((e) => e.type === "history" && e.ref === "h");
  assert.equal((await wes.expect("message")).id, sent.id);

  // Private messages, presence and the room list see the whole cluster.
  assert.deepEqual(await call(a, "/api/direct", { to: "wes", text: "psst" }), [200, { ok: true }]);
  const direct = await wes.expect("direct");
  assert.deepEqual([direct.from, direct.to, direct.text], ["server", "wes", "psst"]);
  assert.equal((await call(a, "/api/direct", { to: "nobody", text: "hi" }))[0], 404);
  const [, presence] = await call(a, "/api/presence?room=lobby");
  assert.deepEqual([...presence.members].sort(), ["tess", "wes"]);
  assert.equal(presence.count, 2);
  assert.deepEqual((await call(a, "/api/rooms"))[1], {
    rooms: [{ name: "lobby", members: 2 }],
    total: 1,
  });

  // A disconnect on A closes the user on B; the room, on both nodes, sees why.
  const [kicked, kick] = await call(a, "/api/disconnect", { name: "wes", reason: "maintenance" });
  assert.equal(kicked, 200, JSON.stringify(kick));
  assert.equal((await within(wes.closed, 5000, "wes to be closed")).code, 4010);
  await tess.expect("-!- [lobby] wes was kicked by server (maintenance)");

  // A ban on A closes the user on B and refuses the name there, until it is lifted.
  {
    const bob = await WsJsonClient.login(b.wsUrl, "bob");
    await tess.expect("-!- [lobby] bob joined");
    const [banned, ban] = await call(a, "/api/ban", { target: "bob", minutes: 5 });
    assert.equal(banned, 200, JSON.stringify(ban));
    assert.equal((await within(bob.closed, 5000, "bob to be closed")).code, 4011);
  }
  await using refused = await WsJsonClient.open(b.wsUrl);
  refused.send({ type: "login", name: "bob" });
  assert.equal((await refused.expect("error")).code, "banned");
  assert.equal((await refused.closed).code, 4011);

  assert.equal((await call(a, "/api/unban", { target: "bob" }))[0], 200);
  // B hears the unban shortly after A answers: try until it lets bob in.
  let back: WsJsonClient | undefined;
  await eventually(async () => {
    const attempt = await WsJsonClient.open(b.wsUrl);
    attempt.send({ type: "login", name: "bob" });
    const answer = await attempt.expect((e) => e.type === "welcome" || e.type === "error");
    if (answer.type === "welcome") return (back = attempt, true);
    await attempt.close();
    return false;
  }, "node B to let bob in again");
  await using _back = back!;
  await tess.expect("-!- [lobby] bob joined");
});
