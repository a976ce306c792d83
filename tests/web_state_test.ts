// The chat page's state (web/_state.ts) as a pure function of events, without a
// browser: sequences of library and page events, and the state they lead to.

import assert from "node:assert/strict";
import type { DirectEvent, MessageEvent, WelcomeEvent } from "../core/protocol.ts";
import {
  activeChannel,
  bannerText,
  type Channel,
  conversationColors,
  dmKey,
  documentTitle,
  initialState,
  type LogItem,
  MAX_LOG_ITEMS,
  type PageEvent,
  type PageState,
  reduce,
  roomKey,
  statusText,
} from "../web/_state.ts";
import { InputHistory } from "../web/_input_history.ts";
import { colorIn } from "../web/_colors.ts";
import { colorSlot } from "../web/_format.ts";

const T0 = 1_800_000_000_000;

/** Runs `events` from `state`, one second apart from T0. */
function run(events: PageEvent[], state = initialState()): PageState {
  return events.reduce((current, event, i) => reduce(current, event, T0 + i * 1000), state);
}

function welcome(fields: Partial<WelcomeEvent> = {}): WelcomeEvent {
  return {
    type: "welcome",
    session: "s1",
    name: "ann",
    others: 1,
    rooms: ["lobby"],
    reclaim: "r",
    ...fields,
  };
}

function said(offset: number, text: string, from = "bob", room = "lobby"): MessageEvent {
  return {
    type: "message",
    id: `m${offset}`,
    ts: T0 + offset * 1000,
    room,
    from,
    text,
    offset,
    epoch: "e1",
  };
}

function whispered(offset: number, text: string, from = "bob", to = "ann"): DirectEvent {
  return { type: "direct", id: `d${offset}`, ts: T0 + offset, from, to, text, offset, epoch: "p1" };
}

const joined = (name: string, room = "lobby"): PageEvent => ({
  type: "joined",
  ts: T0,
  room,
  name,
});

/** A logged-in page in the lobby with bob. */
const LOGGED_IN: PageEvent[] = [
  { type: "connecting" },
  welcome(),
  joined("ann"),
  { type: "presence", room: "lobby", members: ["ann", "bob"], count: 2 },
];

function channel(state: PageState, key: string): Channel {
  const found = state.channels.get(key);
  assert.ok(found, `no channel ${key}`);
  return found;
}

/** The log as short strings: message text, `[gap]`, or `-- line`. */
function log(state: PageState, key = roomKey("lobby")): string[] {
  return channel(state, key).items.map((item: LogItem) =>
    item.kind === "message" ? item.text ?? "" : item.kind === "gap" ? "[gap]" : `-- ${item.text}`
  );
}

Deno.test("reduce() logs in: the lobby is joined, on screen, and greets", () => {
  const state = run(LOGGED_IN);
  assert.equal(state.me, "ann");
  assert.equal(state.everConnected, true);
  assert.deepEqual(state.connection, { phase: "online", recovered: undefined });
  assert.equal(state.active, roomKey("lobby"));
  const lobby = channel(state, roomKey("lobby"));
  assert.equal(lobby.joined, true);
  assert.deepEqual(lobby.members, ["ann", "bob"]);
  assert.deepEqual(log(state), [
    "-- Welcome, ann! 1 other person is online. Type /help for commands.",
  ]);
  assert.equal(statusText(state, T0), "Connected");
  assert.equal(bannerText(state, T0), undefined);
  assert.equal(documentTitle(state), "#lobby · crosswire");
});

Deno.test("reduce() puts replayed messages in order by position, each once", () => {
  let state = run([...LOGGED_IN, said(1, "one"), said(2, "two")]);
  // The live stream, a replay that overlaps it, and the same message twice.
  state = run([
    said(4, "four"),
    said(2, "two"),
    said(4, "four"),
    { type: "backfill", messages: [said(1, "one"), said(2, "two"), said(3, "three")] },
  ], state);
  assert.deepEqual(log(state).slice(1), ["one", "two", "three", "four"]);
  // A duplicate by id alone (a message without a position) is dropped too.
  const { offset: _offset, epoch: _epoch, ...unplaced } = said(5, "five");
  state = run([unplaced, unplaced], state);
  assert.deepEqual(log(state).slice(1), ["one", "two", "three", "four", "five"]);
  // A new epoch (the server's history was reset) goes after everything it had.
  state = run([{ ...said(1, "after reset"), id: "n1", epoch: "e2" }], state);
  assert.deepEqual(log(state).slice(1), ["one", "two", "three", "four", "five", "after reset"]);
});

Deno.test("reduce() shows a reconnect: status, lost line, replay, recovered count", () => {
  let state = run([...LOGGED_IN, said(1, "one")]);
  state = reduce(
    state,
    { type: "reconnecting", attempt: 1, delayMs: 2500, code: 1006, reason: "" },
    T0,
  );
  assert.equal(state.connection.phase, "reconnecting");
  assert.equal(statusText(state, T0), "Reconnecting in 3 s (attempt 1)");
  assert.equal(statusText(state, T0 + 2000), "Reconnecting in 1 s (attempt 1)");
  assert.equal(statusText(state, T0 + 3000), "Reconnecting (attempt 1)");
  assert.equal(bannerText(state, T0), "Connection lost. Reconnecting in 3 s (attempt 1)…");
  // The next attempt adds no second "lost" line.
  state = reduce(
    state,
    { type: "reconnecting", attempt: 2, delayMs: 5000, code: 1006, reason: "" },
    T0 + 3000,
  );
  assert.equal(statusText(state, T0 + 3000), "Reconnecting in 5 s (attempt 2)");
  state = run([
    welcome({ resumed: true, rooms: ["lobby"] }),
    said(2, "two"),
    said(3, "three"),
    { type: "resumed", session: true, rooms: [{ room: "lobby", recovered: true, count: 2 }] },
  ], state);
  assert.deepEqual(state.connection, { phase: "online", recovered: 2 });
  assert.equal(statusText(state, T0), "Reconnected — 2 missed messages recovered");
  assert.deepEqual(log(state).slice(1), [
    "one",
    "-- Connection lost; reconnecting.",
    "two",
    "three",
    "-- Reconnected — 2 missed messages recovered.",
  ]);
  assert.equal(channel(state, roomKey("lobby")).joined, true);
  assert.equal(activeChannel(state)?.key, roomKey("lobby"), "still on screen");
});

Deno.test("reduce() marks a gap in the affected room, before the messages after it", () => {
  let state = run([...LOGGED_IN, joined("ann", "games"), said(1, "one"), said(2, "two")]);
  state = run([
    { type: "select", key: roomKey("lobby") },
    { type: "reconnecting", attempt: 1, delayMs: 100, code: 1006, reason: "" },
    welcome({ resumed: true, rooms: ["lobby", "games"] }),
    { type: "gap", room: "lobby", reason: "too_old" },
    said(9, "nine"),
    said(10, "ten"),
    {
      type: "resumed",
      session: true,
      rooms: [{ room: "lobby", recovered: false, count: 2 }, {
        room: "games",
        recovered: true,
        count: 0,
      }],
    },
  ], state);
  assert.deepEqual(log(state).slice(1), [
    "one",
    "two",
    "-- Connection lost; reconnecting.",
    "[gap]",
    "nine",
    "ten",
    "-- Reconnected — 2 missed messages recovered.",
  ]);
  const gap = channel(state, roomKey("lobby")).items.find((item) => item.kind === "gap");
  assert.equal(gap?.kind, "gap");
  if (gap?.kind === "gap") {
    assert.equal(gap.text, "Some messages could not be recovered");
    assert.equal(gap.reason, "too_old");
    assert.deepEqual(gap.after, { offset: 2, epoch: "e1" });
  }
  assert.deepEqual(log(state, roomKey("games")), [], "no gap in the other room");
  // Messages fetched later land on the right side of the gap, each once.
  state = run(
    [{ type: "backfill", messages: [said(2, "two"), said(8, "eight"), said(9, "nine")] }],
    state,
  );
  assert.deepEqual(log(state).slice(1, 7), [
    "one",
    "two",
    "-- Connection lost; reconnecting.",
    "[gap]",
    "eight",
    "nine",
  ]);
});

Deno.test("reduce() marks a gap among private messages in every private conversation", () => {
  let state = run([...LOGGED_IN, whispered(1, "psst"), whispered(2, "hi", "carl")]);
  state = run([{ type: "gap", reason: "expired" }, whispered(7, "later")], state);
  assert.deepEqual(log(state, dmKey("bob")), ["psst", "[gap]", "later"]);
  assert.deepEqual(log(state, dmKey("carl")), ["hi", "[gap]"]);
  // Without any private conversation, the page says so where the user is.
  const lone = run([...LOGGED_IN, { type: "gap", reason: "epoch" }]);
  assert.equal(log(lone).at(-1), "-- Some private messages could not be recovered.");
});

Deno.test("reduce() after a reload: a resumed welcome restores the session's rooms", () => {
  const state = run([
    { type: "connecting" },
    welcome({ resumed: true, rooms: ["lobby", "games"] }),
    said(5, "missed while away", "bob", "games"),
    { type: "resumed", session: true, rooms: [{ room: "games", recovered: true, count: 1 }] },
    {
      type: "backfill",
      messages: [said(3, "before", "bob", "games"), said(4, "reload", "bob", "games")],
    },
    { type: "select", key: roomKey("games") },
  ]);
  assert.equal(state.everConnected, true);
  assert.deepEqual(
    [...state.channels.values()].filter((c) => c.joined).map((c) => c.name),
    ["lobby", "games"],
  );
  assert.equal(state.active, roomKey("games"));
  assert.deepEqual(log(state, roomKey("games")), ["before", "reload", "missed while away"]);
  assert.equal(channel(state, roomKey("games")).unread, 0);
  assert.equal(statusText(state, T0), "Reconnected — 1 missed message recovered");
  assert.ok(!log(state, roomKey("lobby")).some((line) => line.includes("Welcome")), "no greeting");
});

Deno.test("reduce() counts unread messages only where the user is not looking", () => {
  let state = run([...LOGGED_IN, joined("ann", "games"), {
    type: "select",
    key: roomKey("lobby"),
  }]);
  state = run([
    said(1, "in games", "bob", "games"),
    said(2, "mine in games", "ann", "games"),
    said(3, "in lobby"),
  ], state);
  assert.equal(channel(state, roomKey("games")).unread, 1);
  assert.equal(channel(state, roomKey("lobby")).unread, 0);
  assert.equal(documentTitle(state), "(1) #lobby · crosswire");
  // A hidden tab counts the conversation on screen too, until it is shown again.
  state = run([{ type: "visibility", visible: false }, said(4, "while hidden")], state);
  assert.equal(channel(state, roomKey("lobby")).unread, 1);
  state = run([{ type: "visibility", visible: true }], state);
  assert.equal(channel(state, roomKey("lobby")).unread, 0);
  // Fetched history is never unread; selecting a conversation reads it.
  state = run([{ type: "backfill", messages: [said(0, "old", "bob", "games")] }], state);
  assert.equal(channel(state, roomKey("games")).unread, 1);
  state = run([{ type: "select", key: roomKey("games") }], state);
  assert.equal(channel(state, roomKey("games")).unread, 0);
  assert.deepEqual(log(state, roomKey("games")), ["old", "in games", "mine in games"]);
});

Deno.test("reduce() groups a sender's messages and regroups around an insert", () => {
  let state = run([...LOGGED_IN, said(1, "a"), said(3, "c")]);
  const messages = () =>
    channel(state, roomKey("lobby")).items.flatMap((item) =>
      item.kind === "message" ? [[item.text, item.continued]] : []
    );
  assert.deepEqual(messages(), [["a", false], ["c", true]]);
  state = run([{ type: "backfill", messages: [said(2, "b", "carl")] }], state);
  assert.deepEqual(messages(), [["a", false], ["b", false], ["c", false]]);
  state = run([{ ...said(4, "waves"), action: true }, said(5, "d")], state);
  assert.deepEqual(messages().slice(3), [["waves", false], ["d", false]]);
});

Deno.test("reduce() keeps at most MAX_LOG_ITEMS per log and /clear empties one", () => {
  const burst = Array.from({ length: MAX_LOG_ITEMS + 5 }, (_, i) => said(i + 1, `n${i + 1}`));
  let state = run([...LOGGED_IN, ...burst]);
  const lines = log(state);
  assert.equal(lines.length, MAX_LOG_ITEMS);
  assert.equal(lines[0], "n6");
  assert.equal(lines.at(-1), `n${MAX_LOG_ITEMS + 5}`);
  const first = channel(state, roomKey("lobby")).items[0];
  assert.equal(first?.kind === "message" && first.continued, false, "the top starts a group");
  state = run([{ type: "clear", key: roomKey("lobby") }], state);
  assert.deepEqual(log(state), []);
});

Deno.test("reduce() follows members, renames and private conversations", () => {
  let state = run([
    ...LOGGED_IN,
    joined("carl"),
    whispered(1, "psst"),
    { type: "renamed", ts: T0, room: "lobby", from: "bob", to: "robert" },
    { type: "left", ts: T0, room: "lobby", name: "carl", reason: "disconnect" },
  ]);
  assert.deepEqual(channel(state, roomKey("lobby")).members, ["ann", "robert"]);
  assert.equal(channel(state, roomKey("lobby")).count, 2);
  assert.deepEqual(log(state).slice(1), [
    "-- carl joined",
    "-- bob is now robert",
    "-- carl disconnected",
  ]);
  assert.equal(state.channels.has(dmKey("bob")), false);
  assert.deepEqual(log(state, dmKey("robert")), ["psst"]);
  state = run([{ type: "renamed", ts: T0, room: "lobby", from: "ann", to: "anna" }], state);
  assert.equal(state.me, "anna");
  assert.equal(log(state).at(-1), "-- You are now anna");
  state = run([{ type: "open_dm", name: "Dora" }], state);
  assert.equal(state.active, dmKey("dora"));
  state = run([{ type: "close_dm", key: dmKey("dora") }], state);
  assert.equal(state.active, roomKey("lobby"));
  state = run([{ type: "left", ts: T0, room: "lobby", name: "anna", reason: "leave" }], state);
  assert.equal(channel(state, roomKey("lobby")).joined, false);
  assert.equal(state.active, roomKey("lobby"), "a room just left stays on screen");
});

Deno.test("reduce() tells a quit from a lost connection, and ignores what it does not show", () => {
  const online = run(LOGGED_IN);
  const lost = reduce(online, { type: "close", code: 1006, reason: "gave up" }, T0);
  assert.equal(log(lost).at(-1), "-- Connection lost (gave up).");
  assert.equal(statusText(lost, T0), "Offline");
  assert.equal(bannerText(lost, T0), "You are disconnected.");
  const quit = run([{ type: "quitting" }, { type: "close", code: 1000, reason: "" }], online);
  assert.equal(log(quit).at(-1), "-- You are disconnected.");
  for (
    const event of [
      { type: "pong", ts: T0 },
      { type: "history", room: "lobby", recovered: true, epoch: "e1", offset: 0, count: 0 },
      { type: "select", key: "#nowhere" },
    ] as PageEvent[]
  ) {
    assert.equal(reduce(online, event, T0), online, event.type);
  }
  assert.equal(statusText(initialState(), T0), "Not connected");
});

Deno.test("reduce() marks member lists stale while the connection is down, until presence", () => {
  let state = run([
    ...LOGGED_IN,
    joined("ann", "games"),
    { type: "presence", room: "games", members: ["ann", "cid"], count: 2 },
    { type: "open_dm", name: "dee" },
  ]);
  const stale = (key: string) => channel(state, key).stale;
  assert.equal(stale(roomKey("lobby")), false);
  state = run([{ type: "reconnecting", attempt: 1, delayMs: 1000, code: 1006, reason: "" }], state);
  assert.equal(stale(roomKey("lobby")), true);
  assert.equal(stale(roomKey("games")), true);
  assert.equal(stale(dmKey("dee")), false, "a private conversation has no presence");
  // Still listed (the page cannot know who left), but marked as possibly wrong.
  assert.deepEqual(channel(state, roomKey("lobby")).members, ["ann", "bob"]);
  // Back: each room's fresh presence replaces its list and clears the mark.
  state = run([
    { type: "resumed", session: true, rooms: [{ room: "lobby", recovered: true, count: 0 }] },
    { type: "presence", room: "lobby", members: ["ann"], count: 1 },
  ], state);
  assert.equal(stale(roomKey("lobby")), false);
  assert.deepEqual(channel(state, roomKey("lobby")).members, ["ann"]);
  assert.equal(stale(roomKey("games")), true, "until its own presence comes");
  // A close (the library gave up) and a new login mark them too; leaving clears the mark.
  state = run([{ type: "close", code: 1006, reason: "" }], state);
  assert.equal(stale(roomKey("lobby")), true);
  state = run([{ type: "connecting" }, {
    type: "left",
    ts: T0,
    room: "games",
    name: "ann",
    reason: "leave",
  }], state);
  assert.equal(stale(roomKey("lobby")), true);
  assert.equal(stale(roomKey("games")), false);
});

Deno.test("reduce() gives the members of a room different colours while colours are free", () => {
  // Someone whose name has ann's own colour.
  const twin = Array.from({ length: 500 }, (_, i) => `t${i}`)
    .find((name) => colorSlot(name) === colorSlot("ann"))!;
  let state = run([
    ...LOGGED_IN,
    joined(twin),
    { type: "message", id: "x", ts: T0, room: "lobby", from: twin, text: "hi" },
  ]);
  let colors = conversationColors(state, channel(state, roomKey("lobby")));
  assert.equal(colorIn(colors, "ann"), colorSlot("ann"), "ours never moves");
  assert.equal(colorIn(colors, "bob"), colorSlot("bob"));
  assert.notEqual(colorIn(colors, twin), colorIn(colors, "ann"));
  assert.notEqual(colorIn(colors, twin), colorIn(colors, "bob"));
  // Colours stay put as others come and go.
  const before = colorIn(colors, twin);
  state = run([
    joined("cid"),
    { type: "left", ts: T0, room: "lobby", name: "bob", reason: "leave" },
  ], state);
  colors = conversationColors(state, channel(state, roomKey("lobby")));
  assert.equal(colorIn(colors, twin), before);
  // A private conversation: the two of us apart, even with the same colour of our own.
  state = run([{ type: "open_dm", name: twin }], state);
  const dm = conversationColors(state, channel(state, dmKey(twin)));
  assert.notEqual(colorIn(dm, twin), colorIn(dm, "ann"));
  assert.equal(conversationColors(state, channel(state, dmKey(twin))), dm, "the same object");
});

Deno.test("InputHistory.recall() steps through sent lines and keeps the draft", () => {
  const history = new InputHistory(2);
  assert.equal(history.recall(-1, "x"), undefined);
  history.push("one");
  history.push("two");
  history.push("two");
  history.push("three");
  assert.equal(history.recall(-1, "draft"), "three");
  assert.equal(history.recall(-1, "three"), "two");
  assert.equal(history.recall(-1, "two"), "two", "only two lines are kept");
  assert.equal(history.recall(1, "two"), "three");
  assert.equal(history.recall(1, "three"), "draft");
  assert.equal(history.atEnd, true);
});
