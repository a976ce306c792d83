// IRC clients and tokens, topics and moderation, in the core on fake ports:
// PASS as the token, TOPIC, KICK, OPER, what moderators' acts look like on
// IRC, and the numerics for the relay's new errors. The same on real sockets
// is in tests/irc_auth_test.ts.

import assert from "node:assert/strict";
import { FakeClient, jsonUser, ofType, relayWithTokens } from "../_fakes.ts";
import { CloseCode, Relay } from "../../mod.ts";

const relayWith = relayWithTokens;

/**
 * Lines `client` receives until one matches `done`, letting the relay's
 * promises (a verifier's, a password digest) settle a macrotask at a time.
 */
async function until(client: FakeClient, done: (line: string) => boolean): Promise<string[]> {
  const seen: string[] = [];
  for (let turn = 0; turn < 100; turn++) {
    seen.push(...client.lines());
    if (seen.some(done)) return seen;
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  assert.fail(`no matching line came; saw:\n${seen.join("\n")}`);
}

/** Types lines (CRLF added) and returns what came back at once. */
function say(client: FakeClient, ...lines: string[]): string[] {
  client.type(lines.map((line) => line + "\r\n").join(""));
  return client.lines();
}

/** Registers an IRC client as `nick`, with `PASS token` first when a token is given. */
async function ircUser(relay: Relay, nick: string, token?: string): Promise<FakeClient> {
  const client = new FakeClient(relay, "lines");
  const pass = token === undefined ? "" : `PASS ${token}\r\n`;
  client.type(`${pass}NICK ${nick}\r\nUSER ${nick} 0 * :${nick}\r\n`);
  await until(client, (line) => / 366 \S+ #lobby /.test(line));
  return client;
}

Deno.test("IRC PASS: a good token registers the user under the token's name", async () => {
  const { relay } = relayWith({ t1: { subject: "u-1", name: "ann" }, t2: { name: "bob" } });
  const irc = new FakeClient(relay, "lines");
  irc.type("CAP LS 302\r\nPASS t1\r\nNICK mallory\r\nUSER m 0 * :M\r\nCAP END\r\n");
  const lines = await until(irc, (line) => line.includes(" 366 "));
  assert.ok(
    lines.includes(":crosswire 001 ann :Welcome to crosswire, ann!ann@crosswire"),
    lines.join("\n"),
  );
  assert.ok(
    lines.includes(
      ":crosswire NOTICE ann :Your token names you ann: that is your nick here, not mallory.",
    ),
  );
  assert.ok(lines.includes(":ann!ann@crosswire JOIN #lobby"));
  assert.equal(irc.session.identity?.subject, "u-1");
  assert.equal(relay.counters.logins.token, 1);
  // The nick the token gives: nothing to explain.
  const bob = new FakeClient(relay, "lines");
  bob.type("PASS t2\r\nNICK bob\r\nUSER bob 0 * :Bob\r\n");
  const welcome = await until(bob, (line) => line.includes(" 366 "));
  assert.ok(welcome.includes(":crosswire 001 bob :Welcome to crosswire, bob!bob@crosswire"));
  assert.ok(!welcome.some((line) => line.includes("Your token names you")));
  // A token user cannot rename (the token names them); a new token comes as PASS.
  assert.deepEqual(say(bob, "NICK robert"), [
    ":crosswire 432 bob robert :your name comes from your token; it cannot change",
  ]);
  bob.type("PASS t2\r\n");
  assert.match(
    (await until(bob, (line) => line.includes("Token accepted")))[0]!,
    /^:crosswire NOTICE bob :Token accepted; it is valid until /,
  );
  bob.type("PASS nonsense\r\n");
  assert.deepEqual(await until(bob, (line) => line.includes("auth_failed")), [
    ":crosswire NOTICE bob :error auth_failed: the token's signature does not verify",
  ]);
  // Without a token, a PASS after registration is the usual 462.
  const ian = await ircUser(relay, "ian");
  assert.deepEqual(say(ian, "PASS t2"), [":crosswire 462 ian :You may not reregister"]);
});

Deno.test("IRC PASS: a bad token gets 464, the reason as a NOTICE, then ERROR and the close", async () => {
  const { relay } = relayWith({});
  const irc = new FakeClient(relay, "lines");
  irc.type("PASS forged\r\nNICK ann\r\nUSER ann 0 * :Ann\r\n");
  const lines = await until(irc, (line) => line.startsWith("ERROR "));
  assert.deepEqual(lines, [
    ":crosswire 464 * :Password incorrect",
    ":crosswire NOTICE * :Your token was refused: the token's signature does not verify",
    "ERROR :Closing link: crosswire (Password incorrect)",
  ]);
  assert.ok(!lines.join("\n").includes("forged"), "the token is never repeated");
  assert.equal(irc.session.state, "closed");
  assert.equal(irc.port.closes[0]?.code, CloseCode.policyViolation);
  assert.equal(relay.stats().users, 0);
});

Deno.test("IRC PASS: an expired token is refused like a wrong one", async () => {
  const { relay, clock } = relayWith({ old: { name: "ann", expires: 0 } });
  clock.set(1_700_000_000_000);
  const irc = new FakeClient(relay, "lines");
  irc.type("PASS old\r\nNICK ann\r\nUSER ann 0 * :Ann\r\n");
  const lines = await until(irc, (line) => line.startsWith("ERROR "));
  assert.equal(lines[0], ":crosswire 464 * :Password incorrect");
  assert.equal(lines[1], ":crosswire NOTICE * :Your token was refused: the token has expired");
});

Deno.test("IRC PASS: with --require-auth and no PASS, 464 says to send a token, then the close", async () => {
  const { relay } = relayWith({}, { requireAuth: true });
  const irc = new FakeClient(relay, "lines");
  irc.type("NICK ann\r\nUSER ann 0 * :Ann\r\n");
  const lines = await until(irc, (line) => line.startsWith("ERROR "));
  assert.deepEqual(lines, [
    ":crosswire 464 * :Password required: this server needs a token; connect with it as the " +
    "server password (PASS)",
    "ERROR :Closing link: crosswire (a token is required: send it as the server password (PASS))",
  ]);
  assert.equal(irc.session.state, "closed");
});

Deno.test("IRC PASS: without an authenticator a PASS is ignored, as before tokens", () => {
  const relay = new Relay();
  const irc = new FakeClient(relay, "lines");
  irc.lines();
  const lines = say(irc, "PASS my-bouncer-password", "NICK ann", "USER ann 0 * :Ann");
  assert.equal(lines[0], ":crosswire 001 ann :Welcome to crosswire, ann!ann@crosswire");
  assert.equal(irc.session.identity, undefined);
  // A server that requires tokens but cannot check them turns everyone away.
  const strict = new Relay({ requireAuth: true });
  const ian = new FakeClient(strict, "lines");
  ian.lines();
  assert.equal(
    say(ian, "PASS x", "NICK ian", "USER ian 0 * :Ian")[0],
    ":crosswire 464 * :Password required: this server needs a token; connect with it as the " +
      "server password (PASS)",
  );
  assert.equal(ian.session.state, "closed");
});

Deno.test("IRC PASS: a token whose name is online is refused and closed: another nick cannot help", async () => {
  const { relay } = relayWith({ t1: { name: "ann" } });
  jsonUser(relay, "ann");
  const irc = new FakeClient(relay, "lines");
  irc.type("PASS t1\r\nNICK ann\r\nUSER ann 0 * :Ann\r\n");
  const lines = await until(irc, (line) => line.startsWith("ERROR "));
  assert.match(lines[0]!, /^:crosswire NOTICE \* :error name_taken: /);
  assert.match(lines[1]!, /^ERROR :Closing link: crosswire \(the name "ann" is taken/);
});

Deno.test("IRC PASS: a banned name gets 465 and ERROR", async () => {
  const { relay } = relayWith({ admin: { name: "root", admin: true }, t1: { name: "bob" } });
  const root = await ircUser(relay, "root", "admin");
  say(root, "BAN bob 10 spam");
  const irc = new FakeClient(relay, "lines");
  irc.type("PASS t1\r\nNICK bob\r\nUSER bob 0 * :Bob\r\n");
  const lines = await until(irc, (line) => line.startsWith("ERROR "));
  assert.match(lines[0]!, /^:crosswire 465 \* :you are banned until /);
  assert.equal(irc.port.closes[0]?.code, CloseCode.banned);
});

Deno.test("IRC TOPIC: an admin sets it, the channel sees TOPIC, a later joiner gets 332 and 333", async () => {
  const { relay, clock } = relayWith({ admin: { name: "ann", admin: true } });
  const ann = await ircUser(relay, "ann", "admin");
  const bob = await ircUser(relay, "bob");
  const wes = jsonUser(relay, "wes");
  for (const client of [ann, bob]) client.take();
  assert.deepEqual(say(bob, "TOPIC #lobby :mine now"), [
    ":crosswire 482 bob #lobby :only admins may set a topic",
  ]);
  assert.deepEqual(say(ann, "TOPIC #lobby :\x02Welcome\x02 to the lobby"), [
    ":ann!ann@crosswire TOPIC #lobby :Welcome to the lobby",
  ]);
  assert.deepEqual(bob.lines(), [":ann!ann@crosswire TOPIC #lobby :Welcome to the lobby"]);
  assert.deepEqual(ofType(wes.events(), "topic").map((e) => e.text), ["Welcome to the lobby"]);
  const at = String(Math.floor(clock.now() / 1000));
  assert.deepEqual(say(bob, "TOPIC #lobby"), [
    ":crosswire 332 bob #lobby :Welcome to the lobby",
    `:crosswire 333 bob #lobby ann ${at}`,
  ]);

  // A later joiner: the topic comes after the NAMES, as 332 and 333.
  const cy = new FakeClient(relay, "lines");
  cy.type("NICK cy\r\nUSER cy 0 * :Cy\r\n");
  const lines = await until(cy, (line) => line.includes(" 333 "));
  const join = lines.indexOf(":cy!cy@crosswire JOIN #lobby");
  assert.deepEqual(lines.slice(join + 2), [
    ":crosswire 366 cy #lobby :End of /NAMES list.",
    ":crosswire 332 cy #lobby :Welcome to the lobby",
    `:crosswire 333 cy #lobby ann ${at}`,
  ]);
  // Joining a channel with a topic (and joining it again) shows 332 and 333; clearing it is TOPIC.
  say(ann, "JOIN #dev", "TOPIC #dev :dev talk");
  const dev = say(cy, "JOIN #dev", "JOIN #dev");
  assert.deepEqual(dev.filter((line) => line.includes(" 332 ")), [
    ":crosswire 332 cy #dev :dev talk",
    ":crosswire 332 cy #dev :dev talk",
  ]);
  ann.take();
  assert.deepEqual(say(ann, "TOPIC #dev :"), [":ann!ann@crosswire TOPIC #dev :"]);
  assert.deepEqual(cy.lines(), [":ann!ann@crosswire TOPIC #dev :"]);
  assert.deepEqual(say(cy, "TOPIC #dev", "TOPIC dev"), [
    ":crosswire 331 cy #dev :No topic is set",
    ":crosswire 403 cy dev :No such channel",
  ]);
});

Deno.test("IRC KICK: an admin kicks; the channel sees KICK, the kicked user KICK and ERROR", async () => {
  const { relay } = relayWith({ admin: { name: "ann", admin: true } });
  const ann = await ircUser(relay, "ann", "admin");
  const bob = await ircUser(relay, "bob");
  const cy = await ircUser(relay, "cy");
  const wes = jsonUser(relay, "wes");
  say(bob, "JOIN #dev");
  say(cy, "JOIN #dev");
  for (const client of [ann, bob, cy, wes]) client.take();
  assert.deepEqual(say(cy, "KICK #lobby bob :go"), [
    ":crosswire 482 cy #lobby :only admins may kick",
  ]);
  assert.deepEqual(say(ann, "KICK #lobby nobody", "KICK lobby bob", "KICK #lobby"), [
    ":crosswire 401 ann nobody :No such nick/channel",
    ":crosswire 403 ann lobby :No such channel",
    ":crosswire 461 ann KICK :Not enough parameters",
  ]);
  assert.deepEqual(say(ann, "KICK #lobby bob :\x0304spamming\x03"), [
    ":ann!ann@crosswire KICK #lobby bob :spamming",
    ":crosswire NOTICE ann :bob was kicked.",
  ]);
  assert.deepEqual(bob.lines(), [
    ":ann!ann@crosswire KICK #lobby bob :spamming",
    ":ann!ann@crosswire KICK #dev bob :spamming",
    "ERROR :Closing link: crosswire (you were kicked by ann: spamming)",
  ]);
  assert.equal(bob.port.closes[0]?.code, CloseCode.kicked);
  // Those who share a channel see the KICK, and no PART after it.
  assert.deepEqual(cy.lines(), [
    ":ann!ann@crosswire KICK #lobby bob :spamming",
    ":ann!ann@crosswire KICK #dev bob :spamming",
  ]);
  assert.deepEqual(ofType(wes.events(), "moderated").map((e) => [e.action, e.name, e.room]), [[
    "kick",
    "bob",
    "lobby",
  ]]);
  // A later departure is still told.
  say(cy, "PART #dev");
  assert.deepEqual(say(ann, "NAMES #lobby"), [
    ":crosswire 353 ann = #lobby :ann cy wes",
    ":crosswire 366 ann #lobby :End of /NAMES list.",
  ]);
  cy.type("QUIT\r\n");
  assert.deepEqual(ann.lines(), [":cy!cy@crosswire PART #lobby :disconnected"]);
});

Deno.test("IRC OPER: the operator password makes an admin (381); a wrong one is 464", async () => {
  const relay = new Relay({ adminPassword: "hunter2" });
  const ann = await ircUser(relay, "ann");
  const bob = await ircUser(relay, "bob");
  for (const client of [ann, bob]) client.take();
  ann.type("OPER ann wrong\r\n");
  assert.deepEqual(await until(ann, (line) => line.includes(" 464 ")), [
    ":crosswire 464 ann :wrong operator password",
  ]);
  assert.deepEqual(say(ann, "OPER ann"), [":crosswire 461 ann OPER :Not enough parameters"]);
  ann.type("OPER ann hunter2\r\n");
  assert.deepEqual(await until(ann, (line) => line.includes(" 381 ")), [
    ":crosswire 381 ann :You are now an IRC operator",
  ]);
  assert.deepEqual(say(ann, "TOPIC #lobby :ops here"), [
    ":ann!ann@crosswire TOPIC #lobby :ops here",
  ]);
  assert.deepEqual(bob.lines(), [":ann!ann@crosswire TOPIC #lobby :ops here"]);
  // Too many wrong passwords close the link.
  const cy = await ircUser(relay, "cy");
  cy.type("OPER cy a\r\nOPER cy b\r\nOPER cy c\r\n");
  const lines = await until(cy, (line) => line.startsWith("ERROR "));
  assert.equal(
    lines.at(-1),
    "ERROR :Closing link: crosswire (wrong operator password, too many times)",
  );
  // Without an operator password, OPER is refused.
  const plain = await ircUser(new Relay(), "dee");
  plain.type("OPER dee x\r\n");
  assert.deepEqual(await until(plain, (line) => line.includes(" 464 ")), [
    ":crosswire 464 dee :this server has no operator password",
  ]);
});

Deno.test("IRC moderation: MUTE, BAN and the rest with /quote; their notices; muted users get 404", async () => {
  const { relay } = relayWith({ admin: { name: "ann", admin: true } });
  const ann = await ircUser(relay, "ann", "admin");
  const bob = await ircUser(relay, "bob");
  const cy = await ircUser(relay, "cy");
  for (const client of [ann, bob, cy]) client.take();
  assert.deepEqual(say(bob, "MUTE cy", "BAN cy", "UNBAN cy", "UNMUTE cy"), [
    ":crosswire 481 bob :Permission Denied: only admins may mute",
    ":crosswire 481 bob :Permission Denied: only admins may ban",
    ":crosswire 481 bob :Permission Denied: only admins may unban",
    ":crosswire 481 bob :Permission Denied: only admins may unmute",
  ]);
  assert.deepEqual(say(ann, "MUTE", "MUTE nobody"), [
    ":crosswire 461 ann MUTE :Not enough parameters",
    ":crosswire 401 ann nobody :No such nick/channel",
  ]);
  const muted = say(ann, "MUTE bob 5 :too loud");
  assert.match(
    muted[0]!,
    /^:crosswire NOTICE #lobby :bob was muted by ann until \S+ \S+ UTC \(too loud\)$/,
  );
  assert.match(muted[1]!, /^:crosswire NOTICE ann :bob is muted until /);
  assert.equal(cy.lines()[0], muted[0]);
  bob.lines();
  assert.deepEqual(say(bob, "PRIVMSG #lobby :hello?", "PRIVMSG cy :psst"), [
    ":crosswire 404 bob #lobby :Cannot send to channel: you are muted for 5 more minutes",
    ":crosswire NOTICE bob :error muted: you are muted for 5 more minutes",
  ]);
  assert.match(say(ann, "UNMUTE bob")[0]!, /^:crosswire NOTICE #lobby :bob was unmuted by ann$/);
  bob.lines();
  assert.deepEqual(say(bob, "PRIVMSG #lobby :thanks"), []);
  // A ban: the channel's notice, then the banned user's 465 and ERROR.
  cy.take();
  say(ann, "BAN bob 10 :spam");
  assert.match(cy.lines()[0]!, /^:crosswire NOTICE #lobby :bob was banned by ann until /);
  const gone = bob.lines();
  assert.match(gone.at(-2)!, /^:crosswire 465 bob :you are banned until \S+ by ann: spam$/);
  assert.match(gone.at(-1)!, /^ERROR :Closing link: crosswire \(you are banned until /);
  assert.match(say(ann, "UNBAN bob")[0]!, /^:crosswire NOTICE ann :bob is no longer banned\.$/);
  // What a moderator did to someone in no channel reaches them as a server notice.
  say(cy, "PART #lobby");
  say(ann, "MUTE cy 1");
  assert.match(cy.lines()[0]!, /^:crosswire NOTICE cy :cy was muted by ann until /);
});

Deno.test("IRC errors: private rooms are invite-only (473), full ones +l (471), hidden from NAMES", async () => {
  const { relay } = relayWith({ t1: { name: "tim", rooms: { lobby: ["join", "history"] } } }, {
    rooms: { secret: { private: true }, tiny: { maxMembers: 1 }, news: { readOnly: true } },
  });
  const ian = await ircUser(relay, "ian");
  const ida = await ircUser(relay, "ida");
  say(ida, "JOIN #tiny");
  ian.take();
  assert.deepEqual(say(ian, "JOIN #secret", "JOIN #tiny", "NAMES #secret", "WHO #secret"), [
    ":crosswire 473 ian #secret :Cannot join channel: you may not join secret: secret is private",
    ":crosswire 471 ian #tiny :Cannot join channel: tiny is full: it has room for 1 members",
    ":crosswire 366 ian #secret :End of /NAMES list.",
    ":crosswire 315 ian #secret :End of /WHO list.",
  ]);
  assert.deepEqual(say(ian, "LIST #secret"), [":crosswire 323 ian :End of /LIST"]);
  say(ian, "JOIN #news");
  assert.deepEqual(say(ian, "PRIVMSG #news :hi"), [
    ":crosswire 404 ian #news :Cannot send to channel: news is read-only: only admins and the server post there",
  ]);
  // A token that grants the lobby only to read.
  const tim = await ircUser(relay, "tim", "t1");
  assert.deepEqual(say(tim, "PRIVMSG #lobby :hi", "JOIN #dev"), [
    ":crosswire 404 tim #lobby :Cannot send to channel: you may not post in lobby: your token does not allow it",
    ":crosswire 473 tim #dev :Cannot join channel: you may not join dev: your token does not allow it",
  ]);
});

Deno.test("IRC tokens: an expiring token is told with how to renew it; PASS renews it", async () => {
  const { relay, clock } = relayWith({
    t1: { subject: "u-ann", name: "ann", expires: 1_700_000_060_000 },
    t2: { subject: "u-ann", name: "ann", expires: 1_700_000_120_000 },
  }, { tokenGraceMs: 30_000 });
  const ann = await ircUser(relay, "ann", "t1");
  ann.take();
  clock.set(1_700_000_061_000);
  relay.sweep();
  const told = ":crosswire NOTICE ann :error token_expired: your token has expired: send a new " +
    "one (/quote PASS TOKEN) within 30 seconds";
  assert.deepEqual(ann.lines(), [told]);
  // A new token within the grace period keeps the connection.
  ann.type("PASS t2\r\n");
  await until(ann, (line) => line.includes("Token accepted"));
  clock.set(1_700_000_095_000);
  relay.sweep();
  assert.equal(ann.session.state, "ready");
  // When that one runs out too, and no other comes, the link closes.
  clock.set(1_700_000_121_000);
  relay.sweep();
  assert.deepEqual(ann.lines(), [told]);
  clock.set(1_700_000_155_000);
  relay.sweep();
  assert.deepEqual(
    ann.lines().at(-1),
    "ERROR :Closing link: crosswire (your token expired and no new one came)",
  );
  assert.equal(ann.port.closes[0]?.code, CloseCode.tokenExpired);
});
