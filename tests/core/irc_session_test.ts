// IRC clients in the core, on fake ports: registration, every command, what
// the other modes' users see, and the limits. The same on real sockets is in
// tests/irc_test.ts.

import assert from "node:assert/strict";
import { FakeClient, fakeClock, jsonUser, textUser } from "../_fakes.ts";
import { encodeBinaryFrame, type Port, Relay, type RelayOptions } from "../../core/mod.ts";
import { parseIrcLine, startsIrc, stripIrcFormatting } from "../../core/irc_commands.ts";

/** Connects an IRC client (on the TCP port's line framing) and registers `nick`. */
function ircUser(relay: Relay, nick: string): FakeClient {
  const client = new FakeClient(relay, "lines");
  client.type(`NICK ${nick}\r\nUSER ${nick} 0 * :${nick}\r\n`);
  const lines = client.lines();
  assert.ok(
    lines.some((line) => line.startsWith(`:crosswire 001 ${nick} `)),
    `registration of ${nick} failed: ${lines.join("\n")}`,
  );
  return client;
}

/** Types lines (CRLF added) and returns what came back. */
function say(client: FakeClient, ...lines: string[]): string[] {
  client.type(lines.map((line) => line + "\r\n").join(""));
  return client.lines();
}

Deno.test("parseIrcLine() reads tags, a prefix, middle and trailing parameters", () => {
  assert.deepEqual(parseIrcLine("privmsg #a :hello there"), {
    command: "PRIVMSG",
    params: ["#a", "hello there"],
  });
  assert.deepEqual(parseIrcLine("@time=x :me!u@h  JOIN   #a,#b  key"), {
    command: "JOIN",
    params: ["#a,#b", "key"],
  });
  assert.deepEqual(parseIrcLine("TOPIC #a :"), { command: "TOPIC", params: ["#a", ""] });
  assert.deepEqual(parseIrcLine("PRIVMSG #a ::-)"), { command: "PRIVMSG", params: ["#a", ":-)"] });
  assert.equal(parseIrcLine(""), undefined);
  assert.equal(parseIrcLine("   "), undefined);
  const many = parseIrcLine("X " + Array.from({ length: 20 }, (_, i) => `p${i}`).join(" "))!;
  assert.equal(many.params.length, 15);
  assert.equal(many.params[14], "p14 p15 p16 p17 p18 p19");
});

Deno.test("startsIrc() knows an IRC client's first line from a telnet user's name", () => {
  for (const line of ["CAP LS 302", "NICK ann", "USER a 0 * :Ann", "PASS secret", "nick ann"]) {
    assert.ok(startsIrc(line), line);
  }
  for (
    const line of ["nick", "NICK", "Nick", "ann", "/nick ann", '{"type":"hello"}', "CAPS lock"]
  ) {
    assert.ok(!startsIrc(line), line);
  }
});

Deno.test("stripIrcFormatting() removes colours with their numbers and the other codes", () => {
  assert.equal(
    stripIrcFormatting("\x02bold\x02 \x0304,12red\x03 \x1ditalic\x0f \x0399"),
    "bold red italic ",
  );
  assert.equal(stripIrcFormatting("\x04ff0000hex\x04"), "hex");
});

Deno.test("IRC: CAP negotiation holds registration until CAP END; the welcome numerics follow", () => {
  const relay = new Relay({ motd: "be kind\nand brief" });
  const ann = new FakeClient(relay, "lines");
  assert.deepEqual(ann.lines(), ["-!- Welcome to crosswire. What's your name?"]);
  assert.deepEqual(say(ann, "CAP LS 302", "NICK ann", "USER ann 0 * :Ann A"), [
    ":crosswire CAP * LS :",
  ]);
  assert.deepEqual(say(ann, "CAP REQ :sasl multi-prefix"), [
    ":crosswire CAP * NAK :sasl multi-prefix",
  ]);
  assert.deepEqual(say(ann, "CAP LIST"), [":crosswire CAP * LIST :"]);
  assert.equal(relay.stats().users, 0);
  const lines = say(ann, "CAP END");
  assert.deepEqual(lines.map((line) => line.split(" ")[1]), [
    "001",
    "002",
    "003",
    "004",
    "005",
    "251",
    "375",
    "372",
    "372",
    "376",
    "JOIN",
    "353",
    "366",
  ]);
  assert.equal(lines[0], ":crosswire 001 ann :Welcome to crosswire, ann!ann@crosswire");
  assert.match(
    lines[4]!,
    /^:crosswire 005 ann CHANTYPES=# NICKLEN=32 CHANNELLEN=33 CASEMAPPING=ascii PREFIX=\(ov\)@\+ .* :are supported by this server$/,
  );
  assert.equal(lines[7], ":crosswire 372 ann :- be kind");
  assert.equal(lines[10], ":ann!ann@crosswire JOIN #lobby");
  assert.equal(lines[11], ":crosswire 353 ann = #lobby :ann");
  assert.equal(relay.stats().users, 1);
});

Deno.test("IRC: a greeting the transport has not sent yet is dropped when the client speaks IRC", () => {
  const relay = new Relay();
  const ian = new FakeClient(relay, "lines");
  ian.type("CAP LS 302\r\n");
  assert.deepEqual(ian.lines(), [":crosswire CAP * LS :"]);
});

Deno.test("IRC: a taken or invalid nick gets 433 or 432, and the client tries again", () => {
  const relay = new Relay();
  jsonUser(relay, "ann");
  const irc = new FakeClient(relay, "lines");
  irc.lines();
  assert.deepEqual(say(irc, "PASS token", "NICK ANN", "USER x 0 * :x"), [
    ':crosswire 433 * ANN :the name "ANN" is taken; try another',
  ]);
  assert.deepEqual(say(irc, "NICK a:b"), [
    ":crosswire 432 * a:b :Erroneous nickname: IRC cannot carry that name",
  ]);
  assert.match(
    say(irc, "NICK \u200bx")[0]!,
    /^:crosswire 432 \* \u200bx :a name must be 1-32 visible/,
  );
  assert.deepEqual(say(irc, "NICK"), [":crosswire 431 * :No nickname given"]);
  assert.deepEqual(say(irc, "JOIN #x"), [":crosswire 451 * :You have not registered"]);
  assert.equal(
    say(irc, "NICK ann_")[0],
    ":crosswire 001 ann_ :Welcome to crosswire, ann_!ann_@crosswire",
  );
  assert.deepEqual(say(irc, "USER x 0 * :x", "PASS again"), [
    ":crosswire 462 ann_ :You may not reregister",
    ":crosswire 462 ann_ :You may not reregister",
  ]);
});

Deno.test("IRC: IRC, telnet and WebSocket users hear each other in one room", () => {
  const relay = new Relay();
  const wes = jsonUser(relay, "wes");
  const tess = textUser(relay, "tess");
  const ian = ircUser(relay, "ian");
  wes.events();
  tess.lines();
  assert.deepEqual(say(ian, "PRIVMSG #lobby :hello \x02all\x02 \x0304red"), []);
  const heard = wes.events().find((event) => event.type === "message")!;
  assert.equal(heard.from, "ian");
  assert.equal(heard.text, "hello all red");
  assert.deepEqual(tess.lines(), ["[lobby] ian: hello all red"]);
  say(ian, "PRIVMSG #lobby :\x01ACTION waves\x01");
  assert.equal(wes.events()[0]!.action, true);
  assert.deepEqual(tess.lines(), ["[lobby] * ian waves"]);

  wes.send({ type: "publish", room: "lobby", text: "hi ian\u001b[2J" });
  tess.type("/me nods\r\n");
  assert.deepEqual(ian.lines(), [
    ":wes!wes@crosswire PRIVMSG #lobby :hi ian",
    ":tess!tess@crosswire PRIVMSG #lobby :\x01ACTION nods\x01",
  ]);
  // A file from a WebSocket user: a notice with the sender, the name and the size.
  wes.session.receiveBinary(
    encodeBinaryFrame(
      { room: "lobby", file: { name: "cat.png", type: "image/png" } },
      new Uint8Array(2048),
    ),
  );
  assert.deepEqual(ian.lines(), [
    ':wes!wes@crosswire NOTICE #lobby :shared a file: "cat.png" (2.0 KiB, image/png)',
  ]);

  // Private messages both ways; the IRC sender's own copy is not shown back to it.
  assert.deepEqual(say(ian, "PRIVMSG wes :psst"), []);
  assert.equal(wes.events().find((event) => event.type === "direct")?.text, "psst");
  wes.send({ type: "direct", to: "ian", text: "back" });
  tess.type("/msg ian hi\r\n");
  assert.deepEqual(ian.lines(), [
    ":wes!wes@crosswire PRIVMSG ian :back",
    ":tess!tess@crosswire PRIVMSG ian :hi",
  ]);

  // Joins, parts and quits are the same events for everyone.
  say(ian, "JOIN #games");
  wes.send({ type: "join", room: "games" });
  assert.deepEqual(ian.lines().slice(0, 1), [":wes!wes@crosswire JOIN #games"]);
  say(ian, "PART #games :bye");
  assert.ok(wes.events().some((e) => e.type === "left" && e.room === "games" && e.name === "ian"));
  say(ian, "QUIT :later");
  assert.ok(wes.events().some((e) => e.type === "left" && e.room === "lobby" && e.name === "ian"));
  assert.equal(tess.lines().at(-1), "-!- [lobby] ian disconnected");
  assert.deepEqual(ian.port.closes, [{ code: 1000, reason: "bye" }]);
});

Deno.test("IRC: a room message is rendered once for all its IRC receivers", () => {
  const relay = new Relay();
  const wes = jsonUser(relay, "wes");
  const ian = ircUser(relay, "ian");
  const ida = ircUser(relay, "ida");
  ian.take();
  wes.send({ type: "publish", room: "lobby", text: "one frame" });
  const [forIan] = ian.take();
  const [forIda] = ida.take();
  assert.ok(forIan !== undefined && forIan === forIda);
});

Deno.test("IRC: JOIN, PART, NAMES, LIST, WHO, WHOIS, TOPIC, MODE, AWAY and the rest", () => {
  const relay = new Relay();
  jsonUser(relay, "wes");
  const ian = ircUser(relay, "ian");
  assert.deepEqual(say(ian, "JOIN #games,#dev,nochan"), [
    ":crosswire 403 ian nochan :No such channel",
    ":ian!ian@crosswire JOIN #games",
    ":crosswire 353 ian = #games :ian",
    ":crosswire 366 ian #games :End of /NAMES list.",
    ":ian!ian@crosswire JOIN #dev",
    ":crosswire 353 ian = #dev :ian",
    ":crosswire 366 ian #dev :End of /NAMES list.",
  ]);
  assert.deepEqual(say(ian, "PART #dev", "PART #nowhere"), [
    ":ian!ian@crosswire PART #dev",
    ":crosswire 442 ian #nowhere :You're not on that channel",
  ]);
  assert.deepEqual(say(ian, "NAMES #lobby", "NAMES"), [
    ":crosswire 353 ian = #lobby :wes ian",
    ":crosswire 366 ian #lobby :End of /NAMES list.",
    ":crosswire 366 ian * :End of /NAMES list.",
  ]);
  assert.deepEqual(say(ian, "LIST"), [
    ":crosswire 322 ian #games 1 :",
    ":crosswire 322 ian #lobby 2 :",
    ":crosswire 323 ian :End of /LIST",
  ]);
  assert.deepEqual(say(ian, "LIST #lobby,#none"), [
    ":crosswire 322 ian #lobby 2 :",
    ":crosswire 323 ian :End of /LIST",
  ]);
  assert.deepEqual(say(ian, "WHO #lobby", "WHO wes", "WHO nobody"), [
    ":crosswire 352 ian #lobby wes crosswire crosswire wes H :0 wes",
    ":crosswire 352 ian #lobby ian crosswire crosswire ian H :0 ian",
    ":crosswire 315 ian #lobby :End of /WHO list.",
    ":crosswire 352 ian * wes crosswire crosswire wes H :0 wes",
    ":crosswire 315 ian wes :End of /WHO list.",
    ":crosswire 315 ian nobody :End of /WHO list.",
  ]);
  assert.deepEqual(say(ian, "WHOIS WES", "WHOIS nobody"), [
    ":crosswire 311 ian wes wes crosswire * :wes",
    ":crosswire 312 ian wes crosswire :crosswire relay",
    ":crosswire 318 ian wes :End of /WHOIS list.",
    ":crosswire 401 ian nobody :No such nick/channel",
    ":crosswire 318 ian nobody :End of /WHOIS list.",
  ]);
  assert.deepEqual(say(ian, "TOPIC #lobby", "TOPIC #lobby :new topic", "TOPIC #nowhere :x"), [
    ":crosswire 331 ian #lobby :No topic is set",
    ":crosswire 482 ian #lobby :only admins may set a topic",
    ":crosswire 442 ian #nowhere :You're not on that channel",
  ]);
  assert.deepEqual(
    say(
      ian,
      "MODE #lobby",
      "MODE #lobby b",
      "MODE #lobby +o wes",
      "MODE ian",
      "MODE ian +i",
      "MODE wes",
    ),
    [
      ":crosswire 324 ian #lobby +nt",
      ":crosswire 368 ian #lobby :End of channel ban list",
      ":crosswire 482 ian #lobby :You're not channel operator",
      ":crosswire 221 ian +i",
      ":crosswire 502 ian :Can't change mode for other users",
    ],
  );
  assert.deepEqual(say(ian, "AWAY :lunch", "WHOIS ian", "AWAY"), [
    ":crosswire 306 ian :You have been marked as being away",
    ":crosswire 311 ian ian ian crosswire * :ian",
    ":crosswire 319 ian ian :#lobby #games",
    ":crosswire 312 ian ian crosswire :crosswire relay",
    ":crosswire 301 ian ian :lunch",
    ":crosswire 318 ian ian :End of /WHOIS list.",
    ":crosswire 305 ian :You are no longer marked as being away",
  ]);
  assert.deepEqual(say(ian, "ISON wes nobody ian", "USERHOST wes"), [
    ":crosswire 303 ian :wes ian",
    ":crosswire 302 ian :wes=+wes@crosswire",
  ]);
  assert.deepEqual(say(ian, "KICK #lobby wes", "FROB x", "VERSION"), [
    ":crosswire 482 ian #lobby :only admins may kick",
    ":crosswire 421 ian FROB :Unknown command",
    ":crosswire 351 ian crosswire-1 crosswire :crosswire relay",
  ]);
  assert.deepEqual(say(ian, "MOTD"), [":crosswire 422 ian :MOTD File is missing"]);
  assert.deepEqual(say(ian, "JOIN 0"), [
    ":ian!ian@crosswire PART #lobby",
    ":ian!ian@crosswire PART #games",
  ]);
});

Deno.test("IRC: errors become the numerics clients know; a NOTICE is never answered", () => {
  const relay = new Relay();
  jsonUser(relay, "wes");
  const ian = ircUser(relay, "ian");
  assert.deepEqual(
    say(ian, "PRIVMSG #games :hi", "PRIVMSG nobody :hi", "PRIVMSG wes :", "PRIVMSG"),
    [
      ":crosswire 404 ian #games :Cannot send to channel",
      ":crosswire 401 ian nobody :No such nick/channel",
      ":crosswire 412 ian :No text to send",
      ":crosswire 411 ian :No recipient given (PRIVMSG)",
    ],
  );
  assert.deepEqual(
    say(ian, "NOTICE #games :hi", "NOTICE nobody :hi", "NOTICE wes :\x01VERSION\x01"),
    [],
  );
  assert.deepEqual(say(ian, "PRIVMSG a,b,c,d,e :hi").slice(0, 1), [
    ":crosswire 407 ian e :Too many targets",
  ]);
  assert.deepEqual(say(ian, "JOIN #a\u200bb"), [
    ":crosswire 403 ian #a\u200bb :a room name must be 1-32 visible characters with no spaces",
  ]);
  assert.deepEqual(say(ian, "PING"), [":crosswire 409 ian :No origin specified"]);
});

Deno.test("IRC: NICK renames once for IRC though the two share several rooms", () => {
  const relay = new Relay();
  const wes = jsonUser(relay, "wes");
  const ian = ircUser(relay, "ian");
  const ida = ircUser(relay, "ida");
  for (const client of [ian, ida]) say(client, "JOIN #games");
  wes.events();
  ian.lines();
  assert.deepEqual(say(ida, "NICK idaho"), [":ida!ida@crosswire NICK :idaho"]);
  assert.deepEqual(ian.lines(), [":ida!ida@crosswire NICK :idaho"]);
  assert.deepEqual(
    wes.events().map((event) => [event.type, event.from, event.to]),
    [["renamed", "ida", "idaho"]],
  );
  assert.deepEqual(say(ida, "NICK WES"), [
    ':crosswire 433 idaho WES :the name "WES" is taken; try another',
  ]);
  assert.deepEqual(say(ida, "NICK idaho"), []);
});

Deno.test("IRC: PING and PONG both ways; an idle client is pinged at half the idle timeout", () => {
  const clock = fakeClock();
  const relay = new Relay({ now: clock.now, idleTimeoutMs: 10_000, detectPauses: false });
  const ian = ircUser(relay, "ian");
  assert.deepEqual(say(ian, "PING :12345"), [":crosswire PONG crosswire :12345"]);
  clock.set(clock.now() + 4_000);
  relay.sweep();
  assert.deepEqual(ian.lines(), []);
  clock.set(clock.now() + 1_000);
  relay.sweep();
  relay.sweep();
  assert.deepEqual(ian.lines(), ["PING :crosswire"]); // once
  say(ian, "PONG :crosswire");
  clock.set(clock.now() + 9_000);
  relay.sweep();
  assert.deepEqual(ian.lines(), ["PING :crosswire"]);
  clock.set(clock.now() + 1_000);
  relay.sweep();
  const last = ian.lines();
  assert.match(last[0]!, /^:crosswire NOTICE ian :error idle_timeout: /);
  assert.match(last[1]!, /^ERROR :Closing link: crosswire \(closed after 10 seconds/);
  assert.equal(ian.port.closes[0]?.code, 4001);
});

Deno.test("IRC: a line of 510 bytes is fine; a longer one gets 417 and ERROR, then the close", () => {
  const relay = new Relay();
  const ian = ircUser(relay, "ian");
  const head = "PRIVMSG nobody :";
  assert.deepEqual(say(ian, head + "x".repeat(510 - head.length)), [
    ":crosswire 401 ian nobody :No such nick/channel",
  ]);
  assert.deepEqual(say(ian, head + "x".repeat(511 - head.length)), [
    ":crosswire 417 ian :Input line was too long",
    "ERROR :Closing link: crosswire (a line may be at most 510 bytes)",
  ]);
  assert.equal(ian.port.closes[0]?.code, 1009);
});

Deno.test("IRC: lines split across reads, many per read, with CRLF, LF or CR", () => {
  const relay = new Relay();
  const wes = jsonUser(relay, "wes");
  const ian = new FakeClient(relay, "lines");
  ian.type("NICK ia");
  ian.type("n\nUSER i 0 * :i\r");
  ian.type("\nPRIVMSG #lobby :one\rPRIVMSG #lobby :tw");
  ian.type("o\r\nPRIVMSG #lobby :three\n");
  const said = wes.events().filter((event) => event.type === "message").map((event) => event.text);
  assert.deepEqual(said, ["one", "two", "three"]);
  assert.ok(ian.lines().includes(":crosswire 001 ian :Welcome to crosswire, ian!ian@crosswire"));
});

Deno.test("IRC: invalid UTF-8 is replaced; others' control characters never reach the client", () => {
  const relay = new Relay();
  const wes = jsonUser(relay, "wes");
  const ian = ircUser(relay, "ian");
  ian.session.feed(
    new Uint8Array([...new TextEncoder().encode("PRIVMSG #lobby :caf"), 0xe9, 0x0d, 0x0a]),
  );
  assert.equal(wes.events().find((event) => event.type === "message")?.text, "caf\ufffd");
  wes.send({ type: "publish", room: "lobby", text: "a\u0007b\u0003c\u202ed\r\nQUIT" });
  assert.deepEqual(ian.lines(), [
    ":wes!wes@crosswire PRIVMSG #lobby :abcd",
    ":wes!wes@crosswire PRIVMSG #lobby :QUIT",
  ]);
});

Deno.test("IRC: flooding is rate-limited, then disconnected like any client", () => {
  const relay = new Relay({ rateMessageBurst: 5, rateMessagesPerSecond: 1, rateAbuseLimit: 3 });
  const ian = ircUser(relay, "ian");
  const lines = say(ian, ...Array.from({ length: 20 }, () => "PING x"));
  assert.ok(lines.some((line) => /NOTICE ian :error rate_limited: slow down/.test(line)));
  assert.equal(
    lines.at(-1),
    "ERROR :Closing link: crosswire (too many messages too fast, for too long; disconnecting)",
  );
  assert.equal(ian.port.closes[0]?.code, 4029);
});

Deno.test("IRC: a line with several targets or channels counts each against the rate", () => {
  const clock = fakeClock();
  const relay = new Relay({ rateMessageBurst: 10, rateMessagesPerSecond: 1, now: clock.now });
  const wes = jsonUser(relay, "wes");
  const ian = ircUser(relay, "ian");
  wes.events();
  // Two targets a line (a target named again is sent once), six lines: only as many as the burst.
  const lines = say(
    ian,
    ...Array.from({ length: 6 }, (_, i) => `PRIVMSG #lobby,wes,#lobby,wes,#lobby :m${i}`),
  );
  const heard = wes.events().filter((event) => event.type === "message" || event.type === "direct");
  assert.equal(heard.length, 10, JSON.stringify(heard));
  assert.ok(
    lines.some((line) =>
      /NOTICE ian :error rate_limited: slow down: 2 of that line's 2 /.test(line)
    ),
    lines.join("\n"),
  );
  // A JOIN of 32 channels is 32 requests: after a second, one more gets in.
  clock.set(clock.now() + 1000);
  const channels = Array.from({ length: 32 }, (_, i) => `#c${i}`).join(",");
  const joined = say(ian, `JOIN ${channels}`).filter((line) => / JOIN #c\d+$/.test(line));
  assert.equal(joined.length, 1);
  assert.equal(relay.stats().rooms, 2);
});

Deno.test("IRC: what a reply echoes back is one well-formed line without controls", () => {
  const relay = new Relay();
  const eve = new FakeClient(relay, "lines");
  eve.lines();
  const bad = say(eve, "NICK ev\x00il");
  assert.equal(bad.length, 1);
  assert.match(bad[0]!, /^:crosswire 432 \* ev_il :/);
  const ian = ircUser(relay, "ian");
  const replies = say(ian, "JOIN :#a b", "PING :\x01x\x07y", "FOO\x02BAR");
  assert.ok(
    replies.some((line) => line.startsWith(":crosswire 403 ian #a_b :")),
    replies.join("\n"),
  );
  assert.ok(replies.includes(":crosswire PONG crosswire :xy"), replies.join("\n"));
  assert.ok(replies.includes(":crosswire 421 ian FOO_BAR :Unknown command"), replies.join("\n"));
  // deno-lint-ignore no-control-regex -- looking for control characters
  for (const line of [...bad, ...replies]) assert.doesNotMatch(line, /[\x00-\x1f\x7f]/);
});

Deno.test("IRC: a client that does not read is closed as a slow consumer", async () => {
  const relay = new Relay({ maxQueuedBytes: 4096 });
  const wes = jsonUser(relay, "wes");
  const ian = ircUser(relay, "ian");
  for (let i = 0; i < 200 && ian.port.closes.length === 0; i++) {
    wes.send({ type: "publish", room: "lobby", text: "x".repeat(1000) });
    await Promise.resolve();
  }
  assert.equal(ian.port.closes[0]?.code, 4008);
  assert.equal(relay.stats().users, 1);
});

Deno.test("IRC: joining a room replays its last messages, with their times", () => {
  const clock = fakeClock(Date.UTC(2030, 0, 1, 9, 5));
  const relay = new Relay({ now: clock.now, historyOnJoin: 2 });
  const wes = jsonUser(relay, "wes");
  wes.send({ type: "join", room: "games" });
  for (const text of ["one", "two", "three"]) wes.send({ type: "publish", room: "games", text });
  const ian = ircUser(relay, "ian");
  assert.deepEqual(say(ian, "JOIN #games").slice(3), [
    ":crosswire NOTICE #games :2 earlier messages (times in UTC):",
    ":wes!wes@crosswire PRIVMSG #games :[09:05] two",
    ":wes!wes@crosswire PRIVMSG #games :[09:05] three",
  ]);
});

Deno.test("IRC: names IRC cannot carry are shown full-width, and reach their user", () => {
  const relay = new Relay();
  const odd = jsonUser(relay, "a!b");
  const ian = ircUser(relay, "ian");
  assert.deepEqual(say(ian, "NAMES #lobby"), [
    ":crosswire 353 ian = #lobby :a！b ian",
    ":crosswire 366 ian #lobby :End of /NAMES list.",
  ]);
  say(ian, "PRIVMSG a！b :hi");
  assert.equal(odd.events().find((event) => event.type === "direct")?.text, "hi");
  odd.send({ type: "publish", room: "lobby", text: "yo" });
  assert.deepEqual(ian.lines(), [":a！b!a！b@crosswire PRIVMSG #lobby :yo"]);
});

Deno.test("IRC: a port that speaks only IRC sends no text-mode greeting", () => {
  const relay = new Relay();
  const written: Uint8Array[] = [];
  const port: Port = {
    framing: "irc",
    wake: (queue) => written.push(queue.takeBytes()),
    close: () => {},
  };
  const session = relay.connect(port);
  assert.ok(session.irc && !session.json);
  assert.equal(written.length, 0);
  session.feed(new TextEncoder().encode("NICK ann\r\nUSER a 0 * :a\r\n"));
  assert.match(new TextDecoder().decode(written[0]), /^:crosswire 001 ann /);
});

Deno.test("IRC: the first line decides; later lines that look like IRC stay text", () => {
  const relay = new Relay();
  const wes = jsonUser(relay, "wes");
  const nick = new FakeClient(relay, "lines");
  nick.type("nick\r\nNICK bob\r\n");
  assert.ok(
    nick.lines().includes(
      "-!- Welcome, nick! 1 other user online. You are in lobby; type /help for commands.",
    ),
  );
  assert.ok(!nick.session.irc);
  assert.equal(wes.events().find((event) => event.type === "message")?.text, "NICK bob");
  const json = new FakeClient(relay, "lines");
  json.send({ type: "login", name: "jo" });
  assert.ok(json.session.json && !json.session.irc);
});

Deno.test("IRC: server options set the server's name in IRC lines", () => {
  const options: RelayOptions = { serverName: "chat.example org" };
  const relay = new Relay(options);
  const ian = new FakeClient(relay, "lines");
  ian.lines();
  assert.deepEqual(say(ian, "PASS x", "PING x"), [":chat.example-org PONG chat.example-org :x"]);
});
