// The conversation pane's empty state (web/_empty.ts), from the page's state:
// who is here and how to join for a room with no messages yet, and what a
// private conversation, a room we left or no room at all show instead.

import assert from "node:assert/strict";
import { emptyView } from "../web/_empty.ts";
import { initialState, type PageEvent, type PageState, reduce } from "../web/_state.ts";

const T0 = 1_800_000_000_000;
const PAGE = { page: "http://chat.example:8080/", websocket: "ws://chat.example:8080/ws" };

function run(events: PageEvent[], state: PageState = initialState()): PageState {
  return events.reduce((current, event, i) => reduce(current, event, T0 + i), state);
}

const LOGGED_IN: PageEvent[] = [
  { type: "addresses", addresses: { ...PAGE, tcp: { host: "chat.example", port: 4040 } } },
  { type: "connecting" },
  { type: "welcome", session: "s", name: "ann", others: 1, rooms: ["lobby"], reclaim: "r" },
  { type: "joined", ts: T0, room: "lobby", name: "ann" },
  { type: "presence", room: "lobby", members: ["ann", "bob"], count: 2 },
];

Deno.test("emptyView() for a room with no messages: who is here and how to join", () => {
  const state = run(LOGGED_IN);
  assert.deepEqual(emptyView(state), {
    kind: "room",
    room: "lobby",
    me: "ann",
    members: ["ann", "bob"],
    count: 2,
    stale: false,
    invite: {
      page: PAGE.page,
      telnet: "telnet chat.example 4040",
      websocket: PAGE.websocket,
    },
  });
  // The welcome line and join notices are not messages: the card stays.
  assert.equal(state.channels.get("#lobby")?.items.length, 1);
});

Deno.test("emptyView() is gone once someone says something", () => {
  const state = run([...LOGGED_IN, {
    type: "message",
    id: "m1",
    ts: T0,
    room: "lobby",
    from: "bob",
    text: "hi",
  }]);
  assert.equal(emptyView(state), undefined);
});

Deno.test("emptyView() of another room tells telnet users how to get there from the lobby", () => {
  const state = run([
    ...LOGGED_IN,
    { type: "joined", ts: T0, room: "games", name: "ann" },
    { type: "select", key: "#games" },
  ]);
  const view = emptyView(state);
  assert.equal(view?.kind, "room");
  assert.deepEqual(view.kind === "room" && view.invite, {
    page: PAGE.page,
    telnet: "telnet chat.example 4040",
    websocket: PAGE.websocket,
    join: "/join games",
  });
});

Deno.test("emptyView() without TCP (Cloudflare, Deno Deploy) gives the page and WebSocket", () => {
  const state = run([...LOGGED_IN, { type: "addresses", addresses: PAGE }]);
  const view = emptyView(state);
  assert.deepEqual(view?.kind === "room" && view.invite, PAGE);
});

Deno.test("emptyView() marks its member list stale while reconnecting", () => {
  let state = run([
    ...LOGGED_IN,
    { type: "reconnecting", attempt: 1, delayMs: 1000, code: 1006, reason: "" },
  ]);
  let view = emptyView(state);
  assert.equal(view?.kind === "room" && view.stale, true);
  state = run([{ type: "presence", room: "lobby", members: ["ann"], count: 1 }], state);
  view = emptyView(state);
  assert.equal(view?.kind === "room" && view.stale, false);
  assert.deepEqual(view?.kind === "room" && view.members, ["ann"]);
});

Deno.test("emptyView() for no room, a room we left, and a private conversation", () => {
  assert.deepEqual(emptyView(initialState()), { kind: "none" });
  let state = run([
    ...LOGGED_IN,
    { type: "joined", ts: T0, room: "games", name: "ann" },
    { type: "select", key: "#games" },
    { type: "open_dm", name: "bob" },
  ]);
  assert.deepEqual(emptyView(state), { kind: "dm", name: "bob" });
  state = run([
    { type: "select", key: "#games" },
    // Leaving shows another room; the one we left can still be looked at.
    { type: "left", ts: T0, room: "games", name: "ann", reason: "leave" },
    { type: "select", key: "#games" },
  ], state);
  assert.deepEqual(emptyView(state), { kind: "left", room: "games" });
});
