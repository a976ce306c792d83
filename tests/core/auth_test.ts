// Tokens and room permissions in the core: who logs in under which name,
// what a token's rooms allow, the server's room rules, refresh and expiry,
// in JSON and in text mode.

import assert from "node:assert/strict";
import { Relay } from "../../mod.ts";
import { errorOf, FakeClient, ofType, relayWithTokens } from "../_fakes.ts";

const HOUR = 3_600_000;

const relayWith = relayWithTokens;

/** Lets the stand-in verifier's promise settle (a macrotask: the relay's chain then runs). */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

async function tokenUser(relay: Relay, token: string, framing: "frames" | "lines" = "frames") {
  const client = new FakeClient(relay, framing);
  if (framing === "frames") client.send({ type: "login", token });
  else client.type(`/auth ${token}\r\n`);
  await settle();
  return client;
}

Deno.test("tokens: a login with a token takes the token's name, not the one asked for", async () => {
  const { relay } = relayWith({ t1: { subject: "u-1", name: "ann" } });
  const client = new FakeClient(relay, "frames");
  client.send({ type: "login", name: "mallory", token: "t1" });
  await settle();
  const welcome = ofType(client.events(), "welcome")[0]!;
  assert.equal(welcome.name, "ann");
  assert.equal(client.session.identity?.subject, "u-1");
  assert.equal(relay.counters.logins.token, 1);
});

Deno.test("tokens: without a name claim the name is the subject", async () => {
  const { relay } = relayWith({ t1: { subject: "bob" } });
  const client = await tokenUser(relay, "t1");
  assert.equal(ofType(client.events(), "welcome")[0]!.name, "bob");
});

Deno.test("tokens: a bad token is refused with auth_failed and the connection stays", async () => {
  const { relay } = relayWith({});
  const client = new FakeClient(relay, "frames");
  client.send({ type: "login", token: "forged", ref: "l1" });
  await settle();
  const error = errorOf(client.events());
  assert.equal(error.code, "auth_failed");
  assert.equal(error.ref, "l1");
  assert.ok(!String(error.message).includes("forged"), "the token is not repeated");
  assert.equal(client.session.state, "new");
  assert.equal(relay.counters.authFailures, 1);
});

Deno.test("tokens: a token on a server without a verifier is refused", () => {
  const relay = new Relay();
  const client = new FakeClient(relay, "frames");
  client.send({ type: "login", token: "t1" });
  assert.equal(errorOf(client.events()).code, "auth_failed");
});

Deno.test("tokens: require-auth refuses anonymous users in JSON and text mode", () => {
  const { relay } = relayWith({}, { requireAuth: true });
  const json = new FakeClient(relay, "frames");
  json.send({ type: "login", name: "ann" });
  assert.equal(errorOf(json.events()).code, "auth_required");
  const text = new FakeClient(relay, "lines");
  text.lines();
  text.type("ann\r\n");
  const lines = text.lines();
  assert.ok(lines.some((line) => line.includes("auth_required") && line.includes("/auth TOKEN")));
  assert.equal(relay.stats().users, 0);
});

Deno.test("tokens: without require-auth anonymous users log in as before", () => {
  const { relay } = relayWith({});
  const client = new FakeClient(relay, "frames");
  client.send({ type: "login", name: "ann" });
  assert.equal(ofType(client.events(), "welcome")[0]!.name, "ann");
  assert.equal(relay.counters.logins.anonymous, 1);
});

Deno.test("tokens: a WebSocket URL's token is used by a login without one", async () => {
  const { relay } = relayWith({ t1: { name: "ann" } });
  const client = new FakeClient(relay, "frames");
  client.session.presentedToken = "t1";
  client.send({ type: "login", name: "" });
  await settle();
  assert.equal(ofType(client.events(), "welcome")[0]!.name, "ann");
});

Deno.test("tokens: /auth TOKEN logs a telnet user in under the token's name", async () => {
  const { relay } = relayWith({ t1: { name: "ann" } });
  const client = await tokenUser(relay, "t1", "lines");
  assert.ok(client.lines().some((line) => line.startsWith("-!- Welcome, ann!")));
});

Deno.test("grants: a token granting one room cannot be used for another, in JSON and text", async () => {
  const { relay } = relayWith({
    t1: { name: "ann", rooms: { "support-*": ["join", "publish", "history"] } },
    t2: { name: "bob", rooms: { "support-*": ["join", "publish", "history"] } },
  });
  const ann = await tokenUser(relay, "t1");
  const welcome = ofType(ann.events(), "welcome")[0]!;
  assert.deepEqual(welcome.rooms, [], "the lobby is not granted, and a pattern is not a room");
  ann.send({ type: "join", room: "support-eu", ref: "j1" });
  assert.deepEqual(ofType(ann.events(), "error"), []);
  ann.send({ type: "join", room: "sales", ref: "j2" });
  assert.equal(errorOf(ann.events()).code, "forbidden");
  ann.send({ type: "publish", room: "lobby", text: "hi", ref: "p1" });
  assert.equal(errorOf(ann.events()).code, "forbidden");

  const bob = await tokenUser(relay, "t2", "lines");
  bob.lines();
  bob.type("/join sales\r\n");
  assert.ok(bob.lines().some((line) => line.includes("error forbidden")));
  bob.type("/join support-us\r\n");
  assert.ok(bob.lines().some((line) => line.includes("[support-us] bob joined")));
});

Deno.test("grants: join without publish reads but cannot post; without history no replay", async () => {
  const { relay } = relayWith({
    writer: { name: "wren", rooms: { news: ["join", "publish", "history"] } },
    reader: { name: "rita", rooms: { news: ["join"] } },
  });
  const wren = await tokenUser(relay, "writer");
  assert.deepEqual(ofType(wren.events(), "welcome")[0]!.rooms, ["news"]);
  wren.send({ type: "publish", room: "news", text: "first" });
  const rita = await tokenUser(relay, "reader");
  const events = rita.events();
  assert.deepEqual(ofType(events, "welcome")[0]!.rooms, ["news"]);
  rita.send({ type: "history", room: "news", ref: "h" });
  assert.equal(errorOf(rita.events()).code, "forbidden");
  rita.send({ type: "publish", room: "news", text: "me too" });
  assert.equal(errorOf(rita.events()).code, "forbidden");
  wren.send({ type: "publish", room: "news", text: "second" });
  assert.equal(ofType(rita.events(), "message")[0]!.text, "second", "a reader still receives");
});

Deno.test("grants: a token's name cannot be changed with nick", async () => {
  const { relay } = relayWith({ t1: { name: "ann" } });
  const ann = await tokenUser(relay, "t1");
  ann.events();
  ann.send({ type: "nick", name: "queen" });
  assert.equal(errorOf(ann.events()).code, "forbidden");
});

Deno.test("rules: a private room takes only tokens that grant it, and is not listed to others", async () => {
  const { relay } = relayWith(
    { staff: { name: "sam", rooms: { "staff-*": ["join", "publish"], lobby: ["join"] } } },
    { rooms: { "staff-*": { private: true } } },
  );
  const sam = await tokenUser(relay, "staff");
  sam.send({ type: "join", room: "staff-eu" });
  assert.deepEqual(ofType(sam.events(), "error"), []);
  const anon = new FakeClient(relay, "frames");
  anon.send({ type: "login", name: "ann" });
  anon.events();
  anon.send({ type: "join", room: "staff-eu" });
  assert.equal(errorOf(anon.events()).code, "forbidden");
  anon.send({ type: "presence", room: "staff-eu" });
  assert.equal(errorOf(anon.events()).code, "forbidden");
  anon.send({ type: "rooms" });
  const rooms = ofType(anon.events(), "rooms")[0]!;
  assert.deepEqual((rooms.rooms as { name: string }[]).map((room) => room.name), ["lobby"]);
  assert.equal(rooms.total, 1);
});

Deno.test("rules: a read-only room takes posts from admins and the server API only", async () => {
  const { relay } = relayWith({ boss: { name: "boss", admin: true } }, {
    rooms: { announcements: { readOnly: true } },
  });
  const ann = new FakeClient(relay, "lines");
  ann.type("ann\r\n/join announcements\r\n");
  ann.lines();
  ann.type("hello?\r\n");
  assert.ok(
    ann.lines().some((line) => line.includes("error forbidden") && line.includes("read-only")),
  );
  const boss = await tokenUser(relay, "boss");
  boss.send({ type: "join", room: "announcements" });
  boss.send({ type: "publish", room: "announcements", text: "release at noon" });
  relay.api.publish("announcements", { text: "from the backend" });
  assert.deepEqual(
    ann.lines().filter((line) => line.startsWith("[announcements]")),
    ["[announcements] boss: release at noon", "[announcements] server: from the backend"],
  );
});

Deno.test("rules: a member limit turns the next joiner away with room_full", () => {
  const relay = new Relay({ rooms: { small: { maxMembers: 2 } } });
  const users = ["ann", "bob", "cid"].map((name) => {
    const client = new FakeClient(relay, "frames");
    client.send({ type: "login", name });
    client.send({ type: "join", room: "small" });
    return client;
  });
  const ann = users[0]!.events();
  assert.deepEqual(ofType(ann, "error"), []);
  assert.deepEqual(ofType(users[1]!.events(), "error"), []);
  const cid = users[2]!.events();
  assert.equal(errorOf(cid).code, "room_full");
  assert.ok(!cid.some((event) => event.type === "joined" && event.room === "small"));
  assert.ok(!users[2]!.session.rooms.has("small"));
  assert.deepEqual(
    ofType(ann, "joined").filter((event) => event.room === "small")
      .map((event) => event.name),
    ["ann", "bob"],
  );
});

Deno.test("refresh: a new token before expiry keeps the session; for someone else it is refused", async () => {
  const { relay, clock } = relayWith({
    old: { subject: "u-1", name: "ann", expires: 1_700_000_000_000 + 60_000 },
    fresh: { subject: "u-1", name: "ann", expires: 1_700_000_000_000 + HOUR },
    other: { subject: "u-2", name: "bob" },
  });
  const ann = await tokenUser(relay, "old");
  ann.events();
  ann.send({ type: "refresh", token: "other", ref: "r0" });
  await settle();
  assert.equal(errorOf(ann.events()).code, "forbidden");
  ann.send({ type: "refresh", token: "fresh", ref: "r1" });
  await settle();
  assert.equal(ofType(ann.events(), "notice")[0]!.ref, "r1");
  clock.set(1_700_000_000_000 + 120_000);
  relay.sweep();
  assert.deepEqual(ann.events(), [], "the old expiry no longer counts");
  assert.equal(relay.counters.refreshes, 1);
});

Deno.test("refresh: after expiry the user is told, may refresh within the grace, else 4003", async () => {
  const start = 1_700_000_000_000;
  const { relay, clock } = relayWith({
    short: { subject: "u-1", name: "ann", expires: start + 1000 },
    late: { subject: "u-1", name: "ann", expires: start + HOUR },
    short2: { subject: "u-2", name: "bob", expires: start + 1000 },
  }, { tokenGraceMs: 10_000 });
  const ann = await tokenUser(relay, "short");
  const bob = await tokenUser(relay, "short2");
  ann.events();
  bob.events();
  clock.set(start + 2000);
  relay.sweep();
  assert.equal(errorOf(ann.events()).code, "token_expired");
  assert.equal(errorOf(bob.events()).code, "token_expired");
  ann.send({ type: "refresh", token: "late" });
  await settle();
  ann.events();
  clock.set(start + 13_000);
  relay.sweep();
  assert.equal(ann.session.state, "ready", "refreshed within the grace");
  assert.equal(bob.session.state, "closed");
  assert.deepEqual(bob.port.closes.at(-1)?.code, 4003);
  assert.equal(ofType(bob.events(), "error")[0]!.code, "token_expired");
});

Deno.test("oper: the right password makes an admin; wrong ones are refused, then closed", () => {
  const relay = new Relay({ adminPassword: "correct horse" });
  const ann = new FakeClient(relay, "lines");
  ann.type("ann\r\n");
  ann.lines();
  ann.type("/oper wrong\r\n");
  assert.ok(ann.lines().some((line) => line.includes("error forbidden")));
  ann.type("/oper correct horse\r\n");
  assert.ok(ann.lines().includes("-!- You are now an operator."));
  assert.ok(ann.session.admin);
  const bob = new FakeClient(relay, "frames");
  bob.send({ type: "login", name: "bob" });
  for (let i = 0; i < 3; i++) {
    bob.send({ type: "oper", password: `guess${i}` });
  }
  assert.equal(bob.session.state, "closed");
  assert.ok(!bob.session.admin);
});

Deno.test("names: nobody may take the name the server API speaks under, by name or token", async () => {
  const { relay } = relayWith({ t1: { name: "Server" } });
  const text = new FakeClient(relay, "lines");
  text.lines();
  text.type("server\r\n");
  assert.ok(
    text.lines().some((line) => line.includes("error name_taken") && line.includes("server's own")),
  );
  const json = new FakeClient(relay, "frames");
  json.send({ type: "login", name: "SERVER" });
  assert.equal(errorOf(json.events()).code, "name_taken");
  const token = await tokenUser(relay, "t1");
  assert.equal(errorOf(token.events()).code, "name_taken");
  const ann = new FakeClient(relay, "frames");
  ann.send({ type: "login", name: "ann" });
  ann.events();
  ann.send({ type: "nick", name: "server" });
  assert.equal(errorOf(ann.events()).code, "name_taken");
});

Deno.test("tokens: an identity whose expiry no date can hold is refused", async () => {
  const { relay } = relayWith({ far: { name: "ann", expires: 9e15 } });
  const client = await tokenUser(relay, "far");
  assert.equal(errorOf(client.events()).code, "auth_failed");
});

Deno.test("oper: one address gets 10 wrong passwords per 10 minutes, however many connections", () => {
  const clock = { t: 1_700_000_000_000 };
  const relay = new Relay({ adminPassword: "correct horse", now: () => clock.t });
  const port = { framing: "frames" as const, wake: () => {}, close: () => {} };
  const guesser = (address: string) => {
    const session = relay.connect(port, { remoteAddress: address });
    session.receiveText('{"type":"login","name":"g' + crypto.randomUUID().slice(0, 8) + '"}');
    session.outbound.take();
    return session;
  };
  const lastError = (session: ReturnType<typeof guesser>) =>
    session.outbound.take().map((frame) => JSON.parse(frame.data as string)).at(-1);
  for (let i = 0; i < 10; i++) {
    const session = guesser("127.0.0.5");
    session.receiveText(`{"type":"oper","password":"guess ${i}"}`);
    assert.equal(lastError(session).code, "forbidden");
  }
  const tired = guesser("127.0.0.5");
  tired.receiveText('{"type":"oper","password":"correct horse"}');
  assert.equal(lastError(tired).code, "rate_limited", "even the right one waits");
  assert.ok(!tired.admin);
  const other = guesser("127.0.0.6");
  other.receiveText('{"type":"oper","password":"correct horse"}');
  assert.ok(other.admin, "another address is not held back");
  clock.t += 10 * 60_000 + 1;
  relay.sweep();
  const later = guesser("127.0.0.5");
  later.receiveText('{"type":"oper","password":"correct horse"}');
  assert.ok(later.admin);
});

Deno.test("oper: a connection closed for wrong passwords is not kept for a resume", () => {
  const relay = new Relay({ adminPassword: "correct horse" });
  const bob = new FakeClient(relay, "frames");
  bob.send({ type: "login", name: "bob" });
  bob.events();
  for (let i = 0; i < 3; i++) bob.send({ type: "oper", password: `guess${i}` });
  assert.equal(bob.session.state, "closed");
  assert.equal(relay.stats().parked, 0);
});
