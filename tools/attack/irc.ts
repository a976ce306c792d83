/**
 * IRC attacks: hostile IRC clients on the TCP port (detected by their first
 * line). The canary has an IRC user (`canaryirc`) as well as its telnet and
 * WebSocket users for all of them.
 *
 * - irc-nick-storm: 50 IRC users in the lobby rename themselves as fast as
 *   the rate limit allows, each rename an event for every lobby member.
 * - irc-query-flood: 40 IRC users that never read their socket spam LIST,
 *   NAMES, WHO, WHOIS, ISON, MOTD, MODE and PING (replies bigger than requests).
 * - irc-hostile-bytes: registrations with NUL, bare CR, 600-byte lines and
 *   invalid UTF-8; then a registered IRC user sends CTCP and formatting-code
 *   storms, a JOIN of 100 channels, PRIVMSG to 100 targets, and text that tries
 *   to forge server lines; a WebSocket user sends controls to IRC users.
 *   Observers (IRC, telnet, WebSocket) record every line; any line that looks
 *   like it came from the server, or carries a control character, is reported.
 * - irc-registration-hold: many connections send NICK (or CAP LS) but never
 *   USER; checked: the per-address cap on pending connections, the login
 *   deadline, and that an honest IRC user still gets in.
 *
 * @module
 */
import { type Attack, cpuMeter, tally } from "./_attack.ts";
import { delay, LineConn, pool, RawWs, sourceAddress } from "./_net.ts";

const encoder = new TextEncoder();

/** A registered IRC connection, or why it is not. */
interface Registered {
  conn: LineConn;
  ok: boolean;
  line: string;
}

/** Opens a TCP connection and registers `nick` with NICK and USER; waits for the lobby's 366. */
async function ircRegister(
  port: number,
  nick: string,
  options: { localAddress?: string; read?: "lines" | "count" | "none"; timeoutMs?: number } = {},
): Promise<Registered> {
  const conn = await LineConn.open({
    port,
    ...(options.localAddress ? { localAddress: options.localAddress } : {}),
    read: "lines",
  });
  conn.onLine = (line) => {
    if (line.startsWith("PING ")) conn.send(`PONG ${line.slice(5)}`);
  };
  conn.send(`NICK ${nick}\r\nUSER ${nick} 0 * :${nick}`);
  const line = await conn.waitFor(
    (l) => / 366 \S+ #lobby /.test(l) || / (417|43\d|451) /.test(l) || l.startsWith("ERROR"),
    options.timeoutMs ?? 10_000,
  );
  const ok = line !== undefined && / 366 /.test(line);
  if (ok && options.read === "none") conn.socket.pause();
  if (ok && options.read === "count") {
    conn.socket.removeAllListeners("data");
    conn.socket.on("data", (chunk: Uint8Array) => conn.bytesIn += chunk.length);
  }
  return { conn, ok, line: line ?? (conn.closedAt ? "closed" : "no reply") };
}

async function registerMany(
  port: number,
  count: number,
  prefix: string,
  block: number,
  read: "lines" | "count" | "none",
  signal: AbortSignal,
): Promise<{ conns: LineConn[]; failures: string[] }> {
  const results = await pool(count, 10, async (i) => {
    const result = await ircRegister(port, `${prefix}${i}`, {
      localAddress: sourceAddress(block, i % 8),
      read,
    });
    if (!result.ok) {
      result.conn.destroy();
      throw new Error(result.line.replace(/^:\S+ /, "").slice(0, 80));
    }
    return result.conn;
  }, signal);
  return {
    conns: results.flatMap((r) => r.status === "fulfilled" ? [r.value] : []),
    failures: results.flatMap((r) => r.status === "rejected" ? [String(r.reason)] : []),
  };
}

/** Sends `line()` on every connection `perSecond` times a second until `ms` pass. */
async function paced(
  conns: LineConn[],
  perSecond: number,
  ms: number,
  line: (conn: number, seq: number) => string,
  signal: AbortSignal,
): Promise<number> {
  const until = Date.now() + ms;
  let sent = 0;
  let seq = 0;
  while (Date.now() < until && !signal.aborted) {
    conns.forEach((conn, i) => {
      if (conn.closedAt === undefined && conn.send(line(i, seq))) sent++;
    });
    seq++;
    await delay(1000 / perSecond, signal);
  }
  return sent;
}

function numericsIn(lines: Iterable<string>): string {
  const codes: string[] = [];
  for (const line of lines) {
    const match = /^:\S+ (\d{3}) /.exec(line) ?? /^(ERROR)/.exec(line);
    if (match) codes.push(match[1]!);
  }
  return tally(codes);
}

/** 50 IRC users in the lobby rename themselves as fast as they may. */
export const ircNickStorm: Attack = {
  name: "irc-nick-storm",
  summary: "50 IRC users in the lobby change NICK at the rate limit for 10 s",
  canaryIrc: true,
  timeLimitMs: 40_000,
  async run(context) {
    const { server, signal } = context;
    const { conns, failures } = await registerMany(
      server.tcpPort,
      50,
      "storm",
      31,
      "lines",
      signal,
    );
    context.note("stormers registered", `${conns.length}/50`);
    if (failures.length) context.note("registration failures", tally(failures));
    // An IRC observer counts the NICK lines it receives.
    const observer = await ircRegister(server.tcpPort, "nickwatch", {
      localAddress: "127.31.1.1",
    });
    let renamesSeen = 0;
    const onLine = observer.conn.onLine!;
    observer.conn.onLine = (line) => {
      onLine(line);
      if (/^:\S+ NICK /.test(line)) renamesSeen++;
    };
    const replies: string[] = [];
    for (const conn of conns) {
      conn.onLine = (line) => {
        if (/^:\S+ (\d{3}) /.test(line) || line.startsWith("ERROR")) replies.push(line);
      };
    }
    const cpu = cpuMeter(server);
    const started = Date.now();
    // 18 a second, just under the 20/s rate; a fresh name each time (names left are held).
    const sent = await paced(conns, 18, 10_000, (i, seq) => `NICK st${i}n${seq}`, signal);
    const seconds = (Date.now() - started) / 1000;
    await delay(2000, signal);
    context.note("NICK lines sent", `${sent} (${Math.round(sent / seconds)}/s)`);
    context.note("renames seen by an IRC observer", renamesSeen);
    context.note("numerics to stormers", numericsIn(replies));
    context.note("stormers still connected", conns.filter((c) => c.closedAt === undefined).length);
    context.note("observer still connected", observer.conn.closedAt === undefined);
    context.note("server CPU", cpu());
    for (const conn of conns) conn.destroy();
    observer.conn.destroy();
  },
};

/** 40 IRC users that never read ask for big replies. */
export const ircQueryFlood: Attack = {
  name: "irc-query-flood",
  summary: "40 IRC users never read, spam LIST/NAMES/WHO/WHOIS/ISON/MOTD for 12 s",
  canaryIrc: true,
  timeLimitMs: 60_000,
  async run(context) {
    const { server, signal } = context;
    // Idle members make the lobby's NAMES and WHO long.
    const crowd = await registerMany(server.tcpPort, 60, "member", 32, "count", signal);
    const flood = await registerMany(server.tcpPort, 40, "query", 33, "none", signal);
    context.note("members / flooders registered", `${crowd.conns.length} / ${flood.conns.length}`);
    const failures = [...crowd.failures, ...flood.failures];
    if (failures.length) context.note("registration failures", tally(failures));
    const nicks = Array.from({ length: 8 }, (_, i) => `member${i}`).join(",");
    const queries = [
      "LIST",
      "NAMES #lobby,#lobby,#lobby,#lobby,#lobby,#lobby,#lobby,#lobby",
      "WHO #lobby",
      `WHOIS ${nicks}`,
      // Under 510 bytes: a longer line is 417 and a close.
      `ISON ${Array.from({ length: 45 }, (_, i) => `member${i}`).join(" ")}`,
      "MOTD",
      "MODE #lobby b",
      "PING :x",
      "VERSION",
      "LIST #lobby,#lobby,#lobby,#lobby,#lobby,#lobby,#lobby,#lobby",
    ];
    const cpu = cpuMeter(server);
    const sent = await paced(
      flood.conns,
      18,
      12_000,
      (i, seq) => queries[(i + seq) % queries.length]!,
      signal,
    );
    context.note("query lines sent", sent);
    context.note("server CPU", cpu());
    // Slow-consumer closes take up to 10 s behind, so wait a little to see them.
    await delay(3000, signal);
    const closed = flood.conns.filter((c) => c.closedAt !== undefined).length;
    context.note("flooders closed by the server", `${closed}/${flood.conns.length}`);
    context.note("server RSS after the flood", `${(server.memory().rssKiB / 1024).toFixed(1)} MiB`);
    // Now read what piled up: the last line each flooder got says how it ended.
    for (const conn of flood.conns) conn.socket.resume();
    await delay(2500, signal);
    context.note(
      "flooders' last lines",
      tally(
        flood.conns.map((c) =>
          (c.recent().at(-1) ?? "none").replace(/^:\S+ (\d{3}) \S+.*/, "numeric $1").slice(0, 70)
        ),
      ),
    );
    const got = flood.conns.map((c) => c.bytesIn);
    context.note(
      "reply bytes a flooder got (mean / max)",
      `${Math.round(got.reduce((a, b) => a + b, 0) / Math.max(got.length, 1) / 1024)} / ${
        Math.round(Math.max(0, ...got) / 1024)
      } KiB`,
    );
    context.note(
      "flooders closed after reading",
      `${flood.conns.filter((c) => c.closedAt !== undefined).length}/${flood.conns.length}`,
    );
    context.note(
      "members closed",
      `${crowd.conns.filter((c) => c.closedAt !== undefined).length}/${crowd.conns.length}`,
    );
    context.note(
      "bytes a member read",
      crowd.conns.length ? Math.round(crowd.conns[0]!.bytesIn / 1024) + " KiB" : "n/a",
    );
    for (const conn of [...crowd.conns, ...flood.conns]) conn.destroy();
  },
};

// In every attacker's text, to find its lines at the observers.
const FORGED_MARK = "forgedmark";
// deno-lint-ignore no-control-regex -- control characters are what is looked for
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f]/;
// A /me as IRC carries it: the one place a control character (\x01) belongs.
// deno-lint-ignore no-control-regex -- CTCP's \x01 is the point
const CTCP_ACTION = /\x01ACTION ([^\x01]*)\x01$/;

/** Registration garbage, forgery attempts and list storms; observers check every line. */
export const ircHostileBytes: Attack = {
  name: "irc-hostile-bytes",
  summary: "NUL/CR/600-byte/bad-UTF-8 registrations, CTCP and list storms, forged server lines",
  canaryIrc: true,
  timeLimitMs: 60_000,
  async run(context) {
    const { server, signal } = context;
    const port = server.tcpPort;
    // Observers of every mode, keeping every line.
    const seen: { who: string; line: string }[] = [];
    const ircObs = await ircRegister(port, "obsirc", { localAddress: "127.34.0.1" });
    const ircPing = ircObs.conn.onLine!;
    ircObs.conn.onLine = (line) => {
      ircPing(line);
      seen.push({ who: "irc", line });
    };
    const telnet = await LineConn.open({ port, localAddress: "127.34.0.2" });
    const telnetLogin = await telnet.login("obstelnet");
    if (!telnetLogin.ok) throw new Error(`telnet observer: ${telnetLogin.line}`);
    telnet.onLine = (line) => seen.push({ who: "telnet", line });
    const ws = await RawWs.open({ port: server.httpPort, localAddress: "127.34.0.3" });
    const wsLogin = await ws.login("obsws");
    if (!wsLogin.ok) throw new Error(`ws observer: ${wsLogin.code}`);
    ws.onText = (text) => seen.push({ who: "ws", line: text });

    // 1. Hostile registrations: each on its own connection; what came back.
    const registrations: [string, Uint8Array][] = [
      ["NUL in NICK", encoder.encode("NICK ev\x00il\r\nUSER evil 0 * :evil\r\n")],
      ["bare CR", encoder.encode("NICK crnick\rUSER crnick 0 * :x\rPRIVMSG #lobby :cr-split\r\n")],
      ["600-byte NICK line", encoder.encode(`NICK ${"a".repeat(600)}\r\nUSER a 0 * :a\r\n`)],
      ["600-byte USER line", encoder.encode(`NICK longuser\r\nUSER ${"u".repeat(600)} 0 * :x\r\n`)],
      [
        "invalid UTF-8 NICK",
        new Uint8Array([
          ...encoder.encode("NICK bad"),
          0xff,
          0xfe,
          0xc3,
          ...encoder.encode("\r\nUSER b 0 * :b\r\n"),
        ]),
      ],
      [
        "prefix-forging NICK",
        encoder.encode(":crosswire 001 x\r\nNICK :crosswire\r\nUSER c 0 * c\r\n"),
      ],
      ["NICK crosswire", encoder.encode("NICK crosswire\r\nUSER c 0 * :c\r\n")],
      ["tags and prefix", encoder.encode("@a=b :x!y@z NICK tagged\r\nUSER t 0 * :t\r\n")],
    ];
    const outcomes: string[] = [];
    for (const [what, bytes] of registrations) {
      const conn = await LineConn.open({ port, localAddress: "127.34.1.1" });
      conn.write(bytes);
      const line = await conn.waitFor(
        (l) => / (001|366|417|43\d|451) /.test(l) || l.startsWith("ERROR"),
        3000,
      );
      const last = conn.recent().at(-1);
      const shown = (line ?? `${conn.closedAt ? "closed" : "no IRC reply"}, last: ${last}`)
        .replace(/^:\S+ /, "")
        .slice(0, 70);
      outcomes.push(`${what} → ${JSON.stringify(shown)}`);
      conn.destroy();
    }
    context.note("registration outcomes", outcomes.join("; "));
    await delay(300, signal);

    // 2. A registered attacker.
    const mark = seen.length;
    const mallory = await ircRegister(port, "mallory", { localAddress: "127.34.2.1" });
    if (!mallory.ok) throw new Error(`mallory: ${mallory.line}`);
    const m = mallory.conn;
    const mLines: string[] = [];
    const mPing = m.onLine!;
    m.onLine = (line) => {
      mPing(line);
      mLines.push(line);
    };
    const raw = (text: string) => m.write(encoder.encode(text));
    const forgeries = [
      `PRIVMSG #lobby :hi\r:crosswire 001 obsirc :${FORGED_MARK}-cr\r\n`,
      `PRIVMSG #lobby ::crosswire 001 obsirc :${FORGED_MARK}-colon\r\n`,
      `PRIVMSG #lobby :\x03${"4"},1\x02:crosswire NOTICE obsirc :${FORGED_MARK}-mirc\x0f\r\n`,
      `PRIVMSG #lobby :a\x00:crosswire 001 obsirc :${FORGED_MARK}-nul\r\n`,
      `PRIVMSG #lobby :\x01ACTION \r\n:crosswire 001 ${FORGED_MARK}-action\x01\r\n`,
      `PRIVMSG obsirc :x\u2028:crosswire 001 obsirc :${FORGED_MARK}-ls\r\n`,
      `PRIVMSG obsirc :y\x85:crosswire 001 obsirc :${FORGED_MARK}-nel\r\n`,
      `NOTICE #lobby :\x01DCC SEND ${FORGED_MARK} 0 0 0\x01\r\n`,
      `PRIVMSG #lobby :\x01VERSION\x01\r\n`,
      `PRIVMSG #lobby :\x01ACTION is now known as ${FORGED_MARK}-fake-nick\x01\r\n`,
      `PRIVMSG #lobby :\x1b[2J\x1b]0;${FORGED_MARK}-ansi\x07\r\n`,
    ];
    for (const line of forgeries) {
      raw(line);
      await delay(120, signal);
    }
    // CTCP and formatting-code storm: 150 lines in ~8 s.
    for (let i = 0; i < 150 && !signal.aborted; i++) {
      raw(
        i % 3 === 0
          ? `PRIVMSG #lobby :\x01PING ${i}\x01\r\n`
          : i % 3 === 1
          ? `PRIVMSG #lobby :${"\x02\x1d\x1f\x0304,05\x16".repeat(40)}fmt${i}\r\n`
          : `NOTICE #lobby :\x01VERSION\x01\r\n`,
      );
      await delay(55, signal);
    }
    // A JOIN of 100 channels; PRIVMSG to 100 targets in one line.
    const channels = Array.from({ length: 100 }, (_, i) => `#c${i}`).join(",");
    const joinMark = mLines.length;
    raw(`JOIN ${channels}\r\n`);
    await delay(1500, signal);
    const joined = mLines.slice(joinMark).filter((l) => /^:mallory!\S+ JOIN /.test(l)).length;
    context.note(
      "JOIN of 100 channels",
      `${joined} joined; replies ${numericsIn(mLines.slice(joinMark))}`,
    );
    // Under 510 bytes: #lobby at every tenth place, short nicks between.
    const targets = Array.from({ length: 100 }, (_, i) => i % 10 === 0 ? "#lobby" : `n${i}`)
      .join(",");
    const msgMark = seen.length;
    raw(`PRIVMSG ${targets} :${FORGED_MARK}-hundred\r\n`);
    await delay(1000, signal);
    const copies =
      seen.slice(msgMark).filter((s) =>
        s.who === "irc" && s.line.includes(`${FORGED_MARK}-hundred`)
      ).length;
    context.note("copies an IRC observer got of a 100-target PRIVMSG", copies);
    // Amplification: 4 distinct targets a line (the lobby and three observers, privately),
    // 54 lines at 18 a second, after 2.5 s to fill the rate buckets.
    await delay(2500, signal);
    const ampMark = seen.length;
    const ampLinesMark = mLines.length;
    let ampSent = 0;
    for (let i = 0; i < 54 && !signal.aborted; i++) {
      raw(`PRIVMSG #lobby,obsirc,obstelnet,obsws :amp${i}x\r\n`);
      ampSent++;
      await delay(55, signal);
    }
    await delay(1000, signal);
    const ampSeen = seen.slice(ampMark).filter((s) => /amp\d+x/.test(s.line)).length;
    const ampDropped = mLines.slice(ampLinesMark).filter((l) => /rate_limited/.test(l)).length;
    context.note(
      "4-target lines sent / requests asked / copies observers got / rate_limited notices",
      `${ampSent} / ${ampSent * 4} / ${ampSeen} / ${ampDropped}`,
    );

    // 3. A WebSocket user sends controls and CTCP to IRC users.
    const wsBad = await RawWs.open({ port: server.httpPort, localAddress: "127.34.3.1" });
    const badLogin = await wsBad.login("wsmallory");
    if (badLogin.ok) {
      for (
        const text of [
          `\x01DCC SEND ${FORGED_MARK} 0 0 0\x01`,
          `x\r:crosswire 001 obsirc :${FORGED_MARK}-wscr`,
          `x\n:crosswire 001 obsirc :${FORGED_MARK}-wslf`,
          `x\u2028:crosswire 001 obsirc :${FORGED_MARK}-wsls`,
          `\x0304red\x02bold ${FORGED_MARK}-wsfmt`,
        ]
      ) {
        wsBad.sendJson({ type: "publish", room: "lobby", text });
        await delay(150, signal);
      }
    } else {
      context.note("wsmallory", `not logged in: ${badLogin.code}`);
    }
    await delay(1500, signal);

    // What the observers saw.
    const after = seen.slice(mark);
    // Forged: a line with the attackers' mark that IRC reads as the server's
    // (`:crosswire ` with no `!user@host`), or one a telnet user sees starting like
    // an IRC server line; and any control character but a /me's \x01 pair.
    const forged = after.filter(({ who, line }) =>
      (who === "irc" && line.startsWith(":crosswire ") && line.includes(FORGED_MARK)) ||
      (who === "telnet" && line.startsWith(":crosswire")) ||
      (who !== "ws" && CONTROL.test(line.replace(CTCP_ACTION, "$1")))
    );
    context.note(
      "forged or control-bearing lines at observers",
      forged.length === 0
        ? "none"
        : forged.slice(0, 6).map((f) => `${f.who}: ${JSON.stringify(f.line.slice(0, 100))}`)
          .join(" ⏎ "),
    );
    const lines = (who: string) =>
      after.filter((s) => s.who === who && s.line.includes(FORGED_MARK));
    context.note(
      "forgery lines as IRC saw them",
      lines("irc").slice(0, 12).map((s) => JSON.stringify(s.line.slice(0, 90))).join(" ⏎ ") ||
        "none",
    );
    context.note(
      "forgery lines as telnet saw them",
      lines("telnet").slice(0, 8).map((s) => JSON.stringify(s.line.slice(0, 90))).join(" ⏎ ") ||
        "none",
    );
    context.note(
      "ws JSON with raw controls in text",
      lines("ws").filter((s) => /\\u000[0-8bcef]|\\u001|\\r/.test(s.line)).length,
    );
    context.note("mallory still connected", m.closedAt === undefined);
    context.note("mallory numerics", numericsIn(mLines));
    const errorLine = mLines.find((l) => l.startsWith("ERROR"));
    if (errorLine) context.note("mallory closed with", errorLine.slice(0, 120));
    for (const conn of [ircObs.conn, telnet, m]) conn.destroy();
    ws.destroy();
    wsBad.destroy();
  },
};

/** Half-registered IRC connections: NICK but never USER. */
export const ircRegistrationHold: Attack = {
  name: "irc-registration-hold",
  summary: "connections send NICK (or CAP LS) but never USER; deadline, caps, honest login",
  canaryIrc: true,
  server: { flags: ["--login-timeout", "6"] },
  timeLimitMs: 40_000,
  async run(context) {
    const { server, signal } = context;
    const port = server.tcpPort;
    // 6 addresses x 30 tries: at most 16 pending per address should be let in.
    const held: LineConn[] = [];
    const refused: string[] = [];
    const opened = Date.now();
    await pool(180, 20, async (i) => {
      const conn = await LineConn.open({ port, localAddress: sourceAddress(35, i % 6) });
      // Half the holders also start CAP negotiation and never end it.
      conn.send(i % 2 === 0 ? `NICK hold${i}` : `CAP LS 302\r\nNICK hold${i}`);
      held.push(conn);
    }, signal);
    await delay(1500, signal);
    const open = () => held.filter((c) => c.closedAt === undefined);
    context.note("held connections open after 1.5 s", `${open().length}/${held.length}`);
    for (const conn of held) {
      if (conn.closedAt !== undefined) {
        refused.push((conn.recent().at(-1) ?? "closed").slice(0, 60));
      }
    }
    if (refused.length) context.note("refused with", tally(refused));
    // Keep the survivors busy with harmless pre-registration lines under the login budget.
    const busy = setInterval(() => {
      for (const conn of open()) conn.send("PING :still-here");
    }, 1000);
    // An honest IRC user from another address while they hold.
    const honest = await ircRegister(port, "honestirc", { localAddress: "127.35.9.1" });
    context.note("honest IRC user got in", honest.ok ? "yes" : `no: ${honest.line}`);
    // Also an honest user from an attacking address.
    const sameAddress = await ircRegister(port, "honestsame", {
      localAddress: sourceAddress(35, 0),
    });
    context.note(
      "honest IRC user from a holding address",
      sameAddress.ok ? "got in" : `refused: ${sameAddress.line.slice(0, 80)}`,
    );
    // Wait for the 6 s deadline (plus a sweep).
    const deadline = Date.now() + 10_000;
    while (open().length > 0 && Date.now() < deadline && !signal.aborted) await delay(250, signal);
    clearInterval(busy);
    const survivors = open().length;
    const closedTimes = held.filter((c) => c.closedAt !== undefined).map((c) =>
      (c.closedAt! - opened) / 1000
    );
    context.note(
      "held connections still open 10 s after a 6 s deadline",
      `${survivors}/${held.length}`,
    );
    context.note("last close at", `${Math.max(...closedTimes, 0).toFixed(1)} s after opening`);
    const lasts = held.map((c) => c.recent().filter((l) => !l.includes("PONG")).at(-1) ?? "")
      .map((l) => l.replace(/^:\S+ /, "").replace(/hold\d+/, "holdN").slice(0, 60));
    context.note("their last lines", tally(lasts));
    for (const conn of held) conn.destroy();
    honest.conn.destroy();
    sameAddress.conn.destroy();
  },
};

/** Every IRC attack, in the order they run. */
export const IRC_ATTACKS: readonly Attack[] = [
  ircNickStorm,
  ircQueryFlood,
  ircHostileBytes,
  ircRegistrationHold,
];
