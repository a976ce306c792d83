// GET /metrics and GET /api/stats on a real server: clients on both
// transports do known things, and a Prometheus text parser reads back the
// same numbers; with an API key, both need it.

import assert from "node:assert/strict";
import parsePrometheus from "npm:parse-prometheus-text-format@1.1.1";
import {
  eventually,
  startServerWith,
  TcpLineClient,
  type TestServer,
  WsJsonClient,
} from "./_helpers.ts";
import { redisMissing, relayNode, startRedis } from "./_redis.ts";

/** One metric family as parse-prometheus-text-format returns it. */
interface Family {
  name: string;
  help: string;
  type: string;
  metrics: {
    value?: string;
    labels?: Record<string, string>;
    buckets?: Record<string, string>;
    count?: string;
    sum?: string;
  }[];
}

/** A scrape, parsed, with lookups by name and labels. */
class Scrape {
  readonly families: Map<string, Family>;
  constructor(text: string) {
    const families = parsePrometheus(text) as Family[];
    this.families = new Map(families.map((family) => [family.name, family]));
  }

  /** The value of `name` with exactly `labels` (all of them); fails when absent. */
  value(name: string, labels: Record<string, string> = {}): number {
    const family = this.families.get(name);
    assert.ok(family, `no metric ${name}`);
    const sample = family.metrics.find((metric) => {
      const have = metric.labels ?? {};
      const want = Object.entries(labels);
      return Object.keys(have).length === want.length &&
        want.every(([key, value]) => have[key] === value);
    });
    assert.ok(sample?.value !== undefined, `no ${name}${JSON.stringify(labels)}`);
    return Number(sample.value);
  }

  type(name: string): string | undefined {
    return this.families.get(name)?.type;
  }
}

async function scrape(server: TestServer, key?: string): Promise<Scrape> {
  const response = await fetch(
    `http://127.0.0.1:${server.httpPort}/metrics`,
    key === undefined ? {} : { headers: { authorization: `Bearer ${key}` } },
  );
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  return new Scrape(await response.text());
}

// deno-lint-ignore no-explicit-any -- the body is checked field by field
async function stats(server: TestServer, key?: string): Promise<any> {
  const response = await fetch(
    `http://127.0.0.1:${server.httpPort}/api/stats`,
    key === undefined ? {} : { headers: { authorization: `Bearer ${key}` } },
  );
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
  return await response.json();
}

const utf8 = (text: string) => new TextEncoder().encode(text).length;

Deno.test("GET /metrics counts what WebSocket and telnet clients did", async () => {
  // A bucket of 8 that refills once in 1000 s: every session gets exactly 8 messages.
  await using server = await startServerWith({
    relay: { rateMessagesPerSecond: 0.001, rateMessageBurst: 8 },
  });
  const before = await scrape(server);
  assert.equal(before.value("crosswire_logins_total", { method: "anonymous" }), 0);
  assert.equal(before.value("crosswire_backplane_up", { backplane: "memory" }), 1);

  // What the WebSocket client sends, by frame, for the byte count.
  let wsFrames = 0;
  let wsBytes = 0;
  const counted = (frame: object) => {
    wsFrames++;
    wsBytes += utf8(JSON.stringify(frame));
    return frame;
  };
  await using wes = await WsJsonClient.login(server.wsUrl, "wes");
  counted({ type: "login", name: "wes", echo: false });
  const tom = await TcpLineClient.login(server.tcpPort, "tom");
  const tomLines = ["tom"];

  for (const text of ["w1", "w2", "w3"]) {
    wes.send(counted({ type: "publish", room: "lobby", text }));
    await tom.expect(`[lobby] wes: ${text}`);
  }
  for (const line of ["t1", "t2"]) {
    tomLines.push(line);
    await tom.send(line);
    assert.equal((await wes.expect("message")).text, line);
  }
  tomLines.push("/msg wes psst");
  await tom.send("/msg wes psst");
  assert.equal((await wes.expect("direct")).text, "psst");

  const beforeHistory = await scrape(server);
  wes.send(counted({ type: "history", room: "lobby", limit: 3 }));
  const history = await wes.expect("history");
  for (let n = 0; n < history.count; n++) await wes.expect("message");
  const afterHistory = await scrape(server);
  assert.equal(
    afterHistory.value("crosswire_history_reads_total") -
      beforeHistory.value("crosswire_history_reads_total"),
    1,
  );
  assert.equal(
    afterHistory.value("crosswire_history_messages_total") -
      beforeHistory.value("crosswire_history_messages_total"),
    history.count,
  );
  assert.equal(history.count, 3);

  // wes has used 5 of 8: of 6 more, 3 pass and 3 are dropped.
  for (const text of ["f1", "f2", "f3", "f4", "f5", "f6"]) {
    wes.send(counted({ type: "publish", room: "lobby", text }));
  }
  assert.equal((await wes.expect("error")).code, "rate_limited");
  for (const text of ["f1", "f2", "f3"]) await tom.expect(`[lobby] wes: ${text}`);

  tomLines.push("/quit");
  await tom.send("/quit");
  await tom.expect("Bye");
  await tom.expectClosed();
  await tom.close();

  // Every frame wes sent has been read once the received count says so.
  let after = before;
  const received = (transport: string) =>
    after.value("crosswire_messages_received_total", { transport });
  await eventually(async () => {
    after = await scrape(server);
    return received("websocket") === wsFrames;
  }, `messages_received_total{transport="websocket"} to reach ${wsFrames}`);
  await eventually(async () => {
    after = await scrape(server);
    return after.value("crosswire_disconnects_total", { reason: "quit" }) === 1;
  }, 'disconnects_total{reason="quit"} to reach 1 after /quit');

  assert.equal(after.type("crosswire_logins_total"), "COUNTER");
  assert.equal(after.value("crosswire_logins_total", { method: "anonymous" }), 2);
  assert.equal(after.value("crosswire_logins_total", { method: "token" }), 0);
  assert.equal(after.value("crosswire_auth_failures_total"), 0);
  assert.equal(after.value("crosswire_connections_opened_total", { transport: "websocket" }), 1);
  assert.equal(after.value("crosswire_connections_opened_total", { transport: "tcp" }), 1);
  assert.equal(after.value("crosswire_connections_opened_total", { transport: "irc" }), 0);
  assert.equal(
    after.value("crosswire_messages_received_total", { transport: "websocket" }),
    wsFrames,
  );
  assert.equal(
    after.value("crosswire_messages_received_total", { transport: "tcp" }),
    tomLines.length,
  );
  assert.equal(after.value("crosswire_received_bytes_total", { transport: "websocket" }), wsBytes);
  const tcpBytes = after.value("crosswire_received_bytes_total", { transport: "tcp" });
  const tomText = tomLines.reduce((sum, line) => sum + utf8(line), 0);
  assert.ok(tcpBytes >= tomText && tcpBytes <= tomText + 2 * tomLines.length, `${tcpBytes} bytes`);
  for (const transport of ["websocket", "tcp"]) {
    assert.ok(after.value("crosswire_messages_sent_total", { transport }) > 0);
    assert.ok(after.value("crosswire_sent_bytes_total", { transport }) > 0);
  }
  // 3 + 3 from wes, 2 from tom.
  assert.equal(after.value("crosswire_room_messages_total"), 8);
  assert.equal(after.value("crosswire_direct_messages_total"), 1);
  const rateLimited = after.value("crosswire_errors_total", { code: "rate_limited" });
  assert.ok(rateLimited >= 1 && rateLimited <= 3, `${rateLimited} rate_limited errors`);
  assert.equal(after.value("crosswire_rate_limited_total"), rateLimited);
  assert.equal(after.value("crosswire_disconnects_total", { reason: "slow_consumer" }), 0);
  assert.equal(after.value("crosswire_disconnects_total", { reason: "idle_timeout" }), 0);
  assert.equal(after.value("crosswire_resumes_total"), 0);
  assert.equal(after.value("crosswire_moderation_actions_total", { action: "kick" }), 0);
  // Now: wes alone, logged in, in the lobby.
  assert.equal(after.type("crosswire_connections"), "GAUGE");
  assert.equal(after.value("crosswire_connections", { transport: "websocket", state: "ready" }), 1);
  assert.equal(after.value("crosswire_connections", { transport: "websocket", state: "new" }), 0);
  assert.equal(after.value("crosswire_connections", { transport: "tcp", state: "ready" }), 0);
  assert.equal(after.value("crosswire_rooms"), 1);
  assert.equal(after.value("crosswire_parked_sessions"), 0);
  assert.ok(after.value("crosswire_queued_bytes") >= 0);
  assert.equal(after.type("crosswire_backplane_publish_seconds"), "HISTOGRAM");

  // The same numbers as JSON.
  const body = await stats(server);
  assert.equal(body.backplane, "memory");
  assert.equal(body.state, "up");
  assert.equal(typeof body.node, "string");
  assert.equal(typeof body.uptimeSeconds, "number");
  assert.deepEqual(body.connections.websocket, { new: 0, ready: 1 });
  assert.deepEqual(body.connections.tcp, { new: 0, ready: 0 });
  assert.equal(body.users, 1);
  assert.equal(body.rooms, 1);
  assert.equal(body.parked, 0);
  assert.deepEqual(body.counters.logins, { token: 0, anonymous: 2 });
  assert.deepEqual(body.counters.messagesIn, { websocket: wsFrames, tcp: tomLines.length, irc: 0 });
  assert.equal(body.counters.bytesIn.websocket, wsBytes);
  assert.equal(body.counters.published, 8);
  assert.equal(body.counters.directs, 1);
  assert.equal(body.counters.errors.rate_limited, rateLimited);
  assert.equal(body.counters.disconnects.quit, 1);
  assert.equal(body.counters.historyReads, after.value("crosswire_history_reads_total"));
  assert.equal(body.counters.historyMessages, after.value("crosswire_history_messages_total"));
  assert.equal(body.counters.publishLatency, undefined);
});

Deno.test("GET /metrics and /api/stats need the API key when one is set", async () => {
  const key = "k3y-for-metrics";
  await using server = await startServerWith({ apiKey: key });
  for (const path of ["/metrics", "/api/stats"]) {
    const url = `http://127.0.0.1:${server.httpPort}${path}`;
    for (
      const authorization of [undefined, "Bearer wrong", `Basic ${btoa(`x:${key}`)}`, "Bearer"]
    ) {
      const response = await fetch(url, authorization ? { headers: { authorization } } : {});
      assert.equal(response.status, 401, `${path} with ${authorization}`);
      assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
      const body = await response.json();
      assert.equal(body.error.code, "auth_failed");
      assert.equal(typeof body.error.message, "string");
      assert.ok(!JSON.stringify(body).includes(key), "the key is never echoed");
    }
  }
  await using _ann = await WsJsonClient.login(server.wsUrl, "ann");
  const metrics = await scrape(server, key);
  assert.equal(metrics.value("crosswire_logins_total", { method: "anonymous" }), 1);
  assert.equal(
    metrics.value("crosswire_connections", { transport: "websocket", state: "ready" }),
    1,
  );
  const body = await stats(server, key);
  assert.equal(body.counters.logins.anonymous, 1);
  assert.equal(body.users, 1);
});

Deno.test("GET /metrics: two servers in one process keep their own counts", async () => {
  await using one = await startServerWith({ tcpPort: null });
  await using two = await startServerWith({ tcpPort: null });
  await using _ann = await WsJsonClient.login(one.wsUrl, "ann");
  assert.equal((await scrape(one)).value("crosswire_logins_total", { method: "anonymous" }), 1);
  assert.equal((await scrape(two)).value("crosswire_logins_total", { method: "anonymous" }), 0);
});

Deno.test({
  name: "GET /metrics shows the Redis backplane's state and publish latency",
  ignore: redisMissing(),
  async fn() {
    await using redis = await startRedis();
    await using node = await relayNode(redis.url, `metrics-${crypto.randomUUID()}`);
    await using server = await startServerWith({ tcpPort: null, relayInstance: node.relay });
    await using ann = await WsJsonClient.login(server.wsUrl, "ann", true);
    ann.send({ type: "publish", room: "lobby", text: "over redis" });
    await ann.expect("message");
    let metrics = await scrape(server);
    assert.equal(metrics.value("crosswire_backplane_up", { backplane: "redis" }), 1);
    await eventually(async () => {
      metrics = await scrape(server);
      const family = metrics.families.get("crosswire_backplane_publish_seconds");
      return Number(family?.metrics[0]?.count ?? 0) > 0;
    }, "a backplane publish to be timed");
    const histogram = metrics.families.get("crosswire_backplane_publish_seconds")!.metrics[0]!;
    assert.ok(Number(histogram.sum) >= 0);
    assert.equal(histogram.buckets?.["+Inf"], histogram.count);

    await redis.kill();
    await eventually(
      async () =>
        (await scrape(server)).value("crosswire_backplane_up", { backplane: "redis" }) === 0,
      "the backplane to be reported down",
      15_000,
    );
    assert.equal((await stats(server)).state, "degraded");
  },
});
