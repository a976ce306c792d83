import assert from "node:assert/strict";
import { CloseCode, encodeBinaryFrame, LOBBY, Relay } from "../../core/mod.ts";
import {
  assertFields,
  drain,
  errorOf,
  FakeClient,
  fakeClock,
  jsonLineUser,
  jsonUser,
  ofType,
  type Received,
  textUser,
} from "../_fakes.ts";

const encoder = new TextEncoder();

function fileFrame(header: Record<string, unknown>, payload: Uint8Array): Uint8Array {
  return encodeBinaryFrame(header, payload);
}

// --- connecting and logging in ---------------------------------------------

Deno.test("Relay.connect() greets a frames port with hello and its limits", () => {
  const relay = new Relay({ maxLineBytes: 100, maxTextBytes: 200, maxFileBytes: 300 });
  const client = new FakeClient(relay, "frames");
  assert.equal(client.port.wakes, 1);
  const [hello, ...rest] = client.events();
  assert.equal(rest.length, 0);
  assertFields(hello, {
    type: "hello",
    protocol: 1,
    server: "crosswire",
    limits: {
      maxLineBytes: 100,
      maxFrameBytes: relay.limits.maxFrameBytes,
      maxTextBytes: 200,
      maxFileBytes: 300,
      idleTimeoutMs: 300_000,
    },
  });
});

Deno.test("Relay.connect() asks a lines port for a name in plain text", () => {
  const relay = new Relay();
  const client = new FakeClient(relay, "lines");
  assert.deepEqual(client.lines(), ["-!- Welcome to crosswire. What's your name?"]);
  assert.deepEqual(relay.stats(), { sessions: 1, users: 0, parked: 0, rooms: 0 });
});

Deno.test("Relay login sends welcome with the session id and how many others are online", () => {
  const relay = new Relay({ motd: "be nice" });
  const ann = new FakeClient(relay, "frames");
  ann.events();
  ann.send({ type: "login", name: "ann", ref: "r1" });
  const welcome = ofType(ann.events(), "welcome")[0];
  assertFields(welcome, {
    session: ann.session.id,
    name: "ann",
    others: 0,
    rooms: [LOBBY],
    motd: "be nice",
    ref: "r1",
  });
  jsonUser(relay, "bob");
  const cy = new FakeClient(relay, "frames");
  cy.send({ type: "login", name: "cy" });
  assertFields(ofType(cy.events(), "welcome")[0], { name: "cy", others: 2 });
  assert.deepEqual(relay.stats(), { sessions: 3, users: 3, parked: 0, rooms: 1 });
});

Deno.test("Relay login welcome does not count connections that have not logged in", () => {
  const relay = new Relay();
  new FakeClient(relay, "frames");
  new FakeClient(relay, "lines");
  const ann = new FakeClient(relay, "frames");
  ann.send({ type: "login", name: "ann" });
  assertFields(ofType(ann.events(), "welcome")[0], { others: 0 });
});

Deno.test("Relay login joins the lobby and tells its members", () => {
  const relay = new Relay();
  const ann = jsonUser(relay, "ann");
  const bob = new FakeClient(relay, "frames");
  bob.events();
  bob.send({ type: "login", name: "bob" });
  const bobEvents = bob.events();
  assert.deepEqual(bobEvents.map((event) => event.type), ["welcome", "joined", "presence"]);
  assertFields(bobEvents[1], { room: LOBBY, name: "bob" });
  assertFields(bobEvents[2], { room: LOBBY, members: ["ann", "bob"], count: 2 });
  const annEvents = ann.events();
  assert.equal(annEvents.length, 1);
  assertFields(annEvents[0], { type: "joined", room: LOBBY, name: "bob" });
  assert.equal(bob.session.currentRoom, LOBBY);
  assert.deepEqual([...bob.session.rooms], [LOBBY]);
});

Deno.test("Relay login in text mode shows the welcome line and lobby presence", () => {
  const relay = new Relay({ motd: "line one\nline two" });
  jsonUser(relay, "ann");
  const bob = new FakeClient(relay, "lines");
  bob.lines();
  bob.type("bob\r\n");
  assert.deepEqual(bob.lines(), [
    "-!- Welcome, bob! 1 other user online. You are in lobby; type /help for commands.",
    "-!- line one",
    "-!- line two",
    "-!- [lobby] bob joined",
    "-!- [lobby] 2 here: ann, bob",
  ]);
});

Deno.test("Relay login rejects names that are not 1-32 visible characters", () => {
  const relay = new Relay();
  const bad = ["", "a".repeat(33), "ann smith", "tab\there", "esc\x1b[31m", "zw\u200bsp", "\u00a0"];
  for (const name of bad) {
    const client = new FakeClient(relay, "frames");
    client.send({ type: "login", name, ref: "n" });
    assertFields(
      errorOf(client.events()),
      { code: "name_invalid", ref: "n" },
      JSON.stringify(name),
    );
    assert.equal(client.session.state, "new");
  }
  assert.equal(relay.stats().users, 0);
});

Deno.test("Relay login accepts 32 visible characters, counted as code points", () => {
  const relay = new Relay();
  jsonUser(relay, "a".repeat(32));
  jsonUser(relay, "\u{1F600}".repeat(32)); // 64 UTF-16 units, 32 characters
  jsonUser(relay, "Zoë-ñ_1");
  assert.equal(relay.stats().users, 3);
});

Deno.test("Relay login refuses a name taken in another case, then accepts a retry", () => {
  const relay = new Relay();
  jsonUser(relay, "Ann");
  const other = new FakeClient(relay, "frames");
  other.send({ type: "login", name: "aNN", ref: "x1" });
  assertFields(errorOf(other.events()), { code: "name_taken", ref: "x1" });
  assert.equal(other.session.state, "new");
  other.send({ type: "login", name: "ann2" });
  assertFields(ofType(other.events(), "welcome")[0], { name: "ann2", others: 1 });
});

Deno.test("Relay login in text mode reports name_taken and asks again", () => {
  const relay = new Relay();
  textUser(relay, "ann");
  const bob = new FakeClient(relay, "lines");
  bob.lines();
  bob.type("ANN\r\n");
  const lines = bob.lines();
  assert.equal(lines.length, 2);
  assert.match(lines[0]!, /^-!- error name_taken: /);
  assert.equal(lines[1], "-!- What's your name?");
  bob.type("bad name\n");
  assert.match(bob.lines()[0]!, /^-!- error name_invalid: /);
  bob.type("/nick bob\n");
  assert.match(bob.lines()[0]!, /^-!- Welcome, bob! 1 other user online\./);
});

Deno.test("Relay login twice is already_logged_in", () => {
  const relay = new Relay();
  const ann = jsonUser(relay, "ann");
  ann.send({ type: "login", name: "other", ref: "again" });
  assertFields(errorOf(ann.events()), { code: "already_logged_in", ref: "again" });
  assert.equal(ann.session.name, "ann");
});

Deno.test("Relay requests before login are not_logged_in", () => {
  const relay = new Relay();
  const client = new FakeClient(relay, "frames");
  client.events();
  client.send({ type: "publish", room: LOBBY, text: "hi", ref: "p" });
  assertFields(errorOf(client.events()), { code: "not_logged_in", ref: "p" });
  client.session.receiveBinary(fileFrame({ room: LOBBY, ref: "b" }, new Uint8Array([1])));
  assertFields(errorOf(client.events()), { code: "not_logged_in", ref: "b" });
  const text = new FakeClient(relay, "lines");
  text.lines();
  text.type("/join games\n");
  assert.match(text.lines()[0]!, /^-!- error not_logged_in: /);
});

Deno.test("Relay text commands before login are not_logged_in, not not_in_room", () => {
  const relay = new Relay();
  const text = new FakeClient(relay, "lines");
  text.lines();
  const codes = ["/who", "/leave", "/me waves"].map((line) => {
    text.type(line + "\n");
    return text.lines()[0]!.split(":")[0];
  });
  assert.deepEqual(codes, [
    "-!- error not_logged_in",
    "-!- error not_logged_in",
    "-!- error not_logged_in",
  ]);
});

// --- rooms -------------------------------------------------------------------

Deno.test("Relay join announces the joiner to the room and replies with presence", () => {
  const relay = new Relay();
  const ann = jsonUser(relay, "ann");
  const bob = jsonUser(relay, "bob");
  ann.send({ type: "join", room: "#games" });
  ann.events();
  bob.events();
  bob.send({ type: "join", room: "games", ref: "j1" });
  const bobEvents = bob.events();
  assert.deepEqual(bobEvents.map((event) => event.type), ["joined", "presence"]);
  assertFields(bobEvents[1], { room: "games", members: ["ann", "bob"], count: 2, ref: "j1" });
  assertFields(ann.events()[0], { type: "joined", room: "games", name: "bob" });
  assert.equal(bob.session.currentRoom, "games");
});

Deno.test("Relay join rejects an invalid room name", () => {
  const relay = new Relay();
  const ann = jsonUser(relay, "ann");
  ann.send({ type: "join", room: "two words", ref: "r" });
  assertFields(errorOf(ann.events()), { code: "room_invalid", ref: "r" });
  ann.send({ type: "join", room: "#" });
  assertFields(errorOf(ann.events()), { code: "room_invalid" });
});

Deno.test("Relay lets a session be in several rooms, up to maxRoomsPerSession", () => {
  const relay = new Relay({ maxRoomsPerSession: 3 });
  const ann = jsonUser(relay, "ann");
  ann.send({ type: "join", room: "a" });
  ann.send({ type: "join", room: "b" });
  ann.events();
  assert.deepEqual([...ann.session.rooms], [LOBBY, "a", "b"]);
  ann.send({ type: "join", room: "c", ref: "c" });
  assertFields(errorOf(ann.events()), { code: "too_many_rooms", ref: "c" });
  assert.deepEqual([...ann.session.rooms], [LOBBY, "a", "b"]);
  // Joining a room already joined is not a new room.
  ann.send({ type: "join", room: "a" });
  assertFields(ann.events()[0], { type: "presence", room: "a", count: 1 });
  assert.equal(relay.roomList().length, 3);
});

Deno.test("Relay presence cuts members at maxPresenceMembers but counts everyone", () => {
  const relay = new Relay({ maxPresenceMembers: 2 });
  for (const name of ["ann", "bob", "cy"]) jsonUser(relay, name);
  const dee = jsonUser(relay, "dee");
  dee.send({ type: "presence", room: LOBBY, ref: "w" });
  assertFields(dee.events()[0], {
    type: "presence",
    room: LOBBY,
    members: ["ann", "bob"],
    count: 4,
    ref: "w",
  });
  const eve = textUser(relay, "eve");
  eve.type("/who\n");
  assert.deepEqual(eve.lines(), ["-!- [lobby] 5 here: ann, bob and 3 more"]);
});

Deno.test("Relay presence of a room nobody is in is empty", () => {
  const relay = new Relay();
  const ann = jsonUser(relay, "ann");
  ann.send({ type: "presence", room: "nowhere" });
  assertFields(ann.events()[0], { type: "presence", room: "nowhere", members: [], count: 0 });
});

Deno.test("Relay.roomList() lists rooms sorted by name with member counts", () => {
  const relay = new Relay();
  const ann = jsonUser(relay, "ann");
  const bob = jsonUser(relay, "bob");
  ann.send({ type: "join", room: "zoo" });
  bob.send({ type: "join", room: "zoo" });
  bob.send({ type: "join", room: "art" });
  const expected = [
    { name: "art", members: 1 },
    { name: LOBBY, members: 2 },
    { name: "zoo", members: 2 },
  ];
  assert.deepEqual(relay.roomList(), expected);
  ann.events();
  ann.send({ type: "rooms", ref: "l" });
  assertFields(ann.events()[0], { type: "rooms", rooms: expected, ref: "l" });
  const cy = textUser(relay, "cy");
  cy.type("/rooms\n");
  assert.deepEqual(cy.lines(), ["-!- Rooms: art (1), lobby (3), zoo (2)"]);
});

Deno.test("Relay leave tells the room and the leaver, and removes an emptied room", () => {
  const relay = new Relay();
  const ann = jsonUser(relay, "ann");
  const bob = jsonUser(relay, "bob");
  ann.send({ type: "join", room: "games" });
  bob.send({ type: "join", room: "games" });
  ann.events();
  bob.events();
  bob.send({ type: "leave", room: "games" });
  assertFields(ann.events()[0], { type: "left", room: "games", name: "bob", reason: "leave" });
  assertFields(bob.events()[0], { type: "left", room: "games", name: "bob", reason: "leave" });
  assert.equal(bob.session.currentRoom, LOBBY);
  assert.equal(relay.stats().rooms, 2);
  ann.send({ type: "leave", room: "games" });
  assert.equal(relay.stats().rooms, 1);
  assert.deepEqual(relay.roomList(), [{ name: LOBBY, members: 2 }]);
  // Messages to the old room reach nobody and are refused.
  ann.events();
  ann.send({ type: "publish", room: "games", text: "anyone?", ref: "q" });
  assertFields(errorOf(ann.events()), { code: "not_in_room", ref: "q" });
  assert.equal(bob.events().length, 0);
});

Deno.test("Relay leave of a room not joined is not_in_room", () => {
  const relay = new Relay();
  const ann = jsonUser(relay, "ann");
  ann.send({ type: "leave", room: "elsewhere" });
  assertFields(errorOf(ann.events()), { code: "not_in_room" });
});

Deno.test("Relay disconnect tells remaining members, keeps the name a while and empties rooms", () => {
  const relay = new Relay({ resumeWindowMs: 0 });
  const ann = jsonUser(relay, "ann");
  const bob = jsonUser(relay, "bob");
  bob.send({ type: "join", room: "solo" });
  ann.events();
  bob.session.disconnect();
  bob.session.disconnect(); // safe twice
  const annEvents = ann.events();
  assert.equal(annEvents.length, 1);
  assertFields(annEvents[0], { type: "left", room: LOBBY, name: "bob", reason: "disconnect" });
  assert.deepEqual(relay.stats(), { sessions: 1, users: 1, parked: 0, rooms: 1 });
  assert.equal(bob.session.state, "closed");
  assert.equal(bob.port.closes.length, 0, "the transport closed itself; no close is asked");
  const thief = new FakeClient(relay, "frames");
  thief.send({ type: "login", name: "BOB" });
  assertFields(errorOf(thief.events()), { code: "name_taken" });
});

Deno.test("Relay disconnect in text mode is shown as a notice line", () => {
  const relay = new Relay();
  const ann = textUser(relay, "ann");
  const bob = textUser(relay, "bob");
  ann.lines();
  bob.session.disconnect();
  assert.deepEqual(ann.lines(), ["-!- [lobby] bob disconnected"]);
});

Deno.test("Relay nick renames in every room and frees the old name", () => {
  const relay = new Relay();
  const ann = jsonUser(relay, "ann");
  const bob = jsonUser(relay, "bob");
  ann.send({ type: "join", room: "games" });
  ann.events();
  bob.events();
  ann.send({ type: "nick", name: "anna" });
  const annEvents = ann.events();
  assert.deepEqual(
    annEvents.map((event) => [event.type, event.room, event.from, event.to]),
    [["renamed", LOBBY, "ann", "anna"], ["renamed", "games", "ann", "anna"]],
  );
  assert.deepEqual(bob.events().map((event) => [event.type, event.room]), [["renamed", LOBBY]]);
  assert.equal(ann.session.name, "anna");
  jsonUser(relay, "ann");
  bob.send({ type: "nick", name: "ANNA", ref: "n" });
  assertFields(errorOf(bob.events()), { code: "name_taken", ref: "n" });
});

Deno.test("Relay nick with no rooms tells only the renamer, without a room", () => {
  const relay = new Relay();
  const ann = jsonUser(relay, "ann");
  ann.send({ type: "leave", room: LOBBY });
  ann.events();
  ann.send({ type: "nick", name: "zed" });
  const [renamed, ...rest] = ann.events();
  assert.equal(rest.length, 0);
  assert.deepEqual(Object.keys(renamed!).sort(), ["from", "to", "ts", "type"]);
  assertFields(renamed, { type: "renamed", from: "ann", to: "zed" });
});

Deno.test("Relay nick in text mode shows who is now who", () => {
  const relay = new Relay();
  const ann = textUser(relay, "ann");
  const bob = textUser(relay, "bob");
  ann.lines();
  bob.type("/nick robert\n");
  assert.deepEqual(ann.lines(), ["-!- [lobby] bob is now robert"]);
});

// --- room messages -------------------------------------------------------------

Deno.test("Relay publish skips the sender unless echo is on", () => {
  const relay = new Relay();
  const ann = jsonUser(relay, "ann");
  const bob = jsonUser(relay, "bob");
  drain(ann);
  ann.send({ type: "publish", room: LOBBY, text: "one" });
  assert.equal(ann.events().length, 0);
  assertFields(bob.events()[0], { type: "message", room: LOBBY, from: "ann", text: "one" });
  ann.send({ type: "echo", on: true });
  assert.match(String(ann.events()[0]?.text), /Echo is on/);
  ann.send({ type: "publish", room: LOBBY, text: "two" });
  assertFields(ann.events()[0], { type: "message", from: "ann", text: "two" });
  ann.send({ type: "echo", on: false });
  ann.events();
  ann.send({ type: "publish", room: LOBBY, text: "three" });
  assert.equal(ann.events().length, 0);
  assert.deepEqual(bob.events().map((event) => event.text), ["two", "three"]);
});

Deno.test("Relay login with echo: true receives its own messages", () => {
  const relay = new Relay();
  const ann = jsonUser(relay, "ann", { echo: true });
  ann.send({ type: "publish", room: LOBBY, text: "me too" });
  assertFields(ann.events()[0], { type: "message", text: "me too" });
  const bob = textUser(relay, "bob");
  bob.type("/echo\nhello\n");
  assert.deepEqual(bob.lines(), ["-!- Echo is on.", "[lobby] bob: hello"]);
  bob.type("/echo off\nquiet\n");
  assert.deepEqual(bob.lines(), ["-!- Echo is off."]);
});

Deno.test("Relay publish gives unique ids and timestamps from the injected clock", () => {
  const clock = fakeClock(1000);
  const relay = new Relay({ now: clock.now });
  const ann = jsonUser(relay, "ann");
  const bob = jsonUser(relay, "bob");
  ann.send({ type: "publish", room: LOBBY, text: "a" });
  clock.set(2000);
  ann.send({ type: "publish", room: LOBBY, text: "b" });
  ann.send({ type: "direct", to: "bob", text: "c" });
  const events = bob.events();
  assert.deepEqual(events.map((event) => event.ts), [1000, 2000, 2000]);
  const ids = events.map((event) => event.id);
  assert.ok(ids.every((id) => typeof id === "string" && id.length > 0));
  assert.equal(new Set(ids).size, 3);
  // A second relay does not reuse the first one's ids.
  const other = new Relay({ now: clock.now });
  const x = jsonUser(other, "x");
  const y = jsonUser(other, "y");
  x.send({ type: "publish", room: LOBBY, text: "a" });
  assert.ok(!ids.includes(y.events()[0]?.id));
});

Deno.test("Relay publish encodes once: every recipient in a format gets the same Frame", () => {
  const relay = new Relay();
  const sender = jsonUser(relay, "sender");
  const frames = [jsonUser(relay, "f1"), jsonUser(relay, "f2"), jsonUser(relay, "f3")];
  const texts = [textUser(relay, "t1"), textUser(relay, "t2")];
  const lines = [jsonLineUser(relay, "l1"), jsonLineUser(relay, "l2")];
  for (const client of [...frames, ...texts, ...lines]) client.take();
  sender.send({ type: "publish", room: LOBBY, text: "fan out" });
  for (const group of [frames, texts, lines]) {
    const taken = group.map((client) => client.take());
    for (const got of taken) assert.equal(got.length, 1);
    for (const got of taken.slice(1)) {
      assert.ok(got[0] === taken[0]![0], "the same Frame object");
      assert.ok(got[0]!.data === taken[0]![0]!.data, "the same data instance");
    }
  }
  assert.equal(typeof frames[0]!.frames.at(-1)!.data, "string");
  assert.ok(texts[0]!.frames.at(-1)!.data instanceof Uint8Array);
  assert.notEqual(texts[0]!.frames.at(-1)!.data, lines[0]!.frames.at(-1)!.data);
});

Deno.test("Relay publish of a file encodes one binary frame for every WebSocket member", () => {
  const relay = new Relay();
  const sender = jsonUser(relay, "sender");
  const a = jsonUser(relay, "a");
  const b = jsonUser(relay, "b");
  drain(a, b);
  sender.session.receiveBinary(
    fileFrame({ room: LOBBY, file: { name: "x.bin" } }, new Uint8Array(8)),
  );
  const [fa] = a.take();
  const [fb] = b.take();
  assert.ok(fa !== undefined && fa === fb);
  assert.ok(fa.data instanceof Uint8Array);
});

Deno.test("Relay.announce() reaches every logged-in user with one encoding", () => {
  const relay = new Relay({ now: () => 42 });
  const a = jsonUser(relay, "a");
  const b = jsonUser(relay, "b");
  const t = textUser(relay, "t");
  const pending = new FakeClient(relay, "frames");
  drain(a, b, t, pending);
  relay.announce("maintenance at \x1b[5mnoon\x1b[0m");
  const [fa] = a.take();
  const [fb] = b.take();
  assert.ok(fa !== undefined && fa === fb);
  assert.deepEqual(JSON.parse(fa.data as string), {
    type: "notice",
    ts: 42,
    text: "maintenance at \x1b[5mnoon\x1b[0m",
  });
  assert.deepEqual(t.lines(), ["-!- maintenance at noon"]);
  assert.equal(pending.events().length, 0, "not logged in: no announcement");
});

Deno.test("Relay message renders as [room] name: text for text-mode users", () => {
  const relay = new Relay();
  const ann = jsonUser(relay, "ann");
  const bob = textUser(relay, "bob");
  ann.send({ type: "join", room: "games" });
  bob.type("/join #games\n");
  bob.lines();
  ann.send({ type: "publish", room: "games", text: "hello\nsecond line" });
  assert.deepEqual(bob.lines(), ["[games] ann: hello", "[games] ann: second line"]);
  // Plain lines go to the current room; //text escapes a leading slash.
  ann.events();
  bob.type("plain\r\n//not a command\r\n");
  assert.deepEqual(ann.events().map((event) => [event.room, event.text]), [
    ["games", "plain"],
    ["games", "/not a command"],
  ]);
});

Deno.test("Relay strips ANSI escapes and control characters from text output", () => {
  const relay = new Relay();
  const ann = jsonUser(relay, "ann");
  const bob = textUser(relay, "bob");
  const json = jsonUser(relay, "cy");
  drain(bob);
  ann.send({
    type: "publish",
    room: LOBBY,
    text: "\x1b[2J\x1b[Hred \x1b[31mtext\x1b[0m\x07\x08\r \x9b1mend\u202eevil\x1b]0;title\x07",
  });
  const lines = bob.lines();
  assert.deepEqual(lines, ["[lobby] ann: red text end" + "evil"]);
  // deno-lint-ignore no-control-regex
  for (const line of lines) assert.doesNotMatch(line, /[\x00-\x1f\x7f-\x9f\u202e]/);
  assert.equal(json.events()[0]?.text, "red text endevil");
});

Deno.test("Relay rejects empty and oversized text", () => {
  const relay = new Relay({ maxTextBytes: 10 });
  const ann = jsonUser(relay, "ann");
  const bob = jsonUser(relay, "bob");
  ann.send({ type: "publish", room: LOBBY, text: " \x1b[0m\t ", ref: "e" });
  assertFields(errorOf(ann.events()), { code: "empty_message", ref: "e" });
  ann.send({ type: "publish", room: LOBBY, text: "ééééé" }); // 10 bytes
  ann.send({ type: "publish", room: LOBBY, text: "éééééé", ref: "big" }); // 12 bytes
  assertFields(errorOf(ann.events()), { code: "too_large", ref: "big" });
  assert.deepEqual(bob.events().map((event) => event.text), ["ééééé"]);
  assert.equal(ann.session.state, "ready", "a too-large chat text does not close");
});

Deno.test("Relay /me publishes an action", () => {
  const relay = new Relay();
  const ann = textUser(relay, "ann");
  const bob = textUser(relay, "bob");
  const cy = jsonUser(relay, "cy");
  ann.lines();
  bob.type("/me waves\n");
  assert.deepEqual(ann.lines(), ["[lobby] * bob waves"]);
  assertFields(cy.events()[0], { type: "message", from: "bob", text: "waves", action: true });
  cy.send({ type: "publish", room: LOBBY, text: "bows", action: true });
  assert.deepEqual(ann.lines(), ["[lobby] * cy bows"]);
});

// --- private messages ------------------------------------------------------------

Deno.test("Relay direct reaches the recipient and the sender, each positioned in their own stream", () => {
  const relay = new Relay({ now: () => 7 });
  const ann = jsonUser(relay, "ann");
  const bob = jsonUser(relay, "Bob");
  const cy = jsonUser(relay, "cy");
  drain(ann, bob, cy);
  ann.send({ type: "direct", to: "BOB", text: "psst" });
  ann.send({ type: "direct", to: "cy", text: "hey" });
  const [toBob] = bob.events();
  const [toAnn, toAnn2] = ann.events();
  const expected = { type: "direct", ts: 7, from: "ann", to: "Bob", text: "psst", offset: 1 };
  assertFields(toBob, expected);
  assertFields(toAnn, { ...expected, id: toBob!.id });
  assert.notEqual(toBob!.epoch, toAnn!.epoch, "two streams");
  assertFields(toAnn2, { to: "cy", offset: 2, epoch: toAnn!.epoch });
  assertFields(cy.events()[0], { to: "cy", offset: 1 });
});

Deno.test("Relay direct to nobody is no_such_user", () => {
  const relay = new Relay();
  const ann = jsonUser(relay, "ann");
  ann.send({ type: "direct", to: "ghost", text: "hi", ref: "d" });
  assertFields(errorOf(ann.events()), { code: "no_such_user", ref: "d" });
  ann.send({ type: "direct", to: "g".repeat(40), text: "hi" });
  assertFields(errorOf(ann.events()), { code: "no_such_user" });
  const text = textUser(relay, "tx");
  text.type("/msg ghost hello\n");
  assert.match(text.lines()[0]!, /^-!- error no_such_user: nobody called "ghost" is online/);
});

Deno.test("Relay direct renders as [private from -> to] for text-mode users", () => {
  const relay = new Relay();
  const ann = textUser(relay, "ann");
  const bob = textUser(relay, "bob");
  drain(ann);
  ann.type("/msg bob hi there\n");
  assert.deepEqual(bob.lines(), ["[private ann -> bob] hi there"]);
  assert.deepEqual(ann.lines(), ["[private ann -> bob] hi there"]);
  const cy = jsonUser(relay, "cy");
  drain(bob);
  cy.send({ type: "direct", to: "bob", text: "nods", action: true });
  assert.deepEqual(bob.lines(), ["[private cy -> bob] * cy nods"]);
});

Deno.test("Relay direct to oneself arrives once", () => {
  const relay = new Relay();
  const ann = jsonUser(relay, "ann");
  ann.send({ type: "direct", to: "ann", text: "note to self" });
  assert.equal(ofType(ann.events(), "direct").length, 1);
});

// --- JSON protocol errors -----------------------------------------------------

Deno.test("Relay JSON errors: bad_json, bad_message, unknown_type, with ref echoed", () => {
  const relay = new Relay();
  const client = new FakeClient(relay, "frames");
  client.events();
  const cases: [string, string, string | undefined][] = [
    ["{not json", "bad_json", undefined],
    ["[1,2]", "bad_message", undefined],
    ['"text"', "bad_message", undefined],
    ["null", "bad_message", undefined],
    ['{"ref":"a"}', "bad_message", "a"],
    ['{"type":7,"ref":"b"}', "bad_message", "b"],
    ['{"type":"login","name":5,"ref":"c"}', "bad_message", "c"],
    ['{"type":"login","name":"x","echo":"yes","ref":"d"}', "bad_message", "d"],
    ['{"type":"dance","ref":"e"}', "unknown_type", "e"],
    ['{"type":"__proto__","ref":"f"}', "unknown_type", "f"],
    ['{"type":"toString"}', "unknown_type", undefined],
    [`{"type":"dance","ref":"${"r".repeat(65)}"}`, "unknown_type", undefined],
  ];
  for (const [json, code, ref] of cases) {
    client.session.receiveText(json);
    const error = errorOf(client.events());
    assert.equal(error.code, code, json);
    assert.equal(error.ref, ref, json);
    assert.equal(typeof error.message, "string");
  }
  assert.equal(client.session.state, "new", "protocol errors do not close");
  assert.equal(client.port.closes.length, 0);
});

Deno.test("Relay ignores __proto__ keys and never pollutes Object.prototype", () => {
  const relay = new Relay();
  const client = new FakeClient(relay, "frames");
  client.session.receiveText('{"type":"login","name":"x","__proto__":{"polluted":1}}');
  assertFields(ofType(client.events(), "welcome")[0], { name: "x" });
  client.session.receiveText(
    '{"type":"publish","room":"lobby","data":"AQID","file":{"__proto__":{"polluted":2},"name":"f"}}',
  );
  client.session.receiveText('{"__proto__":{"type":"ping","polluted":3}}');
  client.session.receiveBinary(
    encoder.encode('\x01\x00\x2a{"__proto__":{"room":"lobby","polluted":4}}'),
  );
  const events = client.events();
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, "polluted"), false);
  assert.deepEqual(events.map((event) => event.code), ["bad_message", "bad_frame"]);
});

Deno.test("Relay answers ping with pong and ref", () => {
  const relay = new Relay({ now: () => 99 });
  const client = new FakeClient(relay, "frames");
  client.events();
  client.send({ type: "ping", ref: "p1" });
  assert.deepEqual(client.events(), [{ type: "pong", ts: 99, ref: "p1" }]);
});

Deno.test("Relay input requests run text commands for JSON clients", () => {
  const relay = new Relay();
  const ann = new FakeClient(relay, "frames");
  ann.send({ type: "input", line: "ann" });
  assertFields(ofType(ann.events(), "welcome")[0], { name: "ann" });
  ann.send({ type: "input", line: "/join games" });
  assertFields(ofType(ann.events(), "presence")[0], { room: "games", members: ["ann"] });
  ann.send({ type: "input", line: "/bogus", ref: "u" });
  assertFields(errorOf(ann.events()), { code: "unknown_command", ref: "u" });
});

Deno.test("Relay input requests echo their ref in the reply, as they do in errors", () => {
  const relay = new Relay();
  const ann = jsonUser(relay, "ann");
  ann.send({ type: "input", line: "/who", ref: "i" });
  assertFields(ann.events()[0], { type: "presence", room: LOBBY, ref: "i" });
});

// --- TCP lines framing -------------------------------------------------------------

Deno.test("Session.feed() switches to JSON lines when the first line is an object", () => {
  const relay = new Relay();
  const bob = jsonUser(relay, "bob");
  const client = new FakeClient(relay, "lines");
  client.type('  {"type":"login","name":"ann","ref":"L"}\n');
  assert.equal(client.session.json, true);
  const taken = client.frames;
  assert.ok(taken.every((frame) => frame.data instanceof Uint8Array));
  const events = client.events();
  assert.deepEqual(events.map((event) => event.type), [
    "line",
    "hello",
    "welcome",
    "joined",
    "presence",
  ]);
  assertFields(events[2], { name: "ann", ref: "L" });
  client.type('{"type":"ping","ref":"p"}\r\n\n');
  assertFields(client.events()[0], { type: "pong", ref: "p" });
  bob.send({ type: "publish", room: LOBBY, text: "to json lines" });
  const [frame] = client.take();
  assert.ok(frame !== undefined && frame.data instanceof Uint8Array);
  const text = new TextDecoder().decode(frame.data);
  assert.ok(text.endsWith("}\n"));
  assertFields(JSON.parse(text), { type: "message", from: "bob", text: "to json lines" });
  assert.equal(frame.bytes, frame.data.length);
});

Deno.test("Session.feed() stays in text mode when a later line starts with a brace", () => {
  const relay = new Relay();
  const bob = jsonUser(relay, "bob");
  const ann = textUser(relay, "ann");
  bob.events();
  ann.type('{"type":"ping"}\n');
  assert.equal(ann.session.json, false);
  assertFields(bob.events()[0], { type: "message", text: '{"type":"ping"}' });
});

Deno.test("Session.feed() closes with 1009 on a line over maxLineBytes", () => {
  const relay = new Relay({ maxLineBytes: 16 });
  const bob = jsonUser(relay, "bob");
  const ann = textUser(relay, "ann");
  bob.events();
  ann.type("x".repeat(17));
  assert.deepEqual(ann.port.closes.map((close) => close.code), [CloseCode.tooBig]);
  assert.match(ann.lines().at(-1)!, /^-!- error line_too_long: /);
  assert.equal(ann.session.state, "closed");
  assertFields(bob.events()[0], { type: "left", name: "ann", reason: "disconnect" });
  ann.type("more\n");
  assert.equal(ann.session.outbound.length, 0, "a closed session ignores input");
});

Deno.test("Session.feed() handles several commands in one chunk and a split line", () => {
  const relay = new Relay();
  const ann = textUser(relay, "ann");
  const bob = jsonUser(relay, "bob");
  drain(ann);
  ann.type("/join ga");
  ann.type("mes\r");
  ann.type("\nhi\r\n/leave\n");
  bob.send({ type: "join", room: "games" });
  assertFields(ofType(bob.events(), "presence")[0], { room: "games", members: ["bob"] });
  assert.equal(ann.session.currentRoom, LOBBY);
  assert.deepEqual(ann.lines(), [
    "-!- [games] ann joined",
    "-!- [games] 1 here: ann",
    "-!- [games] ann left",
  ]);
});

Deno.test("Relay /quit closes with 1000 after a goodbye", () => {
  const relay = new Relay();
  const ann = textUser(relay, "ann");
  const bob = textUser(relay, "bob");
  ann.lines();
  bob.type("/quit\nignored after quit\n");
  assert.deepEqual(bob.lines(), ["-!- Bye!"]);
  assert.deepEqual(bob.port.closes, [{ code: CloseCode.normal, reason: "bye" }]);
  assert.deepEqual(ann.lines(), ["-!- [lobby] bob disconnected"]);
  const early = new FakeClient(relay, "lines");
  early.type("/quit\n");
  assert.equal(early.port.closes[0]?.code, CloseCode.normal);
});

Deno.test("Relay text commands report unknown commands and usage errors", () => {
  const relay = new Relay();
  const ann = textUser(relay, "ann");
  ann.type("/frobnicate\n/msg bob\n/help\n");
  const lines = ann.lines();
  assert.match(lines[0]!, /^-!- error unknown_command: unknown command \/frobnicate/);
  assert.match(lines[1]!, /^-!- error bad_message: usage: \/msg NAME TEXT/);
  assert.equal(lines[2], "-!- Commands:");
  assert.ok(lines.length > 5);
});

Deno.test("Relay plain text with no current room is not_in_room", () => {
  const relay = new Relay();
  const ann = textUser(relay, "ann");
  ann.type("/leave\nhello?\n");
  const lines = ann.lines();
  assert.equal(lines[0], "-!- [lobby] ann left");
  assert.match(lines[1]!, /^-!- error not_in_room: /);
});

// --- files ---------------------------------------------------------------------

Deno.test("Session.receiveBinary() publishes a file to every kind of member", () => {
  const relay = new Relay({ now: () => 5 });
  const ann = jsonUser(relay, "ann");
  const ws = jsonUser(relay, "ws");
  const text = textUser(relay, "tx");
  const line = jsonLineUser(relay, "jl");
  drain(ann, ws, text, line);
  const payload = new Uint8Array([1, 2, 3, 250, 255]);
  ann.session.receiveBinary(
    fileFrame({ room: LOBBY, file: { name: "pic.png", type: "image/png" } }, payload),
  );
  const [binary] = ws.events();
  assert.equal(binary?.type, "binary");
  assertFields(binary!.header, {
    type: "message",
    ts: 5,
    room: LOBBY,
    from: "ann",
    file: { name: "pic.png", type: "image/png", size: 5 },
  });
  assert.equal(typeof (binary!.header as Received).id, "string");
  assert.equal("data" in (binary!.header as Received), false);
  assert.deepEqual(binary!.payload, payload);
  assert.deepEqual(text.lines(), [
    '-!- [lobby] ann shared a file: "pic.png" (5 B, image/png)',
  ]);
  const [json] = line.events();
  assertFields(json, { type: "message", from: "ann", data: payload.toBase64() });
  assertFields(json, { file: { name: "pic.png", type: "image/png", size: 5 } });
  assert.equal(ann.events().length, 0, "no echo by default");
});

Deno.test("Session.receiveBinary() sends a private file with to", () => {
  const relay = new Relay();
  const ann = jsonUser(relay, "ann");
  const bob = jsonUser(relay, "bob");
  const cy = jsonUser(relay, "cy");
  drain(ann, bob, cy);
  ann.session.receiveBinary(fileFrame({ to: "bob", ref: "f" }, new Uint8Array([9])));
  const [got] = bob.events();
  assertFields(got!.header, {
    type: "direct",
    from: "ann",
    to: "bob",
    file: { name: "file", type: "application/octet-stream", size: 1 },
  });
  assert.deepEqual(got!.payload, new Uint8Array([9]));
  assert.equal(ann.events().length, 1, "the sender gets its copy");
  assert.equal(cy.events().length, 0);
});

Deno.test("Session.receiveBinary() rejects malformed frames with bad_frame", () => {
  const relay = new Relay();
  const ann = jsonUser(relay, "ann");
  const frames: [Uint8Array, string | undefined][] = [
    [new Uint8Array([]), undefined],
    [new Uint8Array([2, 0, 2, 0x7b, 0x7d]), undefined],
    [new Uint8Array([1, 0, 9, 0x7b, 0x7d]), undefined],
    [new Uint8Array([1, 0, 2, 0x5b, 0x5d]), undefined],
    [encoder.encode("\x01\x00\x03{x}"), undefined],
    [fileFrame({ ref: "nr" }, new Uint8Array([1])), "nr"],
  ];
  for (const [frame, ref] of frames) {
    ann.session.receiveBinary(frame);
    const error = errorOf(ann.events());
    assert.equal(error.code, "bad_frame");
    assert.equal(error.ref, ref);
  }
  assert.equal(ann.session.state, "ready");
});

Deno.test("Relay file publish from JSON lines arrives as binary for WebSocket members", () => {
  const relay = new Relay({ maxLineBytes: 64 });
  const ws = jsonUser(relay, "ws");
  const text = textUser(relay, "tx");
  const sender = jsonLineUser(relay, "jl");
  drain(ws, text);
  // 9000 bytes: far over maxLineBytes, so the JSON switch must have raised the limit.
  const payload = new Uint8Array(9000).map((_, i) => i % 251);
  sender.send({
    type: "publish",
    room: LOBBY,
    data: payload.toBase64(),
    file: { name: "../../etc/data.bin", type: "not a type" },
  });
  assert.equal(sender.port.closes.length, 0, JSON.stringify(sender.events()));
  const [binary] = ws.events();
  assertFields(binary!.header, {
    type: "message",
    from: "jl",
    file: { name: "data.bin", type: "application/octet-stream", size: 9000 },
  });
  assert.deepEqual(binary!.payload, payload);
  assert.deepEqual(text.lines(), [
    '-!- [lobby] jl shared a file: "data.bin" (8.8 KiB, application/octet-stream)',
  ]);
});

Deno.test("Relay file publish rejects bad base64 and files over maxFileBytes", () => {
  const relay = new Relay({ maxFileBytes: 4 });
  const ann = jsonUser(relay, "ann");
  const bob = jsonUser(relay, "bob");
  ann.send({ type: "publish", room: LOBBY, data: "!!!", ref: "b" });
  assertFields(errorOf(ann.events()), { code: "bad_message", ref: "b" });
  ann.send({ type: "publish", room: LOBBY, data: new Uint8Array(5).toBase64(), ref: "big" });
  assertFields(errorOf(ann.events()), { code: "too_large", ref: "big" });
  ann.session.receiveBinary(fileFrame({ room: LOBBY, ref: "bin" }, new Uint8Array(5)));
  assertFields(errorOf(ann.events()), { code: "too_large", ref: "bin" });
  assert.equal(bob.events().length, 0);
  assert.equal(ann.session.state, "ready");
});

Deno.test("Session.receiveBinary() closes with 1009 on a frame far over the limit", () => {
  const relay = new Relay({ maxFileBytes: 10, resumeWindowMs: 0 });
  const ann = jsonUser(relay, "ann");
  ann.session.receiveBinary(fileFrame({ room: LOBBY }, new Uint8Array(10 + 4096 + 10)));
  assertFields(errorOf(ann.events()), { code: "too_large" });
  assert.deepEqual(ann.port.closes.map((close) => close.code), [CloseCode.tooBig]);
  assert.equal(relay.stats().users, 0);
});

Deno.test("Session.receiveText() closes with 1009 on a frame over maxFrameBytes", () => {
  const relay = new Relay({ maxFrameBytes: 100 });
  const ann = jsonUser(relay, "ann");
  ann.session.receiveText(JSON.stringify({ type: "publish", room: LOBBY, text: "é".repeat(45) }));
  assertFields(errorOf(ann.events()), { code: "too_large" });
  assert.deepEqual(ann.port.closes.map((close) => close.code), [CloseCode.tooBig]);
  assert.equal(ann.session.state, "closed");
});

// --- slow consumers and shutdown ----------------------------------------------------

Deno.test("Relay closes a consumer four times over maxQueuedBytes at once; others keep receiving", async () => {
  const relay = new Relay({ maxQueuedBytes: 1000, resumeWindowMs: 0 });
  const ann = jsonUser(relay, "ann");
  const bob = jsonUser(relay, "bob");
  const slow = jsonUser(relay, "slow");
  const text = "x".repeat(100);
  let sent = 0;
  while (slow.session.outbound.bytes <= 4000) {
    ann.send({ type: "publish", room: LOBBY, text });
    bob.frames.push(...bob.session.outbound.take()); // bob keeps up, slow does not
    sent++;
    assert.ok(sent < 100, "the queue never filled");
  }
  assert.equal(slow.port.wakes, 2, "woken once after login and once for the backlog");
  assert.equal(slow.port.closes.length, 0, "not closed mid-broadcast");
  await Promise.resolve();
  assert.deepEqual(slow.port.closes.map((close) => close.code), [CloseCode.slowConsumer]);
  assert.equal(slow.session.state, "closed");
  const left = slow.events();
  assert.equal(left.length, 1, "the backlog is dropped; only the reason is queued");
  assertFields(left[0], { type: "error", code: "slow_consumer" });
  assert.deepEqual(relay.stats(), { sessions: 2, users: 2, parked: 0, rooms: 1 });
  assert.equal(bob.frames.filter((frame) => String(frame.data).includes('"message"')).length, sent);
  const bobEvents = bob.events();
  assert.equal(bobEvents.length, 1);
  assertFields(bobEvents[0], { type: "left", name: "slow", reason: "disconnect" });
  ann.send({ type: "publish", room: LOBBY, text: "still here" });
  assertFields(bob.events()[0], { type: "message", text: "still here" });
  assert.equal(slow.session.outbound.length, 0, "nothing more reaches the closed session");
});

Deno.test("Relay.close() sends a notice, closes every port with 1001 and refuses newcomers", () => {
  const relay = new Relay({ now: () => 3 });
  const ann = jsonUser(relay, "ann");
  const bob = textUser(relay, "bob");
  const pending = new FakeClient(relay, "frames");
  drain(ann, bob, pending);
  relay.close("going down");
  assert.deepEqual(ann.events(), [{ type: "notice", ts: 3, text: "going down" }]);
  assert.deepEqual(bob.lines(), ["-!- going down"], "no disconnect notices during shutdown");
  assert.deepEqual(pending.events(), [{ type: "notice", ts: 3, text: "going down" }]);
  for (const client of [ann, bob, pending]) {
    assert.deepEqual(client.port.closes, [{
      code: CloseCode.goingAway,
      reason: "server shutting down",
    }]);
    assert.equal(client.session.state, "closed");
  }
  assert.deepEqual(relay.stats(), { sessions: 0, users: 0, parked: 0, rooms: 0 });
  const late = new FakeClient(relay, "frames");
  assert.deepEqual(late.port.closes.map((close) => close.code), [CloseCode.goingAway]);
  assertFields(late.events()[0], { type: "notice", text: "The server is shutting down." });
  assert.equal(relay.stats().sessions, 0);
});

Deno.test("Relay.close() encodes its shutdown notice once for every recipient", () => {
  const relay = new Relay();
  const a = jsonUser(relay, "a");
  const b = jsonUser(relay, "b");
  drain(a, b);
  relay.close();
  const [fa] = a.take();
  const [fb] = b.take();
  assert.ok(fa !== undefined && fb !== undefined);
  assert.equal(fa.data, fb.data);
  assert.ok(fa === fb, "one broadcast should share one Frame (STYLE practice 14)");
});
