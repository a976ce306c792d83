// The load generator for `deno task bench`, run by bench/run.ts under Node
// with the `ws` package (bench/package.json): Node's `ws` client receives
// about twice as many frames per core as Deno's own WebSocket client, and the
// generator must never be what limits a measurement.
//
// Usage: node bench/loadgen.mjs '<config as JSON>'. It runs one scenario
// against one server and prints one line, `RESULT {...}`, on stdout.
//
// Every received text frame (WebSocket) and every chunk (TCP) is split on
// "\n", so several JSON messages may share a frame once batching is
// negotiated with {"type":"hello","batch":true}. Room messages are read
// without JSON.parse: the text carries "m<sender>:<seq>:", and every
// receiver checks that each sender's sequence arrives complete, once and in
// order.
//
// The rooms scenario puts the clients in rooms (the relay: a join after
// login; the baseline: `/ws?room=NAME`), and each client publishes to its room
// on its own jittered timer, as people do; every delivery's latency is kept.

import { Buffer } from "node:buffer";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import net from "node:net";
import process from "node:process";
import { setImmediate, setTimeout } from "node:timers";

// Loaded through require so `deno check` never tries to resolve "ws" itself.
const require = createRequire(import.meta.url);
const { WebSocket } = require("ws");

const config = JSON.parse(process.argv[2] ?? "{}");
const CLK_TCK = config.clockTicks ?? 100;
const TEXT_BYTES = config.textBytes ?? 64;

// ---------------------------------------------------------------- counters

let delivered = 0; // measured ("m") messages received, all clients together
let warmDelivered = 0; // warm-up ("w") messages received
let errorCount = 0;
let firstError = "";
let phase = "setup";
let waitTarget = Infinity;
let waitWarmTarget = Infinity;
/** @type {(() => void) | undefined} */
let waitResolve;
/** @type {(() => void) | undefined} */
let onDeliveries; // the publisher's pump, when it waits for the window to open
/** Messages (per sender) a publisher sends in one event-loop turn. */
const PER_TURN = config.publish === "burst" ? 64 : 1;
/** @type {Float64Array | undefined} */
let sendTimes; // per sequence number of sender 0, when latency is sampled
/** @type {Float64Array | undefined} */
let samples;
let sampleCount = 0;
/** @type {Float64Array | undefined} */
let roomSendTimes; // rooms: per sender and sequence number (sender * roomSeqCap + seq)
let roomSeqCap = 0;

function fail(message) {
  errorCount++;
  if (!firstError) firstError = `${phase}: ${message}`;
}

function checkWait() {
  if (
    waitResolve && delivered >= waitTarget && warmDelivered >= waitWarmTarget
  ) {
    const resolve = waitResolve;
    waitResolve = undefined;
    resolve();
  }
}

/** Resolves once `delivered` and `warmDelivered` reach the targets. */
function waitFor(target, warmTarget) {
  waitTarget = target;
  waitWarmTarget = warmTarget;
  return new Promise((resolve) => {
    waitResolve = resolve;
    checkWait();
  });
}

// ------------------------------------------------------- reading messages

const OPEN_BRACE = 0x7b;
const NEWLINE = 0x0a;
const TYPE_PREFIX = Buffer.from('{"type":"');
const TEXT_KEY = Buffer.from('"text":"');

/** True when the line starts with {"type":" (how the relay and our own frames begin). */
function typed(buf, start, end) {
  if (end - start < 12) return false;
  for (let i = 0; i < 9; i++) {
    if (buf[start + i] !== TYPE_PREFIX[i]) return false;
  }
  return true;
}

/** Where the text value starts, searching back from the end: it is the last field. */
function textAt(buf, start, end) {
  for (let i = end - 9; i > start; i--) {
    if (
      buf[i] === 0x22 && buf[i + 1] === 0x74 && buf[i + 2] === 0x65 &&
      buf[i + 3] === 0x78 &&
      buf[i + 4] === 0x74 && buf[i + 5] === 0x22 && buf[i + 6] === 0x3a &&
      buf[i + 7] === 0x22
    ) return i + 8;
  }
  return -1;
}

class Client {
  /**
   * @param {number} index
   * @param {number} senders how many senders this client tracks
   */
  constructor(index, senders) {
    this.index = index;
    this.expect = new Int32Array(senders);
    this.received = 0;
    this.barrier = false;
    this.pongs = 0;
    this.loggedIn = false;
    this.ready = false;
    /** @type {() => void} */
    this.onReady = () => {};
    /** @type {string | undefined} the room it joins (rooms scenario) */
    this.room = undefined;
    this.joined = false;
    /** @type {(() => void) | undefined} */
    this.onJoined = undefined;
    /** @type {((error: Error) => void) | undefined} */
    this.onJoinError = undefined;
    /** @type {Buffer | undefined} */
    this.rest = undefined; // a TCP line cut by a chunk boundary
    this.closed = false;
    /** @type {(data: string) => void} */
    this.write = () => {};
    /** @type {() => void} */
    this.destroy = () => {};
  }

  /** A complete WebSocket text frame: one or more lines. */
  frame(buf) {
    let start = 0;
    const length = buf.length;
    while (start < length) {
      let end = buf.indexOf(NEWLINE, start);
      if (end === -1) end = length;
      if (end > start) this.line(buf, start, end);
      start = end + 1;
    }
    if (onDeliveries) onDeliveries();
  }

  /** A TCP chunk: lines, the last one possibly incomplete. */
  chunk(data) {
    const buf = this.rest ? Buffer.concat([this.rest, data]) : data;
    this.rest = undefined;
    let start = 0;
    const length = buf.length;
    while (start < length) {
      const end = buf.indexOf(NEWLINE, start);
      if (end === -1) {
        this.rest = Buffer.from(buf.subarray(start));
        break;
      }
      if (end > start) {
        this.line(buf, start, buf[end - 1] === 0x0d ? end - 1 : end);
      }
      start = end + 1;
    }
    if (onDeliveries) onDeliveries();
  }

  line(buf, start, end) {
    if (buf[start] !== OPEN_BRACE) return; // TCP's plain-text greeting before JSON mode
    if (typed(buf, start, end)) {
      const c = buf[start + 9];
      const d = buf[start + 10];
      // "message", or "publish" (what the baseline relays verbatim)
      if ((c === 0x6d && d === 0x65) || (c === 0x70 && d === 0x75)) {
        const at = textAt(buf, start, end);
        if (at !== -1) return this.text(buf, at, end);
      }
      // "joined", "left": presence churn while thousands log in, not worth a JSON.parse each
      if ((c === 0x6a && d === 0x6f) || (c === 0x6c && d === 0x65)) return;
    }
    let event;
    try {
      event = JSON.parse(buf.toString("utf8", start, end));
    } catch {
      return fail(`client ${this.index} got a line that is not JSON`);
    }
    this.event(event);
  }

  /** Reads "m<sender>:<seq>:" (measured), "w..." (warm-up) or "b..." (barrier). */
  text(buf, at, end) {
    const kind = buf[at];
    if (kind === 0x62 /* b */) {
      this.barrier = true;
      return;
    }
    if (kind === 0x77 /* w */) {
      warmDelivered++;
      if (warmDelivered >= waitWarmTarget) checkWait();
      return;
    }
    if (kind !== 0x6d /* m */) {
      return fail(`client ${this.index} got an unexpected text`);
    }
    let i = at + 1;
    let sender = 0;
    for (let c = buf[i]; c >= 0x30 && c <= 0x39 && i < end; c = buf[++i]) {
      sender = sender * 10 + c - 0x30;
    }
    i++; // ':'
    let seq = 0;
    for (let c = buf[i]; c >= 0x30 && c <= 0x39 && i < end; c = buf[++i]) {
      seq = seq * 10 + c - 0x30;
    }
    if (sender === this.index) {
      return fail(`client ${this.index} received its own message`);
    }
    if (sender >= this.expect.length) {
      return fail(`client ${this.index}: unknown sender ${sender}`);
    }
    const expected = this.expect[sender];
    if (seq !== expected) {
      fail(
        seq < expected
          ? `client ${this.index}: duplicate or reordered ${sender}:${seq} (expected ${expected})`
          : `client ${this.index}: lost ${sender}:${expected}..${seq - 1}`,
      );
      if (seq < expected) return; // a duplicate is not a delivery
    }
    this.expect[sender] = seq + 1;
    this.received++;
    delivered++;
    if (sendTimes !== undefined && samples !== undefined && sender === 0) {
      samples[sampleCount++] = performance.now() - sendTimes[seq];
    } else if (
      roomSendTimes !== undefined && samples !== undefined && seq < roomSeqCap &&
      sampleCount < samples.length
    ) {
      samples[sampleCount++] = performance.now() - roomSendTimes[sender * roomSeqCap + seq];
    }
    if (delivered >= waitTarget) checkWait();
  }

  event(event) {
    switch (event?.type) {
      case "welcome":
        this.loggedIn = true;
        return;
      case "presence":
        if (this.loggedIn && !this.ready && event.room === "lobby") {
          this.markReady();
        } else if (this.ready && !this.joined && event.room === this.room) {
          // The relay answers a join with the room's presence (after "joined").
          this.joined = true;
          this.onJoined?.();
        }
        return;
      case "pong":
        this.pongs++;
        if (onPong) onPong();
        return;
      case "error":
        if (this.onJoinError && !this.joined) {
          this.onJoinError(new Error(`client ${this.index} could not join: ${event.code}`));
        }
        return fail(
          `client ${this.index} got error ${event.code}: ${event.message}`,
        );
      case "message":
        // Only when the fast path missed it (another key order): same checks.
        if (typeof event.text === "string") {
          const buf = Buffer.from(`{"text":"${event.text}"}`);
          return this.text(buf, TEXT_KEY.length + 1, buf.length);
        }
        return;
      default:
        return; // hello, notices, ...
    }
  }

  markReady() {
    this.ready = true;
    this.onReady();
  }
}

/** @type {(() => void) | undefined} */
let onPong;

// ------------------------------------------------------------- connecting

const target = config.target; // "relay-ws" | "relay-tcp" | "baseline-ws"
const login = target !== "baseline-ws";

/** Opens one client and resolves when it is ready to take part. */
function open(client) {
  return new Promise((resolve, reject) => {
    client.onReady = () => resolve(client);
    const name = `${target === "relay-tcp" ? "t" : "u"}${client.index}`;
    const onGone = () => {
      if (!client.closed) {
        client.closed = true;
        if (!client.ready) {
          reject(new Error(`client ${client.index} closed during setup`));
        } else if (phase !== "done") {
          fail(`client ${client.index} was disconnected`);
          if (client.onJoinError && !client.joined) {
            client.onJoinError(new Error(`client ${client.index} closed while joining`));
          }
        }
      }
    };
    // A cluster: the publisher (client 0) on the first node, the others spread over all.
    const port = config.ports ? config.ports[client.index % config.ports.length] : config.port;
    if (target === "relay-tcp") {
      const socket = net.connect({ host: config.host, port });
      socket.setNoDelay(true);
      client.write = (line) => socket.write(line + "\n");
      client.destroy = () => socket.destroy();
      socket.on("connect", () => {
        client.write('{"type":"hello","batch":true}');
        client.write(JSON.stringify({ type: "login", name }));
      });
      socket.on("data", (data) => client.chunk(data));
      socket.on("error", (error) => {
        if (!client.ready) reject(error);
        else if (phase !== "done") {
          fail(`client ${client.index}: ${error.message}`);
        }
      });
      socket.on("close", onGone);
      return;
    }
    // The baseline has no join: a client picks its room in the URL.
    const query = !login && client.room !== undefined
      ? `?room=${encodeURIComponent(client.room)}`
      : "";
    const ws = new WebSocket(`ws://${config.host}:${port}/ws${query}`, {
      perMessageDeflate: false,
      skipUTF8Validation: true,
      maxPayload: 256 * 1024 * 1024,
    });
    client.write = (text) => ws.send(text);
    client.destroy = () => ws.terminate();
    ws.on("open", () => {
      if (!login) return client.markReady();
      // Our client library asks for batched frames; a plain client (config.batch false) does not.
      if (config.batch !== false) ws.send('{"type":"hello","batch":true}');
      ws.send(JSON.stringify({ type: "login", name }));
    });
    ws.on("message", (data, isBinary) => {
      if (!isBinary) client.frame(data);
    });
    ws.on("error", (error) => {
      if (!client.ready) reject(error);
      else if (phase !== "done") {
        fail(`client ${client.index}: ${error.message}`);
      }
    });
    ws.on("close", onGone);
  });
}

/**
 * Opens `count` clients, at most `parallel` handshakes at a time; `roomOf`, when given, names
 * each client's room (the baseline's URL; the relay's clients join it afterwards).
 */
async function openAll(count, senders, parallel = 100, roomOf = undefined) {
  const clients = Array.from(
    { length: count },
    (_, i) => {
      const client = new Client(i, senders);
      if (roomOf) client.room = roomOf(i);
      return client;
    },
  );
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const client = clients[next++];
      await open(client);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, count) }, worker));
  return clients;
}

// ------------------------------------------------------------- publishing

function publishFrame(text, room = "lobby") {
  return `{"type":"publish","room":"${room}","text":"${text}"}`;
}

function payload(kind, sender, seq) {
  const head = `${kind}${sender}:${seq}:`;
  return head + "x".repeat(Math.max(0, TEXT_BYTES - head.length));
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Sends until every receiver has seen a barrier message: it proves the
 * baseline has registered every socket and the relay has drained the
 * presence events that logging in queued.
 */
async function barrier(clients, senders) {
  for (let round = 0; round < 200; round++) {
    for (const sender of senders) {
      sender.write(publishFrame(payload("b", sender.index, round)));
    }
    const until = performance.now() + 300;
    while (performance.now() < until) {
      if (clients.every((client) => client.barrier)) return;
      await sleep(5);
    }
  }
  throw new Error("barrier: not every client heard the others");
}

/**
 * Publishes `perSender` messages from each sender, round robin, keeping at
 * most `window` messages per sender in flight (sent but not yet delivered to
 * every receiver). Resolves when all are delivered. By default publishers
 * trickle, as real ones do: one message (per sender) per event-loop turn, the
 * next when one more has been delivered; `config.publish: "burst"` sends up to
 * 64 per turn, which flatters a server's batching.
 */
function publish(kind, senders, perSender, receiversEach, window) {
  const counter = kind === "m" ? () => delivered : () => warmDelivered;
  const base = counter();
  const total = senders.length * perSender * receiversEach;
  const done = kind === "m" ? waitFor(base + total, 0) : waitFor(0, base + total);
  let seq = 0;
  const limit = window * senders.length * receiversEach;
  let scheduled = false;
  const pump = () => {
    scheduled = false;
    let burst = 0;
    while (seq < perSender) {
      const inFlight = seq * senders.length * receiversEach -
        (counter() - base);
      if (inFlight >= limit) {
        onDeliveries = maybePump; // resume when deliveries open the window
        return;
      }
      for (const sender of senders) {
        if (sendTimes !== undefined && sender.index === 0) {
          sendTimes[seq] = performance.now();
        }
        sender.write(publishFrame(payload(kind, sender.index, seq)));
      }
      seq++;
      if (++burst >= PER_TURN) break; // let replies in between
    }
    onDeliveries = undefined;
    if (seq < perSender && !scheduled) {
      scheduled = true;
      setImmediate(pump);
    }
  };
  const maybePump = () => {
    if (scheduled) return;
    const inFlight = seq * senders.length * receiversEach - (counter() - base);
    if (inFlight < limit) {
      onDeliveries = undefined;
      scheduled = true;
      setImmediate(pump);
    }
  };
  pump();
  return done;
}

/** Publishes from sender 0 at a fixed rate (messages per second). */
function publishAtRate(sender, count, receiversEach, rate) {
  const base = delivered;
  const done = waitFor(base + count * receiversEach, 0);
  const start = performance.now();
  let seq = 0;
  const tick = () => {
    const due = Math.min(
      count,
      Math.floor(((performance.now() - start) * rate) / 1000) + 1,
    );
    while (seq < due) {
      sendTimes[seq] = performance.now();
      sender.write(publishFrame(payload("m", sender.index, seq)));
      seq++;
    }
    if (seq < count) {
      const next = start + (seq * 1000) / rate;
      setTimeout(tick, Math.max(0, next - performance.now()));
    }
  };
  tick();
  return done;
}

// ------------------------------------------------------------- measuring

/** CPU time of the server (every process of a cluster together). */
function serverCpuMs() {
  let total = 0;
  for (const pid of config.serverPids ?? [config.serverPid]) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      total += ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
    } catch {
      return NaN;
    }
  }
  return total;
}

/** Nanoseconds the server spent runnable but waiting for a CPU (other processes' fault). */
function serverWaitMs() {
  try {
    return Number(
      readFileSync(`/proc/${config.serverPid}/schedstat`, "utf8").split(" ")[1],
    ) / 1e6;
  } catch {
    return NaN;
  }
}

/**
 * CPU time every process together spent on `core` (user, nice and system; not interrupts),
 * from /proc/stat: what others spent there is this less the server's (or generator's) own.
 */
function coreBusyMs(core) {
  if (core === undefined) return NaN;
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n").find((l) =>
      l.startsWith(`cpu${core} `)
    );
    const fields = line.trim().split(/\s+/);
    return ((Number(fields[1]) + Number(fields[2]) + Number(fields[3])) * 1000) / CLK_TCK;
  } catch {
    return NaN;
  }
}

function serverRssKB() {
  try {
    const status = readFileSync(`/proc/${config.serverPid}/status`, "utf8");
    const match = /VmRSS:\s+(\d+)\s+kB/.exec(status);
    return match ? Number(match[1]) : NaN;
  } catch {
    return NaN;
  }
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const index = Math.min(
    sorted.length - 1,
    Math.max(0, Math.ceil((p / 100) * sorted.length) - 1),
  );
  return sorted[index];
}

/** Wraps the measured part: wall time, server CPU and generator CPU. */
async function measured(run) {
  const cpu0 = serverCpuMs();
  const wait0 = serverWaitMs();
  const gen0 = process.cpuUsage();
  // When pinned (config.cores), how busy other processes kept the two cores.
  const serverCore0 = coreBusyMs(config.cores?.server);
  const genCore0 = coreBusyMs(config.cores?.generator);
  const t0 = performance.now();
  phase = "measure";
  await run();
  const elapsedMs = performance.now() - t0;
  const gen = process.cpuUsage(gen0);
  const serverCpu = serverCpuMs() - cpu0;
  const genCpuMs = (gen.user + gen.system) / 1000;
  const others = (busy0, core, own) =>
    Number.isFinite(busy0) ? Math.max(0, coreBusyMs(core) - busy0 - own) : undefined;
  return {
    elapsedMs,
    serverCpuMs: serverCpu,
    serverWaitMs: serverWaitMs() - wait0,
    genCpuMs,
    otherServerCoreMs: others(serverCore0, config.cores?.server, serverCpu),
    otherGenCoreMs: others(genCore0, config.cores?.generator, genCpuMs),
  };
}

// ------------------------------------------------------------- scenarios

async function fanout() {
  const subscribers = config.subscribers;
  phase = "connect";
  const clients = await openAll(subscribers + 1, 1);
  const publisher = clients[0];
  const receivers = clients.slice(1);
  phase = "barrier";
  await barrier(receivers, [publisher]);
  const window = config.window;
  phase = "warm-up";
  if (config.warmup > 0) {
    await publish("w", [publisher], config.warmup, subscribers, window);
  }
  let latency = false;
  if (config.rate || config.sampleLatency) {
    latency = true;
    sendTimes = new Float64Array(config.messages);
    samples = new Float64Array(config.messages * subscribers);
  }
  const stats = await measured(() =>
    config.rate
      ? publishAtRate(publisher, config.messages, subscribers, config.rate)
      : publish("m", [publisher], config.messages, subscribers, window)
  );
  for (const client of receivers) {
    if (client.expect[0] !== config.messages) {
      fail(`client ${client.index} got ${client.expect[0]}`);
    }
  }
  return finish(clients, config.messages * subscribers, stats, latency);
}

async function chat() {
  const count = config.clients;
  phase = "connect";
  const clients = await openAll(count, count);
  phase = "barrier";
  await barrier(clients, clients.slice(0, 2));
  phase = "warm-up";
  if (config.warmup > 0) {
    await publish("w", clients, config.warmup, count - 1, config.window);
  }
  const stats = await measured(() =>
    publish("m", clients, config.messages, count - 1, config.window)
  );
  for (const client of clients) {
    for (let sender = 0; sender < count; sender++) {
      const want = sender === client.index ? 0 : config.messages;
      if (client.expect[sender] !== want) {
        fail(`client ${client.index} from ${sender} incomplete`);
      }
    }
  }
  return finish(clients, count * (count - 1) * config.messages, stats, false);
}

async function idle() {
  await sleep(500);
  const rssBeforeKB = serverRssKB();
  phase = "connect";
  const gen0 = process.cpuUsage();
  const cpu0 = serverCpuMs();
  const wait0 = serverWaitMs();
  const clients = await openAll(config.clients, 1, 200);
  if (login) {
    // Each pong comes after everything queued before it: presence churn has drained.
    phase = "settle";
    let pongs = 0;
    const all = new Promise((resolve) => {
      onPong = () => {
        if (++pongs === clients.length) resolve(undefined);
      };
    });
    for (const client of clients) client.write('{"type":"ping"}');
    await all;
  }
  await sleep(1000);
  const rssAfterKB = serverRssKB();
  const gen = process.cpuUsage(gen0);
  phase = "done";
  for (const client of clients) client.destroy();
  return {
    ok: errorCount === 0,
    errors: errorCount,
    firstError,
    clients: clients.length,
    rssBeforeKB,
    rssAfterKB,
    perConnKB: (rssAfterKB - rssBeforeKB) / clients.length,
    serverCpuMs: serverCpuMs() - cpu0,
    serverWaitMs: serverWaitMs() - wait0,
    genCpuMs: (gen.user + gen.system) / 1000,
  };
}

/** Joins every relay client to its room; resolves when each has the relay's confirmation. */
function joinAll(clients) {
  return Promise.all(clients.map((client) =>
    new Promise((resolve, reject) => {
      client.onJoined = resolve;
      client.onJoinError = reject;
      client.write(JSON.stringify({ type: "join", room: client.room }));
    })
  ));
}

/**
 * Sends until every member of every room has heard a barrier message from another member
 * (two senders a room, so the senders hear each other): it proves each member is in its
 * room (the relay's join, the baseline's socket registered) before anything is measured.
 */
async function roomBarrier(rooms) {
  let waiting = rooms;
  for (let round = 0; round < 200; round++) {
    for (const members of waiting) {
      for (const sender of members.slice(0, 2)) {
        sender.write(publishFrame(payload("b", sender.index, round), sender.room));
      }
    }
    const until = performance.now() + 300;
    while (performance.now() < until) {
      waiting = waiting.filter((members) => !members.every((client) => client.barrier));
      if (waiting.length === 0) return;
      await sleep(5);
    }
  }
  throw new Error(`barrier: ${waiting.length} rooms where not every member heard the others`);
}

/** A small seeded generator, so every server gets the same send schedule. */
function random(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `clients` clients in `rooms` rooms (client i in room "r" + i % rooms), each publishing one
 * message to its room every minDelayMs..maxDelayMs (uniformly random, from a random start),
 * through a warm-up of warmupMs and then durationMs measured. Every receiver checks every
 * sender's sequence; the latency of every delivery is kept.
 */
async function rooms() {
  const count = config.clients;
  const roomCount = config.rooms;
  const minDelay = config.minDelayMs ?? 1000;
  const maxDelay = config.maxDelayMs ?? 3000;
  const roomOf = (i) => `r${i % roomCount}`;
  const connect0 = performance.now();
  phase = "connect";
  const clients = await openAll(count, count, 100, roomOf);
  const connectMs = performance.now() - connect0;
  phase = "join";
  const join0 = performance.now();
  if (login) await joinAll(clients);
  const joinMs = performance.now() - join0;
  const members = Array.from({ length: roomCount }, () => []);
  for (const client of clients) members[client.index % roomCount].push(client);
  phase = "barrier";
  const barrier0 = performance.now();
  await roomBarrier(members);
  const barrierMs = performance.now() - barrier0;

  // Time stamps: the sequence numbers a sender can reach in durationMs, and all deliveries.
  roomSeqCap = Math.ceil(config.durationMs / minDelay) + 2;
  roomSendTimes = new Float64Array(count * roomSeqCap);
  const sent = new Int32Array(count);
  const perRoomMax = Math.ceil(count / roomCount) - 1;
  samples = new Float64Array(count * roomSeqCap * perRoomMax);

  const next = random(config.seed ?? 1);
  const delay = () => minDelay + next() * (maxDelay - minDelay);
  const start = performance.now();
  const measureStart = start + (config.warmupMs ?? 0);
  const measureEnd = measureStart + config.durationMs;
  const timers = new Set();
  const schedule = (client, ms) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      const now = performance.now();
      if (now >= measureEnd) return;
      const i = client.index;
      if (now < measureStart) {
        client.write(publishFrame(payload("w", i, 0), client.room));
      } else {
        const seq = sent[i];
        if (seq >= roomSeqCap) return;
        roomSendTimes[i * roomSeqCap + seq] = now;
        client.write(publishFrame(payload("m", i, seq), client.room));
        sent[i] = seq + 1;
      }
      schedule(client, delay());
    }, ms);
    timers.add(timer);
  };
  phase = "warm-up";
  for (const client of clients) schedule(client, next() * maxDelay);
  await sleep(measureStart - performance.now());

  let drained = true;
  const stats = await measured(async () => {
    await sleep(measureEnd - performance.now());
    for (const timer of timers) clearTimeout(timer);
    phase = "drain";
    let expected = 0;
    for (const client of clients) {
      expected += sent[client.index] * (members[client.index % roomCount].length - 1);
    }
    let timer;
    drained = await Promise.race([
      waitFor(expected, 0).then(() => true),
      new Promise((resolve) => timer = setTimeout(() => resolve(false), config.drainMs ?? 10_000)),
    ]);
    clearTimeout(timer);
  });
  phase = "check";
  let expected = 0;
  let messages = 0;
  for (const client of clients) {
    messages += sent[client.index];
    const room = client.index % roomCount;
    for (let sender = 0; sender < count; sender++) {
      const want = sender === client.index || sender % roomCount !== room ? 0 : sent[sender];
      expected += want;
      if (client.expect[sender] !== want) {
        fail(`client ${client.index} from ${sender}: ${client.expect[sender]} of ${want}`);
      }
    }
  }
  if (!drained) fail(`not every message arrived within ${config.drainMs ?? 10_000} ms`);
  const result = finish(clients, expected, stats, true);
  // Deliveries per second of the measured window (its sends); elapsedMs includes the drain.
  result.rate = (delivered / stats.elapsedMs) * 1000;
  result.messages = messages;
  result.clients = count;
  result.rooms = roomCount;
  result.connectMs = connectMs;
  result.joinMs = joinMs;
  result.barrierMs = barrierMs;
  return result;
}

function finish(clients, expected, stats, latency) {
  phase = "done";
  for (const client of clients) client.destroy();
  const result = {
    ok: errorCount === 0 && delivered >= expected,
    errors: errorCount,
    firstError,
    delivered,
    expected,
    ...stats,
    rate: (expected / stats.elapsedMs) * 1000,
  };
  if (latency && samples !== undefined) {
    const sorted = samples.subarray(0, sampleCount).sort();
    result.p50Ms = percentile(sorted, 50);
    result.p99Ms = percentile(sorted, 99);
    result.p999Ms = percentile(sorted, 99.9);
    result.samples = sampleCount;
  }
  return result;
}

// ------------------------------------------------------------------ main

const scenarios = {
  fanout,
  chat,
  idle,
  rooms,
  // One subscriber, one message in flight: each sample is a full A -> relay -> B trip.
  roundtrip: () => fanout(),
};

function report(result) {
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
  process.exit(0);
}

const deadline = setTimeout(() => {
  report({
    ok: false,
    timedOut: true,
    phase,
    delivered,
    warmDelivered,
    errors: errorCount,
    firstError,
  });
}, config.timeoutMs ?? 60_000);

const scenario = scenarios[config.scenario];
if (!scenario) {
  report({
    ok: false,
    errors: 1,
    firstError: `unknown scenario ${config.scenario}`,
  });
} else {
  scenario().then(
    (result) => {
      clearTimeout(deadline);
      report(result);
    },
    (error) => {
      clearTimeout(deadline);
      report({
        ok: false,
        phase,
        errors: errorCount + 1,
        firstError: firstError || String(error?.message),
      });
    },
  );
}
