// The Durable Object's wake-up path without workerd: the object is
// constructed over sockets that kept their sessions' snapshots (as
// `ctx.getWebSockets()` returns them after hibernation), twice, as two sleeps
// would. The sockets are plain fakes; the relay and the object are the real ones.

import assert from "node:assert/strict";
import { Relay, type Session, snapshotSession } from "../../core/mod.ts";
import { CrosswireRelay, SLEEPING_PING } from "../../runtimes/cloudflare/relay_object.ts";
import type {
  DurableObjectState,
  Env,
  HibernatableWebSocket,
} from "../../runtimes/cloudflare/_types.ts";

// The one Workers global the object's constructor uses.
(globalThis as Record<string, unknown>).WebSocketRequestResponsePair ??= class {
  constructor(readonly request: string, readonly response: string) {}
};

/** A hibernatable socket as the object sees it: what it sent, and what it kept. */
class FakeSocket extends EventTarget {
  readyState: number = WebSocket.OPEN;
  /** Every event sent, a batched frame split into its events. */
  sent: string[] = [];
  /** Every frame sent, as it was. */
  frames: string[] = [];
  closed: { code: number; reason: string } | undefined;
  /** Every close() call, in order. */
  closes: number[] = [];
  #attachment: unknown = null;

  constructor(attachment: unknown) {
    super();
    this.#attachment = structuredClone(attachment);
  }
  send(data: string): void {
    if (this.readyState !== WebSocket.OPEN) throw new TypeError("not open");
    this.frames.push(data);
    this.sent.push(...data.split("\n"));
  }
  close(code: number, reason: string): void {
    this.closed ??= { code, reason };
    this.closes.push(code);
    this.readyState = WebSocket.CLOSING;
  }
  serializeAttachment(value: unknown): void {
    const bytes = new TextEncoder().encode(JSON.stringify(value)).length;
    if (bytes > 16384) throw new Error("A WebSocket 'attachment' cannot be larger than 16384");
    this.#attachment = structuredClone(value);
  }
  deserializeAttachment(): unknown {
    return structuredClone(this.#attachment);
  }
  /** What was sent, parsed, from `from` on. */
  events(from = 0): { type: string; [field: string]: unknown }[] {
    return this.sent.slice(from).map((frame) => JSON.parse(frame));
  }
}

function wake(sockets: FakeSocket[]): CrosswireRelay {
  const ctx: DurableObjectState = {
    acceptWebSocket: () => {},
    getWebSockets: () => sockets as unknown as HibernatableWebSocket[],
    setWebSocketAutoResponse: () => {},
  };
  return new CrosswireRelay(ctx, {} as Env);
}

function as(socket: FakeSocket): HibernatableWebSocket {
  return socket as unknown as HibernatableWebSocket;
}

/** Lets the ports write what the relay queued (they write in a microtask). */
const written = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

async function health(object: CrosswireRelay) {
  const response = await object.fetch(new Request("http://localhost/healthz"));
  return await response.json() as {
    node: { sessions: number; users: number; rooms: number };
    object: { restored: number };
  };
}

// Sessions as a previous life of the object left them: logged in, in rooms.
function previousLife(): { ann: FakeSocket; bob: FakeSocket } {
  const relay = new Relay();
  const port = { framing: "frames" as const, wake: () => {}, close: () => {} };
  const login = (line: string, ...requests: string[]): Session => {
    const session = relay.connect(port);
    session.receiveText(line);
    for (const request of requests) session.receiveText(request);
    return session;
  };
  const ann = login('{"type":"login","name":"ann","echo":true}', '{"type":"join","room":"den"}');
  const bob = login('{"type":"hello","batch":true}', '{"type":"login","name":"bob"}');
  bob.receiveText('{"type":"join","room":"den"}');
  return {
    ann: new FakeSocket(snapshotSession(ann)),
    bob: new FakeSocket(snapshotSession(bob)),
  };
}

Deno.test("CrosswireRelay woken over its sockets takes every session back, quietly, twice", async () => {
  const { ann, bob } = previousLife();
  const first = wake([ann, bob]);
  await written();
  assert.deepEqual([ann.sent, bob.sent], [[], []], "nothing is sent on waking");
  const report = await health(first);
  assert.equal(report.object.restored, 2);
  assert.deepEqual(report.node, { sessions: 2, users: 2, parked: 0, rooms: 2 });

  // Names, rooms and echo came back: ann speaks in den, both hear it.
  first.webSocketMessage(as(ann), '{"type":"publish","room":"den","text":"awake"}');
  await written();
  assert.deepEqual(bob.events().map((e) => [e.type, e.from, e.text]), [[
    "message",
    "ann",
    "awake",
  ]]);
  assert.deepEqual(ann.events().map((e) => [e.type, e.text]), [["message", "awake"]], "echo");

  // What changes is kept with the socket: bob joins another room, then the object sleeps again.
  first.webSocketMessage(as(bob), '{"type":"join","room":"attic"}');
  await written();
  const [annSeen, bobSeen] = [ann.sent.length, bob.sent.length];
  const second = wake([ann, bob]);
  second.webSocketMessage(as(bob), '{"type":"presence","room":"attic","ref":"a"}');
  second.webSocketMessage(as(ann), '{"type":"presence","room":"den","ref":"d"}');
  // Batching came back too: bob's replies to two requests in one pass share a frame.
  second.webSocketMessage(as(bob), '{"type":"ping","ref":"p1"}');
  second.webSocketMessage(as(bob), '{"type":"ping","ref":"p2"}');
  await written();
  assert.ok(bob.frames.some((frame) => /"p1".*\n.*"p2"/.test(frame)), "two pongs in one frame");
  const attic = bob.events(bobSeen).find((e) => e.ref === "a");
  assert.deepEqual(attic?.members, ["bob"], "bob is still in attic");
  const den = ann.events(annSeen).find((e) => e.ref === "d");
  assert.deepEqual(den?.members, ["ann", "bob"], "both are still in den");
  const news = [...ann.events(), ...bob.events()].filter((e) =>
    ["joined", "left"].includes(e.type)
  );
  assert.deepEqual(news.map((e) => [e.name, e.room]), [["bob", "attic"]], "only bob's own join");

  // Goodbye: each quits, the object closes the socket, and leaves no timer behind.
  for (const socket of [ann, bob]) {
    second.webSocketMessage(as(socket), '{"type":"quit"}');
    await written();
    assert.equal(socket.closed?.code, 1000);
    second.webSocketClose(as(socket), 1000, "bye");
  }
  assert.deepEqual((await health(second)).node.sessions, 0);
});

Deno.test("CrosswireRelay closes a socket that kept no usable snapshot with 1011", async () => {
  const { ann } = previousLife();
  const lost = new FakeSocket(null);
  const odd = new FakeSocket({ v: 99 });
  const object = wake([lost, ann, odd]);
  for (const socket of [lost, odd]) assert.equal(socket.closed?.code, 1011);
  assert.equal((await health(object)).object.restored, 1);
  object.webSocketMessage(as(lost), '{"type":"ping"}');
  assert.deepEqual(lost.sent, [], "a message from a lost socket is not handled");
  object.webSocketMessage(as(ann), '{"type":"quit"}');
  await written();
  object.webSocketClose(as(ann), 1000, "bye");
});

Deno.test("CrosswireRelay leaves closing sockets alone on waking", async () => {
  const { ann, bob } = previousLife();
  bob.readyState = WebSocket.CLOSING;
  const object = wake([ann, bob]);
  const report = await health(object);
  assert.equal(report.object.restored, 1);
  assert.equal(report.node.users, 1);
  object.webSocketMessage(as(ann), '{"type":"quit"}');
  await written();
  object.webSocketClose(as(ann), 1005, "");
  assert.deepEqual(ann.closes, [1000, 1000], "the handshake is answered with 1000, never 1005");
});

Deno.test("CrosswireRelay gives no rate credit for a quiet spell (its sweeps are lazy)", async () => {
  const realNow = Date.now;
  let time = realNow();
  Date.now = () => time;
  try {
    const { ann } = previousLife();
    const object = wake([ann]);
    object.webSocketMessage(as(ann), '{"type":"ping","ref":"first"}');
    // A minute without a sweep: on a server that sweeps every second, a pause.
    time += 60_000;
    for (let i = 0; i < 60; i++) object.webSocketMessage(as(ann), `{"type":"ping","ref":"${i}"}`);
    await written();
    const answered = ann.events().filter((e) => e.type === "pong" && e.ref !== "first");
    const refused = ann.events().filter((e) => e.code === "rate_limited");
    assert.deepEqual([answered.length, refused.length], [50, 10], "the burst, no more");
    object.webSocketMessage(as(ann), '{"type":"quit"}');
    await written();
    object.webSocketClose(as(ann), 1000, "bye");
  } finally {
    Date.now = realNow;
  }
});

Deno.test("the sleeping ping is the exact frame a client sends without a ref", () => {
  assert.deepEqual(JSON.parse(SLEEPING_PING), { type: "ping" });
});
