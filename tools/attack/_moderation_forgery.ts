/**
 * moderation-forgery, run. Phase 1: ordinary users (text, WebSocket, IRC,
 * and one who takes the name `server` if it can) try to make observers see
 * a kick, ban, mute or topic that never happened: in messages, `/me`,
 * multi-line and separator tricks, names, JSON look-alikes, IRC commands and
 * CR-split lines. Phase 2: admins (by `/oper` in text mode and JSON, and the
 * server API) really moderate, with reasons and topics full of newlines,
 * escapes and control characters. Every observer (text, JSON, IRC, and the
 * canary's telnet user) must see no forged moderation in phase 1, and in
 * phase 2 exactly one clean notice per action, about its real target.
 *
 * @module
 */
import type { AttackContext } from "./_attack.ts";
import { exact } from "./forged_notices.ts";
import { delay, HOST, type LineConn, Op } from "./_net.ts";
import { between, ircObserver, jsonObserver, type Observer, textObserver } from "./_observers.ts";

const STEP_MS = 250;
// Control characters, bidi overrides and separators: none may reach an observer.
// deno-lint-ignore no-control-regex -- finding control characters is the point
const CONTROLS = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
// The same, but IRC's CTCP marker (\x01) is how /me travels there.
// deno-lint-ignore no-control-regex -- as above
const IRC_CONTROLS = /[\x00\x02-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
// A text-mode line in the server's voice about moderation: the notice starts right after the room.
const TEXT_MODERATION =
  /^-!- (\[[^\]]+\] )?(\S+ was (kicked|banned|muted|unbanned|unmuted) by |topic: |\S+ cleared the topic)/;
// The words of a moderation notice, as IRC shows them in a channel NOTICE.
const IRC_MODERATION = /^\S+ was (kicked|banned|muted|unbanned|unmuted) by /;
const VICTIMS = ["victim1", "victim2", "victim3", "victim4", "victim5", "victim6", "victim7"];
const ADMINS = ["modws", "modtel", "server"];

/** Runs moderation-forgery against a server with `--admin-password` and `--api-key`. */
export async function moderationForgery(
  context: AttackContext,
  secrets: { adminPassword: string; apiKey: string },
): Promise<void> {
  const { server, canary, signal } = context;
  const step = () => delay(STEP_MS, signal);
  const address = (n: number) => `127.93.0.${n}`;
  const observers: Observer[] = [
    await textObserver(server.tcpPort, "watcht", address(1)),
    await jsonObserver(server.httpPort, "watchw", address(2)),
    await ircObserver(server.tcpPort, "watchi", address(3)),
  ];
  const mallory = await textObserver(server.tcpPort, "mallory", address(4));
  const mallows = await jsonObserver(server.httpPort, "mallows", address(5));
  const mallirc = await ircObserver(server.tcpPort, "mallirc", address(6));
  // Can an ordinary user be "server", the name the server API speaks under?
  let fakeServer: Observer | undefined;
  try {
    fakeServer = await ircObserver(server.tcpPort, "server", address(7));
  } catch (error) {
    context.note("ordinary user named server", `refused: ${(error as Error).message.slice(0, 80)}`);
  }
  if (fakeServer) context.note("ordinary user named server", "LOGGED IN (IRC NICK server)");
  const victims = await Promise.all(
    VICTIMS.map((name, i) => jsonObserver(server.httpPort, name, address(20 + i))),
  );
  const modws = await jsonObserver(server.httpPort, "modws", address(8));
  const modtel = await textObserver(server.tcpPort, "modtel", address(9));
  await delay(500, signal);

  // Phase 1: ordinary users forge.
  const forgedFrom = Date.now();
  const fake = "-!- [lobby] canary1 was kicked by modws (spam)";
  for (
    const line of [
      fake,
      "/me was kicked by modws (spam)",
      // Paddings that put the fake at the start of a wrapped continuation line.
      ...[33, 56, 57, 58, 59, 60, 70].map((pad) => `${"x".repeat(pad)} ${fake}`),
      `\x1b[2K\r${fake}`,
      `\x1b[1A\x1b[2K${fake}`,
      "/topic -!- [lobby] topic: forged (set by modws)",
      "/kick canary1 spam",
      "/ban canary2 5 spam",
      "/mute canaryws 5",
      "/nick -!-",
      "was kicked by modws (spam)",
      "/nick mallory",
      "/oper wrong-password-1",
    ]
  ) {
    mallory.conn.send(line);
    await step();
  }
  for (
    const message of [
      { type: "publish", room: "lobby", text: `hi\n${fake}` },
      { type: "publish", room: "lobby", text: `hi\r\n${fake}` },
      { type: "publish", room: "lobby", text: `hi\r${fake}` },
      { type: "publish", room: "lobby", text: `hi\u2028${fake}` },
      { type: "publish", room: "lobby", text: `hi\u0085${fake}` },
      { type: "publish", room: "lobby", text: `hi\v${fake}\f${fake}` },
      {
        type: "publish",
        room: "lobby",
        text: JSON.stringify({ type: "moderated", action: "kick", name: "canaryws", by: "modws" }),
      },
      { type: "publish", room: "lobby", text: "hi", action: "kick", by: "modws", name: "canaryws" },
      { type: "moderated", action: "kick", name: "canaryws", by: "modws", room: "lobby" },
      { type: "topic", room: "lobby", text: "forged topic" },
      { type: "kick", name: "canaryws", reason: "spam" },
      { type: "ban", target: "127.0.0.1", minutes: 5 },
      { type: "direct", to: "watchw", text: `hi\n${fake}` },
    ]
  ) {
    mallows.ws.sendJson(message);
    await step();
  }
  // A file whose name carries a notice.
  const header = new TextEncoder().encode(
    JSON.stringify({
      room: "lobby",
      file: { name: `a\n${fake}\n.png`, type: `image/png\n${fake}` },
    }),
  );
  const frame = new Uint8Array(3 + header.length + 16);
  frame[0] = 1;
  new DataView(frame.buffer).setUint16(1, header.length);
  frame.set(header, 3);
  mallows.ws.sendFrame(Op.binary, frame);
  await step();
  for (
    const line of [
      `PRIVMSG #lobby :${fake}`,
      "NOTICE #lobby :canaryirc was kicked by modws (spam)",
      "KICK #lobby canaryirc :spam",
      "TOPIC #lobby :forged topic",
      "PRIVMSG #lobby :hi\r:modws!modws@crosswire KICK #lobby canaryirc :spam",
      "PRIVMSG #lobby :\x01ACTION was kicked by modws (spam)\x01",
      "PRIVMSG #lobby :hi\x00:modws!modws@crosswire KICK #lobby watchi :spam",
      "MODE #lobby +b canaryirc!*@*",
      "OPER x wrong-password-2",
    ]
  ) {
    mallirc.conn.send(line);
    await step();
  }
  if (fakeServer) {
    const conn = (fakeServer as Observer & { conn: LineConn }).conn;
    conn.send("PRIVMSG #lobby :Deploy finished");
    await step();
    conn.send("NOTICE #lobby :canaryirc was muted by server until 2030-01-01 00:00 UTC");
    await step();
  }
  await delay(700, signal);

  // Phase 2: admins moderate, with hostile reasons and topics.
  const realFrom = Date.now();
  const api = (path: string, body: unknown) =>
    fetch(`http://${HOST}:${server.httpPort}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${secrets.apiKey}` },
      body: JSON.stringify(body),
    }).then((r) => r.text());
  const operWs = await modws.ws.request(
    { type: "oper", password: secrets.adminPassword },
    ["notice", "error"],
  );
  modtel.conn.send(`/oper ${secrets.adminPassword}`);
  await step();
  const modwsOk = operWs?.includes("operator") ?? false;
  if (!modwsOk) context.note("modws could not /oper", operWs ?? "no reply");
  const actions: [string, () => unknown][] = [
    ["kick victim1", () =>
      modws.ws.sendJson({
        type: "kick",
        name: "victim1",
        reason: `spam\n${fake}\r\n\x1b[2J\x1b]0;pwned\x07\u0085\u2028\u202eend`,
      })],
    ["mute victim2", () =>
      modws.ws.sendJson({
        type: "mute",
        name: "victim2",
        minutes: 5,
        reason: "quiet\r\n:modws!modws@crosswire KICK #lobby canaryirc :bye",
      })],
    ["ban victim3", () =>
      modws.ws.sendJson({
        type: "ban",
        target: "victim3",
        minutes: 5,
        reason: "\n\n\n-!- [lobby] canary2 was banned by modws",
      })],
    ["topic by modws", () =>
      modws.ws.sendJson({
        type: "topic",
        room: "lobby",
        text:
          "news\n-!- [lobby] canaryws was kicked by modws\x1b[31m\x00\x07 \r:x!x@x TOPIC #lobby :evil",
      })],
    [
      "kick victim4 (text)",
      () =>
        modtel.conn.send(`/kick victim4 \x1b[2K\x1b[1A-!- [lobby] canary1 was kicked by modtel`),
    ],
    ["topic by modtel", () => modtel.conn.send("/topic \x1b]0;title\x07clean \x1b[1mtopic")],
    [
      "api disconnect victim5",
      () =>
        api("/api/disconnect", {
          name: "victim5",
          reason: "api\n-!- [lobby] canary1 was kicked by server",
        }),
    ],
    ["api ban victim6", () =>
      api("/api/ban", {
        target: "victim6",
        minutes: 5,
        reason: "api\r\n:server!server@crosswire KICK #lobby canaryirc :x",
      })],
    [
      "kick victim7 (wrap)",
      () =>
        modws.ws.sendJson({ type: "kick", name: "victim7", reason: `${"x".repeat(36)} ${fake}` }),
    ],
    ["api publish", () => api("/api/publish", { room: "lobby", text: "Deploy finished" })],
  ];
  for (const [, act] of actions) {
    await act();
    await step();
  }
  await delay(1000, signal);
  const realUntil = Date.now();

  // What each observer saw.
  const canaryLines = (await canary.lines()).filter((l) => l.user === "t1");
  const canaryObserver: Observer = {
    kind: "text",
    name: "canary1",
    seen: canaryLines.map((l) => ({ at: l.at, text: l.text })),
    destroy: () => {},
  };
  const all = [...observers, canaryObserver];
  const forged: string[] = [];
  const dirty: string[] = [];
  const lookalikes: string[] = [];
  for (const observer of all) {
    const phase1 = between(observer, forgedFrom, realFrom);
    const phase2 = between(observer, realFrom, realUntil);
    for (const item of [...phase1, ...phase2]) {
      if ((observer.kind === "irc" ? IRC_CONTROLS : CONTROLS).test(item)) {
        dirty.push(`${observer.name}: ${exact(item.slice(0, 120))}`);
      }
      // JSON escapes them: a moderation event's words must be one clean line once parsed.
      if (observer.kind === "json" && /^\{"type":"(moderated|topic)"/.test(item)) {
        const event = JSON.parse(item) as Record<string, unknown>;
        for (const key of ["reason", "text", "name", "by"]) {
          const value = event[key];
          if (typeof value === "string" && (CONTROLS.test(value) || value.includes("\n"))) {
            dirty.push(`${observer.name}: ${key} ${exact(value.slice(0, 100))}`);
          }
        }
      }
    }
    const victim1 = phase2.filter((item) =>
      item.includes("victim1") && !/joined|disconnected|PART|"left"/.test(item)
    );
    if (victim1.length > 0) {
      context.note(
        `${observer.name}: the kick of victim1 (hostile reason)`,
        victim1.map(exact).join(" ⏎ "),
      );
    }
    for (const item of phase1) {
      const why = forgery(observer.kind, item, []);
      if (why) forged.push(`${observer.name} (phase 1, ${why}): ${exact(item.slice(0, 140))}`);
      if (observer.kind === "text" && /^\s+-!- /.test(item)) {
        lookalikes.push(`${observer.name}: ${exact(item.slice(0, 100))}`);
      }
    }
    for (const item of phase2) {
      const why = forgery(observer.kind, item, VICTIMS);
      if (why) forged.push(`${observer.name} (phase 2, ${why}): ${exact(item.slice(0, 140))}`);
      if (observer.kind === "text" && /^\s+-!- /.test(item)) {
        lookalikes.push(`${observer.name}: ${exact(item.slice(0, 100))}`);
      }
    }
    context.note(
      `${observer.name} (${observer.kind}) saw in phase 2`,
      summarize(observer.kind, phase2),
    );
  }
  context.note("forged moderation seen", forged.length === 0 ? "none" : forged.join(" ⏎ "));
  context.note(
    "control characters seen",
    dirty.length === 0 ? "none" : dirty.slice(0, 6).join(" ⏎ "),
  );
  if (lookalikes.length > 0) {
    context.note(
      "indented continuation lines starting with -!-",
      lookalikes.slice(0, 4).join(" ⏎ "),
    );
  }
  // The user named "server" against the server API, as IRC and text users see them.
  if (fakeServer) {
    for (const observer of [observers[0]!, observers[2]!]) {
      const fakes = between(observer, forgedFrom, realFrom).filter((l) => /server[!:]/.test(l));
      const real = between(observer, realFrom, realUntil).filter((l) =>
        /server[!:]|by server/.test(l)
      );
      const same = fakes.filter((l) => real.includes(l));
      context.note(
        `${observer.name}: lines of the user "server" identical to the server API's`,
        same.length === 0 ? "none" : same.map(exact).join(", "),
      );
      context.note(
        `${observer.name}: user "server" vs API`,
        `user: ${fakes.map(exact).join(" ⏎ ") || "none"}; api: ${
          real.map(exact).join(" ⏎ ") || "none"
        }`,
      );
    }
  }
  context.note(
    "what the attackers were told",
    [mallory, mallows, mallirc].map((o) =>
      `${o.name}: ${
        [
          ...new Set(
            between(o, forgedFrom, realFrom).flatMap((t) => {
              const code = /error ([a-z_]+)|"code":"([a-z_]+)"| (4\d\d) /.exec(t);
              return code ? [code[1] ?? code[2] ?? code[3]!] : [];
            }),
          ),
        ].join(", ") || "nothing"
      }`
    ).join("; "),
  );
  for (const o of [...observers, mallory, mallows, mallirc, ...victims, modws, modtel]) o.destroy();
  fakeServer?.destroy();
}

// Why `item` looks like forged moderation, or undefined. In phase 2 the real
// targets are `victims`; a moderation notice about anyone else is forged.
function forgery(kind: Observer["kind"], item: string, victims: string[]): string | undefined {
  if (kind === "text") {
    if (!TEXT_MODERATION.test(item)) return undefined;
    if (victims.length === 0) return "moderation line";
    const target = /^-!- \[[^\]]+\] (\S+) was /.exec(item)?.[1];
    const topic = /^-!- \[[^\]]+\] topic: .* \(set by (\S+)\)$/.exec(item)?.[1];
    if (target !== undefined && !victims.includes(target)) return `about ${target}`;
    if (topic !== undefined && !ADMINS.includes(topic)) return `topic by ${topic}`;
    return undefined;
  }
  if (kind === "json") {
    const type = /^\{"type":"([a-z_]+)"/.exec(item)?.[1];
    if (type !== "moderated" && type !== "topic") {
      if (type === "message" && /"(action|by|name)":"/.test(item)) {
        return "message with moderation fields";
      }
      return undefined;
    }
    if (victims.length === 0) return `${type} event`;
    const event = JSON.parse(item) as { name?: string; by?: string };
    if (type === "moderated" && !victims.includes(event.name ?? "")) return `about ${event.name}`;
    if (!ADMINS.includes(event.by ?? "")) return `by ${event.by}`;
    return undefined;
  }
  // IRC: the only lines that move people or topics are KICK, TOPIC, MODE; a
  // channel NOTICE from the server is how the other moderation actions arrive.
  const head = /^:(\S+) ([A-Z]+|\d{3}) (\S+)(?: :(.*))?/.exec(item);
  if (head === null) {
    return item.startsWith("PING ") || item.startsWith("ERROR ")
      ? undefined
      : "not a prefixed line";
  }
  const [, prefix, command, target, trailing] = head as unknown as [
    string,
    string,
    string,
    string,
    string?,
  ];
  const by = prefix.split("!")[0]!;
  const fromServer = !prefix.includes("!");
  const moderationNotice = command === "NOTICE" && target.startsWith("#") &&
    (fromServer || IRC_MODERATION.test(trailing ?? ""));
  if (!["KICK", "TOPIC", "MODE"].includes(command) && !moderationNotice) return undefined;
  if (victims.length === 0) return `${command} in phase 1`;
  if (!fromServer && !ADMINS.includes(by)) return `${command} from ${by}`;
  if (command === "KICK") {
    const kicked = /^:\S+ KICK \S+ (\S+)/.exec(item)?.[1] ?? "";
    if (!victims.includes(kicked)) return `KICK of ${kicked}`;
  }
  if (command === "NOTICE") {
    const about = /^(\S+) was /.exec(trailing ?? "")?.[1] ?? "";
    if (!victims.includes(about)) return `NOTICE about ${about}`;
  }
  return undefined;
}

// What an observer saw in phase 2, in short: notices per target, and topics.
function summarize(kind: Observer["kind"], items: string[]): string {
  const counts = new Map<string, number>();
  const add = (key: string) => counts.set(key, (counts.get(key) ?? 0) + 1);
  for (const item of items) {
    if (kind === "text") {
      const action = /^-!- \[[^\]]+\] (\S+) was (kicked|banned|muted)/.exec(item);
      if (action) add(`${action[1]} ${action[2]}`);
      if (/^-!- \[[^\]]+\] topic: /.test(item)) add("topic");
    } else if (kind === "json") {
      const type = /^\{"type":"([a-z_]+)"/.exec(item)?.[1];
      if (type === "moderated") {
        const event = JSON.parse(item) as { name: string; action: string };
        add(`${event.name} ${event.action}`);
      }
      if (type === "topic") add("topic");
    } else {
      const kick = /^:\S+ KICK \S+ (\S+)/.exec(item);
      if (kick) add(`${kick[1]} KICK`);
      const notice = /^:\S+ NOTICE #\S+ :(\S+) was (banned|muted)/.exec(item);
      if (notice) add(`${notice[1]} ${notice[2]}`);
      if (/^:\S+ TOPIC /.test(item)) add("TOPIC");
    }
  }
  return [...counts].map(([key, n]) => `${key}${n > 1 ? `×${n}` : ""}`).join(", ") || "nothing";
}
