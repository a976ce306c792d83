/**
 * smaller: three small checks in one run.
 * (a) DNS rebinding: an HTTP request and a WebSocket upgrade whose `Host` and
 *     `Origin` both name evil.example: did they get in?
 * (b) a close frame with a 1 MiB reason (control frames may carry 125
 *     bytes): what comes back, in raw bytes?
 * (c) text with U+2028, U+2029, LRM, RLM, ALM, ZWSP and ZWJ sent by a
 *     WebSocket user: which of them reach the telnet canary?
 *
 * @module
 */
import type { Attack, AttackContext } from "./_attack.ts";
import { delay, httpGet, Op, RawWs } from "./_net.ts";

const INVISIBLES: [string, string][] = [
  ["U+2028", "\u2028"],
  ["U+2029", "\u2029"],
  ["LRM U+200E", "\u200E"],
  ["RLM U+200F", "\u200F"],
  ["ALM U+061C", "\u061C"],
  ["ZWSP U+200B", "\u200B"],
  ["ZWJ U+200D", "\u200D"],
];

async function rebinding(context: AttackContext): Promise<void> {
  const port = context.server.httpPort;
  const evil = `evil.example:${port}`;
  const headers = { Origin: `http://${evil}` };
  const page = await httpGet({ port, path: "/", hostHeader: evil, headers });
  context.note("(a) GET / with evil Host", page.status || page.error || "no answer");
  const health = await httpGet({ port, path: "/healthz", hostHeader: evil, headers });
  context.note("(a) GET /healthz with evil Host", health.status || health.error || "no answer");
  try {
    const ws = await RawWs.open({ port, hostHeader: evil, headers, localAddress: "127.32.0.1" });
    const login = await ws.login("rebound");
    context.note(
      "(a) WS upgrade with evil Host+Origin",
      `101, login ${login.ok ? "ok" : login.code}`,
    );
    ws.destroy();
  } catch (error) {
    context.note("(a) WS upgrade with evil Host+Origin", (error as Error).message);
  }
}

async function hugeCloseReason(context: AttackContext): Promise<void> {
  const ws = await RawWs.open({ port: context.server.httpPort, localAddress: "127.32.0.2" });
  await ws.waitType(["hello"], 5000);
  const before = ws.bytesIn;
  const payload = new Uint8Array(2 + 1024 * 1024).fill(0x72); // "rrrr..."
  payload[0] = 0x03; // code 1000
  payload[1] = 0xe8;
  ws.sendFrame(Op.close, payload);
  await Promise.race([ws.closed, delay(5000, context.signal)]);
  context.note("(b) bytes back after 1 MiB close reason", ws.bytesIn - before);
  context.note(
    "(b) close frame back",
    ws.closeCode === undefined
      ? "none"
      : `code ${ws.closeCode}, payload ${ws.closeFrameBytes} bytes`,
  );
  context.note("(b) socket closed", ws.closedAt !== undefined);
  ws.destroy();
}

function escaped(text: string): string {
  return [...text].map((c) => {
    const code = c.codePointAt(0)!;
    return code >= 0x20 && code < 0x7f ? c : `\\u{${code.toString(16)}}`;
  }).join("");
}

async function invisibles(context: AttackContext): Promise<void> {
  const ws = await RawWs.open({ port: context.server.httpPort, localAddress: "127.32.0.3" });
  if (!(await ws.login("uni")).ok) return context.note("(c)", "could not log in");
  const text = "smaller-c " + INVISIBLES.map(([, c], i) => `${String.fromCharCode(65 + i)}${c}`)
    .join("") +
    "Z";
  const sentAt = Date.now();
  ws.sendJson({ type: "publish", room: "lobby", text });
  await delay(1500, context.signal);
  const lines = (await context.canary.lines())
    .filter((line) => line.user === "t1" && line.at >= sentAt);
  const start = lines.findIndex((line) => line.text.includes("smaller-c"));
  // A U+2028 turned into a line break would put the rest on the next lines.
  const seen = start < 0 ? [] : lines.slice(start, start + 3).map((line) => line.text);
  const joined = seen.join("\n");
  context.note("(c) telnet lines", seen.map(escaped).join(" ⏎ ") || "none");
  context.note(
    "(c) reached telnet",
    INVISIBLES.filter(([, c]) => joined.includes(c)).map(([name]) => name).join(", ") || "none",
  );
  context.note(
    "(c) removed",
    INVISIBLES.filter(([, c]) => !joined.includes(c)).map(([name]) => name).join(", ") || "none",
  );
  ws.destroy();
}

/** DNS rebinding, a huge close reason, invisible characters. */
export const smaller: Attack = {
  name: "smaller",
  summary: "(a) DNS rebinding Host/Origin (b) 1 MiB close reason (c) invisible characters",
  async run(context) {
    await rebinding(context);
    await hugeCloseReason(context);
    await invisibles(context);
  },
};
