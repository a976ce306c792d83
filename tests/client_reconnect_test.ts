// The client library reconnects by itself: real servers on free ports, and a
// TCP proxy between client and server whose sockets the tests cut abruptly
// (no WebSocket close frame, no quit), as a crashed network path would.

import assert from "node:assert/strict";
import { startServer } from "../server/mod.ts";
import type { RelayOptions, RunningServer } from "../mod.ts";
import { CuttingProxy, nextEvent as nextEventWithin } from "./_helpers.ts";
import {
  type ClientEvent,
  type ClientEventOf,
  type ClientEventType,
  connect,
  type ConnectOptions,
  type CrosswireClient,
  type MessageEvent,
  openWebSocket,
  type Transport,
  type TransportReceiver,
} from "../client/mod.ts";

const WAIT_MS = 10_000;

/** The next event of `type` that passes `accept`; a reconnect takes a few round trips. */
function nextEvent<T extends ClientEventType>(
  client: CrosswireClient,
  type: T,
  accept?: (event: ClientEventOf<T>) => boolean,
): Promise<ClientEventOf<T>> {
  return nextEventWithin(client, type, accept, WAIT_MS);
}
/** Reconnects at once in tests; a real client waits longer. */
const FAST = { initialDelayMs: 5, maxDelayMs: 20 };

interface Setup {
  server: RunningServer;
  proxy: CuttingProxy;
  /** URLs straight to the server. */
  direct: { ws: string; tcp: string };
  /** URLs through the proxy (to the same port kind as `kind`). */
  proxied: string;
  clients: CrosswireClient[];
}

async function withProxy(
  kind: "ws" | "tcp",
  body: (setup: Setup) => Promise<void>,
  relay: RelayOptions = {},
): Promise<void> {
  const server = await startServer({
    hostname: "127.0.0.1",
    port: 0,
    tcpPort: 0,
    relay: { rateMessageBurst: 500, rateMessagesPerSecond: 500, ...relay },
  });
  const proxy = new CuttingProxy(kind === "ws" ? server.httpAddr.port : server.tcpAddr!.port);
  const clients: CrosswireClient[] = [];
  try {
    await body({
      server,
      proxy,
      direct: {
        ws: `ws://127.0.0.1:${server.httpAddr.port}/ws`,
        tcp: `tcp://127.0.0.1:${server.tcpAddr!.port}`,
      },
      proxied: kind === "ws" ? `ws://127.0.0.1:${proxy.port}/ws` : `tcp://127.0.0.1:${proxy.port}`,
      clients,
    });
  } finally {
    await Promise.all(clients.map((client) => client.close()));
    await proxy.close();
    await server.shutdown();
  }
}

async function login(
  setup: Setup,
  url: string,
  name: string,
  options: Omit<ConnectOptions, "name"> = {},
): Promise<CrosswireClient> {
  const client = await connect(url, { name, reconnect: FAST, ...options });
  setup.clients.push(client);
  return client;
}

/** Everything `client` delivers from now on. */
function record(client: CrosswireClient): ClientEvent[] {
  const events: ClientEvent[] = [];
  client.on("*", (event) => events.push(event));
  return events;
}

function texts(events: ClientEvent[], room: string): string[] {
  return events.filter((event): event is MessageEvent =>
    event.type === "message" && event.room === room
  ).map((event) => event.text ?? "");
}

const said = (count: number, from = 0) =>
  Array.from({ length: count }, (_, n) => `missed ${from + n}`);

for (const kind of ["ws", "tcp"] as const) {
  Deno.test(`CrosswireClient over ${kind} resumes after the connection is cut and delivers the 50 messages missed, in order, once`, async () => {
    await withProxy(kind, async (setup) => {
      const ann = await login(setup, setup.proxied, "ann");
      const bob = await login(setup, setup.direct.ws, "bob");
      await ann.join("games");
      await bob.join("games");
      const before = nextEvent(ann, "message", (event) => event.text === "before");
      bob.send("games", "before");
      await before;
      const events = record(ann);

      setup.proxy.refusing = true;
      const reconnecting = nextEvent(ann, "reconnecting");
      setup.proxy.cut();
      const { attempt, code } = await reconnecting;
      assert.equal(attempt, 1);
      assert.ok(code === 1006 || code === 1005, `close code ${code}`);
      assert.equal(ann.connected, false);
      assert.equal(ann.isClosed, false);

      for (const text of said(50)) bob.send("games", text);
      await bob.ping(); // every one of them is in the room's history now
      const resumed = nextEvent(ann, "resumed");
      setup.proxy.refusing = false;
      const back = await resumed;
      assert.equal(back.session, true);
      assert.deepEqual(back.rooms.find((room) => room.room === "games"), {
        room: "games",
        recovered: true,
        count: 50,
      });
      assert.equal(ann.connected, true);

      const live = nextEvent(ann, "message", (event) => event.text === "live");
      bob.send("games", "live");
      await live;
      assert.deepEqual(texts(events, "games"), [...said(50), "live"]);
      assert.ok(!events.some((event) => event.type === "gap"), "no gap");
      const kinds = events.map((event) => event.type).filter((type) => type !== "message");
      assert.equal(kinds[0], "reconnecting");
      assert.ok(kinds.includes("resumed"));
      // The resumed event comes after the replay and before the live message.
      const order = events.findIndex((event) => event.type === "resumed");
      assert.equal(texts(events.slice(0, order), "games").length, 50);
      assert.equal(ann.position("games")?.offset, 52);
    });
  });
}

Deno.test("CrosswireClient delivers a gap, then what the room still has, when it missed more than the history keeps", async () => {
  await withProxy("ws", async (setup) => {
    const ann = await login(setup, setup.proxied, "ann");
    const bob = await login(setup, setup.direct.tcp, "bob");
    const first = nextEvent(ann, "message", (event) => event.text === "first");
    bob.send("lobby", "first");
    await first;
    const events = record(ann);
    setup.proxy.refusing = true;
    const reconnecting = nextEvent(ann, "reconnecting");
    setup.proxy.cut();
    await reconnecting;
    for (const text of said(50)) bob.send("lobby", text);
    await bob.ping();
    const resumed = nextEvent(ann, "resumed");
    setup.proxy.refusing = false;
    const back = await resumed;
    assert.deepEqual(back.rooms, [{ room: "lobby", recovered: false, count: 10 }]);
    const gapAt = events.findIndex((event) => event.type === "gap");
    assert.deepEqual(events[gapAt], { type: "gap", room: "lobby", reason: "too_old" });
    assert.deepEqual(texts(events.slice(gapAt), "lobby"), said(10, 40));
    assert.deepEqual(texts(events.slice(0, gapAt), "lobby"), [], "the gap comes first");
  }, { historySize: 10 });
});

Deno.test("CrosswireClient gets missed private messages back, and what it sent while away goes out after", async () => {
  await withProxy("tcp", async (setup) => {
    const ann = await login(setup, setup.proxied, "ann");
    const bob = await login(setup, setup.direct.ws, "bob");
    const hello = nextEvent(ann, "direct", (event) => event.text === "hello");
    bob.direct("ann", "hello");
    await hello;
    const events = record(ann);
    setup.proxy.refusing = true;
    const reconnecting = nextEvent(ann, "reconnecting");
    setup.proxy.cut();
    await reconnecting;
    for (const n of [1, 2, 3]) bob.direct("ann", `psst ${n}`);
    await bob.ping();
    // Made while away: they wait for the session.
    const presence = ann.presence("lobby");
    ann.send("lobby", "I was away");
    const heard = nextEvent(bob, "message", (event) => event.text === "I was away");
    const resumed = nextEvent(ann, "resumed");
    setup.proxy.refusing = false;
    assert.deepEqual((await resumed).direct, { recovered: true, count: 3 });
    assert.equal((await presence).count, 2);
    await heard;
    assert.deepEqual(
      events.filter((event) => event.type === "direct").map((event) =>
        event.type === "direct" ? event.text : ""
      ),
      ["psst 1", "psst 2", "psst 3"],
    );
  });
});

Deno.test("CrosswireClient logs in again and joins its rooms from their positions when the session has ended", async () => {
  await withProxy("ws", async (setup) => {
    const ann = await login(setup, setup.proxied, "ann");
    const bob = await login(setup, setup.direct.ws, "bob");
    await ann.join("games");
    await bob.join("games");
    const first = nextEvent(ann, "direct", (event) => event.text === "first");
    bob.direct("ann", "first");
    await first;
    const events = record(ann);
    setup.proxy.refusing = true;
    const gone = nextEvent(bob, "left", (event) => event.name === "ann" && event.room === "games");
    setup.proxy.cut();
    for (const text of said(5)) bob.send("games", text);
    assert.equal((await gone).reason, "disconnect", "the session ended with its window");
    const resumed = nextEvent(ann, "resumed");
    setup.proxy.refusing = false;
    const back = await resumed;
    assert.equal(back.session, false);
    assert.deepEqual(
      back.rooms.find((room) => room.room === "games"),
      { room: "games", recovered: true, count: 5 },
    );
    assert.deepEqual(back.direct, { recovered: false, count: 0 });
    assert.deepEqual(texts(events, "games"), said(5));
    assert.ok(
      events.some((event) => event.type === "gap" && event.room === undefined),
      "the old private stream is gone: a gap (expired)",
    );
    assert.equal(ann.name, "ann");
    assert.deepEqual((await bob.presence("games")).members.toSorted(), ["ann", "bob"]);
  }, { resumeWindowMs: 200 });
});

Deno.test("connect() with a saved session gets it back after a reload, with what was missed", async () => {
  await withProxy("ws", async (setup) => {
    const page = await connect(setup.proxied, { name: "ann", reconnect: false });
    const bob = await login(setup, setup.direct.ws, "bob");
    const hi = nextEvent(page, "message", (event) => event.text === "hi");
    bob.send("lobby", "hi");
    await hi;
    const saved = JSON.parse(JSON.stringify(page.saved()));
    assert.deepEqual(Object.keys(saved.rooms), ["lobby"]);
    // The page goes away without a quit: the connection just ends.
    setup.proxy.cut();
    await page.closed;
    bob.send("lobby", "while you reloaded");
    await bob.ping();
    const again = await login(setup, setup.proxied, "ann", { resume: saved });
    const events = record(again);
    const resumed = await nextEvent(again, "resumed");
    assert.equal(resumed.session, true);
    assert.equal(again.welcome.resumed, true);
    assert.deepEqual(texts(events, "lobby"), ["while you reloaded"]);
    assert.equal(again.session, page.session);
  });
});

Deno.test("CrosswireClient gives up after maxAttempts when the server is gone, and closed resolves", async () => {
  const server = await startServer({ hostname: "127.0.0.1", port: 0, tcpPort: 0 });
  const client = await connect(`tcp://127.0.0.1:${server.tcpAddr!.port}`, {
    name: "ann",
    reconnect: { ...FAST, maxAttempts: 2 },
  });
  const attempts: number[] = [];
  client.on("reconnecting", (event) => attempts.push(event.attempt));
  await server.shutdown();
  const closed = await client.closed;
  assert.deepEqual(attempts, [1, 2]);
  assert.equal(closed.type, "close");
  assert.equal(client.isClosed, true);
});

Deno.test("CrosswireClient logs in again after the server restarted, with a gap: the history it knew is gone", async () => {
  const first = await startServer({ hostname: "127.0.0.1", port: 0, tcpPort: null });
  const port = first.httpAddr.port;
  const url = `ws://127.0.0.1:${port}/ws`;
  const ann = await connect(url, { name: "ann", reconnect: FAST });
  const bob = await connect(url, { name: "bob", reconnect: false });
  const one = nextEvent(ann, "message", (event) => event.text === "one");
  bob.send("lobby", "one");
  await one;
  const before = ann.position("lobby")!;
  const events = record(ann);
  await bob.close();
  await first.shutdown();
  const second = await startServer({ hostname: "127.0.0.1", port, tcpPort: null });
  try {
    const resumed = await nextEvent(ann, "resumed");
    assert.equal(resumed.session, false, "a restarted server has no sessions");
    assert.deepEqual(resumed.rooms, [{ room: "lobby", recovered: false, count: 0 }]);
    assert.deepEqual(
      events.filter((event) => event.type === "gap"),
      [{ type: "gap", reason: "expired" }, { type: "gap", room: "lobby", reason: "epoch" }],
    );
    assert.notEqual(ann.position("lobby")?.epoch, before.epoch);
    assert.equal(ann.name, "ann");
  } finally {
    await ann.close();
    await second.shutdown();
  }
});

Deno.test("CrosswireClient: a resume whose welcome is lost with the connection still comes back", async () => {
  // The relay takes the resume (and rotates the token), but the connection drops before the
  // welcome arrives: the client still holds the old token, which now fails, and its own kept
  // session still holds the name. The client waits for the relay to let the session go
  // (its resume window) and logs in again, rather than giving up on name_taken.
  const server = await startServer({
    hostname: "127.0.0.1",
    port: 0,
    tcpPort: null,
    relay: { resumeWindowMs: 300 },
  });
  const url = `ws://127.0.0.1:${server.httpAddr.port}/ws`;
  const cuts: (() => void)[] = [];
  let opened = 0;
  const lossy = async (target: URL): Promise<Transport> => {
    const inner = await openWebSocket(target);
    const n = ++opened;
    let receiver: TransportReceiver;
    let cut = false;
    const drop = () => {
      if (cut) return;
      cut = true;
      inner.close();
      receiver.closed(1006, "cut");
    };
    cuts[n] = drop;
    return {
      binaryFrames: inner.binaryFrames,
      send: (data) => void (cut || inner.send(data)),
      close: () => drop(),
      start: (r) => {
        receiver = r;
        inner.start({
          // The second connection loses its welcome, and with it the connection.
          text: (data) =>
            cut ? undefined : n === 2 && data.includes('"welcome"') ? drop() : r.text(data),
          binary: (data) => void (cut || r.binary(data)),
          closed: (code, reason) => {
            if (cut) return;
            cut = true;
            r.closed(code, reason);
          },
        });
      },
    };
  };
  const ann = await connect(url, { name: "ann", openTransport: lossy, reconnect: FAST });
  try {
    const resumed = new Promise<ClientEventOf<"resumed">>((resolve) => ann.on("resumed", resolve));
    cuts[1]!();
    const outcome = await Promise.race([
      resumed,
      ann.closed.then((e) => ({ closed: e.reason })),
      new Promise((resolve) => setTimeout(resolve, WAIT_MS, "nothing")),
    ]);
    assert.ok(outcome !== "nothing" && !("closed" in (outcome as object)), JSON.stringify(outcome));
    assert.equal((outcome as ClientEventOf<"resumed">).session, false, "logged in afresh");
    assert.equal(ann.name, "ann");
  } finally {
    await ann.close();
    await server.shutdown();
  }
});
