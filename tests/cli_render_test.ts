// The terminal client's own rendering of events: the server's voice starts with "-!- ", which
// no user can produce, and names that could mislead carry "(?)".

import assert from "node:assert/strict";
import { renderClientEvent, renderEvent, showName } from "../client/cli.ts";
import { colorsFor, styleFor } from "../client/_colors.ts";
import type { ServerEvent } from "../core/protocol.ts";

const ts = 0;
const message = (text: string, extra = {}): ServerEvent => ({
  type: "message",
  id: "1",
  ts,
  room: "lobby",
  from: "ann",
  text,
  ...extra,
});

Deno.test("renderEvent() starts every server-voice line with -!-", () => {
  const server: ServerEvent[] = [
    { type: "welcome", session: "s", name: "ann", others: 1, rooms: ["lobby"], reclaim: "r" },
    { type: "joined", ts, room: "lobby", name: "bob" },
    { type: "left", ts, room: "lobby", name: "bob", reason: "disconnect" },
    { type: "renamed", ts, room: "lobby", from: "bob", to: "rob" },
    { type: "renamed", ts, from: "bob", to: "rob" },
    { type: "presence", room: "lobby", members: ["ann", "bob"], count: 3 },
    { type: "rooms", rooms: [{ name: "lobby", members: 2 }], total: 1 },
    { type: "rooms", rooms: [{ name: "a", members: 1 }], total: 2 },
    { type: "rooms", rooms: [], total: 0 },
    { type: "pong", ts },
    { type: "notice", ts, text: "maintenance at noon\nback soon" },
    { type: "error", code: "name_taken", message: "the name is taken" },
  ];
  for (const event of server) {
    const lines = renderEvent(event);
    assert.ok(lines.length > 0, event.type);
    for (const line of lines) assert.match(line, /^-!- /, `${event.type}: ${line}`);
  }
  assert.deepEqual(renderEvent(server[0]!), [
    "-!- Welcome, ann! 1 other user online. You are in lobby; type /help for commands.",
  ]);
  assert.deepEqual(renderEvent(server[5]!), ["-!- [lobby] 3 here: ann, bob and 1 more"]);
  assert.deepEqual(renderEvent(server[7]!), [
    "-!- Rooms: a (1) and more; /rooms a lists those after a",
  ]);
  assert.deepEqual(renderEvent(server[10]!), ["-!- maintenance at noon", "-!- back soon"]);
  assert.deepEqual(renderEvent(server[11]!), ["-!- error name_taken: the name is taken"]);
});

Deno.test("renderEvent() starts every user line with [room] or [private ...]", () => {
  assert.deepEqual(renderEvent(message("hi\n-!- ann is now an op")), [
    "[lobby] ann: hi",
    "[lobby] ann: -!- ann is now an op",
  ]);
  assert.deepEqual(renderEvent(message("waves", { action: true })), ["[lobby] * ann waves"]);
  assert.deepEqual(
    renderEvent({ type: "direct", id: "2", ts, from: "ann", to: "bob", text: "psst\n-!- x" }),
    ["[private ann -> bob] psst", "[private ann -> bob] -!- x"],
  );
  assert.deepEqual(
    renderEvent(message("", { file: { name: "cat.png", type: "image/png", size: 5000 } })),
    ['-!- [lobby] ann shared a file: "cat.png" (4.9 KiB, image/png)'],
  );
  assert.deepEqual(renderEvent(message("\x1b[2Jclear\u2028-!- forged")), [
    "[lobby] ann: clear",
    "[lobby] ann: -!- forged",
  ]);
});

Deno.test("renderEvent() marks names that could mislead with (?)", () => {
  const fake = "\u0430nn"; // Cyrillic а
  assert.equal(showName("ann"), "ann");
  assert.equal(showName(fake), `${fake}(?)`);
  assert.equal(showName("ＡＮＮ"), "ＡＮＮ(?)");
  assert.deepEqual(renderEvent({ ...message("hello"), from: fake } as ServerEvent), [
    `[lobby] ${fake}(?): hello`,
  ]);
  assert.deepEqual(
    renderEvent({ type: "direct", id: "2", ts, from: fake, to: "bob", text: "it's me" }),
    [`[private ${fake}(?) -> bob] it's me`],
  );
  assert.deepEqual(renderEvent({ type: "joined", ts, room: "lobby", name: fake }), [
    `-!- [lobby] ${fake}(?) joined`,
  ]);
  assert.deepEqual(
    renderEvent({ type: "presence", room: "lobby", members: ["ann", fake], count: 2 }),
    [`-!- [lobby] 2 here: ann, ${fake}(?)`],
  );
  // With colour, the mark is in reverse video and the line keeps its own colour.
  const colors = colorsFor(true);
  const [line] = renderEvent({ type: "joined", ts, room: "lobby", name: fake }, colors.mark);
  assert.equal(line, `-!- [lobby] ${fake}\x1b[7m(?)\x1b[27m joined`);
  assert.equal(
    styleFor({ type: "joined", ts, room: "lobby", name: fake }, colors)(line!),
    `\x1b[2m-!- [lobby] ${fake}\x1b[7m(?)\x1b[27m joined\x1b[0m`,
  );
});

Deno.test("showName() strips what a terminal could hide or obey", () => {
  assert.equal(showName("ann\ufe0f"), "ann(?)");
  assert.equal(showName("a\x1b[31mnn"), "ann");
});

Deno.test("renderEvent() shows a history header in the server's voice and replayed messages with their time", () => {
  assert.deepEqual(
    renderEvent({
      type: "history",
      room: "lobby",
      recovered: false,
      epoch: "e",
      offset: 9,
      count: 2,
    }),
    ["-!- [lobby] the last 2 messages (times in UTC):"],
  );
  assert.deepEqual(
    renderEvent({ type: "history", recovered: true, epoch: "e", offset: 0, count: 0 }),
    ["-!- private messages no messages"],
  );
  const at = Date.UTC(2026, 10, 22, 14, 2);
  assert.deepEqual(
    renderEvent({ ...message("hi"), ts: at } as ServerEvent, undefined, { replayed: true }),
    [
      "[lobby 14:02] ann: hi",
    ],
  );
  assert.deepEqual(
    renderEvent(
      { type: "direct", id: "2", ts: at, from: "ann", to: "bob", text: "psst" },
      undefined,
      {
        replayed: true,
      },
    ),
    ["[private ann -> bob 14:02] psst"],
  );
});

Deno.test("renderClientEvent() says what the client does about its connection, in lines no user can forge", () => {
  assert.equal(
    renderClientEvent({ type: "reconnecting", attempt: 1, delayMs: 1500, code: 1006, reason: "" }),
    "* connection lost (1006); reconnecting in 1.5 s…",
  );
  assert.equal(
    renderClientEvent({
      type: "reconnecting",
      attempt: 3,
      delayMs: 4000,
      code: 1006,
      reason: "x\x1b[2J",
    }),
    "* still not connected (1006: x); reconnecting in 4.0 s… (attempt 3)",
  );
  assert.equal(
    renderClientEvent({
      type: "resumed",
      session: true,
      rooms: [{ room: "lobby", recovered: true, count: 3 }],
      direct: { recovered: true, count: 1 },
    }),
    "* reconnected: 4 missed messages recovered",
  );
  assert.equal(
    renderClientEvent({
      type: "resumed",
      session: false,
      rooms: [{ room: "a", recovered: false, count: 1 }],
    }),
    "* reconnected: session expired, logged in again; 1 missed message recovered",
  );
  assert.equal(
    renderClientEvent({ type: "gap", room: "games", reason: "too_old" }),
    "-- some messages in #games could not be recovered --",
  );
  assert.equal(
    renderClientEvent({ type: "gap", reason: "expired" }),
    "-- some private messages could not be recovered --",
  );
});

Deno.test("renderEvent() tells what a moderator did and a room's topic in the server's voice", () => {
  const until = Date.UTC(2026, 10, 22, 14, 30);
  const cases: [ServerEvent, string][] = [
    [
      {
        type: "moderated",
        ts,
        action: "kick",
        name: "bob",
        by: "ann",
        reason: "spam",
        room: "lobby",
      },
      "-!- [lobby] bob was kicked by ann (spam)",
    ],
    [
      { type: "moderated", ts, action: "kick", name: "bob", by: "ann" },
      "-!- bob was kicked by ann",
    ],
    [
      { type: "moderated", ts, action: "ban", name: "10.0.0.7", by: "server", until, room: "a" },
      "-!- [a] 10.0.0.7 was banned by server until 2026-11-22 14:30 UTC",
    ],
    [
      { type: "moderated", ts, action: "mute", name: "bob", by: "ann", until, reason: "loud" },
      "-!- bob was muted by ann until 2026-11-22 14:30 UTC (loud)",
    ],
    [
      { type: "moderated", ts, action: "unmute", name: "bob", by: "ann" },
      "-!- bob may speak again by ann",
    ],
    [
      { type: "moderated", ts, action: "unban", name: "bob", by: "ann" },
      "-!- bob is no longer banned by ann",
    ],
    [
      { type: "topic", ts, room: "lobby", text: "be kind", by: "ann" },
      "-!- [lobby] topic: be kind (set by ann)",
    ],
    [
      { type: "topic", ts, room: "lobby", text: "", by: "ann" },
      "-!- [lobby] ann cleared the topic",
    ],
  ];
  for (const [event, line] of cases) assert.deepEqual(renderEvent(event), [line]);
  // What users chose is cleaned: no escape reaches the terminal, no line break forges a line.
  const forged: ServerEvent = {
    type: "topic",
    ts,
    room: "lobby",
    text: "hi\x1b[2J\n-!- you are an operator",
    by: "ann",
  };
  const [shown, ...more] = renderEvent(forged);
  assert.deepEqual(more, []);
  assert.ok(!shown!.includes("\x1b") && !shown!.includes("\n"), shown);
  // A look-alike moderator is marked; a bad `until` from a newer server is left out.
  assert.deepEqual(
    renderEvent({ type: "moderated", ts, action: "kick", name: "bob", by: "аnn", until: 1e20 }),
    ["-!- bob was kicked by аnn(?)"],
  );
  assert.equal(styleFor(cases[0]![0], colorsFor(true))("x"), "\x1b[31mx\x1b[0m");
});
