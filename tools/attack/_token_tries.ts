/**
 * Presenting tokens to the server, over each way in, as fast as it lets one
 * connection: a WebSocket `login` with `"token"` (many per connection), a
 * WebSocket opened with `/ws?token=` (one per connection), `/auth TOKEN` in
 * text mode (many per connection) and IRC's `PASS` (one per connection).
 * Every outcome is tallied by token family: `auth_failed` (refused, as it
 * should be), other error codes, `welcome` (let in!), closes and timeouts.
 *
 * @module
 */
import { delay, errorCodeIn, LineConn, RawWs, sourceAddress } from "./_net.ts";
import type { LeakWatch } from "./_leaks.ts";
import type { TokenFamily } from "./_tokens.ts";

/** How each try ended, by family. */
export class Tries {
  /** family -> outcome -> count. */
  readonly outcomes = new Map<string, Map<string, number>>();
  /** The first refusal message seen per family (to show what the server said). */
  readonly messages = new Map<string, string>();
  /** Close codes (or "reset") of connections the server ended, with counts. */
  readonly closes = new Map<string, number>();
  /** Connections opened. */
  connections = 0;

  record(family: string, outcome: string, message?: string): void {
    const counts = this.outcomes.get(family) ?? new Map<string, number>();
    counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
    this.outcomes.set(family, counts);
    if (message !== undefined && !this.messages.has(family)) {
      this.messages.set(family, message.slice(0, 90));
    }
  }

  closed(code: string): void {
    this.closes.set(code, (this.closes.get(code) ?? 0) + 1);
  }

  /** Tries with this outcome, over every family. */
  count(outcome: string): number {
    let total = 0;
    for (const counts of this.outcomes.values()) total += counts.get(outcome) ?? 0;
    return total;
  }

  /** Every try. */
  get total(): number {
    let total = 0;
    for (const counts of this.outcomes.values()) for (const n of counts.values()) total += n;
    return total;
  }

  /** Families that were let in (any `welcome`). */
  admitted(): string[] {
    return [...this.outcomes].filter(([, counts]) => (counts.get("welcome") ?? 0) > 0)
      .map(([family, counts]) => `${family}×${counts.get("welcome")}`);
  }

  /** Outcomes other than `auth_failed`, over every family: "rate_limited×3, closed×1". */
  others(): string {
    const counts = new Map<string, number>();
    for (const byOutcome of this.outcomes.values()) {
      for (const [outcome, n] of byOutcome) {
        if (outcome !== "auth_failed") counts.set(outcome, (counts.get(outcome) ?? 0) + n);
      }
    }
    return [...counts].sort((a, b) => b[1] - a[1]).map(([o, n]) => `${o}×${n}`).join(", ") ||
      "none";
  }
}

/** What every token loop needs. */
export interface TryOptions {
  /** The port to connect to (HTTP for WebSockets, TCP for text and IRC). */
  port: number;
  /** The 127.B.x.y block to connect from. */
  block: number;
  /** Source addresses used in the block. */
  addresses: number;
  /** Connections (or concurrent connection attempts) kept going. */
  connections: number;
  families: readonly TokenFamily[];
  tries: Tries;
  leaks: LeakWatch;
  signal: AbortSignal;
  /** Shortest time between two tries on one connection, in ms. @default 50 */
  spacingMs?: number;
}

function pick(families: readonly TokenFamily[], i: number): TokenFamily {
  return families[i % families.length]!;
}

async function token(options: TryOptions, family: TokenFamily): Promise<string> {
  const made = await family.make();
  options.leaks.sent(made);
  return made;
}

// Runs `loop(worker)` for each of `connections` workers until the signal aborts.
async function workers(options: TryOptions, loop: (worker: number) => Promise<void>) {
  await Promise.all(
    Array.from({ length: options.connections }, async (_, worker) => {
      while (!options.signal.aborted) {
        try {
          await loop(worker);
        } catch {
          options.tries.closed("connect failed");
          await delay(200, options.signal);
        }
      }
    }),
  );
}

function wsOutcome(reply: string | undefined, ws: RawWs): { outcome: string; message?: string } {
  if (reply === undefined) {
    return { outcome: ws.closedAt === undefined ? "timeout" : "closed" };
  }
  const event = JSON.parse(reply) as { type: string; code?: string; message?: string };
  if (event.type === "welcome") return { outcome: "welcome" };
  return { outcome: event.code ?? "error", ...(event.message ? { message: event.message } : {}) };
}

/** WebSocket `login` requests with hostile tokens, many per connection. */
export function wsLoginTokens(options: TryOptions): Promise<void> {
  let sequence = 0;
  return workers(options, async (worker) => {
    const ws = await RawWs.open({
      port: options.port,
      localAddress: sourceAddress(options.block, worker % options.addresses),
    });
    options.tries.connections++;
    try {
      while (!options.signal.aborted && ws.closedAt === undefined) {
        const started = Date.now();
        const family = pick(options.families, sequence++);
        const reply = await ws.request(
          { type: "login", token: await token(options, family) },
          ["welcome", "error"],
          5000,
        );
        const { outcome, message } = wsOutcome(reply, ws);
        options.tries.record(family.name, outcome, message);
        if (outcome === "welcome") break; // a logged-in socket takes no more logins
        await delay(
          Math.max(0, (options.spacingMs ?? 50) - (Date.now() - started)),
          options.signal,
        );
      }
      if (ws.closedAt !== undefined) options.tries.closed(String(ws.closeCode ?? "reset"));
    } finally {
      ws.destroy();
    }
  });
}

/** WebSockets opened with `/ws?token=`, then a `login` with a name: one token per connection. */
export function wsUrlTokens(options: TryOptions): Promise<void> {
  let sequence = 0;
  return workers(options, async (worker) => {
    const family = pick(options.families, sequence++);
    const presented = await token(options, family);
    let ws: RawWs;
    try {
      ws = await RawWs.open({
        port: options.port,
        path: `/ws?token=${encodeURIComponent(presented)}`,
        localAddress: sourceAddress(options.block, worker % options.addresses),
      });
    } catch (error) {
      const status = (error as { status?: number }).status;
      options.tries.record(family.name, status ? `http ${status}` : "connect failed");
      await delay(50, options.signal);
      return;
    }
    options.tries.connections++;
    try {
      const reply = await ws.request(
        { type: "login", name: `url${sequence}` },
        ["welcome", "error"],
        5000,
      );
      const { outcome, message } = wsOutcome(reply, ws);
      options.tries.record(family.name, outcome, message);
    } finally {
      ws.destroy();
    }
  });
}

/** `/auth TOKEN` in text mode, many per connection. */
export function telnetAuthTokens(options: TryOptions): Promise<void> {
  let sequence = 0;
  return workers(options, async (worker) => {
    const conn = await LineConn.open({
      port: options.port,
      localAddress: sourceAddress(options.block, worker % options.addresses),
    });
    options.tries.connections++;
    try {
      if (await conn.waitFor((l) => l.includes("What's your name?"), 10_000) === undefined) {
        options.tries.closed(conn.closedAt ? "closed before greeting" : "no greeting");
        return;
      }
      while (!options.signal.aborted && conn.closedAt === undefined) {
        const started = Date.now();
        const family = pick(options.families, sequence++);
        const mark = conn.lineCount;
        conn.send(`/auth ${await token(options, family)}`);
        const line = await conn.waitFor((l) => / error |Welcome/.test(l), 5000, mark);
        if (line === undefined) {
          options.tries.record(family.name, conn.closedAt ? "closed" : "timeout");
          break;
        }
        if (line.includes("Welcome")) {
          options.tries.record(family.name, "welcome");
          break;
        }
        options.tries.record(
          family.name,
          errorCodeIn(line) ?? "error",
          line.replace(/^.*? error [a-z_]+: /, ""),
        );
        await delay(
          Math.max(0, (options.spacingMs ?? 50) - (Date.now() - started)),
          options.signal,
        );
      }
      if (conn.closedAt !== undefined) {
        options.tries.closed(errorCodeIn(conn.recent().at(-1) ?? "") ?? "closed");
      }
    } finally {
      conn.destroy();
    }
  });
}

/** IRC registrations with the token as `PASS`: one per connection. */
export function ircPassTokens(options: TryOptions): Promise<void> {
  let sequence = 0;
  return workers(options, async (worker) => {
    const family = pick(options.families, sequence++);
    const nick = `pass${sequence}`;
    const conn = await LineConn.open({
      port: options.port,
      localAddress: sourceAddress(options.block, worker % options.addresses),
    });
    options.tries.connections++;
    try {
      conn.send(`PASS ${await token(options, family)}\r\nNICK ${nick}\r\nUSER ${nick} 0 * :x`);
      const line = await conn.waitFor(
        (l) => / (001|4\d\d) /.test(l) || l.startsWith("ERROR"),
        5000,
      );
      if (line === undefined) {
        options.tries.record(family.name, conn.closedAt ? "closed" : "timeout");
      } else if (/ 001 /.test(line)) {
        options.tries.record(family.name, "welcome");
      } else {
        // 464 (password incorrect) is IRC's refusal of the token.
        const numeric = / (4\d\d) /.exec(line)?.[1];
        options.tries.record(
          family.name,
          numeric === "464" ? "auth_failed" : numeric ? `irc ${numeric}` : "ERROR",
          line.replace(/^:\S+ /, ""),
        );
      }
      conn.send("QUIT");
    } finally {
      conn.destroy();
    }
  });
}
