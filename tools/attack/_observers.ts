/**
 * Observers for the forgery attacks: a text-mode user, a WebSocket user and an
 * IRC user in the lobby, each recording everything it receives with the time
 * it arrived, so an attack can look at what each saw between two moments.
 *
 * @module
 */
import { LineConn, RawWs } from "./_net.ts";

/** Something an observer received. */
export interface Seen {
  at: number;
  text: string;
}

/** Most items an observer keeps. */
const KEEP = 20_000;

/** What every observer has. */
export interface Observer {
  readonly kind: "text" | "json" | "irc";
  readonly name: string;
  readonly seen: Seen[];
  destroy(): void;
}

function record(seen: Seen[], text: string): void {
  if (seen.length < KEEP) seen.push({ at: Date.now(), text });
}

/** Items seen from `from` (inclusive) to `to` (exclusive). */
export function between(observer: { seen: Seen[] }, from: number, to: number): string[] {
  return observer.seen.filter((s) => s.at >= from && s.at < to).map((s) => s.text);
}

/** A text-mode user, logged in as `name`. */
export async function textObserver(
  port: number,
  name: string,
  localAddress: string,
): Promise<Observer & { conn: LineConn }> {
  const conn = await LineConn.open({ port, localAddress });
  const seen: Seen[] = [];
  conn.onLine = (line) => record(seen, line);
  const login = await conn.login(name);
  if (!login.ok) throw new Error(`${name}: ${login.line}`);
  return { kind: "text", name, seen, conn, destroy: () => conn.destroy() };
}

/** A WebSocket user, logged in as `name`. */
export async function jsonObserver(
  port: number,
  name: string,
  localAddress: string,
): Promise<Observer & { ws: RawWs }> {
  const ws = await RawWs.open({ port, localAddress });
  const seen: Seen[] = [];
  ws.onText = (text) => record(seen, text);
  const login = await ws.login(name);
  if (!login.ok) throw new Error(`${name}: ${login.code}`);
  return { kind: "json", name, seen, ws, destroy: () => ws.destroy() };
}

/** An IRC user registered as `nick`, in #lobby; it answers PINGs. */
export async function ircObserver(
  port: number,
  nick: string,
  localAddress: string,
): Promise<Observer & { conn: LineConn }> {
  const conn = await LineConn.open({ port, localAddress });
  const seen: Seen[] = [];
  conn.onLine = (line) => {
    if (line.startsWith("PING ")) conn.send(`PONG ${line.slice(5)}`);
    record(seen, line);
  };
  conn.send(`NICK ${nick}\r\nUSER ${nick} 0 * :${nick}`);
  const joined = await conn.waitFor(
    (l) => / 366 \S+ #lobby /.test(l) || / (43\d|451|46\d) /.test(l) || l.startsWith("ERROR"),
    10_000,
  );
  if (joined === undefined || !/ 366 /.test(joined)) {
    conn.destroy();
    throw new Error(`${nick}: ${joined ?? "no reply"}`);
  }
  return { kind: "irc", name: nick, seen, conn, destroy: () => conn.destroy() };
}
