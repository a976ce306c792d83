// The chat page with tokens and moderation, without a browser: the state
// (web/_state.ts) after a welcome into the rooms a token grants, moderation
// and topic events, refusals and a close that ends the session for good; and
// the token taken out of the page's address (web/_token.ts).

import assert from "node:assert/strict";
import type { WelcomeEvent } from "../core/protocol.ts";
import {
  activeChannel,
  bannerText,
  type Channel,
  endedText,
  errorText,
  initialState,
  joinedRooms,
  type LogItem,
  type PageEvent,
  type PageState,
  reduce,
  roomKey,
  statusText,
} from "../web/_state.ts";
import { parseLine } from "../web/_commands.ts";
import { takeToken } from "../web/_token.ts";

const T0 = 1_800_000_000_000;

function run(events: PageEvent[], state = initialState()): PageState {
  return events.reduce((current, event, i) => reduce(current, event, T0 + i * 1000), state);
}

function welcome(fields: Partial<WelcomeEvent> = {}): WelcomeEvent {
  return {
    type: "welcome",
    session: "s1",
    name: "bob",
    others: 1,
    rooms: ["support", "news"],
    reclaim: "r",
    ...fields,
  };
}

const joined = (name: string, room: string): PageEvent => ({ type: "joined", ts: T0, room, name });

/** Bob, signed in with a token that grants `support` and `news` but not the lobby. */
const SIGNED_IN: PageEvent[] = [
  { type: "connecting" },
  welcome(),
  joined("bob", "support"),
  { type: "presence", room: "support", members: ["ann", "bob"], count: 2 },
  joined("bob", "news"),
  { type: "presence", room: "news", members: ["bob"], count: 1 },
];

function channel(state: PageState, key: string): Channel {
  const found = state.channels.get(key);
  assert.ok(found, `no channel ${key}`);
  return found;
}

function lines(state: PageState, key: string): string[] {
  return channel(state, key).items.flatMap((item: LogItem) =>
    item.kind === "line" ? [`${item.style}: ${item.text}`] : []
  );
}

Deno.test("reduce() after a welcome into a token's rooms: those rooms, greeted in the first, no lobby", () => {
  const state = run(SIGNED_IN);
  assert.equal(state.me, "bob");
  assert.deepEqual(joinedRooms(state).map((room) => room.name), ["support", "news"]);
  assert.equal(state.channels.has(roomKey("lobby")), false, "no lobby appears");
  assert.equal(activeChannel(state)?.key, roomKey("support"));
  assert.match(lines(state, roomKey("support"))[0]!, /^notice: Welcome, bob!/);
  // A token that grants no room at all: signed in, nowhere to greet, nothing invented.
  const nowhere = run([{ type: "connecting" }, welcome({ rooms: [] })]);
  assert.equal(nowhere.me, "bob");
  assert.equal(nowhere.channels.size, 0);
  assert.equal(nowhere.connection.phase, "online");
});

Deno.test("reduce() shows what a moderator did in the room, and to whom it happened", () => {
  const state = run([
    ...SIGNED_IN,
    {
      type: "moderated",
      ts: T0,
      action: "kick",
      name: "carl",
      by: "ann",
      reason: "spam",
      room: "support",
    },
    {
      type: "moderated",
      ts: T0,
      action: "mute",
      name: "bob",
      by: "ann",
      until: T0 + 600_000,
      room: "news",
    },
  ]);
  assert.deepEqual(lines(state, roomKey("support")).slice(1), [
    "moderation: carl was kicked by ann (spam)",
  ]);
  const [muted] = lines(state, roomKey("news"));
  assert.match(muted!, /^error: You were muted by ann until .+$/);
});

Deno.test("reduce() keeps a room's topic for its header and says it once", () => {
  const topic = (text: string, by = "ann"): PageEvent => ({
    type: "topic",
    ts: T0,
    room: "support",
    text,
    by,
  });
  let state = run([...SIGNED_IN, topic("be kind")]);
  assert.deepEqual(channel(state, roomKey("support")).topic, { text: "be kind", by: "ann" });
  assert.equal(lines(state, roomKey("support")).at(-1), "notice: Topic: be kind (set by ann)");
  const before = channel(state, roomKey("support")).items.length;
  state = run([topic("be kind")], state); // told again on a rejoin
  assert.equal(channel(state, roomKey("support")).items.length, before);
  state = run([topic("")], state);
  assert.equal(channel(state, roomKey("support")).topic, undefined);
  assert.equal(lines(state, roomKey("support")).at(-1), "notice: ann cleared the topic");
  // A topic for a room the page does not know changes nothing.
  const unknown: PageEvent = { type: "topic", ts: T0, room: "elsewhere", text: "x", by: "ann" };
  assert.equal(reduce(state, unknown, T0), state);
});

Deno.test("reduce() labels refusals: not allowed, muted, room full", () => {
  const cases: [string, string][] = [
    ["forbidden", "Not allowed: you may not post in news"],
    ["muted", "Muted: you are muted for 5 more minutes"],
    ["room_full", "Room full: support has 50 members already"],
    ["name_taken", "you may not post in news"],
  ];
  for (const [code, shown] of cases) {
    const message = shown.includes(": ") ? shown.slice(shown.indexOf(": ") + 2) : shown;
    const event = { type: "error", code, message } as PageEvent & { type: "error" };
    assert.equal(errorText(event), shown);
    const state = run([...SIGNED_IN, event]);
    assert.equal(lines(state, roomKey("support")).at(-1), `error: ${shown}`);
  }
});

Deno.test("reduce() after a kick, a ban or an expired token says why, and the page stays offline", () => {
  const cases: [number, RegExp][] = [
    [4010, /^A moderator disconnected you \(you were kicked by ann: spam\)\. Reload/],
    [4011, /^You are banned \(you were kicked by ann: spam\)\.$/],
    [4003, /^Your sign-in expired \(you were kicked by ann: spam\)\./],
  ];
  for (const [code, text] of cases) {
    const reason = "you were kicked by ann: spam";
    const state = run([...SIGNED_IN, { type: "close", code, reason }]);
    assert.match(state.ended ?? "", text);
    assert.equal(state.connection.phase, "offline");
    assert.equal(bannerText(state, T0), state.ended);
    assert.equal(statusText(state, T0), "Disconnected");
    assert.match(lines(state, roomKey("support")).at(-1)!, /^error: /);
  }
  // The relay's error just before a kick's close is not said twice.
  const kicked: PageEvent = { type: "error", code: "kicked", message: "you were kicked" };
  const before = run(SIGNED_IN);
  assert.equal(reduce(before, kicked, T0), before);
  // Other closes end nothing for good.
  assert.equal(endedText({ type: "close", code: 1006, reason: "" }), undefined);
  assert.equal(run([...SIGNED_IN, { type: "close", code: 1001, reason: "" }]).ended, undefined);
});

Deno.test("parseLine() sends /topic for the room on screen, and admin commands to the server", () => {
  assert.deepEqual(parseLine("/topic"), { kind: "topic", text: undefined });
  assert.deepEqual(parseLine("/topic be kind"), { kind: "topic", text: "be kind" });
  assert.deepEqual(parseLine("/kick bob spam"), { kind: "raw", line: "/kick bob spam" });
  assert.deepEqual(parseLine("/auth abc"), { kind: "raw", line: "/auth abc" });
});

Deno.test("takeToken() prefers the fragment's token and leaves the rest of the address", () => {
  assert.deepEqual(takeToken("http://h:8080/?token=q1#token=f1"), {
    token: "f1",
    address: "http://h:8080/",
  });
  assert.deepEqual(takeToken("http://h:8080/?token=q1&x=1"), {
    token: "q1",
    address: "http://h:8080/?x=1",
  });
  assert.deepEqual(takeToken("http://h:8080/#a=1&token=f1"), {
    token: "f1",
    address: "http://h:8080/#a=1",
  });
  assert.deepEqual(takeToken("http://h:8080/?x=1"), { token: undefined, address: undefined });
  // An empty token is none, but still comes out of the address.
  assert.deepEqual(takeToken("http://h:8080/?token="), {
    token: undefined,
    address: "http://h:8080/",
  });
});
