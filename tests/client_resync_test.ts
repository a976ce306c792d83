// The client library against a scripted fake relay (no server, no sockets):
// its own check of offsets and the resyncs it makes, what it hides and
// shows, when it reconnects and what it sends to get its session back.

import assert from "node:assert/strict";
import {
  type ClientEvent,
  connect,
  type ConnectOptions,
  type CrosswireClient,
  CrosswireClientError,
  type ServerEvent,
  type Transport,
  type TransportReceiver,
} from "../client/mod.ts";

import { nextEvent } from "./_helpers.ts";
const WAIT_MS = 5000;
const EPOCH = "e1";
type Sent = Record<string, unknown> & { type: string; ref: string };

/** One connection to the fake relay: what the client sent, and a way to answer. */
class FakeConnection implements Transport {
  readonly binaryFrames = false;
  readonly sent: Sent[] = [];
  #receiver: TransportReceiver | undefined;
  #read = 0;
  #wake: (() => void)[] = [];
  #closed = false;

  start(receiver: TransportReceiver): void {
    this.#receiver = receiver;
  }

  send(data: string | Uint8Array): void {
    if (this.#closed) throw new CrosswireClientError("connection_closed", "closed");
    this.sent.push(JSON.parse(data as string));
    for (const wake of this.#wake.splice(0)) wake();
  }

  close(): void {
    queueMicrotask(() => this.drop(1000, "closed"));
  }

  /** Sends events to the client, as one frame each. */
  push(...events: ServerEvent[]): void {
    for (const event of events) this.#receiver!.text(JSON.stringify(event));
  }

  /** Ends the connection as the server (or the network) would. */
  drop(code: number, reason = ""): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#receiver?.closed(code, reason);
  }

  /** The next message the client sends of `type` (skipping others), waiting for it. */
  async next(type: string): Promise<Sent> {
    const deadline = Date.now() + WAIT_MS;
    while (true) {
      const index = this.sent.findIndex((each, at) => at >= this.#read && each.type === type);
      if (index >= 0) {
        this.#read = index + 1;
        return this.sent[index]!;
      }
      if (Date.now() > deadline) {
        throw new Error(`no ${type} sent; sent: ${JSON.stringify(this.sent)}`);
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#wake.push(resolve);
        timer = setTimeout(resolve, deadline - Date.now());
      });
      clearTimeout(timer);
    }
  }
}

/** Opens fake connections for the client and hands them to the test. */
class FakeRelay {
  readonly connections: FakeConnection[] = [];
  refusing = false;
  #wake: (() => void)[] = [];

  readonly open = (): Promise<Transport> => {
    if (this.refusing) {
      return Promise.reject(new CrosswireClientError("connect_failed", "refused"));
    }
    const connection = new FakeConnection();
    this.connections.push(connection);
    for (const wake of this.#wake.splice(0)) wake();
    return Promise.resolve(connection);
  };

  /** The connection number `index` (0: the first), waiting for it. */
  async connection(index: number): Promise<FakeConnection> {
    while (this.connections.length <= index) {
      await new Promise<void>((resolve) => this.#wake.push(resolve));
    }
    return this.connections[index]!;
  }
}

const FAST = { initialDelayMs: 1, maxDelayMs: 5 };

function welcome(ref: unknown, extra: Record<string, unknown> = {}): ServerEvent {
  return {
    type: "welcome",
    session: "s1",
    name: "ann",
    others: 1,
    rooms: ["lobby"],
    reclaim: "reclaim-1",
    resume: "token-1",
    direct: { offset: 0, epoch: "p1" },
    ref,
    ...extra,
  } as ServerEvent;
}

function message(offset: number | undefined, from = "bob", room = "lobby"): ServerEvent {
  return {
    type: "message",
    id: `m${offset}`,
    ts: 0,
    room,
    from,
    text: `${from} ${offset ?? "-"}`,
    ...(offset === undefined ? {} : { offset, epoch: EPOCH }),
  };
}

function history(
  ref: unknown,
  offset: number,
  count: number,
  extra: Record<string, unknown> = {},
): ServerEvent {
  return {
    type: "history",
    room: "lobby",
    recovered: true,
    epoch: EPOCH,
    offset,
    count,
    ref,
    ...extra,
  } as ServerEvent;
}

/** Connects through `relay` and plays the relay's side of a login, lobby position 2 included. */
async function loggedIn(
  relay: FakeRelay,
  options: Partial<ConnectOptions> = {},
): Promise<{ client: CrosswireClient; server: FakeConnection; events: ClientEvent[] }> {
  const index = relay.connections.length;
  const connecting = connect("fake://relay", {
    name: "ann",
    openTransport: relay.open,
    reconnect: FAST,
    keepaliveMs: 0,
    ...options,
  });
  const server = await relay.connection(index);
  const login = await server.next("login");
  assert.equal(login.echo, true, "the client always asks for echo, to see every offset");
  server.push(
    welcome(login.ref),
    { type: "joined", ts: 0, room: "lobby", name: "ann" },
    { type: "presence", room: "lobby", members: ["ann", "bob"], count: 2 },
  );
  const client = await connecting;
  const events: ClientEvent[] = [];
  client.on("*", (event) => events.push(event));
  // The client learns the lobby's position (a replay's header alone) before anything else.
  const probe = await server.next("history");
  assert.deepEqual({ room: probe.room, limit: probe.limit }, { room: "lobby", limit: 0 });
  server.push(history(probe.ref, 2, 0, { recovered: false }));
  return { client, server, events };
}

/** Message texts and gaps, in the order listeners got them. */
function shown(events: ClientEvent[]): string[] {
  return events.flatMap((event) => {
    if (event.type === "message" || event.type === "direct") return [event.text ?? ""];
    if (event.type === "gap") return [`gap ${event.room ?? "private"} ${event.reason}`];
    return [];
  });
}

Deno.test("CrosswireClient asks for history when an offset skips ahead, and delivers the missing messages before the held ones", async () => {
  const relay = new FakeRelay();
  const { client, server, events } = await loggedIn(relay);
  server.push(message(3), message(6)); // 4 and 5 went missing
  const resync = await server.next("history");
  assert.deepEqual(
    { room: resync.room, since: resync.since },
    { room: "lobby", since: { offset: 3, epoch: EPOCH } },
  );
  server.push(message(7)); // held until the missing ones are in
  server.push(history(resync.ref, 7, 4), message(4), message(5), message(6), message(7));
  const last = nextEvent(client, "message", (event) => event.offset === 8);
  server.push(message(8));
  await last;
  assert.deepEqual(shown(events), ["bob 3", "bob 4", "bob 5", "bob 6", "bob 7", "bob 8"]);
  assert.deepEqual(client.position("lobby"), { offset: 8, epoch: EPOCH });
  assert.ok(!events.some((event) => event.type === "history"), "its own replays are not shown");
  await client.close();
});

Deno.test("CrosswireClient delivers a gap before what follows a hole the relay no longer has", async () => {
  const relay = new FakeRelay();
  const { client, server, events } = await loggedIn(relay);
  server.push(message(90));
  const resync = await server.next("history");
  const after = nextEvent(client, "message", (event) => event.offset === 90);
  server.push(history(resync.ref, 90, 1, { recovered: false }), message(90));
  await after;
  assert.deepEqual(shown(events), ["gap lobby skipped", "bob 90"]);
  await client.close();
});

Deno.test("CrosswireClient passes messages without a position through and hides its own when echo is off", async () => {
  const relay = new FakeRelay();
  const { client, server, events } = await loggedIn(relay);
  const fourth = nextEvent(client, "message", (event) => event.offset === 4);
  server.push(message(undefined), message(3, "ann"), message(4));
  await fourth;
  // Its own message 3 moved the position (no resync), and was not shown.
  assert.deepEqual(shown(events), ["bob -", "bob 4"]);
  assert.equal(server.sent.filter((each) => each.type === "history").length, 1, "only the probe");
  client.input("/echo on");
  const fifth = nextEvent(client, "message", (event) => event.offset === 5);
  server.push(message(5, "ann"));
  await fifth;
  client.input("/echo off");
  const quiet = await server.next("echo");
  assert.equal(quiet.on, true, "the relay keeps echoing; the client hides");
  server.push({ type: "notice", ts: 0, text: "Echo is on.", ref: quiet.ref } as ServerEvent);
  const seventh = nextEvent(client, "message", (event) => event.offset === 7);
  server.push(message(6, "ann"), message(7));
  await seventh;
  assert.deepEqual(shown(events), ["bob -", "bob 4", "ann 5", "bob 7"]);
  assert.ok(!events.some((event) => event.type === "notice"), "its own echo request is quiet");
  await client.close();
});

Deno.test("CrosswireClient shows a typed /history as it comes, and history() returns without delivering", async () => {
  const relay = new FakeRelay();
  const { client, server, events } = await loggedIn(relay);
  client.input("/history 2");
  const replayed = nextEvent(client, "message", (event) => event.offset === 2);
  server.push(history(undefined, 2, 2, { recovered: false }), message(1), message(2));
  await replayed;
  assert.equal(events.filter((event) => event.type === "history").length, 1);
  assert.deepEqual(shown(events), ["bob 1", "bob 2"]);

  const asked = client.history("lobby", { limit: 2 });
  const request = await server.next("history");
  assert.deepEqual({ room: request.room, limit: request.limit }, { room: "lobby", limit: 2 });
  server.push(history(request.ref, 2, 2, { recovered: false }), message(1), message(2));
  const result = await asked;
  assert.deepEqual(result.messages.map((each) => each.offset), [1, 2]);
  assert.deepEqual([result.recovered, result.offset, result.epoch], [false, 2, EPOCH]);
  assert.equal(shown(events).length, 2, "history() delivers nothing");
  await client.close();
});

Deno.test("CrosswireClient.join() with since resolves after the replay, gap first when it is incomplete", async () => {
  const relay = new FakeRelay();
  const { client, server, events } = await loggedIn(relay);
  const joining = client.join("#games", { since: { offset: 10, epoch: EPOCH } });
  const join = await server.next("join");
  assert.deepEqual(join.since, { offset: 10, epoch: EPOCH });
  server.push(
    { type: "joined", ts: 0, room: "games", name: "ann" },
    { type: "presence", room: "games", members: ["ann"], count: 1, ref: join.ref } as ServerEvent,
  );
  let resolved = false;
  void joining.then(() => resolved = true);
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(resolved, false, "waits for the replay");
  server.push(
    history(join.ref, 30, 1, { room: "games", recovered: false }),
    message(30, "bob", "games"),
  );
  assert.equal((await joining).room, "games");
  assert.deepEqual(shown(events), ["gap games too_old", "bob 30"]);
  assert.deepEqual(client.position("games"), { offset: 30, epoch: EPOCH });
  await client.close();
});

Deno.test("CrosswireClient reconnects after a drop and resumes with its token and positions", async () => {
  const relay = new FakeRelay();
  const { client, server, events } = await loggedIn(relay);
  const d1 = nextEvent(client, "direct");
  server.push({
    type: "direct",
    id: "d1",
    ts: 0,
    from: "bob",
    to: "ann",
    text: "d1",
    offset: 1,
    epoch: "p1",
  });
  await d1;
  const inFlight = client.presence("lobby").catch((error) => error);
  await server.next("presence");
  const reconnecting = nextEvent(client, "reconnecting");
  server.drop(4008, "slow consumer");
  assert.deepEqual(
    { ...(await reconnecting), delayMs: 0 },
    { type: "reconnecting", attempt: 1, delayMs: 0, code: 4008, reason: "slow consumer" },
  );
  const lost = await inFlight;
  assert.ok(lost instanceof CrosswireClientError && lost.code === "connection_lost", `${lost}`);
  // While disconnected, requests and messages wait.
  const waiting = client.rooms();
  client.send("lobby", "typed while away");

  const again = await relay.connection(1);
  const resume = await again.next("resume");
  assert.deepEqual(
    { token: resume.token, rooms: resume.rooms, direct: resume.direct, echo: resume.echo },
    {
      token: "token-1",
      rooms: { lobby: { offset: 2, epoch: EPOCH } },
      direct: { offset: 1, epoch: "p1" },
      echo: true,
    },
  );
  assert.ok(!again.sent.some((each) => each.type === "publish"), "nothing before the session");
  const resumed = nextEvent(client, "resumed");
  again.push(
    welcome(resume.ref, { resumed: true, resume: "token-2" }),
    history(resume.ref, 3, 1),
    message(3),
    { type: "history", recovered: true, epoch: "p1", offset: 1, count: 0, ref: resume.ref },
  );
  assert.deepEqual(await resumed, {
    type: "resumed",
    session: true,
    rooms: [{ room: "lobby", recovered: true, count: 1 }],
    direct: { recovered: true, count: 0 },
  });
  // Sent once the session is back, in the order they were made.
  const rooms = await again.next("rooms");
  const publish = await again.next("publish");
  assert.equal(publish.text, "typed while away");
  again.push({ type: "rooms", rooms: [], total: 0, ref: rooms.ref } as ServerEvent);
  assert.equal((await waiting).total, 0);
  assert.deepEqual(shown(events), ["d1", "bob 3"]);
  assert.deepEqual(
    events.filter((event) => event.type === "welcome").map((event) => event.session),
    ["s1"],
    "the first welcome is delivered; a reconnect's is the client's business",
  );
  assert.equal(client.saved().token, "token-2");
  await client.close();
});

Deno.test("CrosswireClient logs in again (reclaim) and joins with since when the session is gone", async () => {
  const relay = new FakeRelay();
  const { client, server, events } = await loggedIn(relay);
  const joining = client.join("games");
  const join = await server.next("join");
  assert.equal(join.history, 0, "a replay's header alone tells the room's position");
  server.push(
    { type: "joined", ts: 0, room: "games", name: "ann" },
    { type: "presence", room: "games", members: ["ann"], count: 1, ref: join.ref } as ServerEvent,
    history(join.ref, 5, 1, { room: "games", recovered: false }),
    message(5, "bob", "games"),
  );
  await joining;
  assert.deepEqual(client.position("games"), { offset: 5, epoch: EPOCH });
  assert.deepEqual(shown(events), [], "what was said before the join is not shown");
  const d1 = nextEvent(client, "direct");
  server.push({
    type: "direct",
    id: "d1",
    ts: 0,
    from: "bob",
    to: "ann",
    text: "d1",
    offset: 1,
    epoch: "p1",
  });
  await d1;

  server.drop(1006);
  const again = await relay.connection(1);
  const resume = await again.next("resume");
  again.push({ type: "error", code: "resume_failed", message: "gone", ref: resume.ref });
  const login = await again.next("login");
  assert.deepEqual({ name: login.name, reclaim: login.reclaim }, {
    name: "ann",
    reclaim: "reclaim-1",
  });
  again.push(
    welcome(login.ref, { session: "s2", resume: "token-3", direct: { offset: 0, epoch: "p2" } }),
    { type: "joined", ts: 0, room: "lobby", name: "ann" },
  );
  const lobby = await again.next("join");
  const games = await again.next("join");
  assert.deepEqual([lobby.room, lobby.since], ["lobby", { offset: 2, epoch: EPOCH }]);
  assert.deepEqual([games.room, games.since], ["games", { offset: 5, epoch: EPOCH }]);
  const resumed = nextEvent(client, "resumed");
  again.push(
    { type: "presence", room: "lobby", members: ["ann"], count: 1, ref: lobby.ref } as ServerEvent,
    history(lobby.ref, 2, 0),
    { type: "joined", ts: 0, room: "games", name: "ann" },
    { type: "presence", room: "games", members: ["ann"], count: 1, ref: games.ref } as ServerEvent,
    history(games.ref, 7, 2, { room: "games" }),
    message(6, "bob", "games"),
    message(7, "bob", "games"),
  );
  const back = await resumed;
  assert.equal(back.session, false);
  assert.deepEqual(back.rooms, [
    { room: "lobby", recovered: true, count: 0 },
    { room: "games", recovered: true, count: 2 },
  ]);
  assert.deepEqual(back.direct, { recovered: false, count: 0 });
  assert.deepEqual(shown(events), ["d1", "gap private expired", "bob 6", "bob 7"]);
  assert.equal(client.session, "s2");
  assert.deepEqual(client.position(), { offset: 0, epoch: "p2" });
  await client.close();
});

Deno.test("connect() with a saved session starts with resume, and delivers the welcome and resumed", async () => {
  const relay = new FakeRelay();
  const connecting = connect("fake://relay", {
    name: "ann",
    openTransport: relay.open,
    keepaliveMs: 0,
    resume: {
      name: "ann",
      token: "saved-token",
      reclaim: "saved-reclaim",
      rooms: { lobby: { offset: 2, epoch: EPOCH } },
    },
  });
  const server = await relay.connection(0);
  const resume = await server.next("resume");
  assert.deepEqual([resume.token, resume.rooms], ["saved-token", {
    lobby: { offset: 2, epoch: EPOCH },
  }]);
  server.push(welcome(resume.ref, { resumed: true }), history(resume.ref, 3, 1), message(3));
  const client = await connecting;
  const events: ClientEvent[] = [];
  client.on("*", (event) => events.push(event));
  await nextEvent(client, "resumed");
  assert.deepEqual(events.map((event) => event.type), ["welcome", "message", "resumed"]);
  await client.close();
});

for (
  const [what, code, error] of [
    ["a quit", 1000, undefined],
    ["a protocol violation", 1002, undefined],
    ["a policy close", 1008, "name_taken"],
    ["a line too long (over TCP)", 1005, "line_too_long"],
  ] as const
) {
  Deno.test(`CrosswireClient does not reconnect after ${what}`, async () => {
    const relay = new FakeRelay();
    const { client, server } = await loggedIn(relay);
    if (error) server.push({ type: "error", code: error, message: "no" });
    server.drop(code, "bye");
    const closed = await client.closed;
    assert.deepEqual(closed, { type: "close", code, reason: "bye" });
    assert.equal(relay.connections.length, 1);
    assert.equal(client.isClosed, true);
  });
}

Deno.test("CrosswireClient reconnects after an error that closes for a passing reason (over TCP)", async () => {
  const relay = new FakeRelay();
  const { client, server } = await loggedIn(relay);
  const reconnecting = nextEvent(client, "reconnecting");
  server.push({ type: "error", code: "slow_consumer", message: "behind" });
  server.drop(1005);
  assert.equal((await reconnecting).code, 1005);
  await relay.connection(1);
  await client.close();
});

Deno.test("CrosswireClient gives up after maxAttempts and closes with the code of the drop", async () => {
  const relay = new FakeRelay();
  const { client, server } = await loggedIn(relay, {
    reconnect: { ...FAST, maxAttempts: 3 },
  });
  const attempts: number[] = [];
  client.on("reconnecting", (event) => attempts.push(event.attempt));
  const pending = client.ping().catch((error) => error);
  relay.refusing = true;
  server.drop(1006, "gone");
  const closed = await client.closed;
  assert.deepEqual(attempts, [1, 2, 3]);
  assert.equal(closed.code, 1006);
  const error = await pending;
  assert.ok(error instanceof CrosswireClientError);
  assert.equal(relay.connections.length, 1);
  assert.throws(() => client.send("lobby", "hello?"), CrosswireClientError);
});

Deno.test("CrosswireClient.close() while waiting to reconnect ends it at once", async () => {
  const relay = new FakeRelay();
  const { client, server } = await loggedIn(relay, {
    reconnect: { initialDelayMs: 60_000, maxDelayMs: 60_000 },
  });
  const reconnecting = nextEvent(client, "reconnecting");
  server.drop(1006);
  await reconnecting;
  const waiting = client.ping().catch((error) => error);
  await client.close();
  assert.equal((await client.closed).code, 1000);
  assert.equal((await waiting).code, "connection_closed");
  assert.equal(relay.connections.length, 1);
});
