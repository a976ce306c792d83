// deno-lint-ignore-file no-control-regex -- IRC's formatting codes are control characters
// What a registered IRC client's lines ask for: relay requests (the same ones
// JSON and text-mode clients send, so every mode shares one set of handlers)
// or replies the IRC side can give by itself (MODE, AWAY...). Moderation
// (TOPIC, KICK, OPER...) is in irc_admin.ts.

import { then } from "./_maybe.ts";
import type { MaybePromise } from "./engine.ts";
import { IRC_HOST, ircChannel, ircNick, type IrcReplies, roomOfChannel } from "./irc_render.ts";
import { MAX_NAME_LENGTH, validateName } from "./names.ts";
import type { ClientRequest } from "./protocol.ts";

/** One IRC line: its command (upper case) and parameters (the trailing one last). */
export interface IrcMessage {
  /** The command, upper-cased (`PRIVMSG`), or a numeric. */
  command: string;
  /** Up to 15 parameters; a trailing one (after ` :`) may hold spaces or be empty. */
  params: string[];
}

/** What {@link runIrcCommand} needs from the IRC session. */
export interface IrcContext {
  /** The user's nick as IRC shows it. */
  readonly nick: string;
  /** The user's crosswire name. */
  readonly name: string;
  /** The rooms the user is in. */
  readonly rooms: ReadonlySet<string>;
  /** The server's name in IRC lines. */
  readonly server: string;
  /** Rooms one user may be in at once. */
  readonly maxRooms: number;
  /** True when the user logged in with a token (and may send a new one with PASS). */
  readonly hasToken: boolean;
  /** The message of the day, when the relay has one. */
  readonly motd: string | undefined;
  /** The user's away message, when away. */
  away: string | undefined;
  /** Sends the replies `build` adds, to this user. */
  reply(build: (replies: IrcReplies) => void): void;
  /** Hands requests to the relay, each after the one before is done. */
  request(...requests: ClientRequest[]): MaybePromise<void>;
  /** The crosswire name of the user online as `nick` (or a look-alike), if any. */
  find(nick: string): MaybePromise<string | undefined>;
}

/** Targets one PRIVMSG or NOTICE may name (advertised as TARGMAX). */
export const MAX_MESSAGE_TARGETS = 4;
/** Channels or nicks one NAMES, LIST, WHOIS, ISON or USERHOST may name. */
export const MAX_QUERY_TARGETS = 8;

/** The ISUPPORT tokens (005) for a relay whose users may be in `maxRooms` rooms. */
export function isupport(maxRooms: number): string[] {
  return [
    "CHANTYPES=#",
    `NICKLEN=${MAX_NAME_LENGTH}`,
    `CHANNELLEN=${MAX_NAME_LENGTH + 1}`,
    "CASEMAPPING=ascii",
    "PREFIX=(ov)@+",
    "CHANMODES=,,,nt",
    `CHANLIMIT=#:${maxRooms}`,
    `TARGMAX=PRIVMSG:${MAX_MESSAGE_TARGETS},NOTICE:${MAX_MESSAGE_TARGETS},` +
    `NAMES:${MAX_QUERY_TARGETS},LIST:${MAX_QUERY_TARGETS},WHOIS:${MAX_QUERY_TARGETS}`,
    "NETWORK=crosswire",
    "UTF8ONLY",
  ];
}

/**
 * Splits one IRC line (RFC 1459, 2.3.1, with IRCv3 tags) into its command
 * and parameters; undefined for a blank line. Tags and a prefix are skipped:
 * a client's prefix is ignored, as servers do.
 */
export function parseIrcLine(line: string): IrcMessage | undefined {
  let rest = line.replace(/^[ ]+/, "");
  if (rest.startsWith("@")) rest = rest.replace(/^\S*[ ]*/, "");
  if (rest.startsWith(":")) rest = rest.replace(/^\S*[ ]*/, "");
  const params: string[] = [];
  let command: string | undefined;
  while (rest !== "") {
    if (command !== undefined && (rest.startsWith(":") || params.length === 14)) {
      params.push(rest.startsWith(":") ? rest.slice(1) : rest);
      break;
    }
    const space = rest.indexOf(" ");
    const word = space < 0 ? rest : rest.slice(0, space);
    rest = space < 0 ? "" : rest.slice(space).replace(/^[ ]+/, "");
    if (command === undefined) command = word.toUpperCase();
    else params.push(word);
  }
  return command === undefined ? undefined : { command, params };
}

/**
 * Whether the first line on a TCP connection starts IRC: `CAP`, `NICK`,
 * `USER` or `PASS` with a parameter. A telnet user's first line is a name,
 * which has no space, so it never looks like this.
 */
export function startsIrc(line: string): boolean {
  return /^(?:CAP|NICK|USER|PASS) +\S/i.test(line);
}

// Bold, italics, underline, strikethrough, monospace, reverse, reset; colours with their numbers.
const FORMATTING =
  /\x03(?:\d{1,2}(?:,\d{1,2})?)?|\x04(?:[0-9a-f]{6}(?:,[0-9a-f]{6})?)?|[\x02\x0f\x11\x16\x1d\x1e\x1f]/gi;

/** Removes IRC formatting (colours with their numbers, bold, italics...) from `text`. */
export function stripIrcFormatting(text: string): string {
  return text.replace(FORMATTING, "");
}

/** Why `nick` cannot be an IRC user's name here, or undefined when it can. */
export function nickProblem(nick: string): string | undefined {
  if (/[!@,:*?]|^[#&+~%$]/.test(nick)) return "Erroneous nickname: IRC cannot carry that name";
  try {
    validateName(nick);
  } catch (error) {
    return (error as Error).message;
  }
  return undefined;
}

// A list parameter (`#a,#b`), without empty entries.
function targets(param: string | undefined): string[] {
  return (param ?? "").split(",").filter((target) => target !== "");
}

const isChannel = (target: string) => target.startsWith("#");

/**
 * Handles one line of a registered user: what the relay must do becomes
 * requests, each with a `ref` of `COMMAND target` so its reply or error can be
 * told apart (a presence for NAMES or WHO, a `name_taken` for NICK).
 */
export function runIrcCommand(ctx: IrcContext, message: IrcMessage): MaybePromise<void> {
  const { command, params } = message;
  const needMore = () => ctx.reply((r) => r.numeric("461", [command], "Not enough parameters"));
  switch (command) {
    case "PRIVMSG":
    case "NOTICE":
      return say(ctx, command, params);
    case "JOIN":
      return params.length === 0 ? needMore() : join(ctx, params[0]!);
    case "PART": {
      if (params.length === 0) return needMore();
      const channels = targets(params[0]).slice(0, ctx.maxRooms);
      return ctx.request(
        ...channels.map((ch): ClientRequest => ({
          type: "leave",
          room: roomOfChannel(ch),
          ref: `PART ${ch}`,
        })),
      );
    }
    case "NICK": {
      const nick = params[0];
      if (nick === undefined || nick === "") {
        return ctx.reply((r) => r.numeric("431", [], "No nickname given"));
      }
      if (nick === ctx.nick) return;
      const problem = nickProblem(nick);
      if (problem) return ctx.reply((r) => r.numeric("432", [nick], problem));
      return ctx.request({ type: "nick", name: nick, ref: `NICK ${nick}` });
    }
    case "NAMES": {
      const channels = targets(params[0]).slice(0, MAX_QUERY_TARGETS);
      if (channels.length === 0) {
        return ctx.reply((r) => r.numeric("366", ["*"], "End of /NAMES list."));
      }
      return presence(ctx, "NAMES", channels);
    }
    case "LIST":
      return list(ctx, targets(params[0]).slice(0, MAX_QUERY_TARGETS));
    case "WHO":
      return who(ctx, params[0]);
    case "WHOIS":
      return params.length === 0 ? needMore() : whois(ctx, params.at(-1)!);
    case "MODE":
      return params.length === 0 ? needMore() : mode(ctx, params);
    case "AWAY": {
      const away = params[0];
      if (away === undefined || away === "") {
        ctx.away = undefined;
        return ctx.reply((r) => r.numeric("305", [], "You are no longer marked as being away"));
      }
      ctx.away = away;
      return ctx.reply((r) => r.numeric("306", [], "You have been marked as being away"));
    }
    case "ISON":
      return lookUp(ctx, params.join(" ").split(" ").filter(Boolean), (r, found) => {
        r.numeric("303", [], found.map(ircNick).join(" "));
      });
    case "USERHOST":
      return lookUp(ctx, params.slice(0, 5), (r, found) => {
        r.numeric(
          "302",
          [],
          found.map((name) => `${ircNick(name)}=+${ircNick(name)}@${IRC_HOST}`).join(" "),
        );
      });
    case "MOTD":
      return ctx.reply((r) => motd(r, ctx.server, ctx.motd));
    case "VERSION":
      return ctx.reply((r) => r.numeric("351", ["crosswire-1", ctx.server], "crosswire relay"));
    case "INVITE": {
      const channel = params[1];
      if (channel === undefined) return needMore();
      return ctx.reply((r) => r.numeric("482", [channel], "You're not channel operator"));
    }
    case "PASS":
      // A token user's new token, before the old one runs out (`/quote PASS TOKEN`).
      if (ctx.hasToken && params[0]) {
        return ctx.request({ type: "refresh", token: params[0], ref: "PASS" });
      }
      return ctx.reply((r) => r.numeric("462", [], "You may not reregister"));
    case "USER":
      return ctx.reply((r) => r.numeric("462", [], "You may not reregister"));
    default:
      return ctx.reply((r) => r.numeric("421", [command.slice(0, 32)], "Unknown command"));
  }
}

/** The motd numerics: 375, a 372 per line, 376; 422 when there is none. */
export function motd(r: IrcReplies, server: string, text: string | undefined): void {
  if (text === undefined || text.trim() === "") {
    r.numeric("422", [], "MOTD File is missing");
    return;
  }
  r.numeric("375", [], `- ${server} Message of the day -`);
  for (const line of text.split("\n")) r.numeric("372", [], `- ${line}`);
  r.numeric("376", [], "End of /MOTD command.");
}

function say(ctx: IrcContext, command: string, params: string[]): MaybePromise<void> {
  const notice = command === "NOTICE";
  // A target named twice is sent to once.
  const all = [...new Set(targets(params[0]))];
  // A NOTICE is never answered with an error (RFC 2812, 3.3.2).
  if (all.length === 0) {
    return notice
      ? undefined
      : ctx.reply((r) => r.numeric("411", [], "No recipient given (PRIVMSG)"));
  }
  let text = params[1] ?? "";
  let action = false;
  if (text.startsWith("\x01")) {
    // CTCP: ACTION is /me; the others (VERSION, PING...) mean nothing to the other modes' users.
    const ctcp = /^\x01ACTION(?: ([^\x01]*))?\x01?$/.exec(text);
    if (notice || !ctcp) return;
    text = ctcp[1] ?? "";
    action = true;
  }
  text = stripIrcFormatting(text);
  if (text.trim() === "") {
    return notice ? undefined : ctx.reply((r) => r.numeric("412", [], "No text to send"));
  }
  const chosen = all.slice(0, MAX_MESSAGE_TARGETS);
  if (!notice && all.length > chosen.length) {
    ctx.reply((r) => r.numeric("407", [all[chosen.length]!], "Too many targets"));
  }
  return ctx.request(...chosen.map((target): ClientRequest => {
    const content = { kind: "text" as const, text, action };
    const ref = `${command} ${target}`;
    return isChannel(target)
      ? { type: "publish", room: roomOfChannel(target), content, ref }
      : { type: "direct", to: target, content, ref };
  }));
}

function join(ctx: IrcContext, param: string): MaybePromise<void> {
  // `JOIN 0` leaves every channel.
  if (param === "0") {
    return ctx.request(
      ...[...ctx.rooms].map((room): ClientRequest => ({
        type: "leave",
        room,
        ref: `PART ${ircChannel(room)}`,
      })),
    );
  }
  const channels = targets(param).slice(0, ctx.maxRooms);
  const bad = channels.filter((ch) => !isChannel(ch));
  if (bad.length > 0) {
    ctx.reply((r) => bad.forEach((ch) => r.numeric("403", [ch], "No such channel")));
  }
  return ctx.request(
    ...channels.filter(isChannel).map((ch): ClientRequest => ({
      type: "join",
      room: roomOfChannel(ch),
      ref: `JOIN ${ch}`,
    })),
  );
}

function presence(ctx: IrcContext, command: string, channels: string[]): MaybePromise<void> {
  const bad = channels.filter((ch) => !isChannel(ch));
  if (bad.length > 0) {
    ctx.reply((r) => bad.forEach((ch) => r.numeric("403", [ch], "No such channel")));
  }
  return ctx.request(
    ...channels.filter(isChannel).map((ch): ClientRequest => ({
      type: "presence",
      room: roomOfChannel(ch),
      ref: `${command} ${ch}`,
    })),
  );
}

function list(ctx: IrcContext, channels: string[]): MaybePromise<void> {
  // The whole list is the relay's first page of rooms (its reply ends with 323);
  // named channels are asked one by one, so none is missed past that page.
  if (channels.length === 0) return ctx.request({ type: "rooms", limit: 100, ref: "LIST" });
  return then(
    presence(ctx, "LIST", channels),
    () => ctx.reply((r) => r.numeric("323", [], "End of /LIST")),
  );
}

function who(ctx: IrcContext, mask: string | undefined): MaybePromise<void> {
  if (mask === undefined || mask === "" || mask === "*" || mask === "0") {
    return ctx.reply((r) => r.numeric("315", [mask || "*"], "End of /WHO list."));
  }
  if (isChannel(mask)) return presence(ctx, "WHO", [mask]);
  return then(ctx.find(mask), (name) =>
    ctx.reply((r) => {
      if (name !== undefined) whoLine(r, ctx.server, "*", name);
      r.numeric("315", [mask], "End of /WHO list.");
    }));
}

/** One 352 line: `channel user host server nick H :0 realname`. */
export function whoLine(r: IrcReplies, server: string, channel: string, name: string): void {
  const nick = ircNick(name);
  r.numeric("352", [channel, nick, IRC_HOST, server, nick, "H"], `0 ${nick}`);
}

function whois(ctx: IrcContext, param: string): MaybePromise<void> {
  const nicks = targets(param).slice(0, MAX_QUERY_TARGETS);
  return findEach(ctx, nicks, (nick, name) =>
    ctx.reply((r) => {
      if (name === undefined) {
        r.numeric("401", [nick], "No such nick/channel");
      } else {
        const shown = ircNick(name);
        r.numeric("311", [shown, shown, IRC_HOST, "*"], shown);
        if (name === ctx.name && ctx.rooms.size > 0) {
          r.list("319", [shown], [...ctx.rooms].map(ircChannel));
        }
        r.numeric("312", [shown, ctx.server], "crosswire relay");
        if (name === ctx.name && ctx.away !== undefined) r.numeric("301", [shown], ctx.away);
      }
      r.numeric("318", [name === undefined ? nick : ircNick(name)], "End of /WHOIS list.");
    }));
}

function mode(ctx: IrcContext, params: string[]): MaybePromise<void> {
  const [target, modes] = params as [string, string | undefined];
  if (isChannel(target)) {
    if (modes === undefined) return ctx.reply((r) => r.numeric("324", [target, "+nt"]));
    // List queries (bans, exceptions, invites) have empty answers; changes need an operator.
    if (params.length === 2 && /^[+]?[beI]+$/.test(modes)) {
      return ctx.reply((r) => {
        for (const letter of modes.replace("+", "")) {
          if (letter === "b") r.numeric("368", [target], "End of channel ban list");
          if (letter === "e") r.numeric("349", [target], "End of channel exception list");
          if (letter === "I") r.numeric("347", [target], "End of channel invite list");
        }
      });
    }
    return ctx.reply((r) => r.numeric("482", [target], "You're not channel operator"));
  }
  if (target.toLowerCase() !== ctx.nick.toLowerCase()) {
    return ctx.reply((r) => r.numeric("502", [], "Can't change mode for other users"));
  }
  // Everyone is +i (invisible to a WHO of everyone); setting a mode changes nothing.
  if (modes === undefined) return ctx.reply((r) => r.numeric("221", ["+i"]));
}

// Finds each nick (bounded), then replies once with those online.
function lookUp(
  ctx: IrcContext,
  nicks: string[],
  answer: (r: IrcReplies, found: string[]) => void,
): MaybePromise<void> {
  const found: string[] = [];
  return then(
    findEach(ctx, nicks.slice(0, MAX_QUERY_TARGETS), (_nick, name) => {
      if (name !== undefined) found.push(name);
    }),
    () => ctx.reply((r) => answer(r, found)),
  );
}

// Finds the nicks one after another (each may ask the cluster).
function findEach(
  ctx: IrcContext,
  nicks: string[],
  each: (nick: string, name: string | undefined) => void,
): MaybePromise<void> {
  let i = 0;
  const next = (): MaybePromise<void> => {
    while (i < nicks.length) {
      const nick = nicks[i++]!;
      const found = ctx.find(nick);
      if (found instanceof Promise) return found.then((name) => each(nick, name)).then(next);
      each(nick, found);
    }
  };
  return next();
}
