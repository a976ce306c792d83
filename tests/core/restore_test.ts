// Restoring sessions into a relay made again (a Durable Object that woke from
// hibernation): snapshotSession() takes what a connection needs, and
// restoreSession() makes it the same session again, telling nobody.
//
// Each test fails when the behaviour it names breaks, for instance:
// - restoreSession() greeting the session (hello, welcome) or announcing its
//   joins fails "quietly": someone receives something;
// - not claiming the name in the engine, or not registering it with Users,
//   fails "names stay taken" (a second ann logs in, or a direct to ann fails);
// - leaving out echo, batching, the resume or reclaim token, the current room
//   or the id fails "everything the snapshot names comes back";
// - adding the session to the relay's rooms but not the engine's presence (or
//   the reverse) fails the presence checks;
// - trusting a snapshot's rooms (duplicates, invalid names, more than
//   maxRoomsPerSession) fails "a snapshot is checked like input".

import assert from "node:assert/strict";
import {
  CloseCode,
  type Port,
  Relay,
  restoreSession,
  type Session,
  type SessionSnapshot,
  snapshotSession,
} from "../../core/mod.ts";
import { FakeClient, fakePort, jsonUser, ofType, type Received } from "../_fakes.ts";

/** Everything queued for `session`, parsed (batched frames split). */
function events(session: Session): Received[] {
  return session.outbound.take().flatMap((frame) =>
    (frame.data as string).split("\n").map((line) => JSON.parse(line))
  );
}

/** A session as a previous relay left it, and its snapshot. */
function snapshotOf(setup: (relay: Relay) => Session): SessionSnapshot {
  const snapshot = snapshotSession(setup(new Relay()));
  assert.ok(snapshot, "a live session has a snapshot");
  return structuredClone(snapshot); // as an attachment keeps it
}

function restore(relay: Relay, snapshot: SessionSnapshot): { session: Session; port: Port } {
  const port = fakePort("frames");
  return { session: restoreSession(relay, port, snapshot), port };
}

Deno.test("snapshotSession() names what a session needs: id, name, tokens, rooms, modes", () => {
  const relay = new Relay();
  const ann = jsonUser(relay, "ann", { echo: true });
  ann.send({ type: "hello", batch: true });
  ann.send({ type: "join", room: "den" });
  const session = ann.session;
  assert.deepEqual(snapshotSession(session), {
    v: 1,
    id: session.id,
    name: "ann",
    reclaim: session.reclaim,
    resume: session.resume,
    rooms: ["lobby", "den"],
    current: "den",
    echo: true,
    batch: true,
  });
});

Deno.test("snapshotSession() of a session not logged in has no name and no rooms; of a closed one, nothing", () => {
  const relay = new Relay();
  const client = new FakeClient(relay, "frames");
  assert.deepEqual(snapshotSession(client.session), {
    v: 1,
    id: client.session.id,
    rooms: [],
    echo: false,
    batch: false,
  });
  client.send({ type: "quit" });
  assert.equal(snapshotSession(client.session), undefined);
});

Deno.test("restoreSession() puts sessions back quietly: nobody receives anything", () => {
  const relay = new Relay();
  const annSnapshot = snapshotOf((old) => {
    const ann = jsonUser(old, "ann");
    ann.send({ type: "join", room: "den" });
    return ann.session;
  });
  const bobSnapshot = snapshotOf((old) => jsonUser(old, "bob").session);
  const ann = restore(relay, annSnapshot);
  const bob = restore(relay, bobSnapshot);
  assert.deepEqual([events(ann.session), events(bob.session)], [[], []]);
  assert.deepEqual(relay.stats(), { sessions: 2, users: 2, parked: 0, rooms: 2 });
  assert.deepEqual(relay.roomList(), [{ name: "den", members: 1 }, { name: "lobby", members: 2 }]);
});

Deno.test("restoreSession(): everything the snapshot names comes back", () => {
  const old = new Relay();
  const before = jsonUser(old, "ann", { echo: true });
  before.send({ type: "hello", batch: true });
  before.send({ type: "join", room: "den" });
  before.send({ type: "join", room: "attic" });
  before.send({ type: "join", room: "den" }); // current room: den again
  const snapshot = structuredClone(snapshotSession(before.session)!);
  const relay = new Relay();
  const { session } = restore(relay, snapshot);
  assert.equal(session.state, "ready");
  assert.equal(session.id, before.session.id);
  assert.equal(session.name, "ann");
  assert.equal(session.reclaim, before.session.reclaim);
  assert.equal(session.resume, before.session.resume);
  assert.deepEqual([...session.rooms], ["lobby", "den", "attic"]);
  assert.equal(session.currentRoom, "den");
  assert.equal(session.echo, true);
  assert.equal(session.outbound.batchText, true);
  assert.equal(session.ticket.pending, false, "counted as logged in");
  // It speaks and hears as before: echo on, batched.
  session.receiveText('{"type":"publish","room":"attic","text":"hi"}');
  session.receiveText('{"type":"ping","ref":"p"}');
  const messages = session.outbound.takeMessages();
  assert.equal(messages.length, 1, "one batched frame");
  assert.deepEqual(
    (messages[0] as string).split("\n").map((line) => JSON.parse(line).type),
    ["message", "pong"],
  );
});

Deno.test("restoreSession(): names stay taken and findable", () => {
  const relay = new Relay();
  const { session: ann } = restore(relay, snapshotOf((old) => jsonUser(old, "ann").session));
  const imposter = new FakeClient(relay, "frames");
  imposter.send({ type: "login", name: "ANN" });
  assert.equal(ofType(imposter.events(), "error")[0]?.code, "name_taken");
  const bob = jsonUser(relay, "bob");
  bob.send({ type: "direct", to: "ann", text: "psst" });
  const direct = ofType(events(ann), "direct").map((e) => [e.from, e.text]);
  assert.deepEqual(direct, [["bob", "psst"]]);
  // A user arriving now sees the restored one in presence.
  bob.events();
  bob.send({ type: "presence", room: "lobby" });
  assert.deepEqual(ofType(bob.events(), "presence")[0]?.members, ["ann", "bob"]);
});

Deno.test("restoreSession(): a restored session that drops is kept and resumed with its token", () => {
  const relay = new Relay();
  const snapshot = snapshotOf((old) => {
    const ann = jsonUser(old, "ann");
    ann.send({ type: "join", room: "den" });
    return ann.session;
  });
  const bob = jsonUser(relay, "bob");
  const { session } = restore(relay, snapshot);
  session.disconnect();
  assert.equal(relay.stats().parked, 1);
  const back = new FakeClient(relay, "frames");
  back.send({ type: "resume", token: snapshot.resume });
  const welcome = ofType(back.events(), "welcome")[0];
  assert.equal(welcome?.resumed, true);
  assert.equal(welcome?.session, snapshot.id);
  assert.deepEqual(welcome?.rooms, ["lobby", "den"]);
  assert.deepEqual(ofType(bob.events(), "left"), [], "bob never saw ann leave");
});

Deno.test("restoreSession() of a session not logged in gives one still to log in, without a hello", () => {
  const relay = new Relay();
  const snapshot = snapshotOf((old) => new FakeClient(old, "frames").session);
  const { session } = restore(relay, snapshot);
  assert.equal(session.state, "new");
  assert.deepEqual(events(session), [], "its hello was sent in its previous life");
  session.receiveText('{"type":"login","name":"cat"}');
  assert.equal(session.name, "cat");
  assert.ok(ofType(events(session), "welcome").length === 1);
});

Deno.test("restoreSession(): a snapshot is checked like input", () => {
  const relay = new Relay({ maxRoomsPerSession: 3 });
  const snapshot = snapshotOf((old) => jsonUser(old, "ann").session);
  const { session } = restore(relay, {
    ...snapshot,
    rooms: ["lobby", "lobby", "has space", 42 as unknown as string, "den", "attic", "cellar"],
    current: "nowhere",
  });
  assert.deepEqual([...session.rooms], ["lobby", "den", "attic"]);
  assert.equal(session.currentRoom, "attic", "an unknown current room falls back to the last");
  for (const bad of [null, {}, { v: 2, id: "x", rooms: [] }, { v: 1, rooms: [] }]) {
    assert.throws(
      () => restoreSession(relay, fakePort("frames"), bad as unknown as SessionSnapshot),
      TypeError,
    );
  }
  assert.throws(
    () => restoreSession(relay, fakePort("frames"), { ...snapshot, name: "has space" }),
    { code: "name_invalid" },
  );
});

Deno.test("restoreSession() on a relay that is closing closes the connection with 1013", () => {
  const relay = new Relay();
  relay.close();
  const port = fakePort("frames");
  const session = restoreSession(relay, port, snapshotOf((old) => jsonUser(old, "ann").session));
  assert.equal(session.state, "closed");
  assert.deepEqual(port.closes.map((close) => close.code), [CloseCode.tryAgainLater]);
  assert.equal(relay.stats().sessions, 0);
});
