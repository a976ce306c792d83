// IRC and tokens on the real server's TCP port, with real HS256 JWTs (jose)
// checked by the relay's JWT verifier: PASS as the token, a bad token and a
// missing one refused with 464, an admin's KICK and TOPIC as IRC users see them.

import assert from "node:assert/strict";
import { type JWTPayload, SignJWT } from "jose";
import { createJwtVerifier } from "../auth/mod.ts";
import { startTestServer, TcpLineClient, WsJsonClient } from "./_helpers.ts";
import { ircExpect, ircLogin } from "./_irc.ts";

const SECRET = "an-irc-test-secret-of-more-than-32-bytes";

/** An HS256 token for `sub`, valid for an hour, with `claims`. */
function token(sub: string, claims: JWTPayload = {}): Promise<string> {
  return new SignJWT({ sub, exp: Math.floor(Date.now() / 1000) + 3600, ...claims })
    .setProtectedHeader({ alg: "HS256" })
    .sign(new TextEncoder().encode(SECRET));
}

/** Registers an IRC client with `PASS jwt` as `nick`, and waits for the lobby's NAMES. */
async function ircWithToken(port: number, jwt: string, nick: string): Promise<TcpLineClient> {
  const client = await TcpLineClient.connect(port);
  await client.write(`PASS ${jwt}\r\nNICK ${nick}\r\nUSER ${nick} 0 * :${nick}\r\n`);
  await ircExpect(client, / 366 \S+ #lobby /);
  return client;
}

Deno.test("IRC tokens: PASS logs in under the token's name; a bad or missing one gets 464", async () => {
  const authenticate = await createJwtVerifier({ secret: SECRET });
  await using server = await startTestServer({ authenticate });
  await using wes = await WsJsonClient.login(server.wsUrl, "wes");

  const jwt = await token("user-17", { name: "ann" });
  // IRC lines end at 512 bytes: a short HS256 token fits in a PASS.
  assert.ok(jwt.length < 400, `${jwt.length} characters`);
  await using ann = await ircWithToken(server.tcpPort, jwt, "mallory");
  assert.ok(ann.inbox.seen.includes(":crosswire 001 ann :Welcome to crosswire, ann!ann@crosswire"));
  assert.ok(ann.inbox.seen.includes(":ann!ann@crosswire JOIN #lobby"));
  await wes.expect((e) => e.type === "joined" && e.name === "ann");
  await ann.send("PRIVMSG #lobby :signed in");
  assert.equal((await wes.expect((e) => e.type === "message")).from, "ann");

  // Signed with another secret: refused, and the link closed.
  await using bad = await TcpLineClient.connect(server.tcpPort);
  const forged = await new SignJWT({ sub: "root", exp: Math.floor(Date.now() / 1000) + 60 })
    .setProtectedHeader({ alg: "HS256" })
    .sign(new TextEncoder().encode("another-secret-that-is-long-enough-too"));
  await bad.write(`PASS ${forged}\r\nNICK root\r\nUSER root 0 * :root\r\n`);
  await bad.expect((line) => line === ":crosswire 464 * :Password incorrect");
  await ircExpect(bad, /^:crosswire NOTICE \* :Your token was refused: /);
  await bad.expect((line) => line === "ERROR :Closing link: crosswire (Password incorrect)");
  await bad.expectClosed();
  assert.ok(!bad.inbox.seen.some((line) => line.includes(" 001 ")));
});

Deno.test("IRC tokens: with --require-auth, a client without PASS gets 464 and the close", async () => {
  const authenticate = await createJwtVerifier({ secret: SECRET });
  await using server = await startTestServer({ authenticate, requireAuth: true });
  await using anon = await TcpLineClient.connect(server.tcpPort);
  await anon.write("CAP LS 302\r\nNICK anon\r\nUSER anon 0 * :anon\r\nCAP END\r\n");
  await ircExpect(anon, /^:crosswire 464 \* :Password required: .*\(PASS\)$/);
  await ircExpect(anon, /^ERROR :Closing link: crosswire \(a token is required/);
  await anon.expectClosed();
  // A token lets the next one in.
  await using ann = await ircWithToken(server.tcpPort, await token("ann"), "ann");
  assert.ok(ann.inbox.seen.some((line) => line.startsWith(":crosswire 001 ann ")));
});

Deno.test("IRC tokens: an admin kicks an IRC user and sets a topic; IRC users see KICK, ERROR, TOPIC, 332", async () => {
  const authenticate = await createJwtVerifier({ secret: SECRET });
  await using server = await startTestServer({ authenticate });
  // The admin is a WebSocket user with an admin token; the others speak IRC.
  await using root = await WsJsonClient.open(server.wsUrl);
  root.send({ type: "login", token: await token("ops-1", { name: "root", admin: true }) });
  await root.expect("welcome");
  await using ian = await ircLogin(server.tcpPort, "ian");
  await using bob = await ircLogin(server.tcpPort, "bob");
  await ian.expect(":bob!bob@crosswire JOIN #lobby");

  root.send({ type: "kick", name: "bob", reason: "flooding" });
  await bob.expect(":root!root@crosswire KICK #lobby bob :flooding");
  await bob.expect("ERROR :Closing link: crosswire (you were kicked by root: flooding)");
  await bob.expectClosed();
  await ian.expect(":root!root@crosswire KICK #lobby bob :flooding");

  root.send({ type: "topic", room: "lobby", text: "Be nice in here" });
  await ian.expect(":root!root@crosswire TOPIC #lobby :Be nice in here");
  // An IRC admin (by token) changes it from inside the channel; a later joiner gets 332 and 333.
  await using ann = await ircWithToken(
    server.tcpPort,
    await token("ops-2", { name: "ann", admin: true }),
    "ann",
  );
  await ircExpect(ann, /^:crosswire 332 ann #lobby :Be nice in here$/);
  await ircExpect(ann, /^:crosswire 333 ann #lobby root \d+$/);
  await ann.send("TOPIC #lobby :Be nicer");
  await ann.expect(":ann!ann@crosswire TOPIC #lobby :Be nicer");
  await ian.expect(":ann!ann@crosswire TOPIC #lobby :Be nicer");
  await using cy = await ircLogin(server.tcpPort, "cy");
  await ircExpect(cy, /^:crosswire 332 cy #lobby :Be nicer$/);
  await ircExpect(cy, /^:crosswire 333 cy #lobby ann \d+$/);
  await cy.send("TOPIC #lobby :mine");
  await cy.expect(":crosswire 482 cy #lobby :only admins may set a topic");
});
