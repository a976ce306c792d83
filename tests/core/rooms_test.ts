import assert from "node:assert/strict";
import { encodeBinaryFrame, LOBBY, Relay } from "../../core/mod.ts";
import { assertFields, FakeClient, fakeClock, jsonUser, ofType } from "../_fakes.ts";

function fromAddress(relay: Relay, address: string, name: string): FakeClient {
  const client = new FakeClient(relay, "frames");
  client.session.disconnect(); // not this one: connect with an address instead
  const session = relay.connect(client.port, { remoteAddress: address });
  const user = Object.assign(Object.create(FakeClient.prototype), client, { session });
  user.send({ type: "login", name });
  user.events();
  return user;
}

Deno.test("Rooms: one address may create at most maxRoomsPerAddress rooms; others still can", () => {
  const relay = new Relay({ maxRoomsPerAddress: 3, maxRoomsPerSession: 10 });
  const a = fromAddress(relay, "192.0.2.1", "a1");
  const b = fromAddress(relay, "192.0.2.1", "a2");
  for (const room of ["r1", "r2"]) a.send({ type: "join", room });
  b.send({ type: "join", room: "r3" });
  b.send({ type: "join", room: "r4", ref: "x" });
  assertFields(ofType(b.events(), "error")[0], { code: "room_limit", ref: "x" });
  b.send({ type: "join", room: "r1" });
  assert.deepEqual(ofType(b.events(), "error"), [], "joining an existing room is fine");
  const honest = fromAddress(relay, "198.51.100.7", "honest");
  honest.send({ type: "join", room: "mine" });
  assertFields(ofType(honest.events(), "presence")[0], { room: "mine", count: 1 });
  a.send({ type: "leave", room: "r2" });
  b.send({ type: "join", room: "r5" });
  assert.deepEqual(ofType(b.events(), "error"), [], "an emptied room frees a place");
});

Deno.test("Rooms: files shared into a room are limited by roomBytesPerSecond, for everyone together", () => {
  const clock = fakeClock();
  const relay = new Relay({ now: clock.now, maxFileBytes: 1000, roomBytesPerSecond: 2000 });
  const senders = ["s1", "s2", "s3"].map((name) => jsonUser(relay, name));
  const member = jsonUser(relay, "member");
  const file = encodeBinaryFrame({ room: LOBBY, file: { name: "f" } }, new Uint8Array(1000));
  for (const sender of senders) sender.session.receiveBinary(file);
  const errors = senders.flatMap((sender) => ofType(sender.events(), "error"));
  assert.equal(errors.length, 1, "a burst of two files passes, the third waits");
  assertFields(errors[0], { code: "rate_limited" });
  assert.equal(ofType(member.events(), "binary").length, 2);
  clock.set(1_700_000_000_500);
  senders[2]!.session.receiveBinary(file);
  assert.equal(ofType(member.events(), "binary").length, 1, "the room refills");
});

Deno.test("Rooms: the room list is paged by name, and its size counts against the asker", () => {
  const relay = new Relay({ maxRoomsPerSession: 40, rateBytesPerSecond: 4096 });
  const ann = jsonUser(relay, "ann");
  for (let i = 0; i < 30; i++) {
    ann.send({ type: "join", room: `room-${String(i).padStart(2, "0")}` });
  }
  ann.events();
  ann.send({ type: "rooms", limit: 10, ref: "p1" });
  const first = ofType(ann.events(), "rooms")[0]!;
  assertFields(first, { total: 31, ref: "p1" });
  const names = (first.rooms as { name: string }[]).map((room) => room.name);
  assert.deepEqual(names, ["lobby", ...Array.from({ length: 9 }, (_, i) => `room-0${i}`)]);
  ann.send({ type: "rooms", limit: 10, after: "room-08" });
  const second = ofType(ann.events(), "rooms")[0]!;
  assert.equal((second.rooms as { name: string }[])[0]!.name, "room-09");
  ann.send({ type: "rooms", limit: 1000 });
  assert.equal((ofType(ann.events(), "rooms")[0]!.rooms as unknown[]).length, 31, "at most 100");
  // Each full list is about 1 KiB: asking again and again soon runs out of byte rate.
  let limited = 0;
  for (let i = 0; i < 20; i++) {
    ann.send({ type: "rooms" });
    limited += ofType(ann.events(), "error").filter((e) => e.code === "rate_limited").length;
  }
  assert.ok(limited > 0, "costly replies are charged to the requester");
});
