/**
 * The canary: honest users chatting through an attack. Two telnet-style TCP
 * users (text mode) and one WebSocket user (JSON), and with `irc` an IRC user
 * (`canaryirc`, on the TCP port, in `#lobby`), all in the lobby, each
 * saying `canary-<user>-<seq>` four times a second. Every other canary user
 * must receive each token exactly once; tokens are matched as substrings, so
 * no assumption is made about how the server prefixes lines (only "What's
 * your name?" in the greeting and "Welcome" in the welcome line).
 *
 * It runs in its own process, so a busy attacker does not slow it down: the
 * harness starts it with {@link Canary.start}, may ask for the lines the
 * telnet users saw ({@link Canary.lines}), and ends it with
 * {@link Canary.stop}, which waits (up to 15 s) for stragglers and returns
 * the report: a message still missing then counts as lost.
 *
 * @module
 */
import { parseArgs } from "node:util";

/** A line a telnet canary user saw that held no canary token. */
export interface CanaryLine {
  user: string;
  /** Epoch milliseconds when it arrived. */
  at: number;
  text: string;
}

/** A canary connection that ended before the canary was stopped. */
export interface CanaryDisconnect {
  user: string;
  at: number;
  code?: number;
  reason?: string;
  /** The last lines (telnet) or frames (WebSocket) it received. */
  last: string[];
}

/** What the canary saw. */
export interface CanaryReport {
  /** Messages sent by all canary users. */
  sent: number;
  /** Deliveries expected: every message to each of the other canary users. */
  expected: number;
  delivered: number;
  lost: number;
  duplicated: number;
  /** Longest delay between sending a message and another user receiving it. */
  maxDelayMs: number;
  p99DelayMs: number;
  disconnects: CanaryDisconnect[];
  /** Error codes the canary users received, with counts. */
  errors: Record<string, number>;
}

const BASE_USERS: readonly { id: string; name: string; kind: "tcp" | "ws" | "irc" }[] = [
  { id: "t1", name: "canary1", kind: "tcp" },
  { id: "t2", name: "canary2", kind: "tcp" },
  { id: "w", name: "canaryws", kind: "ws" },
];
const IRC_USER = { id: "i", name: "canaryirc", kind: "irc" } as const;
let USERS = BASE_USERS;
const TOKEN = /canary-(t1|t2|w|i)-(\d+)/g;
const ERROR_CODE =
  /\b(rate_limited|slow_consumer|idle_timeout|server_busy|too_large|line_too_long|internal_error|not_logged_in|bad_json|bad_message)\b/;
const MAX_LINES = 5000;
const GRACE_MS = 15_000;

interface Member {
  id: string;
  send: (text: string) => void;
  close: () => void;
  last: string[];
}

async function runCanary(options: {
  host: string;
  httpPort: number;
  tcpPort: number;
  perSecond: number;
  irc: boolean;
}): Promise<void> {
  if (options.irc) USERS = [...BASE_USERS, IRC_USER];
  const encoder = new TextEncoder();
  const print = (event: unknown) => console.log(JSON.stringify(event));
  const sentAt = new Map<string, number>(); // token -> when it was sent
  const receipts = new Map<string, Map<string, number>>(); // user -> token -> count
  const delays: number[] = [];
  const lines: CanaryLine[] = [];
  const errors: Record<string, number> = {};
  const disconnects: CanaryDisconnect[] = [];
  let stopping = false;

  const remember = (member: { last: string[] }, text: string) => {
    member.last.push(text.length > 300 ? text.slice(0, 300) + "..." : text);
    if (member.last.length > 5) member.last.shift();
  };
  // Tokens in what `user` received; anything else is kept (telnet) for attacks to inspect.
  const received = (user: string, text: string, keepLine: boolean) => {
    const now = Date.now();
    let tokens = 0;
    for (const match of text.matchAll(TOKEN)) {
      tokens++;
      if (match[1] === user) continue; // an echo of its own
      const token = match[0];
      const counts = receipts.get(user)!;
      const count = (counts.get(token) ?? 0) + 1;
      counts.set(token, count);
      const sent = sentAt.get(token);
      if (count === 1 && sent !== undefined) delays.push(now - sent);
    }
    if (tokens > 0) return;
    const code = ERROR_CODE.exec(text)?.[1];
    if (code) errors[code] = (errors[code] ?? 0) + 1;
    if (keepLine && lines.length < MAX_LINES) lines.push({ user, at: now, text });
  };
  const lost = (user: string, at: number, extra: { code?: number; reason?: string } = {}) => {
    if (stopping) return;
    const member = members.find((m) => m.id === user);
    disconnects.push({ user, at, ...extra, last: member?.last ?? [] });
  };

  const tcpMember = async (id: string, name: string): Promise<Member> => {
    const conn = await Deno.connect({ hostname: options.host, port: options.tcpPort });
    const member: Member = {
      id,
      last: [],
      send: () => {},
      close: () => {
        try {
          conn.close();
        } catch { /* already closed */ }
      },
    };
    let loggedIn: (ok: boolean) => void = () => {};
    const login = new Promise<boolean>((resolve) => loggedIn = resolve);
    let greeted = false;
    void (async () => {
      await eachLine(conn, async (line) => {
        remember(member, line);
        if (!greeted && line.includes("What's your name?")) {
          greeted = true;
          await writeAll(conn, encoder.encode(name + "\r\n"));
        } else if (greeted && line.includes("What's your name?")) {
          loggedIn(false);
        } else if (greeted && line.includes("Welcome")) {
          loggedIn(true);
        }
        received(id, line, true);
      });
      loggedIn(false);
      lost(id, Date.now());
    })();
    // Writes go one after another, so lines never interleave.
    let writing = Promise.resolve();
    member.send = (text) => {
      writing = writing.then(() => writeAll(conn, encoder.encode(text + "\r\n"))).catch(() => {});
    };
    if (!(await login)) throw new Error(`${name} could not log in: ${member.last.join(" | ")}`);
    return member;
  };

  const wsMember = async (id: string, name: string): Promise<Member> => {
    const ws = new WebSocket(`ws://${options.host}:${options.httpPort}/ws`);
    const member: Member = {
      id,
      last: [],
      send: (text) => {
        if (ws.readyState === WebSocket.OPEN) {
          ws.send(JSON.stringify({ type: "publish", room: "lobby", text }));
        }
      },
      close: () => ws.close(),
    };
    const login = new Promise<boolean>((resolve) => {
      ws.onopen = () => ws.send(JSON.stringify({ type: "login", name }));
      ws.onmessage = (event) => {
        const text = typeof event.data === "string" ? event.data : "(binary)";
        remember(member, text);
        if (text.startsWith('{"type":"welcome"')) resolve(true);
        if (text.startsWith('{"type":"error"')) {
          const code = /"code":"([a-z_]+)"/.exec(text)?.[1] ?? "error";
          errors[code] = (errors[code] ?? 0) + 1;
          if (code === "name_taken" || code === "name_invalid") resolve(false);
          return;
        }
        received(id, text, false);
      };
      ws.onclose = (event) => {
        resolve(false);
        lost(id, Date.now(), { code: event.code, reason: event.reason });
      };
    });
    if (!(await login)) throw new Error(`${name} could not log in: ${member.last.join(" | ")}`);
    return member;
  };

  // An IRC client: registers with NICK and USER, is put in #lobby, answers PINGs.
  const ircMember = async (id: string, name: string): Promise<Member> => {
    const conn = await Deno.connect({ hostname: options.host, port: options.tcpPort });
    let writing = Promise.resolve();
    const write = (text: string) => {
      writing = writing.then(() => writeAll(conn, encoder.encode(text + "\r\n"))).catch(() => {});
    };
    const member: Member = {
      id,
      last: [],
      send: (text) => write(`PRIVMSG #lobby :${text}`),
      close: () => {
        try {
          conn.close();
        } catch { /* already closed */ }
      },
    };
    let loggedIn: (ok: boolean) => void = () => {};
    const login = new Promise<boolean>((resolve) => loggedIn = resolve);
    write(`NICK ${name}\r\nUSER ${name} 0 * :${name}`);
    void (async () => {
      await eachLine(conn, (line) => {
        remember(member, line);
        if (line.startsWith("PING ")) write(`PONG ${line.slice(5)}`);
        else if (/^:\S+ 366 \S+ #lobby /.test(line)) loggedIn(true);
        else if (/^:\S+ 43[23] /.test(line) || line.startsWith("ERROR ")) loggedIn(false);
        received(id, line, false);
      });
      loggedIn(false);
      lost(id, Date.now());
    })();
    if (!(await login)) throw new Error(`${name} could not log in: ${member.last.join(" | ")}`);
    return member;
  };

  const members: Member[] = [];
  try {
    for (const user of USERS) {
      receipts.set(user.id, new Map());
      members.push(
        await (user.kind === "tcp" ? tcpMember : user.kind === "ws" ? wsMember : ircMember)(
          user.id,
          user.name,
        ),
      );
    }
  } catch (error) {
    print({ event: "failed", error: (error as Error).message });
    for (const member of members) member.close();
    return;
  }
  print({ event: "ready" });

  const timers: ReturnType<typeof setInterval>[] = [];
  const period = 1000 / options.perSecond;
  let sent = 0;
  members.forEach((member, index) => {
    let seq = 0;
    const start = setTimeout(() => {
      timers.push(setInterval(() => {
        if (stopping || disconnects.some((d) => d.user === member.id)) return;
        const token = `canary-${member.id}-${seq++}`;
        sentAt.set(token, Date.now());
        sent++;
        member.send(`${token} hello from the canary`);
      }, period));
    }, (period / members.length) * index);
    timers.push(start);
  });

  let outstanding = 0; // missing deliveries to users still connected
  const report = (): CanaryReport => {
    let delivered = 0;
    let duplicated = 0;
    let expected = 0;
    outstanding = 0;
    const gone = new Set(disconnects.map((d) => d.user));
    for (const token of sentAt.keys()) {
      const sender = token.split("-")[1];
      for (const user of USERS) {
        if (user.id === sender) continue;
        expected++;
        const count = receipts.get(user.id)?.get(token) ?? 0;
        if (count > 0) delivered++;
        else if (!gone.has(user.id)) outstanding++;
        if (count > 1) duplicated += count - 1;
      }
    }
    const sorted = [...delays].sort((a, b) => a - b);
    return {
      sent,
      expected,
      delivered,
      lost: expected - delivered,
      duplicated,
      maxDelayMs: sorted.at(-1) ?? 0,
      p99DelayMs: sorted[Math.floor(sorted.length * 0.99)] ?? 0,
      disconnects,
      errors,
    };
  };

  // Commands from the harness, one per line on stdin.
  const decoder = new TextDecoder();
  let pending = "";
  for await (const chunk of Deno.stdin.readable) {
    pending += decoder.decode(chunk, { stream: true });
    let newline;
    while ((newline = pending.indexOf("\n")) >= 0) {
      const command = pending.slice(0, newline).trim();
      pending = pending.slice(newline + 1);
      if (command === "lines") print({ event: "lines", lines });
      if (command === "stop") {
        stopping = true;
        for (const timer of timers) clearInterval(timer);
        // A server working through a backlog may still deliver: wait up to 15 s.
        const deadline = Date.now() + GRACE_MS;
        while (Date.now() < deadline && (report(), outstanding > 0)) {
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        print({ event: "report", report: report() });
        for (const member of members) member.close();
        return;
      }
    }
  }
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let offset = 0; offset < bytes.length;) offset += await conn.write(bytes.subarray(offset));
}

/** The canary process, seen from the harness. */
export class Canary {
  #child: Deno.ChildProcess;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #events: AsyncIterator<Record<string, unknown>>;

  private constructor(child: Deno.ChildProcess) {
    this.#child = child;
    this.#writer = child.stdin.getWriter();
    this.#events = jsonLines(child.stdout)[Symbol.asyncIterator]();
  }

  /** Starts the canary and resolves once its users (three, or four with `irc`) are logged in. */
  static async start(
    httpPort: number,
    tcpPort: number,
    perSecond = 4,
    irc = false,
  ): Promise<Canary> {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL(import.meta.url).pathname,
        "--http-port",
        String(httpPort),
        "--tcp-port",
        String(tcpPort),
        "--per-second",
        String(perSecond),
        ...(irc ? ["--irc"] : []),
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const canary = new Canary(child);
    const first = await canary.#next(30_000);
    if (first?.event !== "ready") {
      canary.kill();
      throw new Error(`canary did not start: ${String(first?.error ?? "no answer")}`);
    }
    return canary;
  }

  async #next(timeoutMs: number): Promise<Record<string, unknown> | undefined> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<undefined>((resolve) =>
      timer = setTimeout(() => resolve(undefined), timeoutMs)
    );
    const next = this.#events.next().then((result) => result.done ? undefined : result.value);
    const value = await Promise.race([next, timeout]);
    clearTimeout(timer);
    return value;
  }

  async #command(command: string, event: string): Promise<Record<string, unknown> | undefined> {
    await this.#writer.write(new TextEncoder().encode(command + "\n"));
    for (let i = 0; i < 10; i++) {
      const answer = await this.#next(20_000);
      if (answer === undefined || answer.event === event) return answer;
    }
    return undefined;
  }

  /** Lines without canary tokens that the telnet users have seen so far. */
  async lines(): Promise<CanaryLine[]> {
    return ((await this.#command("lines", "lines"))?.lines ?? []) as CanaryLine[];
  }

  /** Stops sending, waits up to 15 s for stragglers, and returns the report. */
  async stop(): Promise<CanaryReport | undefined> {
    const answer = await this.#command("stop", "report");
    await this.#writer.close().catch(() => {});
    const timer = setTimeout(() => this.kill(), 5000);
    await this.#child.status;
    clearTimeout(timer);
    return answer?.report as CanaryReport | undefined;
  }

  /** Ends the canary process at once. */
  kill(): void {
    try {
      this.#child.kill("SIGKILL");
    } catch { /* already gone */ }
  }
}

async function* jsonLines(stream: ReadableStream<Uint8Array>) {
  const decoder = new TextDecoder();
  let pending = "";
  for await (const chunk of stream) {
    pending += decoder.decode(chunk, { stream: true });
    let newline;
    while ((newline = pending.indexOf("\n")) >= 0) {
      const line = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      try {
        yield JSON.parse(line) as Record<string, unknown>;
      } catch { /* not ours */ }
    }
  }
}

if (import.meta.main) {
  const flags = parseArgs({
    args: Deno.args,
    options: {
      host: { type: "string", default: "127.0.0.1" },
      "http-port": { type: "string" },
      "tcp-port": { type: "string" },
      "per-second": { type: "string", default: "4" },
      irc: { type: "boolean", default: false },
    },
  }).values;
  await runCanary({
    host: flags.host,
    httpPort: Number(flags["http-port"]),
    tcpPort: Number(flags["tcp-port"]),
    perSecond: Number(flags["per-second"]),
    irc: flags.irc,
  });
  Deno.exit(0);
}

/** Reads `conn` a line at a time (CR LF or LF) until it ends or breaks. */
async function eachLine(
  conn: Deno.Conn,
  onLine: (line: string) => void | Promise<void>,
): Promise<void> {
  const decoder = new TextDecoder();
  const buffer = new Uint8Array(64 * 1024);
  let partial = "";
  try {
    while (true) {
      const count = await conn.read(buffer);
      if (count === null) break;
      const parts = (partial + decoder.decode(buffer.subarray(0, count), { stream: true }))
        .split("\n");
      partial = parts.pop() ?? "";
      for (const part of parts) await onLine(part.endsWith("\r") ? part.slice(0, -1) : part);
    }
  } catch { /* reset */ }
}
