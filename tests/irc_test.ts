// IRC on the real server's TCP port: scripted raw IRC lines on loopback
// sockets, with a telnet user and a WebSocket user in the same rooms.

import assert from "node:assert/strict";
import { startTestServer, TcpLineClient, WsJsonClient } from "./_helpers.ts";
import { ircExpect, ircLogin } from "./_irc.ts";
import { encodeBinaryFrame } from "../core/mod.ts";

// A round trip on `client`: what it wrote before has been read and handled.
async function settle(client: TcpLineClient, token: string): Promise<void> {
  await client.send(`PING ${token}`);
  await client.expect(`PONG crosswire :${token}`);
}

Deno.test("IRC: an IRC user, a telnet user and a WebSocket user chat in one room", async () => {
  await using server = await startTestServer({ motd: "be kind" });
  await using wes = await WsJsonClient.login(server.wsUrl, "wes");
  await using tess = await TcpLineClient.login(server.tcpPort, "tess");
  await using ian = await ircLogin(server.tcpPort, "ian");
  assert.ok(ian.inbox.seen.includes(":crosswire 372 ian :- be kind"));
  assert.ok(ian.inbox.seen.includes(":crosswire 353 ian = #lobby :wes tess ian"));
  await tess.expect("-!- [lobby] ian joined");
  await wes.expect((e) => e.type === "joined" && e.name === "ian");

  await ian.send("PRIVMSG #lobby :hello from irc");
  assert.equal((await wes.expect("message")).text, "hello from irc");
  await tess.expect("[lobby] ian: hello from irc");
  wes.send({ type: "publish", room: "lobby", text: "hello from the web" });
  await ian.expect(":wes!wes@crosswire PRIVMSG #lobby :hello from the web");
  await tess.send("hello from telnet");
  await ian.expect(":tess!tess@crosswire PRIVMSG #lobby :hello from telnet");
  await ian.send("PRIVMSG #lobby :\x01ACTION waves\x01");
  await tess.expect("[lobby] * ian waves");
  await wes.expect((e) => e.type === "message" && e.text === "waves" && e.action === true);

  // A file from the web page reaches IRC as a notice with its sender, name and size.
  wes.sendBinary(
    encodeBinaryFrame(
      { room: "lobby", file: { name: "cat.png", type: "image/png" } },
      new Uint8Array(12_600),
    ),
  );
  await ian.expect(
    ':wes!wes@crosswire NOTICE #lobby :shared a file: "cat.png" (12.3 KiB, image/png)',
  );

  // Another room, private messages, a rename, leaving.
  await ian.send("JOIN #games");
  await ian.expect(":ian!ian@crosswire JOIN #games");
  await tess.send("/join games");
  await ian.expect(":tess!tess@crosswire JOIN #games");
  wes.send({ type: "direct", to: "ian", text: "psst" });
  await ian.expect(":wes!wes@crosswire PRIVMSG ian :psst");
  await ian.send("PRIVMSG tess :hi tess");
  await tess.expect("[private ian -> tess] hi tess");
  await ian.send("NICK ianto");
  await ian.expect(":ian!ian@crosswire NICK :ianto");
  await tess.expect("-!- [lobby] ian is now ianto");
  await tess.expect("-!- [games] ian is now ianto");
  await wes.expect((e) => e.type === "renamed" && e.to === "ianto");
  await ian.send("PART #games");
  await ian.expect(":ianto!ianto@crosswire PART #games");
  await tess.expect("-!- [games] ianto left");
  await tess.send("/leave games");
  await ian.send("QUIT :bye");
  await ian.expect("ERROR :Closing link: crosswire (bye)");
  await ian.expectClosed();
  await tess.expect("-!- [lobby] ianto disconnected");
  await wes.expect((e) => e.type === "left" && e.name === "ianto" && e.reason === "disconnect");
});

Deno.test("IRC: a scripted session over a real socket answers every command", async () => {
  await using server = await startTestServer();
  await using wes = await WsJsonClient.login(server.wsUrl, "wes");
  await using ian = await TcpLineClient.connect(server.tcpPort);
  await ian.expect("What's your name?");
  // Registration: CAP, a taken nick, then another; PASS is accepted.
  await ian.write("CAP LS 302\r\nPASS x\r\nNICK WES\r\nUSER i 0 * :Ian\r\nCAP REQ :sasl\r\n");
  await ian.expect(":crosswire CAP * LS :");
  await ian.expect(":crosswire CAP * NAK :sasl");
  await ian.send("CAP END");
  await ian.expect(':crosswire 433 * WES :the name "WES" is taken; try another');
  await ian.send("NICK ian");
  for (const code of ["001", "002", "003", "004", "005", "251", "422"]) {
    await ircExpect(ian, new RegExp(`^:crosswire ${code} ian `));
  }
  await ian.expect(":ian!ian@crosswire JOIN #lobby");
  await ian.expect(":crosswire 366 ian #lobby :End of /NAMES list.");
  const script: [string, string[]][] = [
    ["JOIN #games", [":ian!ian@crosswire JOIN #games", ":crosswire 353 ian = #games :ian"]],
    ["NAMES #lobby", [":crosswire 353 ian = #lobby :wes ian"]],
    ["LIST", [
      ":crosswire 322 ian #games 1 :",
      ":crosswire 322 ian #lobby 2 :",
      ":crosswire 323 ian :End of /LIST",
    ]],
    ["WHO #lobby", [
      ":crosswire 352 ian #lobby wes crosswire crosswire wes H :0 wes",
      ":crosswire 315 ian #lobby :End of /WHO list.",
    ]],
    ["WHOIS wes", [
      ":crosswire 311 ian wes wes crosswire * :wes",
      ":crosswire 318 ian wes :End of /WHOIS list.",
    ]],
    ["WHOIS nobody", [":crosswire 401 ian nobody :No such nick/channel"]],
    ["TOPIC #games", [":crosswire 331 ian #games :No topic is set"]],
    ["TOPIC #games :hi", [":crosswire 482 ian #games :only admins may set a topic"]],
    ["MODE #games", [":crosswire 324 ian #games +nt"]],
    ["MODE #games b", [":crosswire 368 ian #games :End of channel ban list"]],
    ["MODE ian", [":crosswire 221 ian +i"]],
    ["AWAY :out", [":crosswire 306 ian :You have been marked as being away"]],
    ["AWAY", [":crosswire 305 ian :You are no longer marked as being away"]],
    ["PRIVMSG #nowhere :hi", [":crosswire 404 ian #nowhere :Cannot send to channel"]],
    ["PRIVMSG nobody :hi", [":crosswire 401 ian nobody :No such nick/channel"]],
    ["PART #nowhere", [":crosswire 442 ian #nowhere :You're not on that channel"]],
    ["PART #games", [":ian!ian@crosswire PART #games"]],
    ["NICK a!b", [":crosswire 432 ian a!b :Erroneous nickname: IRC cannot carry that name"]],
    ["FROBNICATE", [":crosswire 421 ian FROBNICATE :Unknown command"]],
    ["USER again 0 * :x", [":crosswire 462 ian :You may not reregister"]],
    ["PING :tok", [":crosswire PONG crosswire :tok"]],
  ];
  for (const [line, replies] of script) {
    await ian.send(line);
    for (const reply of replies) await ian.expect((seen) => seen === reply);
  }
  await ian.send("PRIVMSG wes :\x01ACTION whispers\x01");
  const direct = await wes.expect("direct");
  assert.deepEqual([direct.from, direct.text, direct.action], ["ian", "whispers", true]);
});

Deno.test("IRC: lines split across writes, merged in one write, with CRLF or LF", async () => {
  await using server = await startTestServer();
  await using wes = await WsJsonClient.login(server.wsUrl, "wes");
  await using ian = await TcpLineClient.connect(server.tcpPort);
  await ian.write("NICK i");
  await ian.write("an\nUSER ian 0 * :Ian\r");
  await ian.write("\n");
  await ian.expect(":crosswire 366 ian #lobby :End of /NAMES list.");
  // Round trips on another connection, so each piece most likely arrives as a read of its own.
  await using other = await ircLogin(server.tcpPort, "other");
  await ian.write("PRIVMSG #lobby :on");
  await settle(other, "a");
  await ian.write("e\r\nPRIVMSG #lobby :two\nPRIVMSG #lobby :thr");
  await settle(other, "b");
  await ian.write("ee\r\n");
  const said: string[] = [];
  for (let i = 0; i < 3; i++) {
    said.push((await wes.expect((e) => e.type === "message" && e.from === "ian")).text);
  }
  assert.deepEqual(said, ["one", "two", "three"]);
});

Deno.test("IRC: a line longer than 512 bytes gets 417 and ERROR, then the connection closes", async () => {
  await using server = await startTestServer();
  await using ian = await ircLogin(server.tcpPort, "ian");
  await ian.send("PRIVMSG #lobby :" + "x".repeat(600));
  await ian.expect(":crosswire 417 ian :Input line was too long");
  await ian.expect("ERROR :Closing link: crosswire (a line may be at most 510 bytes)");
  await ian.expectClosed();
});
