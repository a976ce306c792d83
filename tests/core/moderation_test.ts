// Moderation in the core: kicks, bans, mutes and topics by an admin, seen by
// everyone in the room in text and JSON, refused to everyone else, expiring.

import assert from "node:assert/strict";
import { Relay } from "../../mod.ts";
import { errorOf, FakeClient, fakeClock, ofType } from "../_fakes.ts";

function operator(relay: Relay, name = "op"): FakeClient {
  const op = new FakeClient(relay, "lines");
  op.type(`${name}\r\n/oper sesame\r\n`);
  assert.ok(op.lines().includes("-!- You are now an operator."));
  return op;
}

function member(relay: Relay, name: string, framing: "lines" | "frames"): FakeClient {
  const client = new FakeClient(relay, framing);
  if (framing === "lines") client.type(`${name}\r\n`);
  else client.send({ type: "login", name });
  client.take();
  return client;
}

Deno.test("moderation: only admins may kick, ban, mute or set a topic", () => {
  const relay = new Relay({ adminPassword: "sesame" });
  const ann = member(relay, "ann", "lines");
  member(relay, "bob", "frames");
  for (const line of ["/kick bob", "/ban bob", "/mute bob", "/topic new", "/unban bob"]) {
    ann.type(line + "\r\n");
    assert.ok(
      ann.lines().some((l) => l.includes("error forbidden: only admins")),
      `${line} was not refused`,
    );
  }
  const json = member(relay, "cid", "frames");
  json.send({ type: "kick", name: "bob", ref: "k" });
  assert.equal(errorOf(json.events()).code, "forbidden");
  assert.equal(relay.stats().users, 3);
});

Deno.test("moderation: a kick closes the user with 4010; the room sees it in text and JSON", () => {
  const relay = new Relay({ adminPassword: "sesame" });
  const op = operator(relay);
  const text = member(relay, "tina", "lines");
  const json = member(relay, "jay", "frames");
  const bob = member(relay, "bob", "frames");
  op.type("/kick bob spamming links\r\n");
  assert.ok(op.lines().includes("-!- [lobby] bob was kicked by op (spamming links)"));
  assert.ok(text.lines().includes("-!- [lobby] bob was kicked by op (spamming links)"));
  const seen = ofType(json.events(), "moderated")[0]!;
  assert.deepEqual(
    { action: seen.action, name: seen.name, by: seen.by, reason: seen.reason, room: seen.room },
    { action: "kick", name: "bob", by: "op", reason: "spamming links", room: "lobby" },
  );
  const last = bob.events();
  assert.equal(errorOf(last).code, "kicked");
  assert.equal(bob.port.closes.at(-1)?.code, 4010);
  assert.equal(relay.stats().parked, 0, "a kicked session is not kept for a resume");
  // The name is free at once.
  member(relay, "bob", "frames");
  assert.equal(relay.counters.disconnects.get("kicked"), 1);
});

Deno.test("moderation: a name ban closes with 4011, refuses the name until it ends or is lifted", () => {
  const clock = fakeClock();
  const relay = new Relay({ adminPassword: "sesame", now: clock.now });
  const op = operator(relay);
  const bob = member(relay, "bob", "frames");
  op.type("/ban bob 5 flooding\r\n");
  assert.ok(op.lines().some((line) => line.includes("bob was banned by op until")));
  assert.equal(bob.port.closes.at(-1)?.code, 4011);
  const again = new FakeClient(relay, "frames");
  again.send({ type: "login", name: "BOB" });
  assert.equal(errorOf(again.events()).code, "banned");
  assert.equal(again.port.closes.at(-1)?.code, 4011);
  clock.set(clock.now() + 5 * 60_000 + 1);
  relay.sweep();
  member(relay, "bob", "frames");
});

Deno.test("moderation: an unban lets the name back in", () => {
  const relay = new Relay({ adminPassword: "sesame" });
  const op = operator(relay);
  member(relay, "bob", "frames");
  op.type("/ban bob\r\n/unban bob\r\n");
  assert.ok(op.lines().includes("-!- bob is no longer banned."));
  member(relay, "bob", "frames");
});

Deno.test("moderation: an address ban closes everyone from it and refuses new connections", () => {
  const relay = new Relay({ adminPassword: "sesame" });
  const op = operator(relay);
  const port = { framing: "frames" as const, wake: () => {}, close: () => {} };
  const from = relay.connect(port, { remoteAddress: "127.0.0.9" });
  from.receiveText('{"type":"login","name":"eve"}');
  const idle = relay.connect(port, { remoteAddress: "127.0.0.9" });
  op.type("/ban 127.0.0.9 10\r\n");
  assert.ok(op.lines().some((line) => line.includes("127.0.0.9 is banned until")));
  assert.equal(from.state, "closed");
  assert.equal(idle.state, "closed", "connections not logged in yet go too");
  const refused = relay.connect(port, { remoteAddress: "127.0.0.9" });
  assert.equal(refused.state, "closed");
  const other = relay.connect(port, { remoteAddress: "127.0.0.10" });
  assert.equal(other.state, "new");
});

Deno.test("moderation: a mute stops room and private messages until it ends; the room is told", () => {
  const clock = fakeClock();
  const relay = new Relay({ adminPassword: "sesame", now: clock.now });
  const op = operator(relay);
  const bob = member(relay, "bob", "lines");
  const ann = member(relay, "ann", "frames");
  op.type("/mute bob 2 calm down\r\n");
  op.lines();
  assert.ok(bob.lines().some((line) => line.startsWith("-!- [lobby] bob was muted by op until")));
  assert.equal(ofType(ann.events(), "moderated")[0]!.action, "mute");
  bob.type("hello?\r\n/msg ann psst\r\n");
  const refused = bob.lines();
  assert.equal(refused.filter((line) => line.includes("error muted")).length, 2, String(refused));
  assert.deepEqual(ofType(ann.events(), "message"), []);
  clock.set(clock.now() + 2 * 60_000 + 1);
  relay.sweep();
  bob.type("back\r\n");
  assert.equal(ofType(ann.events(), "message")[0]!.text, "back");
});

Deno.test("moderation: a topic reaches the room, a later joiner, and /topic shows it", () => {
  const relay = new Relay({ adminPassword: "sesame" });
  const op = operator(relay);
  const ann = member(relay, "ann", "frames");
  op.type("/topic Release day: be kind\r\n");
  op.lines();
  const topic = ofType(ann.events(), "topic")[0]!;
  assert.deepEqual([topic.room, topic.text, topic.by], ["lobby", "Release day: be kind", "op"]);
  const late = new FakeClient(relay, "lines");
  late.type("late\r\n");
  assert.ok(late.lines().includes("-!- [lobby] topic: Release day: be kind (set by op)"));
  late.type("/topic\r\n");
  assert.ok(late.lines().includes("-!- [lobby] topic: Release day: be kind (set by op)"));
});

Deno.test("moderation: the server API kicks and bans by name as `server`", async () => {
  const relay = new Relay();
  const ann = member(relay, "ann", "frames");
  const bob = member(relay, "bob", "frames");
  assert.equal(await relay.api.disconnect("bob", "bye"), "bob was kicked.");
  assert.equal(bob.port.closes.at(-1)?.code, 4010);
  const seen = ofType(ann.events(), "moderated")[0]!;
  assert.equal(seen.by, "server");
  await assert.rejects(async () => await relay.api.disconnect("nobody"), /nobody called/);
});

Deno.test("moderation: a session banned while it waited to be resumed is not given back", () => {
  const relay = new Relay({ adminPassword: "sesame" });
  const op = operator(relay);
  const bob = member(relay, "bob", "frames");
  const token = bob.session.resume!;
  bob.session.disconnect();
  assert.equal(relay.stats().parked, 1);
  op.type("/ban bob 10\r\n");
  const back = new FakeClient(relay, "frames");
  back.send({ type: "resume", token });
  assert.equal(errorOf(back.events()).code, "banned");
  assert.equal(back.port.closes.at(-1)?.code, 4011);
});
