// The client's own check of order (client/_streams.ts), with a fake host: no
// server, no transport. Positions, duplicates, holes and the resyncs that
// fill them, gaps, and replays of every kind.

import assert from "node:assert/strict";
import type { DirectEvent, HistoryEvent, MessageEvent } from "../core/protocol.ts";
import type { GapEvent } from "../client/events.ts";
import {
  type Chat,
  type Expectation,
  type ReplayResult,
  Streams,
  type StreamsHost,
} from "../client/_streams.ts";

const EPOCH = "e1";

function message(offset: number | undefined, room = "lobby", epoch = EPOCH): MessageEvent {
  return {
    type: "message",
    id: `m${offset}`,
    ts: 0,
    room,
    from: "bob",
    text: `${room} ${offset ?? "unpositioned"}`,
    ...(offset === undefined ? {} : { offset, epoch }),
  };
}

function direct(offset: number): DirectEvent {
  return {
    type: "direct",
    id: `d${offset}`,
    ts: 0,
    from: "bob",
    to: "ann",
    text: `d${offset}`,
    offset,
    epoch: EPOCH,
  };
}

function header(fields: Partial<HistoryEvent> & { count: number; offset: number }): HistoryEvent {
  return { type: "history", room: "lobby", recovered: true, epoch: EPOCH, ...fields };
}

/** A host that records what is delivered and the resyncs asked for (each registered as the client would). */
class FakeHost implements StreamsHost {
  delivered: (Chat | GapEvent)[] = [];
  raw: Chat[] = [];
  resyncs: { ref: string; room: string | undefined; since: { offset: number; epoch: string } }[] =
    [];
  canResync = true;
  streams!: Streams;
  #next = 0;

  deliver(event: Chat | GapEvent, raw: boolean): boolean {
    if (raw) this.raw.push(event as Chat);
    else this.delivered.push(event);
    return true;
  }

  resync(room: string | undefined, since: { offset: number; epoch: string }): boolean {
    if (!this.canResync) return false;
    const ref = `r${++this.#next}`;
    this.resyncs.push({ ref, room, since });
    this.streams.expect(ref, room, { kind: "recover", since, gap: "skipped", hold: true });
    return true;
  }

  /** What was delivered, as short labels: `lobby 3`, `gap lobby skipped`. */
  get labels(): string[] {
    return this.delivered.map((event) =>
      event.type === "gap" ? `gap ${event.room ?? "private"} ${event.reason}` : event.text ?? ""
    );
  }
}

function setup(): { host: FakeHost; streams: Streams } {
  const host = new FakeHost();
  const streams = new Streams(host);
  host.streams = streams;
  return { host, streams };
}

function expectation(extra: Partial<Expectation> = {}): {
  expectation: Expectation;
  results: (ReplayResult | undefined)[];
} {
  const results: (ReplayResult | undefined)[] = [];
  return {
    expectation: { kind: "recover", done: (result) => results.push(result), ...extra },
    results,
  };
}

Deno.test("Streams delivers live messages in order, drops duplicates and keeps the last position", () => {
  const { host, streams } = setup();
  for (const offset of [1, 2, 2, 1, 3]) streams.message(message(offset));
  assert.deepEqual(host.labels, ["lobby 1", "lobby 2", "lobby 3"]);
  assert.deepEqual(streams.position("lobby"), { offset: 3, epoch: EPOCH });
  assert.equal(streams.position("games"), undefined);
  assert.equal(host.resyncs.length, 0);
});

Deno.test("Streams passes messages without a position through without moving the position", () => {
  const { host, streams } = setup();
  streams.message(message(4));
  streams.message(message(undefined));
  streams.message(message(5));
  assert.deepEqual(host.labels, ["lobby 4", "lobby unpositioned", "lobby 5"]);
  assert.deepEqual(streams.position("lobby"), { offset: 5, epoch: EPOCH });
});

Deno.test("Streams holds a room after a skip, resyncs from the last position, then delivers the missing and the held once", () => {
  const { host, streams } = setup();
  streams.message(message(1));
  streams.message(message(2));
  streams.message(message(5)); // 3 and 4 are missing
  assert.deepEqual(host.resyncs.map(({ room, since }) => ({ room, since })), [
    { room: "lobby", since: { offset: 2, epoch: EPOCH } },
  ]);
  streams.message(message(6)); // held, as is everything after
  streams.message(message(1, "games")); // another room goes on
  assert.deepEqual(host.labels, ["lobby 1", "lobby 2", "games 1"]);
  const ref = host.resyncs[0]!.ref;
  assert.equal(streams.header(header({ ref, count: 4, offset: 6 })), true);
  for (const offset of [3, 4, 5, 6]) streams.message(message(offset));
  streams.message(message(7));
  assert.deepEqual(host.labels, [
    "lobby 1",
    "lobby 2",
    "games 1",
    "lobby 3",
    "lobby 4",
    "lobby 5",
    "lobby 6",
    "lobby 7",
  ]);
  assert.deepEqual(streams.position("lobby"), { offset: 7, epoch: EPOCH });
});

Deno.test("Streams delivers a gap (skipped) before what follows a hole the resync could not fill", () => {
  const { host, streams } = setup();
  streams.message(message(1));
  streams.message(message(9));
  const ref = host.resyncs[0]!.ref;
  // The room keeps only its last two messages.
  streams.header(header({ ref, count: 2, offset: 9, recovered: false }));
  streams.message(message(8));
  streams.message(message(9));
  assert.deepEqual(host.labels, ["lobby 1", "gap lobby skipped", "lobby 8", "lobby 9"]);
});

Deno.test("Streams: a resync that fails is a gap, then the held messages; without a way to ask, a gap at once", () => {
  const { host, streams } = setup();
  streams.message(message(1));
  streams.message(message(3));
  streams.message(message(4));
  streams.cancel(host.resyncs[0]!.ref, true); // the request timed out
  assert.deepEqual(host.labels, ["lobby 1", "gap lobby skipped", "lobby 3", "lobby 4"]);

  host.canResync = false;
  streams.message(message(7));
  assert.deepEqual(host.labels.slice(4), ["gap lobby skipped", "lobby 7"]);
});

Deno.test("Streams: a message of another epoch is a gap (epoch), then the new epoch's positions", () => {
  const { host, streams } = setup();
  streams.message(message(41));
  streams.message(message(3, "lobby", "e2"));
  streams.message(message(4, "lobby", "e2"));
  assert.deepEqual(host.labels, ["lobby 41", "gap lobby epoch", "lobby 3", "lobby 4"]);
  assert.deepEqual(streams.position("lobby"), { offset: 4, epoch: "e2" });
  assert.equal(host.resyncs.length, 0);
});

Deno.test("Streams: a recovery from a position the history no longer has is a gap (too_old) before its messages", () => {
  const { host, streams } = setup();
  streams.set("lobby", { offset: 10, epoch: EPOCH });
  const { expectation: wanted, results } = expectation({ since: { offset: 10, epoch: EPOCH } });
  streams.expect("r1", "lobby", wanted);
  streams.header(header({ ref: "r1", count: 2, offset: 200, recovered: false }));
  streams.message(message(199));
  streams.message(message(200));
  assert.deepEqual(host.labels, ["gap lobby too_old", "lobby 199", "lobby 200"]);
  assert.equal(results[0]?.count, 2);
  assert.equal(results[0]?.recovered, false);
});

Deno.test("Streams: a recovery whose history has another epoch is a gap (epoch) and starts over", () => {
  const { host, streams } = setup();
  streams.set("lobby", { offset: 10, epoch: EPOCH });
  streams.expect("r1", "lobby", { kind: "recover", since: { offset: 10, epoch: EPOCH } });
  streams.header(header({ ref: "r1", count: 1, offset: 1, epoch: "e2", recovered: false }));
  streams.message(message(1, "lobby", "e2"));
  assert.deepEqual(host.labels, ["gap lobby epoch", "lobby 1"]);
  assert.deepEqual(streams.position("lobby"), { offset: 1, epoch: "e2" });
});

Deno.test("Streams: a replay drops what was seen already and counts what it delivered", () => {
  const { host, streams } = setup();
  streams.message(message(1));
  streams.message(message(2));
  const { expectation: wanted, results } = expectation({ since: { offset: 1, epoch: EPOCH } });
  streams.expect("r1", "lobby", wanted);
  streams.header(header({ ref: "r1", count: 3, offset: 4 }));
  for (const offset of [2, 3, 4]) streams.message(message(offset));
  assert.deepEqual(host.labels, ["lobby 1", "lobby 2", "lobby 3", "lobby 4"]);
  assert.deepEqual(results, [{
    recovered: true,
    offset: 4,
    epoch: EPOCH,
    count: 2,
    messages: [],
  }]);
});

Deno.test("Streams: a query is returned, not delivered, and leaves the position alone", () => {
  const { host, streams } = setup();
  streams.message(message(5));
  const results: (ReplayResult | undefined)[] = [];
  streams.expect("q1", "lobby", { kind: "query", done: (result) => results.push(result) });
  streams.header(header({ ref: "q1", count: 2, offset: 5, recovered: false }));
  streams.message(message(4));
  streams.message(message(5));
  streams.message(message(6)); // live again
  assert.deepEqual(host.labels, ["lobby 5", "lobby 6"]);
  assert.deepEqual(results[0]?.messages.map((each) => each.offset), [4, 5]);
});

Deno.test("Streams: a replay nobody asked for (a typed /history) is delivered raw", () => {
  const { host, streams } = setup();
  streams.message(message(9));
  assert.equal(streams.header(header({ count: 2, offset: 9, recovered: false })), false);
  streams.message(message(8));
  streams.message(message(9));
  assert.deepEqual(host.raw.map((each) => each.offset), [8, 9]);
  assert.deepEqual(host.labels, ["lobby 9"]);
  assert.deepEqual(streams.position("lobby"), { offset: 9, epoch: EPOCH });
});

Deno.test("Streams: a baseline learns the position without delivering what came before it", () => {
  const { host, streams } = setup();
  streams.expect("b1", "games", { kind: "baseline" });
  assert.equal(streams.awaiting("games"), true);
  streams.header(header({ ref: "b1", room: "games", count: 1, offset: 17, recovered: false }));
  streams.message(message(17, "games"));
  assert.deepEqual(host.labels, []);
  assert.deepEqual(streams.position("games"), { offset: 17, epoch: EPOCH });
  assert.equal(streams.awaiting("games"), false);
  streams.message(message(19, "games")); // a hole after the baseline: resync
  assert.deepEqual(host.resyncs[0]?.since, { offset: 17, epoch: EPOCH });
});

Deno.test("Streams: an empty room's baseline is offset 0, so its first message is in order", () => {
  const { host, streams } = setup();
  streams.expect("b1", "games", { kind: "baseline" });
  streams.header(header({ ref: "b1", room: "games", count: 0, offset: 0 }));
  streams.message(message(1, "games"));
  assert.deepEqual(host.labels, ["games 1"]);
  assert.equal(host.resyncs.length, 0);
});

Deno.test("Streams: the private stream has its own position, gaps without a room", () => {
  const { host, streams } = setup();
  streams.message(direct(1));
  streams.message(message(1));
  streams.message(direct(3));
  assert.deepEqual(host.resyncs.map((each) => each.room), [undefined]);
  streams.header({
    type: "history",
    recovered: false,
    epoch: EPOCH,
    offset: 3,
    count: 1,
    ref: host.resyncs[0]!.ref,
  });
  streams.message(direct(3));
  assert.deepEqual(host.labels, ["d1", "lobby 1", "gap private skipped", "d3"]);
  assert.deepEqual(streams.position(undefined), { offset: 3, epoch: EPOCH });
});

Deno.test("Streams: paused messages wait, in the order they came, while replays go through", () => {
  const { host, streams } = setup();
  streams.set("lobby", { offset: 1, epoch: EPOCH });
  streams.expect("r1", "lobby", { kind: "recover", since: { offset: 1, epoch: EPOCH } });
  streams.pause();
  streams.message(message(1, "games"));
  streams.message(message(4)); // live, after what the replay brings
  streams.header(header({ ref: "r1", count: 2, offset: 3 }));
  streams.message(message(2));
  streams.message(message(3));
  assert.deepEqual(host.labels, ["lobby 2", "lobby 3"]);
  streams.unpause();
  assert.deepEqual(host.labels, ["lobby 2", "lobby 3", "games 1", "lobby 4"]);
});

Deno.test("Streams: after a drop, held messages are dropped (the resume replays them) and replays will not come", () => {
  const { host, streams } = setup();
  streams.message(message(1));
  streams.message(message(3)); // held, resync asked
  streams.message(message(undefined)); // held too: no replay brings it back, so it is delivered
  const { expectation: wanted, results } = expectation();
  streams.expect("q1", "games", wanted);
  streams.disconnected();
  assert.deepEqual(host.labels, ["lobby 1", "lobby unpositioned"]);
  assert.deepEqual(results, [undefined]);
  assert.deepEqual(streams.position("lobby"), { offset: 1, epoch: EPOCH });
  assert.equal(streams.awaiting("lobby"), false);
  streams.message(message(2)); // the next connection's replay or live messages go on from 1
  assert.deepEqual(host.labels.at(-1), "lobby 2");
});

Deno.test("Streams.forget() drops a room's position and what was held", () => {
  const { host, streams } = setup();
  streams.message(message(1, "games"));
  streams.forget("games");
  assert.equal(streams.position("games"), undefined);
  streams.message(message(7, "games")); // joined again later: a fresh start, no resync
  assert.deepEqual(host.labels, ["games 1", "games 7"]);
  assert.equal(host.resyncs.length, 0);
});
