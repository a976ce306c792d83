import assert from "node:assert/strict";
import { MemoryEngine } from "../../core/mod.ts";

const member = (session: string, name = session) => ({ node: "n", session, name });

Deno.test("MemoryEngine: presence lists members in join order, cut at the limit, with the count", () => {
  const engine = new MemoryEngine();
  for (const name of ["c", "a", "b"]) engine.join("room", member(name), 10);
  assert.deepEqual(engine.presence("room", 2), { members: ["c", "a"], count: 3 });
  engine.rename("room", "a", "anna");
  assert.equal(engine.leave("room", "c"), 2);
  assert.deepEqual(engine.presence("room", 10), { members: ["anna", "b"], count: 2 });
  assert.equal(engine.leave("room", "anna"), 2, "leave is by session id, not name");
  engine.leave("room", "a");
  engine.leave("room", "b");
  assert.deepEqual(engine.presence("room", 10), { members: [], count: 0 });
  assert.equal(engine.counts().rooms, 0, "an emptied room is gone");
});

Deno.test("MemoryEngine: rooms() pages by name after a cursor", () => {
  const engine = new MemoryEngine();
  for (const room of ["d", "b", "a", "c", "e"]) engine.join(room, member("s"), 1);
  assert.deepEqual(engine.rooms(2).rooms.map((room) => room.name), ["a", "b"]);
  assert.deepEqual(engine.rooms(2, "b").rooms.map((room) => room.name), ["c", "d"]);
  assert.deepEqual(engine.rooms(2, "bb").rooms.map((room) => room.name), ["c", "d"]);
  assert.deepEqual(engine.rooms(10, "e"), { rooms: [], total: 5 });
  engine.join("aa", member("t"), 1);
  assert.deepEqual(engine.rooms(3).rooms.map((room) => room.name), ["a", "aa", "b"]);
});

Deno.test("MemoryEngine: a name is one session's until released; a hold keeps it for its token", () => {
  let now = 0;
  const engine = new MemoryEngine({ now: () => now });
  assert.deepEqual(engine.claimName("ann", member("s1", "ann"), "t1"), { ok: true });
  assert.deepEqual(engine.claimName("ann", member("s2", "Ann"), "t2"), {
    ok: false,
    holder: "ann",
    held: false,
  });
  assert.equal(engine.findName("ann")?.session, "s1");
  engine.releaseName("ann", "s2"); // not the holder: nothing happens
  assert.equal(engine.findName("ann")?.session, "s1");
  engine.releaseName("ann", "s1", { ms: 1000 });
  assert.equal(engine.findName("ann"), undefined, "a held name has no live holder");
  assert.deepEqual(engine.counts().users, 0);
  assert.deepEqual(engine.claimName("ann", member("s3"), "t2"), {
    ok: false,
    holder: "ann",
    held: true,
  });
  assert.deepEqual(engine.claimName("ann", member("s4", "ann"), "t1"), { ok: true });
  engine.releaseName("ann", "s4", { ms: 1000 });
  now = 1000;
  assert.deepEqual(engine.claimName("ann", member("s5"), "t5"), { ok: true }, "the hold ran out");
  assert.deepEqual(engine.counts().users, 1);
});
