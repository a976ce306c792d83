import assert from "node:assert/strict";
import { health, startTestServer, TcpLineClient, WAIT_MS, within } from "./_helpers.ts";

// A round trip on another connection, so bytes written before it have most
// likely been read by the server as a separate chunk.
async function settle(other: TcpLineClient): Promise<void> {
  await other.send("/rooms");
  await other.expect("Rooms:");
}

Deno.test("TCP: a telnet user is asked for a name, welcomed with the online count, and chats", async () => {
  await using server = await startTestServer({ motd: "be kind" });
  const ann = await TcpLineClient.connect(server.tcpPort);
  await ann.expect("What's your name?");
  await ann.send("ann");
  await ann.expect("Welcome, ann! 0 other users online.");
  await ann.expect("-!- be kind");
  await ann.expect("-!- [lobby] 1 here: ann");
  await using bob = await TcpLineClient.login(server.tcpPort, "bob");
  assert.ok(bob.inbox.seen.some((line) => line.includes("Welcome, bob! 1 other user online.")));
  await ann.expect("-!- [lobby] bob joined");
  await bob.send("hello ann");
  assert.equal(await ann.expect("hello ann"), "[lobby] bob: hello ann");
  await ann.send("/me waves");
  assert.equal(await bob.expect("waves"), "[lobby] * ann waves");
  await ann.close();
  await bob.expect("-!- [lobby] ann disconnected");
});

Deno.test("TCP: partial lines, many lines per read, and LF, CRLF and CR endings", async () => {
  await using server = await startTestServer();
  await using ann = await TcpLineClient.login(server.tcpPort, "ann");
  await using bob = await TcpLineClient.login(server.tcpPort, "bob");
  await ann.write("hel");
  await settle(bob);
  await ann.write("lo wor");
  await settle(bob);
  await ann.write("ld\r");
  await settle(bob);
  await ann.write("\nfirst\nsecond\r\nthird\rfourth\n");
  assert.equal(await bob.expect("hello"), "[lobby] ann: hello world");
  // The LF that completed the CRLF split across reads must not make an empty line
  // or a stray message: the next line is "first".
  assert.equal(await bob.expect("[lobby] ann:"), "[lobby] ann: first");
  assert.equal(await bob.expect("[lobby] ann:"), "[lobby] ann: second");
  assert.equal(await bob.expect("[lobby] ann:"), "[lobby] ann: third");
  assert.equal(await bob.expect("[lobby] ann:"), "[lobby] ann: fourth");
});

Deno.test("TCP: a UTF-8 character split across reads arrives whole", async () => {
  await using server = await startTestServer();
  await using ann = await TcpLineClient.login(server.tcpPort, "ann");
  await using bob = await TcpLineClient.login(server.tcpPort, "bob");
  const bytes = new TextEncoder().encode("caf\u00e9 \u{1F600}\n");
  await ann.write(bytes.subarray(0, 4)); // "caf" and the first byte of "é"
  await settle(bob);
  await ann.write(bytes.subarray(4, 7)); // rest of "é", space, first byte of the emoji
  await settle(bob);
  await ann.write(bytes.subarray(7));
  assert.equal(await bob.expect("[lobby] ann:"), "[lobby] ann: caf\u00e9 \u{1F600}");
});

Deno.test("TCP: telnet IAC negotiation is stripped and never shown", async () => {
  await using server = await startTestServer();
  await using bob = await TcpLineClient.login(server.tcpPort, "bob");
  const ann = await TcpLineClient.connect(server.tcpPort);
  await ann.expect("What's your name?");
  // IAC DO ECHO, IAC WILL NAWS, IAC SB NAWS 0 80 0 24 IAC SE, then the name.
  await ann.write(
    new Uint8Array([255, 253, 1, 255, 251, 31, 255, 250, 31, 0, 80, 0, 24, 255, 240]),
  );
  await ann.write("ann\r\n");
  await ann.expect("Welcome, ann!");
  // An interrupt (IAC IP) in the middle of a line is dropped too.
  await ann.write(new Uint8Array([104, 105, 255, 244, 33, 13, 10])); // "hi" IAC IP "!"
  assert.equal(await bob.expect("[lobby] ann:"), "[lobby] ann: hi!");
  await ann.close();
});

Deno.test("TCP: an oversized line gets an error line, then the connection closes; others are fine", async () => {
  await using server = await startTestServer({ maxLineBytes: 1024 });
  await using bob = await TcpLineClient.login(server.tcpPort, "bob");
  const ann = await TcpLineClient.login(server.tcpPort, "ann");
  await ann.write("x".repeat(64 * 1024)); // never a newline
  assert.match(
    await ann.expect("line_too_long"),
    /^-!- error line_too_long: a line may be at most 1024 bytes/,
  );
  await ann.expectClosed();
  await bob.expect("-!- [lobby] ann disconnected");
  await bob.send("still here");
  await using carl = await TcpLineClient.login(server.tcpPort, "carl");
  await bob.send("hi carl");
  await carl.expect("[lobby] bob: hi carl");
});

Deno.test("TCP: a client gone mid-line is removed and the server keeps serving", async () => {
  await using server = await startTestServer();
  await using bob = await TcpLineClient.login(server.tcpPort, "bob");
  const ann = await TcpLineClient.login(server.tcpPort, "ann");
  await ann.write("half a mess");
  await ann.close();
  await bob.expect("-!- [lobby] ann disconnected");
  assert.ok(!bob.inbox.seen.some((line) => line.includes("half a mess")));
  const { node } = await health(server.httpPort) as { node: { users: number; rooms: number } };
  assert.equal(node.users, 1);
  assert.equal(node.rooms, 1);
});

Deno.test("TCP: ANSI escapes and control characters never reach another terminal", async () => {
  await using server = await startTestServer();
  await using ann = await TcpLineClient.login(server.tcpPort, "ann");
  await using bob = await TcpLineClient.login(server.tcpPort, "bob");
  await ann.send(
    "\x1b[2J\x1b[H\x1b[31mred\x1b[0m \x1b]0;pwned\x07title\x08\x08 \x9b5mblink \x07bell",
  );
  assert.equal(await bob.expect("[lobby] ann:"), "[lobby] ann: red title blink bell");
  const shown = [...bob.bytes()].filter((byte) => byte < 0x20 && byte !== 0x0a && byte !== 0x0d);
  assert.deepEqual(shown, [], "no control bytes other than CR and LF were sent");
});

Deno.test("TCP: a taken name is refused case-insensitively and the user can try again", async () => {
  await using server = await startTestServer();
  await using ann = await TcpLineClient.login(server.tcpPort, "ann");
  await using other = await TcpLineClient.connect(server.tcpPort);
  await other.expect("What's your name?");
  await other.send("ANN");
  assert.match(await other.expect("error"), /^-!- error name_taken: the name "ANN" is taken/);
  await other.expect("What's your name?");
  await other.send("has space");
  await other.expect("-!- error name_invalid");
  await other.send("annie");
  await other.expect("Welcome, annie!");
  await ann.expect("-!- [lobby] annie joined");
});

Deno.test("TCP: rooms, presence, private messages, renames and the room list", async () => {
  await using server = await startTestServer();
  await using ann = await TcpLineClient.login(server.tcpPort, "ann");
  await using bob = await TcpLineClient.login(server.tcpPort, "bob");
  await ann.send("/join #games");
  await ann.expect("-!- [games] ann joined");
  assert.equal(await ann.expect("-!- [games] 1 here"), "-!- [games] 1 here: ann");
  await ann.send("gg");
  await ann.send("/rooms");
  assert.equal(await ann.expect("Rooms:"), "-!- Rooms: games (1), lobby (2)");
  await ann.send("/msg BOB psst");
  assert.equal(await bob.expect("[private"), "[private ann -> bob] psst");
  await ann.expect("[private ann -> bob] psst");
  assert.ok(!bob.inbox.seen.some((line) => line.includes("gg")), "bob is not in games");
  await bob.send("/nick robert");
  await ann.expect("-!- [lobby] bob is now robert");
  await ann.send("/msg bob hello?");
  await ann.expect("-!- error no_such_user");
  await ann.send("/leave games");
  await ann.expect("-!- [games] ann left");
  await ann.send("/rooms");
  assert.equal(await ann.expect("Rooms:"), "-!- Rooms: lobby (2)");
  await ann.send("/bogus");
  await ann.expect("-!- error unknown_command: unknown command /bogus");
  await ann.send("/quit");
  await ann.expect("-!- Bye!");
  await ann.expectClosed();
});

Deno.test("TCP: a JSON first line switches the connection to JSON mode", async () => {
  await using server = await startTestServer();
  await using bob = await TcpLineClient.login(server.tcpPort, "bob");
  await using json = await TcpLineClient.connect(server.tcpPort);
  await json.send('{"type":"login","name":"jay","ref":"r1"}');
  const hello = JSON.parse(await json.expect((line) => line.startsWith('{"type":"hello"')));
  assert.equal(hello.protocol, 1);
  const welcome = JSON.parse(await json.expect((line) => line.includes('"welcome"')));
  assert.equal(welcome.name, "jay");
  assert.equal(welcome.ref, "r1");
  await bob.send("hi jay");
  const message = JSON.parse(await json.expect((line) => line.includes('"message"')));
  assert.equal(message.from, "bob");
  assert.equal(message.text, "hi jay");
  assert.equal(typeof message.id, "string");
  assert.equal(typeof message.ts, "number");
  await json.send("{not json");
  assert.equal(JSON.parse(await json.expect((line) => line.includes('"error"'))).code, "bad_json");
  await json.send('{"type":"input","line":"/me is JSON"}');
  await bob.expect("[lobby] * jay is JSON");
});

Deno.test("TCP: the server's closing of a listener with clients connected is clean", async () => {
  const server = await startTestServer();
  const ann = await TcpLineClient.login(server.tcpPort, "ann");
  await server.server.shutdown(2000);
  await ann.expect("shutting down");
  await within(ann.done, WAIT_MS, "the connection to close");
  await ann.close();
});
