// MemoryHistory: the positioned streams a single node keeps in memory.
//
// Each test fails when the behaviour it names breaks, for instance:
// - offsets: `++stream.offset` in append() replaced by anything else, or one
//   counter shared by all streams, fails "offsets count up by one per stream";
// - epochs: a constant epoch fails "epochs differ per stream" and the sweep test;
// - trimming: dropping any of the three conditions in #trim() (size, bytes,
//   `first.ts <= oldest`) fails the matching "trims ..." test, and `<` for `<=`
//   fails the exact ttl boundary; #trimTotal() taking the newest (or only the
//   appended stream's) entries fails "total bytes: the oldest anywhere goes first";
// - read(): dropping `since.offset + 1 >= firstKept`, `missed <= limit`, the
//   epoch comparison or `since.offset <= stream.offset` each makes one read test
//   report recovered: true where the spec says false (or the wrong events);
// - drop() and sweep(): not freeing the bytes, or not deleting the stream (so
//   the epoch and offsets survive), fails their tests; forgetting a stream
//   before it has been quiet for an hour (or the ttl, if longer) fails the
//   sweep tests too;
// - #compactOrder(): without the rebuild that filters gone entries, the order
//   list keeps every one of the 100k appended events alive (about 200 MB of
//   text here), which the heap check sees; a rebuild on every append instead
//   (quadratic) is caught by the time bound;
// - append(): keeping a file that is a view into a larger buffer as it is, or
//   "copying" it with slice() (for a Node Buffer, as npm ws delivers, another
//   view of the whole read), fails "a file that is a view of a larger read".

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import type { HistoryLimits } from "../../core/engine.ts";
import { MemoryHistory } from "../../core/memory_history.ts";
import type { DirectEvent, MessageEvent, Position } from "../../core/protocol.ts";

const WIDE: HistoryLimits = {
  size: 100,
  ttlMs: 600_000,
  bytes: 2 * 1024 * 1024,
  totalBytes: 256 * 1024 * 1024,
};

/** What the history counts for one message of `text`: 128 and its UTF-8 bytes. */
const cost = (text: string) => 128 + new TextEncoder().encode(text).length;

let ids = 0;

function message(text: string, room = "lobby"): MessageEvent {
  return { type: "message", id: `m${++ids}`, ts: 0, room, from: "bob", text };
}

function direct(text: string): DirectEvent {
  return { type: "direct", id: `d${++ids}`, ts: 0, from: "bob", to: "ann", text };
}

function history(limits: Partial<HistoryLimits> = {}, start = 1_000_000) {
  let time = start;
  const kept = new MemoryHistory({ ...WIDE, ...limits }, () => time);
  return {
    kept,
    set(t: number) {
      time = t;
    },
    get now() {
      return time;
    },
  };
}

/** Appends one message per text to `stream`; returns their positions. */
function say(kept: MemoryHistory, stream: string, ...texts: string[]): Position[] {
  return texts.map((text) => kept.append(stream, message(text, stream)));
}

const texts = (events: (MessageEvent | DirectEvent)[]) => events.map((event) => event.text);

Deno.test("MemoryHistory: offsets count up by one per stream, and each event carries its position", () => {
  const { kept } = history();
  const a1 = message("a1");
  assert.deepEqual(kept.append("r:a", a1), { offset: 1, epoch: a1.epoch });
  assert.equal(a1.offset, 1);
  assert.equal(typeof a1.epoch, "string");
  assert.ok(a1.epoch!.length > 0);
  const b = say(kept, "r:b", "b1", "b2");
  const a = say(kept, "r:a", "a2", "a3");
  assert.deepEqual(b.map((p) => p.offset), [1, 2], "another stream starts at 1");
  assert.deepEqual(a.map((p) => p.offset), [2, 3], "one more per message, per stream");
  const dm = direct("psst");
  kept.append("u:s1", dm);
  assert.equal(dm.offset, 1, "private streams are streams too");
  assert.deepEqual(kept.read("r:a", undefined, 100).latest, { offset: 3, epoch: a1.epoch });
});

Deno.test("MemoryHistory: epochs differ per stream and stay the same within one", () => {
  const { kept } = history();
  const epochs = ["r:a", "r:b", "r:c", "u:s1"].map((name) => say(kept, name, "x", "y"));
  for (const [first, second] of epochs) assert.equal(first!.epoch, second!.epoch);
  const distinct = new Set(epochs.map(([first]) => first!.epoch));
  assert.equal(distinct.size, 4, `epochs: ${[...distinct]}`);
  const other = history().kept;
  assert.notEqual(
    say(other, "r:a", "x")[0]!.epoch,
    epochs[0]![0]!.epoch,
    "another process's history (a restart) has another epoch for the same stream",
  );
});

Deno.test("MemoryHistory: an empty stream reads as offset 0 with its epoch, recovered from 0", () => {
  const { kept } = history();
  const read = kept.read("r:none", undefined, 100);
  assert.equal(read.recovered, false, "no since: not recovered");
  assert.equal(read.latest.offset, 0);
  assert.deepEqual(read.events, []);
  const again = kept.read("r:none", read.latest, 100);
  assert.deepEqual(again, { recovered: true, latest: read.latest, events: [] });
  const [first] = say(kept, "r:none", "first");
  assert.equal(first!.epoch, read.latest.epoch, "the epoch a read saw is the one messages get");
  assert.deepEqual(texts(kept.read("r:none", read.latest, 100).events), ["first"]);
});

Deno.test("MemoryHistory: trims by size, keeping the latest", () => {
  const { kept } = history({ size: 3 });
  say(kept, "r:a", "1", "2", "3", "4", "5");
  const read = kept.read("r:a", undefined, 100);
  assert.deepEqual(texts(read.events), ["3", "4", "5"]);
  assert.deepEqual(read.events.map((e) => e.offset), [3, 4, 5]);
  assert.equal(kept.bytes, 3 * cost("1"));
});

Deno.test("MemoryHistory: trims by ttl on the fake clock, a message exactly ttl old being gone", () => {
  const clock = history({ ttlMs: 1000 });
  const { kept } = clock;
  const start = clock.now;
  say(kept, "r:a", "old");
  clock.set(start + 500);
  say(kept, "r:a", "new");
  clock.set(start + 999);
  assert.deepEqual(texts(kept.read("r:a", undefined, 100).events), ["old", "new"]);
  clock.set(start + 1000);
  assert.deepEqual(texts(kept.read("r:a", undefined, 100).events), ["new"]);
  assert.equal(kept.bytes, cost("new"), "the expired message's bytes are freed on read");
  clock.set(start + 1500);
  const read = kept.read("r:a", undefined, 100);
  assert.deepEqual(read.events, []);
  assert.equal(read.latest.offset, 2, "the offsets go on although nothing is kept");
  assert.equal(kept.bytes, 0);
});

Deno.test("MemoryHistory: trims by bytes per stream, the oldest first, other streams untouched", () => {
  const text = "x".repeat(72); // 200 bytes each
  const { kept } = history({ bytes: 3 * cost(text) });
  say(kept, "r:a", text + "1", text + "2");
  say(kept, "r:b", "short");
  say(kept, "r:a", text + "3");
  assert.equal(
    kept.read("r:a", undefined, 100).events.length,
    2,
    "three of 201 bytes are over 600",
  );
  const { kept: exact } = history({ bytes: 3 * cost(text) });
  say(exact, "r:a", text, text, text);
  assert.equal(exact.read("r:a", undefined, 100).events.length, 3, "exactly the budget fits");
  say(exact, "r:a", text);
  const read = exact.read("r:a", undefined, 100);
  assert.deepEqual(read.events.map((e) => e.offset), [2, 3, 4]);
  assert.equal(exact.bytes, 3 * cost(text));
  assert.deepEqual(texts(kept.read("r:b", undefined, 100).events), ["short"]);
  const { kept: huge } = history({ bytes: 1000 });
  say(huge, "r:a", "small", "y".repeat(2000));
  assert.deepEqual(
    huge.read("r:a", undefined, 100).events,
    [],
    "a message over the whole budget is not kept, and pushed the rest out",
  );
  assert.equal(huge.bytes, 0);
});

Deno.test("MemoryHistory: counts a file's bytes, not only text", () => {
  const { kept } = history({ bytes: 2 * 128 + 1500 });
  const file = (size: number): MessageEvent => ({
    type: "message",
    id: `f${++ids}`,
    ts: 0,
    room: "r:a",
    from: "bob",
    file: { name: "a.bin", type: "application/octet-stream", size },
    data: new Uint8Array(size),
  });
  kept.append("r:a", file(1000));
  kept.append("r:a", file(400));
  assert.equal(kept.bytes, 2 * 128 + 1400);
  kept.append("r:a", file(200));
  assert.deepEqual(kept.read("r:a", undefined, 100).events.map((e) => e.offset), [2, 3]);
});

Deno.test("MemoryHistory: a file that is a view of a larger read is kept as its own bytes alone", () => {
  // npm ws hands over a Node Buffer that is a view into the whole socket read
  // (here 64 KiB, e.g. the file's frame and a big text frame in one read); a
  // Buffer's slice() is another view, so only a real copy lets the read go.
  const { kept } = history();
  const file = (data: Uint8Array): MessageEvent => ({
    type: "message",
    id: `f${++ids}`,
    ts: 0,
    room: "r:a",
    from: "bob",
    file: { name: "a.bin", type: "application/octet-stream", size: data.length },
    data,
  });
  const newest = () => kept.read("r:a", undefined, 1).events[0]!.data!;
  const read = new ArrayBuffer(64 * 1024);
  new Uint8Array(read).fill(7, 100, 116);
  for (const data of [Buffer.from(read, 100, 16), new Uint8Array(read, 100, 16)]) {
    const kind = data.constructor.name;
    kept.append("r:a", file(data));
    assert.equal(newest().byteLength, 16, kind);
    assert.equal(newest().buffer.byteLength, 16, `${kind}: the kept file holds the whole read`);
    assert.deepEqual([...newest()], new Array(16).fill(7), kind);
  }
  assert.equal(kept.bytes, 2 * (128 + 16));
  // A file that is its whole buffer is kept as it is, not copied.
  const whole = new Uint8Array(16);
  kept.append("r:a", file(whole));
  assert.equal(newest(), whole);
});

Deno.test("MemoryHistory: total bytes: the oldest anywhere goes first", () => {
  const unit = cost("a1");
  const { kept } = history({ totalBytes: 4 * unit });
  say(kept, "r:a", "a1", "a2");
  say(kept, "r:b", "b1");
  say(kept, "u:s", "d1");
  assert.equal(kept.bytes, 4 * unit);
  say(kept, "r:b", "b2");
  assert.equal(kept.bytes, 4 * unit);
  assert.deepEqual(texts(kept.read("r:a", undefined, 100).events), ["a2"], "a1 was oldest");
  say(kept, "r:c", "c1", "c2");
  assert.deepEqual(texts(kept.read("r:a", undefined, 100).events), []);
  assert.deepEqual(texts(kept.read("r:b", undefined, 100).events), ["b2"]);
  assert.deepEqual(texts(kept.read("u:s", undefined, 100).events), ["d1"]);
  assert.deepEqual(texts(kept.read("r:c", undefined, 100).events), ["c1", "c2"]);
  assert.equal(kept.bytes, 4 * unit);
  // A stream that trimmed itself meanwhile is skipped over, not trimmed twice.
  const { kept: mixed } = history({ size: 1, totalBytes: 3 * unit });
  say(mixed, "r:a", "a1", "a2", "a3"); // a1 and a2 gone by size
  say(mixed, "r:b", "b1");
  say(mixed, "r:c", "c1");
  say(mixed, "r:d", "d1");
  assert.deepEqual(texts(mixed.read("r:a", undefined, 100).events), [], "a3 was the oldest kept");
  for (const [name, text] of [["r:b", "b1"], ["r:c", "c1"], ["r:d", "d1"]]) {
    assert.deepEqual(texts(mixed.read(name!, undefined, 100).events), [text]);
  }
});

Deno.test("MemoryHistory: read since a kept position gives exactly the missed, recovered", () => {
  const { kept } = history();
  const positions = say(kept, "r:a", "1", "2", "3", "4", "5");
  const read = kept.read("r:a", positions[1], 100);
  assert.equal(read.recovered, true);
  assert.deepEqual(texts(read.events), ["3", "4", "5"]);
  assert.deepEqual(read.events.map((e) => e.offset), [3, 4, 5]);
  assert.deepEqual(read.latest, positions[4]);
  const fromZero = kept.read("r:a", { offset: 0, epoch: positions[0]!.epoch }, 100);
  assert.equal(fromZero.recovered, true, "offset 0: everything, all still kept");
  assert.equal(fromZero.events.length, 5);
});

Deno.test("MemoryHistory: read since the latest is recovered with nothing", () => {
  const { kept } = history();
  const positions = say(kept, "r:a", "1", "2");
  assert.deepEqual(kept.read("r:a", positions[1], 100), {
    recovered: true,
    latest: positions[1],
    events: [],
  });
  assert.equal(kept.read("r:a", positions[1], 0).recovered, true, "even with limit 0");
});

Deno.test("MemoryHistory: read since the latest is recovered even once everything expired", () => {
  const clock = history({ ttlMs: 1000 });
  const positions = say(clock.kept, "r:a", "1", "2");
  clock.set(clock.now + 5000);
  assert.deepEqual(clock.kept.read("r:a", positions[1], 100), {
    recovered: true,
    latest: positions[1],
    events: [],
  });
  const behind = clock.kept.read("r:a", positions[0], 100);
  assert.equal(behind.recovered, false, "one missed and it is gone");
  assert.deepEqual(behind.events, []);
});

Deno.test("MemoryHistory: read since older than the first kept is not recovered: the latest limit", () => {
  const { kept } = history({ size: 3 });
  const positions = say(kept, "r:a", "1", "2", "3", "4", "5"); // keeps 3, 4, 5
  const boundary = kept.read("r:a", positions[1], 100); // since 2: 3, 4, 5 all kept
  assert.equal(boundary.recovered, true, "since just before the first kept still recovers");
  assert.deepEqual(texts(boundary.events), ["3", "4", "5"]);
  const older = kept.read("r:a", positions[0], 100); // since 1: 2 is gone
  assert.equal(older.recovered, false);
  assert.deepEqual(texts(older.events), ["3", "4", "5"]);
  const limited = kept.read("r:a", positions[0], 2);
  assert.equal(limited.recovered, false);
  assert.deepEqual(texts(limited.events), ["4", "5"], "the latest `limit`");
  assert.deepEqual(limited.latest, positions[4]);
});

Deno.test("MemoryHistory: read since another epoch is not recovered", () => {
  const { kept } = history();
  const positions = say(kept, "r:a", "1", "2", "3");
  const other = say(kept, "r:b", "x")[0]!;
  const read = kept.read("r:a", { offset: 1, epoch: other.epoch }, 2);
  assert.equal(read.recovered, false);
  assert.deepEqual(texts(read.events), ["2", "3"]);
  assert.deepEqual(read.latest, positions[2]);
  assert.equal(kept.read("r:a", { offset: 3, epoch: "nope" }, 100).recovered, false);
  assert.equal(kept.read("r:a", { offset: 0, epoch: "" }, 100).recovered, false);
});

Deno.test("MemoryHistory: read since an offset beyond the latest is not recovered", () => {
  const { kept } = history();
  const positions = say(kept, "r:a", "1", "2", "3");
  const read = kept.read("r:a", { offset: 4, epoch: positions[0]!.epoch }, 100);
  assert.equal(read.recovered, false);
  assert.deepEqual(texts(read.events), ["1", "2", "3"]);
  const far = kept.read("r:a", { offset: Number.MAX_SAFE_INTEGER, epoch: positions[0]!.epoch }, 2);
  assert.equal(far.recovered, false);
  assert.deepEqual(texts(far.events), ["2", "3"]);
});

Deno.test("MemoryHistory: more missed than limit is not recovered: the latest limit", () => {
  const { kept } = history();
  const positions = say(kept, "r:a", "1", "2", "3", "4", "5");
  const read = kept.read("r:a", positions[0], 3); // 4 missed
  assert.equal(read.recovered, false);
  assert.deepEqual(texts(read.events), ["3", "4", "5"]);
  const exact = kept.read("r:a", positions[1], 3); // 3 missed
  assert.equal(exact.recovered, true);
  assert.deepEqual(texts(exact.events), ["3", "4", "5"]);
  const none = kept.read("r:a", positions[3], 0);
  assert.equal(none.recovered, false, "one missed, none allowed");
  assert.deepEqual(none.events, []);
});

Deno.test("MemoryHistory: drop() forgets a stream and its bytes; it comes back new", () => {
  const { kept } = history();
  const [first] = say(kept, "u:s1", "1", "2");
  say(kept, "r:a", "keep");
  kept.drop("u:s1");
  kept.drop("u:nobody"); // nothing to drop
  assert.equal(kept.bytes, cost("keep"));
  const read = kept.read("u:s1", first, 100);
  assert.equal(read.recovered, false);
  assert.equal(read.latest.offset, 0);
  assert.notEqual(read.latest.epoch, first!.epoch, "a new epoch: the old positions are gone");
  assert.deepEqual(say(kept, "u:s1", "again")[0], { offset: 1, epoch: read.latest.epoch });
  assert.deepEqual(texts(kept.read("r:a", undefined, 100).events), ["keep"]);
});

Deno.test("MemoryHistory: drop() of a stream listed early does not confuse the total budget", () => {
  const unit = cost("a1");
  const { kept } = history({ totalBytes: 3 * unit });
  say(kept, "u:s1", "a1", "a2");
  say(kept, "r:b", "b1");
  kept.drop("u:s1");
  assert.equal(kept.bytes, unit);
  say(kept, "r:b", "b2", "b3");
  assert.equal(kept.bytes, 3 * unit);
  assert.deepEqual(texts(kept.read("r:b", undefined, 100).events), ["b1", "b2", "b3"]);
  say(kept, "r:b", "b4");
  assert.deepEqual(texts(kept.read("r:b", undefined, 100).events), ["b2", "b3", "b4"]);
});

const HOUR = 3_600_000;

Deno.test("MemoryHistory: sweep trims every stream by age, freeing the bytes", () => {
  const clock = history({ ttlMs: 1000 });
  const { kept } = clock;
  const start = clock.now;
  say(kept, "r:old", "1", "2");
  clock.set(start + 600);
  say(kept, "r:young", "y");
  clock.set(start + 1000);
  kept.sweep(clock.now);
  assert.equal(kept.bytes, cost("y"), "r:old's expired messages are gone without a read");
});

Deno.test("MemoryHistory: sweep forgets a stream quiet for an hour with nothing kept; it comes back new", () => {
  const clock = history({ ttlMs: 1000 });
  const { kept } = clock;
  const start = clock.now;
  const [old] = say(kept, "r:old", "1", "2");
  const last = clock.now;
  clock.set(start + HOUR / 2);
  const [young] = say(kept, "r:young", "y");
  clock.set(last + HOUR - 1);
  kept.sweep(clock.now);
  const quiet = kept.read("r:old", { offset: 2, epoch: old!.epoch }, 100);
  assert.deepEqual(quiet, {
    recovered: true,
    latest: { offset: 2, epoch: old!.epoch },
    events: [],
  }, "nothing kept, but still known: a client that missed nothing is told so");
  clock.set(last + HOUR);
  kept.sweep(clock.now);
  assert.equal(kept.bytes, 0);
  assert.deepEqual(kept.read("r:young", undefined, 100).latest, young, "r:young is kept");
  const read = kept.read("r:old", old, 100);
  assert.equal(read.latest.offset, 0, "r:old starts again");
  assert.notEqual(read.latest.epoch, old!.epoch);
  assert.equal(read.recovered, false);
  assert.deepEqual(say(kept, "r:old", "again")[0], { offset: 1, epoch: read.latest.epoch });
});

Deno.test("MemoryHistory: sweep waits for the ttl when it is longer than an hour", () => {
  const ttlMs = 3 * HOUR;
  const clock = history({ ttlMs });
  const [first] = say(clock.kept, "r:a", "1");
  clock.set(clock.now + 2 * HOUR);
  clock.kept.sweep(clock.now);
  assert.equal(clock.kept.read("r:a", undefined, 100).events.length, 1, "not yet expired");
  clock.set(clock.now + HOUR);
  clock.kept.sweep(clock.now);
  assert.equal(say(clock.kept, "r:a", "2")[0]!.offset, 1, "expired, and quiet for the ttl");
  assert.notEqual(say(clock.kept, "r:b", "x")[0]!.epoch, first!.epoch);
});

Deno.test("MemoryHistory: sweep keeps a stream that still keeps a message, or spoke lately", () => {
  const clock = history({ size: 1, ttlMs: 10 * HOUR });
  const { kept } = clock;
  const positions = say(kept, "r:a", "1", "2");
  clock.set(clock.now + 2 * HOUR);
  kept.sweep(clock.now);
  assert.deepEqual(kept.read("r:a", positions[0], 100).latest, positions[1]);
  assert.equal(kept.read("r:a", positions[0], 100).recovered, true);
  // With nothing kept at all (size 0) the positions still go on until an hour passes.
  const empty = history({ size: 0, ttlMs: 1000 });
  const [first] = say(empty.kept, "r:a", "1");
  empty.set(empty.now + HOUR - 1);
  empty.kept.sweep(empty.now);
  assert.equal(say(empty.kept, "r:a", "2")[0]!.offset, 2);
  assert.equal(empty.kept.bytes, 0, "size 0 keeps nothing");
  empty.set(empty.now + HOUR);
  empty.kept.sweep(empty.now);
  const restarted = say(empty.kept, "r:a", "3")[0]!;
  assert.equal(restarted.offset, 1);
  assert.notEqual(restarted.epoch, first!.epoch);
  // A stream only ever read counts as used when first read, then is forgotten as quiet too.
  const read = empty.kept.read("r:never", undefined, 1);
  empty.set(empty.now + HOUR - 1);
  empty.kept.sweep(empty.now);
  assert.equal(empty.kept.read("r:never", undefined, 1).latest.epoch, read.latest.epoch);
  empty.set(empty.now + 1);
  empty.kept.sweep(empty.now);
  assert.notEqual(empty.kept.read("r:never", undefined, 1).latest.epoch, read.latest.epoch);
});

Deno.test("MemoryHistory: size 0 keeps nothing and never recovers a missed message", () => {
  const { kept } = history({ size: 0 });
  const positions = say(kept, "r:a", "1", "2");
  assert.deepEqual(positions.map((p) => p.offset), [1, 2]);
  assert.equal(kept.bytes, 0);
  assert.equal(kept.read("r:a", positions[0], 100).recovered, false);
  assert.equal(kept.read("r:a", positions[1], 100).recovered, true);
  assert.deepEqual(kept.read("r:a", undefined, 100).events, []);
});

Deno.test("MemoryHistory: a stream that trims itself does not grow the order list without bound", () => {
  // One long-lived message (a huge ttl) sits at the head of the order list
  // while another stream appends 100k large messages and trims itself to 5.
  const { kept } = history({ size: 5, ttlMs: 365 * 24 * 3600_000 });
  say(kept, "r:quiet", "still here");
  const before = Deno.memoryUsage().heapUsed;
  const started = performance.now();
  const big = 2048;
  for (let i = 0; i < 100_000; i++) {
    // A new string each time: a leaked entry keeps its own 4 KiB alive.
    kept.append("r:busy", message(String(i).padEnd(big, "x"), "r:busy"));
  }
  const elapsed = performance.now() - started;
  assert.equal(kept.bytes, cost("still here") + 5 * (128 + big));
  const busy = kept.read("r:busy", undefined, 100);
  assert.deepEqual(busy.events.map((e) => e.offset), [99_996, 99_997, 99_998, 99_999, 100_000]);
  assert.deepEqual(texts(kept.read("r:quiet", undefined, 100).events), ["still here"]);
  // Leaked, the 100k texts would hold some 200 MB; the young ones die with no leak.
  const grown = Deno.memoryUsage().heapUsed - before;
  assert.ok(grown < 100 * 1024 * 1024, `the heap grew by ${Math.round(grown / 2 ** 20)} MiB`);
  assert.ok(elapsed < 20_000, `100k appends took ${Math.round(elapsed)} ms`);
  // And the total budget still finds the long-lived message first.
  const small = cost("q".repeat(10));
  const large = cost("z".repeat(200));
  const total = history({ size: 5, ttlMs: 365 * 24 * 3600_000, totalBytes: 5 * small + large - 1 });
  say(total.kept, "r:quiet", "q".repeat(10));
  for (let i = 0; i < 5000; i++) say(total.kept, "r:busy", String(i % 10).repeat(10));
  assert.equal(total.kept.bytes, 6 * small, "all fit so far");
  say(total.kept, "r:busy", "z".repeat(200));
  assert.deepEqual(total.kept.read("r:quiet", undefined, 100).events, [], "the oldest went");
  assert.equal(total.kept.read("r:busy", undefined, 100).events.length, 5);
  assert.equal(total.kept.bytes, 4 * small + large);
});
