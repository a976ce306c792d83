// The client library against a real server on free ports, over WebSocket and TCP.

import assert from "node:assert/strict";
import { startServer } from "../server/mod.ts";
import type { RelayOptions, RunningServer } from "../mod.ts";
import { nextEvent, WsJsonClient } from "./_helpers.ts";
import {
  type ClientEvent,
  connect,
  type ConnectOptions,
  type CrosswireClient,
  CrosswireClientError,
} from "../client/mod.ts";

interface TestServer {
  server: RunningServer;
  ws: string;
  tcp: string;
}

const TRANSPORTS = ["ws", "tcp"] as const;

/** Starts a server on free ports, runs `body`, then closes `clients` and the server. */
async function withServer(
  body: (server: TestServer, clients: CrosswireClient[]) => Promise<void>,
  relay: RelayOptions = {},
): Promise<void> {
  const server = await startServer({ hostname: "127.0.0.1", port: 0, tcpPort: 0, relay });
  const clients: CrosswireClient[] = [];
  try {
    await body({
      server,
      ws: `ws://127.0.0.1:${server.httpAddr.port}/ws`,
      tcp: `tcp://127.0.0.1:${server.tcpAddr!.port}`,
    }, clients);
  } finally {
    await Promise.all(clients.map((client) => client.close()));
    await server.shutdown();
  }
}

/** Connects and remembers the client so {@link withServer} closes it. */
async function login(
  clients: CrosswireClient[],
  url: string,
  name: string,
  options: Omit<ConnectOptions, "name"> = {},
): Promise<CrosswireClient> {
  const client = await connect(url, { name, ...options });
  clients.push(client);
  return client;
}

async function rejection(promise: Promise<unknown>): Promise<CrosswireClientError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof CrosswireClientError, `not a CrosswireClientError: ${error}`);
    return error;
  }
  assert.fail("expected a rejection");
}

// The server forgets a session once it reads the close, which no client event marks: poll briefly.
async function waitForSessions(server: RunningServer, count: number): Promise<void> {
  for (let tries = 0; server.relay.stats().sessions !== count && tries < 200; tries++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.equal(server.relay.stats().sessions, count);
}

function randomBytes(length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  // getRandomValues fills at most 64 KiB per call.
  for (let offset = 0; offset < length; offset += 65536) {
    crypto.getRandomValues(bytes.subarray(offset, offset + 65536));
  }
  return bytes;
}

for (const transport of TRANSPORTS) {
  Deno.test(`connect() over ${transport} resolves after welcome with name, session and limits`, async () => {
    await withServer(async (urls, clients) => {
      const ann = await login(clients, urls[transport], "ann");
      assert.equal(ann.name, "ann");
      assert.equal(ann.welcome.name, "ann");
      assert.deepEqual(ann.welcome.rooms, ["lobby"]);
      assert.equal(ann.session, ann.welcome.session);
      assert.ok(ann.session.length > 0);
      assert.equal(ann.limits.maxFileBytes, 4096);
      assert.equal(ann.isClosed, false);
    }, { maxFileBytes: 4096 });
  });

  Deno.test(`connect() over ${transport} rejects a taken name with name_taken`, async () => {
    await withServer(async (urls, clients) => {
      await login(clients, urls.ws, "ann");
      const error = await rejection(connect(urls[transport], { name: "ANN" }));
      assert.equal(error.code, "name_taken");
      assert.match(error.message, /taken/);
      await waitForSessions(urls.server, 1); // the refused connection was closed
    });
  });

  Deno.test(`CrosswireClient.join() over ${transport} resolves with presence`, async () => {
    await withServer(async (urls, clients) => {
      const ann = await login(clients, urls.ws, "ann");
      const bob = await login(clients, urls[transport], "bob");
      await ann.join("games");
      const joined = nextEvent(ann, "joined", (event) => event.room === "games");
      const presence = await bob.join("#games");
      assert.equal(presence.type, "presence");
      assert.equal(presence.room, "games");
      assert.deepEqual(presence.members, ["ann", "bob"]);
      assert.equal(presence.count, 2);
      assert.equal((await joined).name, "bob");
    });
  });

  Deno.test(`CrosswireClient.sendFile() over ${transport} arrives on the other transport with identical bytes`, async () => {
    await withServer(async (urls, clients) => {
      const other = transport === "ws" ? "tcp" : "ws";
      const ann = await login(clients, urls[transport], "ann");
      const bob = await login(clients, urls[other], "bob");
      const bytes = randomBytes(70_000);
      const inRoom = nextEvent(bob, "message", (event) => event.file !== undefined);
      ann.sendFile({ room: "lobby" }, bytes, { name: "../cat.png", type: "image/png" });
      const message = await inRoom;
      assert.deepEqual(message.file, { name: "cat.png", type: "image/png", size: bytes.length });
      assert.ok(message.data instanceof Uint8Array);
      assert.deepEqual(message.data, bytes);
      assert.equal(message.from, "ann");

      const privately = nextEvent(bob, "direct", (event) => event.file !== undefined);
      ann.sendFile({ to: "bob" }, bytes.subarray(0, 10), { name: "a.bin" });
      const direct = await privately;
      assert.deepEqual(direct.file, {
        name: "a.bin",
        type: "application/octet-stream",
        size: 10,
      });
      assert.deepEqual(direct.data, bytes.subarray(0, 10));
    });
  });

  Deno.test(`CrosswireClient.sendFile() over ${transport} throws too_large before sending`, async () => {
    await withServer(async (urls, clients) => {
      const ann = await login(clients, urls[transport], "ann");
      assert.throws(
        () => ann.sendFile({ room: "lobby" }, new Uint8Array(1025), { name: "big.bin" }),
        (error) => error instanceof CrosswireClientError && error.code === "too_large",
      );
      ann.sendFile({ room: "lobby" }, new Uint8Array(1024), { name: "fits.bin" });
      assert.ok((await ann.ping()) >= 0, "still connected after the refusal");
    }, { maxFileBytes: 1024 });
  });

  Deno.test(`server shutdown surfaces a close event over ${transport} when reconnecting is off`, async () => {
    await withServer(async (urls, clients) => {
      const ann = await login(clients, urls[transport], "ann", { reconnect: false });
      const closeEvent = nextEvent(ann, "close");
      const pending = ann.join("never").catch((error) => error);
      await urls.server.shutdown();
      const event = await closeEvent;
      assert.equal(event.type, "close");
      assert.equal(typeof event.code, "number");
      assert.deepEqual(await ann.closed, event);
      assert.equal(ann.isClosed, true);
      const error = await pending;
      if (error instanceof CrosswireClientError) assert.equal(error.code, "connection_closed");
      assert.throws(
        () => ann.send("lobby", "anyone?"),
        (thrown) => thrown instanceof CrosswireClientError && thrown.code === "connection_closed",
      );
    });
  });
}

Deno.test("CrosswireClient.on() sees the joined and presence that follow welcome", async () => {
  await withServer(async (urls, clients) => {
    for (const [index, url] of [urls.ws, urls.tcp].entries()) {
      const client = await connect(url, { name: `user${index}` });
      clients.push(client);
      const seen: ClientEvent[] = [];
      client.on("*", (event) => seen.push(event));
      await nextEvent(client, "presence");
      assert.deepEqual(
        seen.map((event) => event.type),
        ["hello", "welcome", "joined", "presence"],
      );
    }
  });
});

Deno.test("CrosswireClient.send() carries text between WebSocket and TCP both ways", async () => {
  await withServer(async (urls, clients) => {
    const web = await login(clients, urls.ws, "web");
    const term = await login(clients, urls.tcp, "term");
    const atTerm = nextEvent(term, "message");
    web.send("lobby", "hello terminal");
    assert.equal((await atTerm).text, "hello terminal");
    assert.equal((await atTerm).from, "web");

    const atWeb = nextEvent(web, "message");
    term.send("lobby", "waves", { action: true });
    const action = await atWeb;
    assert.equal(action.text, "waves");
    assert.equal(action.action, true);
  });
});

Deno.test("CrosswireClient.direct() reaches the recipient and echoes to the sender", async () => {
  await withServer(async (urls, clients) => {
    const ann = await login(clients, urls.tcp, "ann");
    const bob = await login(clients, urls.ws, "bob");
    const atBob = nextEvent(bob, "direct");
    const atAnn = nextEvent(ann, "direct");
    ann.direct("bob", "psst");
    for (const event of [await atBob, await atAnn]) {
      assert.equal(event.from, "ann");
      assert.equal(event.to, "bob");
      assert.equal(event.text, "psst");
    }
    const error = nextEvent(ann, "error");
    ann.direct("nobody", "hello?");
    assert.equal((await error).code, "no_such_user");
  });
});

Deno.test("CrosswireClient.join() rejects with the server's code and ref for a bad room", async () => {
  await withServer(async (urls, clients) => {
    const ann = await login(clients, urls.ws, "ann");
    const error = await rejection(ann.join("two words"));
    assert.equal(error.code, "room_invalid");
    assert.equal((await ann.presence("lobby")).count, 1, "later requests still work");
  });
});

Deno.test("CrosswireClient.leave(), presence(), rooms() and nick() resolve with their replies", async () => {
  await withServer(async (urls, clients) => {
    const ann = await login(clients, urls.tcp, "ann");
    const bob = await login(clients, urls.ws, "bob");
    await ann.join("games");
    assert.deepEqual((await bob.presence("games")).members, ["ann"]);
    assert.deepEqual((await bob.rooms()).rooms, [
      { name: "games", members: 1 },
      { name: "lobby", members: 2 },
    ]);
    const renamed = await ann.nick("anna");
    assert.equal(renamed.from, "ann");
    assert.equal(renamed.to, "anna");
    assert.equal(ann.name, "anna");
    await ann.leave("games");
    assert.deepEqual((await bob.rooms()).rooms, [{ name: "lobby", members: 2 }]);
    assert.equal((await rejection(ann.leave("games"))).code, "not_in_room");
    assert.equal((await rejection(ann.nick("bob"))).code, "name_taken");
  });
});

Deno.test("CrosswireClient.input() runs a line like a telnet user's", async () => {
  await withServer(async (urls, clients) => {
    const ann = await login(clients, urls.ws, "ann");
    const bob = await login(clients, urls.tcp, "bob");
    const presence = nextEvent(bob, "presence", (event) => event.room === "lobby");
    bob.input("/who");
    assert.deepEqual((await presence).members, ["ann", "bob"]);
    const said = nextEvent(ann, "message");
    bob.input("plain text goes to the current room");
    assert.equal((await said).text, "plain text goes to the current room");
  });
});

Deno.test("CrosswireClient.ping() resolves with the round trip in milliseconds", async () => {
  await withServer(async (urls, clients) => {
    for (const url of [urls.ws, urls.tcp]) {
      const client = await login(clients, url, `p${clients.length}`);
      const ms = await client.ping();
      assert.equal(typeof ms, "number");
      assert.ok(ms >= 0 && ms < 5000, `round trip ${ms} ms`);
    }
  });
});

Deno.test("CrosswireClient.close() resolves, emits close once and rejects what is pending", async () => {
  await withServer(async (urls) => {
    for (const url of [urls.ws, urls.tcp]) {
      const client = await connect(url, { name: "ann" });
      const closes: ClientEvent[] = [];
      client.on("close", (event) => closes.push(event));
      const pending = client.ping().then(() => undefined, (error) => error);
      await client.close();
      await client.close();
      assert.equal(closes.length, 1);
      assert.equal(client.isClosed, true);
      const error = await pending;
      if (error !== undefined) assert.equal(error.code, "connection_closed");
      assert.equal((await rejection(client.rooms())).code, "connection_closed");
      await waitForSessions(urls.server, 0);
    }
  });
});

Deno.test("connect() rejects with connect_failed when nothing listens", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  for (const url of [`ws://127.0.0.1:${port}/ws`, `tcp://127.0.0.1:${port}`]) {
    const error = await rejection(connect(url, { name: "ann" }));
    assert.equal(error.code, "connect_failed");
  }
  await assert.rejects(connect("http://127.0.0.1/", { name: "ann" }), TypeError);
});

Deno.test("connect() rejects an invalid name with name_invalid", async () => {
  await withServer(async (urls) => {
    for (const url of [urls.ws, urls.tcp]) {
      assert.equal((await rejection(connect(url, { name: "two words" }))).code, "name_invalid");
    }
  });
});

Deno.test("CrosswireClient ignores what a misbehaving server sends and keeps listeners contained", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const encoder = new TextEncoder();
  const server = (async () => {
    const conn = await listener.accept();
    const buffer = new Uint8Array(4096);
    let received = "";
    while (!received.includes("\n")) {
      const count = await conn.read(buffer);
      if (count === null) break;
      received += new TextDecoder().decode(buffer.subarray(0, count));
    }
    const login = JSON.parse(received.split("\n")[0]!);
    const lines = [
      "Welcome to a fake relay. What's your name?",
      "{not json",
      "[1,2,3]",
      '{"type":42}',
      '{"type":"message","id":"x","ts":1,"room":"lobby","from":"eve","data":"%%%"}',
      JSON.stringify({
        type: "hello",
        protocol: 1,
        server: "fake",
        limits: { maxLineBytes: 1, maxFrameBytes: 99999, maxTextBytes: 1, maxFileBytes: 7 },
      }),
      JSON.stringify({
        type: "welcome",
        session: "s1",
        name: login.name,
        others: 0,
        rooms: [],
        ref: login.ref,
      }),
      '{"type":"notice","ts":1,"text":"first"}',
      '{"type":"notice","ts":2,"text":"second"}',
    ];
    await conn.write(encoder.encode(lines.join("\r\n") + "\r\n"));
    while (await conn.read(buffer) !== null) { /* until the client hangs up */ }
    conn.close();
  })();
  const errors: unknown[] = [];
  const client = await connect(`tcp://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`, {
    name: "ann",
    onListenerError: (error) => errors.push(error),
  });
  const seen: string[] = [];
  client.on("notice", () => {
    throw new Error("a listener bug");
  });
  const second = nextEvent(client, "notice", (event) => event.text === "second");
  client.on("*", (event) => seen.push(event.type));
  await second;
  assert.equal(client.limits.maxFileBytes, 7);
  assert.deepEqual(seen, ["hello", "welcome", "notice", "notice"]);
  assert.equal(errors.length, 2);
  await client.close();
  await server;
  listener.close();
});

Deno.test("CrosswireClient keepaliveMs keeps a quiet client from being closed as idle", async () => {
  await withServer(async (urls, clients) => {
    const quiet = await connect(urls.tcp, { name: "quiet", keepaliveMs: 0, reconnect: false });
    clients.push(quiet);
    const lively = await connect(urls.ws, { name: "lively", keepaliveMs: 40 });
    clients.push(lively);
    const idle = nextEvent(quiet, "error", (event) => event.code === "idle_timeout");
    await quiet.closed;
    await idle;
    assert.equal(lively.isClosed, false);
    assert.equal((await lively.presence("lobby")).count, 1);
  }, { idleTimeoutMs: 300, resumeWindowMs: 0 }); // no session kept for a resume: quiet is gone
});

Deno.test("CrosswireClient notices a server that stops answering within two keepalive intervals", async () => {
  // A fake relay over TCP: it logs the client in, then goes silent without closing.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = (async () => {
    const conn = await listener.accept();
    const lines = conn.readable.pipeThrough(new TextDecoderStream()).getReader();
    let received = "";
    while (!received.includes('"login"')) received += (await lines.read()).value ?? "";
    const ref = /"ref":"([^"]+)"/.exec(received.slice(received.indexOf('"login"')))?.[1];
    const reply = { type: "welcome", session: "s", name: "ann", others: 0, rooms: [], ref };
    await conn.write(new TextEncoder().encode(JSON.stringify(reply) + "\n"));
    return { conn, lines };
  })();
  const client = await connect(`tcp://127.0.0.1:${listener.addr.port}`, {
    name: "ann",
    keepaliveMs: 100,
    reconnect: false,
  });
  const started = performance.now();
  const closed = await client.closed;
  const elapsed = performance.now() - started;
  assert.equal(closed.code, 4000);
  assert.equal(closed.reason, "server not responding");
  assert.ok(elapsed < 1000, `noticed after ${elapsed.toFixed(0)} ms`);
  const { conn, lines } = await accepted;
  await lines.cancel();
  try {
    conn.close();
  } catch { /* the client's close may have ended it */ }
  listener.close();
});

Deno.test("connect() with reclaim takes back a name the relay kept after a drop", async () => {
  await withServer(async (urls) => {
    const dropped = await WsJsonClient.open(urls.ws);
    dropped.send({ type: "login", name: "ann" });
    const { reclaim } = await dropped.expect("welcome");
    await dropped.close(); // no quit: the connection just ends
    await waitForSessions(urls.server, 0);
    const thief = await rejection(connect(urls.tcp, { name: "ann" }));
    assert.equal(thief.code, "name_taken");
    const back = await connect(urls.ws, { name: "ann", reclaim });
    assert.equal(back.name, "ann");
    await back.close();
    await waitForSessions(urls.server, 0);
    const after = await connect(urls.tcp, { name: "ann" });
    assert.equal(after.name, "ann", "close() says quit: the name is free at once");
    await after.close();
  }, { resumeWindowMs: 0 }); // the name kept by the name grace, not by a session kept for resume
});
