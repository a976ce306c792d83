// The client library with tokens, against a real server on free ports with a
// stand-in `authenticate`: logging in with a token (a string or a function),
// refresh, no reconnect after a kick, a ban or an expired token, a token
// renewed by itself, and moderation events as typed events.

import assert from "node:assert/strict";
import { startServer } from "../server/mod.ts";
import { type Identity, RelayError, type RelayOptions, type RunningServer } from "../mod.ts";
import { CuttingProxy, nextEvent, within } from "./_helpers.ts";
import {
  type ClientEvent,
  connect,
  type ConnectOptions,
  type CrosswireClient,
  CrosswireClientError,
  type ModeratedEvent,
  type TopicEvent,
} from "../client/mod.ts";

const WAIT_MS = 5000;
const TRANSPORTS = ["ws", "tcp"] as const;

/** What a stand-in token proves; `ttlMs` counts from each check. */
interface Holder {
  subject: string;
  name: string;
  admin?: boolean;
  rooms?: Identity["rooms"];
  ttlMs?: number;
}

/** Tokens the stand-in verifier knows, and every token it was shown. */
class Tokens {
  readonly known = new Map<string, Holder>();
  readonly seen: string[] = [];
  #waiting: { token: string; resolve: () => void }[] = [];

  add(token: string, holder: Holder): void {
    this.known.set(token, holder);
  }

  /** Resolves once the verifier has been shown `token`. */
  shown(token: string): Promise<void> {
    if (this.seen.includes(token)) return Promise.resolve();
    return new Promise((resolve) => this.#waiting.push({ token, resolve }));
  }

  readonly authenticate = (token: string): Promise<Identity> => {
    this.seen.push(token);
    for (const waiter of this.#waiting.filter((each) => each.token === token)) waiter.resolve();
    this.#waiting = this.#waiting.filter((each) => each.token !== token);
    const holder = this.known.get(token);
    if (!holder) return Promise.reject(new RelayError("auth_failed", "unknown token"));
    return Promise.resolve({
      subject: holder.subject,
      name: holder.name,
      admin: holder.admin ?? false,
      expires: Date.now() + (holder.ttlMs ?? 3_600_000),
      ...(holder.rooms === undefined ? {} : { rooms: holder.rooms }),
    });
  };
}

interface Setup {
  server: RunningServer;
  tokens: Tokens;
  url: { ws: string; tcp: string };
  /** Connects (and remembers the client, to close it at the end). */
  login(url: string, options: ConnectOptions): Promise<CrosswireClient>;
}

/** A server with the stand-in verifier; closes every client and the server afterwards. */
async function withServer(
  body: (setup: Setup) => Promise<void>,
  relay: RelayOptions = {},
): Promise<void> {
  const tokens = new Tokens();
  const server = await startServer({
    hostname: "127.0.0.1",
    port: 0,
    tcpPort: 0,
    relay: { authenticate: tokens.authenticate, ...relay },
  });
  const clients: CrosswireClient[] = [];
  try {
    await body({
      server,
      tokens,
      url: {
        ws: `ws://127.0.0.1:${server.httpAddr.port}/ws`,
        tcp: `tcp://127.0.0.1:${server.tcpAddr!.port}`,
      },
      login: async (url, options) => {
        const client = await connect(url, { reconnect: { initialDelayMs: 20 }, ...options });
        clients.push(client);
        return client;
      },
    });
  } finally {
    await Promise.all(clients.map((client) => client.close()));
    await server.shutdown();
  }
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

/** Every event `client` delivers from now on. */
function record(client: CrosswireClient): ClientEvent[] {
  const events: ClientEvent[] = [];
  client.on("*", (event) => events.push(event));
  return events;
}

for (const kind of TRANSPORTS) {
  Deno.test(`connect() over ${kind} with a token logs in under its name, in the rooms it grants`, async () => {
    await withServer(async ({ tokens, url, login }) => {
      tokens.add("bob-token", {
        subject: "u2",
        name: "bob",
        rooms: { support: ["join", "publish", "history"], news: ["join"] },
      });
      // No name given; one given with a token is ignored.
      const bob = await login(url[kind], { token: "bob-token" });
      assert.equal(bob.name, "bob");
      assert.deepEqual(bob.welcome.rooms, ["support", "news"]);
      const presence = await bob.presence("support");
      assert.deepEqual(presence.members, ["bob"]);
      tokens.add("ann-token", { subject: "u1", name: "ann" });
      const ann = await login(url[kind], { token: "ann-token", name: "not-ann" });
      assert.equal(ann.name, "ann");
      assert.deepEqual(ann.welcome.rooms, ["lobby"]);
      // What the token does not grant is refused.
      const refused = await rejection(bob.join("lobby"));
      assert.equal(refused.code, "forbidden");
    });
  });

  Deno.test(`connect() over ${kind} rejects a token the server refuses, and none where one is required`, async () => {
    await withServer(async ({ url, login }) => {
      const refused = await rejection(login(url[kind], { token: "nobody's" }));
      assert.equal(refused.code, "auth_failed");
      const anonymous = await rejection(login(url[kind], { name: "ann" }));
      assert.equal(anonymous.code, "auth_required");
    }, { requireAuth: true });
  });
}

Deno.test("connect() needs a name or a token", async () => {
  await assert.rejects(connect("ws://127.0.0.1:9/ws", {}), TypeError);
  await assert.rejects(connect("ws://127.0.0.1:9/ws", { name: "" }), TypeError);
});

Deno.test("connect() with a token function asks it for each login, and a fresh one after a drop", async () => {
  await withServer(async ({ server, tokens, login }) => {
    tokens.add("ann-1", { subject: "u1", name: "ann" });
    tokens.add("ann-2", { subject: "u1", name: "ann" });
    const proxy = new CuttingProxy(server.httpAddr.port);
    try {
      let calls = 0;
      const ann = await login(`ws://127.0.0.1:${proxy.port}/ws`, {
        token: async () => {
          await Promise.resolve();
          return `ann-${++calls}`;
        },
      });
      assert.equal(ann.name, "ann");
      assert.equal(calls, 1);
      await ann.join("games");
      // No session is kept (resume window 0): the client must log in again, with a new token.
      const back = nextEvent(ann, "resumed");
      proxy.cut();
      const resumed = await back;
      assert.equal(resumed.session, false);
      assert.equal(calls, 2);
      assert.equal(tokens.seen.at(-1), "ann-2");
      assert.deepEqual(resumed.rooms.map((room) => room.room).sort(), ["games", "lobby"]);
    } finally {
      await proxy.close();
    }
  }, { resumeWindowMs: 0 });
});

Deno.test("CrosswireClient.refresh() resolves on the relay's notice, and rejects what it refuses", async () => {
  await withServer(async ({ server, tokens, login }) => {
    tokens.add("old", { subject: "u1", name: "ann" });
    tokens.add("new", { subject: "u1", name: "ann" });
    tokens.add("bob", { subject: "u2", name: "bob" });
    const proxy = new CuttingProxy(server.httpAddr.port);
    try {
      const ann = await login(`ws://127.0.0.1:${proxy.port}/ws`, { token: "old" });
      const notice = await ann.refresh("new");
      assert.equal(notice.type, "notice");
      assert.match(notice.text, /^Token accepted/);
      assert.equal((await rejection(ann.refresh("forged"))).code, "auth_failed");
      assert.equal((await rejection(ann.refresh("bob"))).code, "forbidden");
      // `/auth TOKEN` is a refresh too.
      const typed = nextEvent(ann, "notice", (event) => event.text.startsWith("Token accepted"));
      ann.input("/auth new");
      await typed;
      // The old token is no good any more: a login after a drop uses the accepted one.
      tokens.known.delete("old");
      const back = nextEvent(ann, "resumed");
      proxy.cut();
      assert.equal((await back).session, false);
      assert.equal(tokens.seen.at(-1), "new");
      assert.equal(ann.name, "ann");
    } finally {
      await proxy.close();
    }
  }, { resumeWindowMs: 0 });
  await withServer(async ({ url, login }) => {
    const anonymous = await login(url.ws, { name: "carl" });
    assert.equal((await rejection(anonymous.refresh("anything"))).code, "forbidden");
  });
});

for (const kind of TRANSPORTS) {
  Deno.test(`CrosswireClient over ${kind} does not reconnect after a kick or a ban`, async () => {
    await withServer(async ({ server, tokens, url, login }) => {
      tokens.add("bob", { subject: "u2", name: "bob" });
      const bob = await login(url[kind], { token: "bob" });
      const events = record(bob);
      await server.relay.api.disconnect("bob", "enough");
      const closed = await within(bob.closed, WAIT_MS, "bob's client to close");
      if (kind === "ws") assert.equal(closed.code, 4010);
      assert.ok(bob.isClosed);
      const kicked = events.find((event) => event.type === "error");
      assert.equal(kicked?.type === "error" && kicked.code, "kicked");
      assert.ok(!events.some((event) => event.type === "reconnecting"), "no reconnect");

      const carl = await login(url[kind], { name: "carl" });
      const carlEvents = record(carl);
      await server.relay.api.ban("carl", { minutes: 5 });
      const banned = await within(carl.closed, WAIT_MS, "carl's client to close");
      if (kind === "ws") assert.equal(banned.code, 4011);
      assert.ok(!carlEvents.some((event) => event.type === "reconnecting"), "no reconnect");
    });
  });
}

Deno.test("CrosswireClient with a fixed token that expires hears why, is closed with 4003, and stays closed", async () => {
  await withServer(async ({ tokens, url, login }) => {
    tokens.add("short", { subject: "u1", name: "ann", ttlMs: 300 });
    const ann = await login(url.ws, { token: "short" });
    const events = record(ann);
    const warned = await nextEvent(ann, "error", () => true, WAIT_MS);
    assert.equal(warned.code, "token_expired");
    const closed = await within(ann.closed, WAIT_MS, "the client to close");
    assert.equal(closed.code, 4003);
    assert.ok(!events.some((event) => event.type === "reconnecting"), "no reconnect");
  }, { tokenGraceMs: 200 });
});

Deno.test("CrosswireClient with a token function renews an expiring token by itself", async () => {
  await withServer(async ({ server, tokens, url, login }) => {
    tokens.add("ann-1", { subject: "u1", name: "ann", ttlMs: 300 });
    tokens.add("ann-2", { subject: "u1", name: "ann" });
    let calls = 0;
    const ann = await login(url.ws, { token: () => `ann-${++calls}` });
    const events = record(ann);
    // A user whose fixed token runs out at the same time, closed by the same sweep
    // that would close ann had her client not renewed hers.
    tokens.add("bob", { subject: "u2", name: "bob", ttlMs: 300 });
    const bob = await login(url.ws, { token: "bob" });
    await within(tokens.shown("ann-2"), WAIT_MS, "the renewed token");
    assert.equal(calls, 2);
    assert.equal((await within(bob.closed, WAIT_MS, "bob to be closed")).code, 4003);
    // Ann's session is still up: the same connection answers, and nothing reached listeners.
    assert.ok(ann.connected);
    await ann.ping();
    assert.equal(server.relay.stats().sessions, 1);
    const told = ["error", "notice", "reconnecting", "close"];
    assert.deepEqual(events.filter((event) => told.includes(event.type)), []);
  }, { tokenGraceMs: 200 });
});

Deno.test("CrosswireClient reconnects with a fresh token after 4003 when its token function failed to renew", async () => {
  await withServer(async ({ tokens, url, login }) => {
    tokens.add("ann-1", { subject: "u1", name: "ann", ttlMs: 300 });
    tokens.add("ann-3", { subject: "u1", name: "ann" });
    let calls = 0;
    const ann = await login(url.ws, {
      token: () => {
        calls++;
        if (calls === 2) throw new Error("the backend is down");
        return `ann-${calls}`;
      },
    });
    const events = record(ann);
    const back = await nextEvent(ann, "resumed", () => true, WAIT_MS);
    assert.equal(back.session, false);
    assert.equal(calls, 3);
    assert.equal(ann.name, "ann");
    // The relay's warning reached listeners (the renewal failed), then the close, then the login.
    const expired = events.find((event) => event.type === "error");
    assert.equal(expired?.type === "error" && expired.code, "token_expired");
    const reconnecting = events.find((event) => event.type === "reconnecting");
    assert.equal(reconnecting?.type === "reconnecting" && reconnecting.code, 4003);
  }, { tokenGraceMs: 200 });
});

Deno.test("CrosswireClient delivers moderation and topics as typed events", async () => {
  await withServer(async ({ tokens, url, login }) => {
    tokens.add("ann", { subject: "u1", name: "ann", admin: true });
    const ann = await login(url.ws, { token: "ann" });
    const bob = await login(url.tcp, { name: "bob" });
    const topic = nextEvent(bob, "topic");
    ann.input("/topic be kind");
    const set: TopicEvent = await topic;
    assert.deepEqual([set.room, set.text, set.by], ["lobby", "be kind", "ann"]);

    const muted = nextEvent(bob, "moderated");
    ann.input("/mute bob 5 too loud");
    const mute: ModeratedEvent = await muted;
    assert.equal(mute.action, "mute");
    assert.equal(mute.name, "bob");
    assert.equal(mute.by, "ann");
    assert.equal(mute.reason, "too loud");
    assert.ok(typeof mute.until === "number" && mute.until > Date.now());
    const refused = nextEvent(bob, "error");
    bob.send("lobby", "hello?");
    assert.equal((await refused).code, "muted");

    const seen = nextEvent(ann, "moderated", (event) => event.action === "kick");
    ann.input("/kick bob spam");
    const kick = await seen;
    assert.deepEqual([kick.name, kick.by, kick.reason, kick.room], ["bob", "ann", "spam", "lobby"]);
    await within(bob.closed, WAIT_MS, "bob's client to close");
    assert.ok(bob.isClosed);
  });
});
