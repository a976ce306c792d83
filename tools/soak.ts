/**
 * A bounded soak run: `deno task soak [--seconds 60] [--stayers 150] [--churners 150]`.
 *
 * Starts the server (main.ts) in its own process, then for a fixed time keeps
 * "stayers" connected (WebSocket and TCP, through the client library) chatting
 * in the lobby, while "churners" (telnet-style TCP, WebSocket) join, chat in
 * other rooms, vanish without saying goodbye, and come back under new names.
 * At the end it prints the server's memory at start and end, errors seen, and
 * messages lost between stayers, which must be zero (exit code 1 otherwise).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { connect, type CrosswireClient } from "../client/mod.ts";

const flags = parseArgs({
  args: Deno.args,
  options: {
    seconds: { type: "string", default: "60" },
    stayers: { type: "string", default: "150" },
    churners: { type: "string", default: "150" },
  },
}).values;
const seconds = Number(flags.seconds);
const stayerCount = Number(flags.stayers);
const churnerCount = Number(flags.churners);
const encoder = new TextEncoder();

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function between(low: number, high: number): number {
  return low + Math.random() * (high - low);
}

async function startServer() {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("../main.ts", import.meta.url).pathname,
      "--host=127.0.0.1",
      "--port=0",
      "--tcp-port=0",
      // Every soak client comes from 127.0.0.1, and churners connect many at a time.
      "--max-per-address=5000",
      "--max-pending-per-address=5000",
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!/TCP on/.test(text)) {
    const { value, done } = await lines.read();
    if (done) throw new Error("server exited at startup");
    text += value;
  }
  void (async () => {
    while (!(await lines.read()).done) { /* keep the pipe drained */ }
  })();
  const httpPort = Number(/:(\d+)\/ws/.exec(text)![1]);
  const tcpPort = Number(/TCP on [^:]+:(\d+)/.exec(text)![1]);
  const memoryMiB = async () => {
    const status = await Deno.readTextFile(`/proc/${child.pid}/status`);
    const field = (name: string) =>
      Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)![1]) / 1024;
    return { rss: field("VmRSS"), peak: field("VmHWM") };
  };
  return { child, httpPort, tcpPort, memoryMiB };
}

const server = await startServer();
const wsUrl = `ws://127.0.0.1:${server.httpPort}/ws`;
const tcpUrl = `tcp://127.0.0.1:${server.tcpPort}`;
const stats = { errors: 0, errorCodes: new Map<string, number>(), unexpectedCloses: 0 };
const countError = (code: string) => {
  stats.errors++;
  stats.errorCodes.set(code, (stats.errorCodes.get(code) ?? 0) + 1);
};

// Stayers: connected for the whole run, chatting in the lobby with numbered messages.
interface Stayer {
  name: string;
  client: CrosswireClient;
  sent: number;
  received: Map<string, Set<number>>;
}
const stayers: Stayer[] = [];
for (let i = 0; i < stayerCount; i++) {
  const name = `stay${i}`;
  const client = await connect(i % 2 === 0 ? wsUrl : tcpUrl, { name });
  const stayer: Stayer = { name, client, sent: 0, received: new Map() };
  client.on("message", (message) => {
    const match = /^#(\d+)$/.exec(message.text ?? "");
    if (message.room !== "lobby" || !match || !message.from.startsWith("stay")) return;
    let seen = stayer.received.get(message.from);
    if (!seen) stayer.received.set(message.from, seen = new Set());
    seen.add(Number(match[1]));
  });
  client.on("error", (error) => countError(error.code));
  // A drop now heals by itself (reconnect and resume); it still counts as unexpected.
  client.on("reconnecting", () => stats.unexpectedCloses++);
  client.on("close", () => stats.unexpectedCloses++);
  stayers.push(stayer);
}
const memoryAtStart = await server.memoryMiB();
const deadline = Date.now() + seconds * 1000;

const stayerLoops = stayers.map(async (stayer) => {
  while (Date.now() < deadline) {
    await delay(between(1000, 3000));
    stayer.client.send("lobby", `#${stayer.sent++}`);
  }
});

// Churners: come and go, in their own rooms, some over raw telnet-style TCP.
let churnerSessions = 0;
let generation = 0;
async function telnetVisit(name: string): Promise<void> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.tcpPort });
  const reading = (async () => {
    const buffer = new Uint8Array(64 * 1024);
    try {
      while ((await conn.read(buffer)) !== null) { /* a terminal shows it; we drop it */ }
    } catch { /* reset by our own close */ }
  })();
  await conn.write(encoder.encode(`${name}\r\n/join room${Math.floor(between(0, 10))}\r\n`));
  const stay = Date.now() + between(500, 5000);
  while (Date.now() < stay && Date.now() < deadline) {
    await conn.write(encoder.encode(`passing through ${Math.random()}\r\n`));
    await delay(between(300, 1500));
  }
  conn.close(); // vanish: no /quit
  await reading;
}

async function websocketVisit(name: string): Promise<void> {
  const client = await connect(wsUrl, { name });
  client.on("error", (error) => countError(error.code));
  const room = `room${Math.floor(between(0, 10))}`;
  await client.join(room);
  const stay = Date.now() + between(500, 5000);
  while (Date.now() < stay && Date.now() < deadline) {
    client.send(room, `hello ${Math.random()}`);
    await delay(between(300, 1500));
  }
  await client.close();
}

const churnerLoops = Array.from({ length: churnerCount }, async (_, i) => {
  while (Date.now() < deadline) {
    const name = `churn${i}g${generation++}`;
    churnerSessions++;
    try {
      await (i % 2 === 0 ? telnetVisit(name) : websocketVisit(name));
    } catch (error) {
      countError(`churner: ${(error as Error).message}`);
    }
  }
});

await Promise.all([...stayerLoops, ...churnerLoops]);
// Quiesce: a round trip from every stayer means everything sent before has been fanned out.
await Promise.all(stayers.map((stayer) => stayer.client.ping()));
await Promise.all(stayers.map((stayer) => stayer.client.ping()));
const memoryAtEnd = await server.memoryMiB();

let expected = 0;
let lost = 0;
for (const receiver of stayers) {
  for (const sender of stayers) {
    if (sender === receiver) continue;
    expected += sender.sent;
    const seen = receiver.received.get(sender.name) ?? new Set();
    for (let n = 0; n < sender.sent; n++) if (!seen.has(n)) lost++;
  }
}
const closesBeforeEnd = stats.unexpectedCloses;
for (const stayer of stayers) await stayer.client.close();
server.child.kill("SIGTERM");
const exit = await server.child.status;

const rows = [
  ["duration", `${seconds} s`],
  ["stayers / churners", `${stayerCount} / ${churnerCount}`],
  ["churner sessions (join, chat, vanish)", String(churnerSessions)],
  ["stayer messages sent", String(stayers.reduce((sum, s) => sum + s.sent, 0))],
  ["stayer-to-stayer deliveries expected", String(expected)],
  ["messages lost between stayers", String(lost)],
  ["stayers closed unexpectedly", String(closesBeforeEnd)],
  [
    "errors seen",
    `${stats.errors}${
      stats.errors ? ` (${[...stats.errorCodes].map(([c, n]) => `${c}: ${n}`).join(", ")})` : ""
    }`,
  ],
  [
    "server RSS at start / end",
    `${memoryAtStart.rss.toFixed(1)} / ${memoryAtEnd.rss.toFixed(1)} MiB`,
  ],
  ["server peak RSS", `${memoryAtEnd.peak.toFixed(1)} MiB`],
  ["server exit code after SIGTERM", String(exit.code)],
];
console.log("| soak | result |\n| --- | --- |");
for (const [what, value] of rows) console.log(`| ${what} | ${value} |`);
Deno.exit(lost === 0 && closesBeforeEnd === 0 && exit.code === 0 ? 0 : 1);
