// deno-lint-ignore-file no-control-regex -- the point is that no control character gets through
import assert from "node:assert/strict";
import fc from "npm:fast-check@4.10.2";
import { nameKey, Outgoing, WireFormat } from "../../core/mod.ts";
import {
  IRC_LINE_BYTES,
  ircChannel,
  ircNick,
  IrcReplies,
  renderIrcShared,
  roomOfChannel,
  splitLines,
} from "../../core/irc_render.ts";

const bytes = (text: string) => new TextEncoder().encode(text).length;

Deno.test("ircNick() makes IRC's special characters full-width, naming the same user", () => {
  assert.equal(ircNick("ann"), "ann");
  assert.equal(ircNick("a!b@c,d:e"), "a！b＠c，d：e");
  assert.equal(ircNick("#hash"), "＃hash");
  assert.equal(ircNick("+plus"), "＋plus");
  assert.equal(ircNick("a#b+c"), "a#b+c"); // only first do they look like a channel or a mode
  for (const name of ["a!b", "x@y", "#x", "+x", "~x", "%x", "a:b", "a,b"]) {
    assert.equal(nameKey(ircNick(name)), nameKey(name), name);
  }
});

Deno.test("ircChannel() and roomOfChannel() map rooms to channels and back", () => {
  assert.equal(ircChannel("games"), "#games");
  assert.equal(ircChannel("a,b"), "#a，b");
  assert.equal(roomOfChannel("#a，b"), "#a,b");
  assert.equal(ircChannel("bad room\r\nQUIT"), "#bad_room__QUIT");
});

Deno.test("splitLines() keeps every line within 510 bytes and loses nothing", () => {
  fc.assert(
    fc.property(
      fc.string({ unit: "grapheme", maxLength: 800 }),
      fc.string({ maxLength: 200 }),
      (text, head) => {
        const lines = splitLines(head, text);
        for (const line of lines) {
          assert.ok(line.startsWith(head));
          if (bytes(head) + 32 <= IRC_LINE_BYTES) assert.ok(bytes(line) <= IRC_LINE_BYTES);
        }
        assert.equal(lines.map((line) => line.slice(head.length)).join(""), text);
      },
    ),
    { numRuns: Number(Deno.env.get("FUZZ_RUNS") ?? 300) },
  );
});

Deno.test("splitLines() cuts at a space near the end rather than inside a word", () => {
  const head = ":a!a@crosswire PRIVMSG #x :";
  const text = "word ".repeat(200).trim();
  const lines = splitLines(head, text);
  assert.ok(lines.length > 1);
  for (const line of lines.slice(0, -1)) assert.ok(line.endsWith(" "), JSON.stringify(line));
});

Deno.test("renderIrcShared() renders what every IRC receiver sees alike", () => {
  const base = { id: "1", ts: Date.UTC(2030, 0, 1, 14, 2), room: "lobby", from: "bob" };
  assert.deepEqual(renderIrcShared({ type: "message", ...base, text: "hi\nthere\n\nyou" }), [
    ":bob!bob@crosswire PRIVMSG #lobby :hi",
    ":bob!bob@crosswire PRIVMSG #lobby :there",
    ":bob!bob@crosswire PRIVMSG #lobby :you",
  ]);
  assert.deepEqual(renderIrcShared({ type: "message", ...base, text: "waves", action: true }), [
    ":bob!bob@crosswire PRIVMSG #lobby :\x01ACTION waves\x01",
  ]);
  assert.deepEqual(renderIrcShared({ type: "message", ...base, text: "old" }, true), [
    ":bob!bob@crosswire PRIVMSG #lobby :[14:02] old",
  ]);
  assert.deepEqual(
    renderIrcShared({
      type: "message",
      ...base,
      file: { name: "cat.png", type: "image/png", size: 12_600 },
      data: new Uint8Array(3),
    }),
    [':bob!bob@crosswire NOTICE #lobby :shared a file: "cat.png" (12.3 KiB, image/png)'],
  );
  assert.deepEqual(
    renderIrcShared({ type: "direct", id: "2", ts: 0, from: "a!b", to: "ann", text: "psst" }),
    [":a！b!a！b@crosswire PRIVMSG ann :psst"],
  );
  assert.deepEqual(renderIrcShared({ type: "joined", ts: 0, room: "x", name: "ann" }), [
    ":ann!ann@crosswire JOIN #x",
  ]);
  assert.deepEqual(
    renderIrcShared({ type: "left", ts: 0, room: "x", name: "ann", reason: "leave" }),
    [":ann!ann@crosswire PART #x"],
  );
  assert.deepEqual(
    renderIrcShared({ type: "left", ts: 0, room: "x", name: "ann", reason: "disconnect" }),
    [":ann!ann@crosswire PART #x :disconnected"],
  );
  assert.deepEqual(
    renderIrcShared({ type: "renamed", ts: 0, room: "x", from: "ann", to: "anna" }),
    [":ann!ann@crosswire NICK :anna"],
  );
  assert.equal(renderIrcShared({ type: "notice", ts: 0, text: "hi" }), null);
});

Deno.test("renderIrcShared() renders a kick as KICK and a topic as TOPIC; other acts are the session's", () => {
  const kick = { type: "moderated", ts: 0, action: "kick", name: "b:b", by: "ann" } as const;
  assert.deepEqual(renderIrcShared({ ...kick, room: "lobby", reason: "spam\r\nQUIT" }), [
    ":ann!ann@crosswire KICK #lobby b：b :spam QUIT",
  ]);
  assert.deepEqual(renderIrcShared({ ...kick, room: "lobby" }), [
    ":ann!ann@crosswire KICK #lobby b：b :kicked",
  ]);
  // To one user (no room), and a ban or mute: a server notice, rendered per session.
  assert.equal(renderIrcShared(kick), null);
  assert.equal(renderIrcShared({ ...kick, action: "mute", room: "lobby", until: 1 }), null);
  assert.deepEqual(
    renderIrcShared({ type: "topic", ts: 0, room: "lobby", text: "be\nkind", by: "ann" }),
    [":ann!ann@crosswire TOPIC #lobby :be kind"],
  );
  assert.deepEqual(
    renderIrcShared({ type: "topic", ts: 0, room: "lobby", text: "", by: "ann" }),
    [":ann!ann@crosswire TOPIC #lobby :"],
  );
});

Deno.test("renderIrcShared() never lets a line break or a control character through", () => {
  const lines = renderIrcShared({
    type: "message",
    id: "1",
    ts: 0,
    room: "lobby",
    from: "bob",
    text: "a\rQUIT\x00\x02bold\x03\u2028:evil!e@x PRIVMSG #lobby :x",
  })!;
  for (const line of lines) assert.doesNotMatch(line, /[\x00-\x1f]/);
  assert.equal(lines.length, 2); // U+2028 ends a line like "\n"
  assert.ok(lines[1]!.startsWith(":bob!bob@crosswire PRIVMSG #lobby ::evil"));
});

Deno.test("Outgoing renders an IRC line once for all its receivers", () => {
  const out = new Outgoing({ type: "joined", ts: 0, room: "lobby", name: "ann" });
  const frame = out.frame(WireFormat.IrcLine)!;
  assert.equal(out.frame(WireFormat.IrcLine), frame);
  assert.equal(
    new TextDecoder().decode(frame.data as Uint8Array),
    ":ann!ann@crosswire JOIN #lobby\r\n",
  );
  assert.equal(new Outgoing({ type: "pong", ts: 0 }).frame(WireFormat.IrcLine), null);
});

Deno.test("IrcReplies splits a long NAMES list over lines of at most 510 bytes", () => {
  const names = Array.from({ length: 200 }, (_, i) => `user${i}ÄÖÜ${"x".repeat(20)}`);
  const replies = new IrcReplies("crosswire", "ann").list("353", ["=", "#lobby"], names);
  assert.ok(replies.lines.length > 1);
  for (const line of replies.lines) {
    assert.ok(bytes(line) <= IRC_LINE_BYTES);
    assert.ok(line.startsWith(":crosswire 353 ann = #lobby :"));
  }
  const listed = replies.lines.flatMap((line) => line.split(" :")[1]!.split(" "));
  assert.deepEqual(listed, names);
});
