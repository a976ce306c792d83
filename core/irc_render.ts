// deno-lint-ignore-file no-control-regex -- what must never reach an IRC line is control characters
// How events look to an IRC client (RFC 1459 / RFC 2812 lines). What every
// receiver sees alike (a room message, a join) is rendered here once per event
// for all IRC sessions; replies that name their receiver (numerics) are built
// per session by irc_session.ts with the helpers at the end of this file.

import { utf8Length } from "./_utf8.ts";
import type { FileInfo, ServerEvent } from "./protocol.ts";
import { cleanText } from "./sanitize.ts";
import { formatBytes } from "./text_render.ts";

/** Longest IRC line without its CRLF: 512 bytes in all (RFC 1459, 2.3). */
export const IRC_LINE_BYTES = 510;

/** The host part of every user's mask: `nick!nick@crosswire`. */
export const IRC_HOST = "crosswire";

// Characters that end or split an IRC parameter, a prefix or a target list.
// Never in a valid name or room, but a remote node's events are checked again.
const UNSAFE = /[\x00-\x20\x7f]/g;
// In a nick: the prefix separators, list and trailing marks; first, what clients
// read as a channel or a status prefix in NAMES.
const NICK_SPECIAL = /[!@,:]|^[#&+~%$]/g;

/**
 * The nick an IRC client sees for a crosswire name. `!`, `@`, `,` and `:`
 * anywhere, and a channel or status mark first, would break IRC's parsing:
 * they become their full-width forms (`！`), which name the same user, since
 * names are compared by {@link nameKey}, whose NFKC turns them back.
 */
export function ircNick(name: string): string {
  const safe = name.replace(UNSAFE, "_");
  return safe.replace(NICK_SPECIAL, (char) => String.fromCodePoint(char.codePointAt(0)! + 0xfee0));
}

/** The channel for a room: `#` and the room, its commas (IRC's list mark) full-width. */
export function ircChannel(room: string): string {
  return "#" + room.replace(UNSAFE, "_").replaceAll(",", "\uff0c");
}

/** The room an IRC channel names: the `#` is dropped by room validation; `，` is a comma again. */
export function roomOfChannel(channel: string): string {
  return channel.replaceAll("\uff0c", ",");
}

/** `nick!nick@crosswire`: how IRC names the user who did something. */
export function ircMask(name: string): string {
  const nick = ircNick(name);
  return `${nick}!${nick}@${IRC_HOST}`;
}

/**
 * Lines `head + piece + tail`, each at most {@link IRC_LINE_BYTES} bytes,
 * whose pieces together are `text`: cut at a space when one is near the end,
 * never inside a character.
 */
export function splitLines(head: string, text: string, tail = ""): string[] {
  const budget = Math.max(IRC_LINE_BYTES - utf8Length(head) - utf8Length(tail), 32);
  if (utf8Length(text) <= budget) return [head + text + tail];
  const lines: string[] = [];
  let start = 0;
  while (start < text.length) {
    let end = start;
    let bytes = 0;
    let space = -1;
    while (end < text.length) {
      const code = text.codePointAt(end)!;
      const size = code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
      if (bytes + size > budget) break;
      bytes += size;
      end += code > 0xffff ? 2 : 1;
      if (code === 0x20) space = end;
    }
    // A word cut in two is harder to read than a line ended early.
    if (end < text.length && space > start + (end - start) / 2) end = space;
    lines.push(head + text.slice(start, end) + tail);
    start = end;
  }
  return lines;
}

// A user's words: one PRIVMSG line (or more) per line of text; a replayed one shows its time.
function said(head: string, text: string, action: boolean, at: string): string[] {
  const lines: string[] = [];
  for (const line of cleanText(text, true).split("\n")) {
    if (line === "") continue;
    lines.push(
      ...(action
        ? splitLines(head + "\x01ACTION " + at, line, "\x01")
        : splitLines(head + at, line)),
    );
  }
  return lines;
}

/** What the sender did, for a file: `shared a file: "cat.png" (12.3 KiB, image/png)`. */
export function fileText(file: FileInfo): string {
  return `shared a file: ${JSON.stringify(cleanText(file.name))} (${formatBytes(file.size)}, ${
    cleanText(file.type)
  })`;
}

/** `[14:02] `, in UTC: the time a replayed message was said. */
function clock(ts: number): string {
  return `[${new Date(ts).toISOString().slice(11, 16)}] `;
}

/**
 * The lines (without CRLF) every IRC receiver of `event` sees alike, or null
 * for an event whose lines name the receiver (numerics, notices), which the
 * session renders itself. A shared file becomes a NOTICE from its sender.
 */
export function renderIrcShared(event: ServerEvent, replayed = false): string[] | null {
  switch (event.type) {
    case "message": {
      const head = `:${ircMask(event.from)} `;
      const channel = ircChannel(event.room);
      if (event.file) return splitLines(`${head}NOTICE ${channel} :`, fileText(event.file));
      const at = replayed ? clock(event.ts) : "";
      return said(`${head}PRIVMSG ${channel} :`, event.text ?? "", event.action === true, at);
    }
    case "direct": {
      const head = `:${ircMask(event.from)} `;
      const to = ircNick(event.to);
      if (event.file) return splitLines(`${head}NOTICE ${to} :`, fileText(event.file));
      const at = replayed ? clock(event.ts) : "";
      return said(`${head}PRIVMSG ${to} :`, event.text ?? "", event.action === true, at);
    }
    case "joined":
      return [`:${ircMask(event.name)} JOIN ${ircChannel(event.room)}`];
    case "left":
      return [
        `:${ircMask(event.name)} PART ${ircChannel(event.room)}` +
        (event.reason === "leave" ? "" : " :disconnected"),
      ];
    case "renamed":
      return [`:${ircMask(event.from)} NICK :${ircNick(event.to)}`];
    case "moderated":
      // A kick is IRC's own KICK (clients take the user out of the channel). The
      // rest are notices in the server's voice, which name the receiver's server.
      if (event.room === undefined || event.action !== "kick") return null;
      return splitLines(
        `:${ircMask(event.by)} KICK ${ircChannel(event.room)} ${ircNick(event.name)} :`,
        cleanText(event.reason ?? "kicked"),
      );
    case "topic":
      return splitLines(
        `:${ircMask(event.by)} TOPIC ${ircChannel(event.room)} :`,
        cleanText(event.text),
      );
    default:
      return null;
  }
}

// A middle parameter: never empty, with no space or control character.
function safeParam(param: string): string {
  return param.replace(UNSAFE, "_") || "*";
}

/**
 * Numeric replies and notices for one receiver: `:server 353 nick ...`. Each
 * ends with a trailing parameter `text` (split over several lines when long).
 */
export class IrcReplies {
  readonly lines: string[] = [];
  readonly #server: string;
  readonly #target: string;

  /** Replies from `server` to the user `target` (its nick, or `*` before it has one). */
  constructor(server: string, target: string) {
    this.#server = server;
    this.#target = target;
  }

  /**
   * `:server NUM target params... :text`. Parameters and text may echo what
   * the client sent (a bad nick, a PING token): a space or control character
   * in a parameter becomes `_`, and controls are removed from the text, so a
   * reply is always one well-formed line.
   */
  numeric(code: string, params: string[], text?: string): this {
    const middle = params.length === 0 ? "" : " " + params.map(safeParam).join(" ");
    const head = `:${this.#server} ${code} ${this.#target}${middle}`;
    if (text === undefined) this.lines.push(head);
    else this.lines.push(...splitLines(head + " :", cleanText(text)));
    return this;
  }

  /** A line from the server that is not a numeric: `:server COMMAND params... :text`. */
  command(command: string, params: string[], text?: string): this {
    const head = `:${this.#server} ${command}${params.map((p) => " " + safeParam(p)).join("")}`;
    if (text === undefined) this.lines.push(head);
    else this.lines.push(...splitLines(head + " :", cleanText(text)));
    return this;
  }

  /** `:server NOTICE target :text`, a line per line of text. */
  notice(text: string, to = this.#target): this {
    for (const line of cleanText(text, true).split("\n")) {
      if (line !== "") this.lines.push(...splitLines(`:${this.#server} NOTICE ${to} :`, line));
    }
    return this;
  }

  /** A list of words (names, nicks) over as few lines `NUM target params :w1 w2 ...` as fit. */
  list(code: string, params: string[], words: string[]): this {
    const head = `:${this.#server} ${code} ${this.#target} ${params.join(" ")} :`;
    const budget = IRC_LINE_BYTES - utf8Length(head);
    let line = "";
    for (const word of words) {
      const next = line === "" ? word : line + " " + word;
      if (line !== "" && utf8Length(next) > budget) {
        this.lines.push(head + line);
        line = word;
      } else {
        line = next;
      }
    }
    if (line !== "") this.lines.push(head + line);
    return this;
  }
}
