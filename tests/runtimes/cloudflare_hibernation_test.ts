// Hibernation for real: the relay's Durable Object, run by `wrangler dev`
// (workerd), is dropped from memory while its WebSockets stay open, and wakes
// for the next message with every session as it was (name, rooms, echo, the
// resume token, a snapshot of 32 long rooms), nobody told a thing.
// workerd hibernates an object 10 seconds after its last event, and nothing
// outside can see that happen without waking it, so this test waits that long.

import assert from "node:assert/strict";
import { launch } from "../conformance/launch.ts";
import { type Received, WsClient } from "../conformance/_ws_client.ts";
import {
  cloudflareCommand,
  LOOPBACK_FLAGS,
  WRANGLER_READY_MS,
  wranglerAvailable,
} from "./_cloudflare.ts";

const WRANGLER = await wranglerAvailable("tests/runtimes/cloudflare_hibernation_test.ts");

/** workerd's hibernation grace (10 s without an event), and some margin. */
const HIBERNATE_MS = 12_000;
/** Waits for a hibernation at most this many times (each check wakes the object). */
const MAX_WAITS = 3;

/** What /healthz says of the object besides the relay's counts. */
interface Health {
  node: { sessions: number; users: number; rooms: number };
  object: { startedAt: number; restored: number };
}

async function health(http: string): Promise<Health> {
  const response = await fetch(new URL("/healthz", http));
  assert.equal(response.status, 200, "GET /healthz");
  return await response.json() as Health;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const suffix = crypto.randomUUID().slice(0, 6);

/** The largest snapshot: 31 rooms (and the lobby) of 32 four-byte letters, about 5 KB. */
const LONG_ROOMS = Array.from(
  { length: 31 },
  (_, i) => String.fromCodePoint(0x1d4d0 + (i % 26)).repeat(30) + String(i).padStart(2, "0"),
);

// Joins/leaves seen after `from`: none may arrive across a hibernation.
function membershipNews(client: WsClient, from: number): Received[] {
  return client.inbox.seen.slice(from).filter((e) => e.type === "joined" || e.type === "left");
}

Deno.test({
  name: "cloudflare: a hibernated relay wakes with every session as it was, and nobody is told",
  ignore: !WRANGLER,
  sanitizeResources: true,
  sanitizeOps: true,
}, async () => {
  const { command, args, cwd } = cloudflareCommand(LOOPBACK_FLAGS);
  const server = await launch(command, args, { cwd, timeoutMs: WRANGLER_READY_MS });
  try {
    const den = `den-${suffix}`;
    await using ann = await WsClient.login(server.ws, `ann-${suffix}`, { echo: true });
    await using bob = await WsClient.login(server.ws, `bob-${suffix}`);
    await using cat = await WsClient.login(server.ws, `cat-${suffix}`);
    for (const client of [ann, bob]) {
      client.send({ type: "join", room: den });
      await client.expect((e) => e.type === "presence" && e.room === den, `presence in ${den}`);
    }
    for (const room of LONG_ROOMS) {
      cat.send({ type: "join", room });
      await cat.expect((e) => e.type === "presence" && e.room === room, "presence in a long room");
    }
    for (const client of [ann, bob, cat]) await client.roundTrip();
    const welcome = bob.inbox.seen.find((e) => e.type === "welcome")!;
    const before = await health(server.http);
    assert.equal(before.node.users, 3, "three users before");
    const marks = [ann, bob, cat].map((client) => client.inbox.seen.length);

    // Nothing at all for a while: the object hibernates (checked after the next event).
    let after = before;
    for (let wait = 1; wait <= MAX_WAITS; wait++) {
      await delay(HIBERNATE_MS);
      // A bare ping is the runtime's to answer (ts 0), asleep or not.
      cat.send('{"type":"ping"}');
      const pong = await cat.expect("pong", "the runtime's pong");
      assert.deepEqual(pong, { type: "pong", ts: 0 }, "answered by the runtime");
      ann.send({ type: "publish", room: den, text: `after sleep ${wait}` });
      const heard = await bob.expect((e) => e.type === "message", "ann's message after sleep");
      assert.equal(heard.from, ann.name, "from ann, under her name");
      assert.equal(heard.text, `after sleep ${wait}`);
      // Echo was kept: ann hears herself.
      await ann.expect((e) => e.type === "message" && e.text === `after sleep ${wait}`, "echo");
      after = await health(server.http);
      if (after.object.startedAt !== before.object.startedAt) break;
    }
    assert.notEqual(after.object.startedAt, before.object.startedAt, "the object hibernated");
    assert.equal(after.object.restored, 3, "the woken object restored every session");
    assert.equal(after.node.users, 3, "three users after");
    assert.equal(after.node.sessions, 3, "three connections after");

    // Rooms as they were: den for ann and bob, every long room for cat.
    bob.send({ type: "presence", room: den, ref: "den" });
    const presence = await bob.expect((e) => e.type === "presence" && e.ref === "den", "presence");
    assert.deepEqual([...presence.members].sort(), [ann.name, bob.name].sort(), "den's members");
    for (const room of [LONG_ROOMS[0]!, LONG_ROOMS.at(-1)!]) {
      cat.send({ type: "publish", room, text: "still here" });
      cat.send({ type: "presence", room, ref: room });
      const found = await cat.expect((e) => e.type === "presence" && e.ref === room, "presence");
      assert.deepEqual(found.members, [cat.name], `cat is still in ${room}`);
    }
    // Names stay taken.
    await using imposter = await WsClient.connect(server.ws);
    imposter.send({ type: "login", name: ann.name, ref: "taken" });
    await imposter.expectError("name_taken", "taken");
    // Nobody saw anyone leave or join across the sleep.
    for (const client of [ann, bob, cat]) await client.roundTrip();
    [ann, bob, cat].forEach((client, i) => {
      assert.deepEqual(membershipNews(client, marks[i]!), [], `${client.name} saw no join/leave`);
    });

    // The resume token kept in the snapshot still works after the wake.
    await bob.close();
    await using back = await WsClient.connect(server.ws);
    back.send({ type: "resume", token: welcome.resume, ref: "back" });
    const resumed = await back.expect((e) => e.type === "welcome" && e.ref === "back", "welcome");
    assert.equal(resumed.resumed, true, "resumed");
    assert.equal(resumed.name, bob.name, "under bob's name");
    assert.ok(resumed.rooms.includes(den), `back in ${den}`);
    back.name = bob.name;
  } catch (error) {
    console.error(`the server printed:\n${server.output()}`);
    throw error;
  } finally {
    await server.stop();
  }
});
