// How events look to a telnet or netcat user: plain lines, nothing a terminal obeys.

import type { ModeratedEvent } from "./protocol_admin.ts";
import { couldMislead } from "./misleading.ts";
import { cleanText } from "./sanitize.ts";
import type { FileInfo, ServerEvent } from "./protocol.ts";

/** Help shown for `/help` in text mode. */
export const TEXT_HELP: readonly string[] = [
  "Commands:",
  "  /nick NAME        change your name",
  "  /join ROOM        join (or create) a room and talk there",
  "  /leave [ROOM]     leave a room (default: the current one)",
  "  /msg NAME TEXT    send a private message",
  "  /who [ROOM]       list who is in a room",
  "  /rooms [AFTER]    list rooms and member counts (those after AFTER)",
  "  /history [N]      show the current room's last N messages (default 20)",
  "  /me ACTION        describe an action",
  "  /echo [on|off]    see your own messages or not",
  "  /topic [TEXT]     show the current room's topic (admins: set it)",
  "  /auth TOKEN       log in with a token (before a name), or replace an expiring one",
  "  /oper PASSWORD    become an admin with the operator password",
  "Admins: /kick NAME [REASON], /ban NAME|ADDRESS [MINUTES] [REASON], /unban NAME|ADDRESS,",
  "        /mute NAME [MINUTES] [REASON], /unmute NAME (bans and mutes last 60 minutes by default)",
  "  /help             show this help",
  "  /quit             leave the server",
  "Any other line is said in the current room.",
  "Files others share are announced; the web page or the terminal client receives them.",
];

/** A size for people: bytes, KiB or MiB, one decimal. */
export function formatBytes(size: number): string {
  if (size < 1024) return `${size} B`;
  if (size < 1024 * 1024) return `${(size / 1024).toFixed(1)} KiB`;
  return `${(size / 1024 / 1024).toFixed(1)} MiB`;
}

// A file share is the server's report of what a user did, so no /me can imitate it; the
// name, which the sender chose, is quoted.
function fileNotice(from: string, file: FileInfo): string {
  return `${who(from)} shared a file: ${JSON.stringify(cleanText(file.name))} (${
    formatBytes(file.size)
  }, ${cleanText(file.type)})`;
}

// A multi-line message becomes several lines, each with the same prefix.
function prefixed(prefix: string, text: string): string[] {
  return cleanText(text, true).split("\n").map((line) => prefix + line);
}

// What a user chose (their words, a file's name) may be long: wrapped here, not by the terminal.
function said(lines: string[]): string[] {
  return lines.flatMap(wrapLine);
}

// A name that could pass for someone else's is marked, as the page and the terminal client do.
function who(name: string): string {
  return couldMislead(name) ? `${name}(?)` : name;
}

/** Starts every line in the server's own voice; no user can type a line that starts so. */
const SERVER = "-!- ";

/**
 * The lines (without line endings) a text-mode user sees for `event`; none for
 * some events. Users' words always start with `[room]` or `[private ...]` and
 * the speaker's name; the server's lines start with `-!-`, so a user cannot
 * forge a join, a leave or a notice.
 */
export function renderTextLines(event: ServerEvent, replayed = false): string[] {
  // A replayed message shows when it was said: `[lobby 14:02] bob: hi`.
  const at = replayed && "ts" in event ? " " + clock(event.ts) : "";
  switch (event.type) {
    case "hello":
      return [];
    case "welcome": {
      const others = event.others === 1 ? "1 other user" : `${event.others} other users`;
      const lines = [
        `${SERVER}Welcome, ${who(event.name)}! ${others} online. You are in ${
          event.rooms.join(", ") || "no room"
        }; type /help for commands.`,
      ];
      if (event.motd) lines.push(...prefixed(SERVER, event.motd));
      return lines;
    }
    case "message":
      if (event.file) {
        return said([`${SERVER}[${event.room}${at}] ${fileNotice(event.from, event.file)}`]);
      }
      return said(
        event.action
          ? prefixed(`[${event.room}${at}] * ${who(event.from)} `, event.text ?? "")
          : prefixed(`[${event.room}${at}] ${who(event.from)}: `, event.text ?? ""),
      );
    case "direct": {
      const head = `[private ${who(event.from)} -> ${who(event.to)}${at}] `;
      if (event.file) return said([`${SERVER}${head}${fileNotice(event.from, event.file)}`]);
      return said(prefixed(event.action ? `${head}* ${who(event.from)} ` : head, event.text ?? ""));
    }
    case "joined":
      return [`${SERVER}[${event.room}] ${who(event.name)} joined`];
    case "left":
      return [
        `${SERVER}[${event.room}] ${who(event.name)} ${
          event.reason === "leave" ? "left" : "disconnected"
        }`,
      ];
    case "renamed":
      return [
        `${SERVER}${event.room ? `[${event.room}] ` : ""}${who(event.from)} is now ${
          who(event.to)
        }`,
      ];
    case "presence": {
      const more = event.count > event.members.length
        ? ` and ${event.count - event.members.length} more`
        : "";
      return [
        `${SERVER}[${event.room}] ${event.count} here: ${event.members.map(who).join(", ")}${more}`,
      ];
    }
    case "rooms": {
      if (event.total === 0) return [`${SERVER}No rooms.`];
      const listed = event.rooms.map((room) => `${room.name} (${room.members})`).join(", ");
      const rest = event.total - event.rooms.length;
      const last = event.rooms.at(-1)?.name;
      return [
        rest > 0 && last !== undefined
          ? `${SERVER}Rooms: ${listed} and more; /rooms ${last} lists those after ${last}`
          : `${SERVER}Rooms: ${listed || "none after that"}`,
      ];
    }
    case "history": {
      const where = event.room === undefined ? "private messages" : `[${event.room}]`;
      if (event.count === 0) {
        return [`${SERVER}${where} ${event.recovered ? "nothing missed" : "no messages yet"}`];
      }
      const count = event.count === 1 ? "1 message" : `${event.count} messages`;
      return [
        `${SERVER}${where} ${event.recovered ? `${count} you missed` : `the last ${count}`}` +
        " (times in UTC):",
      ];
    }
    case "pong":
      return [`${SERVER}pong`];
    case "notice":
      return prefixed(SERVER, event.text);
    case "moderated":
      return said([`${SERVER}${event.room ? `[${event.room}] ` : ""}${moderatedText(event)}`]);
    case "topic":
      return said([
        event.text === ""
          ? `${SERVER}[${event.room}] ${who(event.by)} cleared the topic`
          : `${SERVER}[${event.room}] topic: ${cleanText(event.text)} (set by ${who(event.by)})`,
      ]);
    case "error":
      return [`${SERVER}error ${event.code}: ${cleanText(event.message)}`];
  }
}

/** What a moderator did, in words: `bob was kicked by ann (spam)`. */
export function moderatedText(event: ModeratedEvent): string {
  const until = event.until === undefined
    ? ""
    : ` until ${new Date(event.until).toISOString().slice(0, 16).replace("T", " ")} UTC`;
  const did = {
    kick: "was kicked",
    ban: "was banned",
    unban: "was unbanned",
    mute: "was muted",
    unmute: "was unmuted",
  }[event.action];
  const why = event.reason === undefined ? "" : ` (${cleanText(event.reason)})`;
  return `${who(event.name)} ${did} by ${who(event.by)}${until}${why}`;
}

/** `14:02`, in UTC: the server does not know the user's time zone. */
function clock(ts: number): string {
  return new Date(ts).toISOString().slice(11, 16);
}

/** Columns a text-mode line may take before the server wraps it itself. */
const WRAP_COLUMNS = 78;
/** What a wrapped line's continuations start with: nothing a first line starts with. */
const CONTINUATION = "    ";
// Characters a terminal draws two columns wide (CJK, Hangul, full-width forms, most emoji).
const WIDE =
  /[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\u{1f300}-\u{1f64f}\u{1f900}-\u{1f9ff}\u{20000}-\u{3fffd}]/u;

/**
 * Splits a line wider than a terminal into several, each continuation indented. A
 * terminal that wrapped it by itself would start a screen line with whatever a user
 * put there (`-!- [lobby] ann left`, after enough padding); wrapped here, that text
 * sits on an indented continuation, which no line of the server's or a user's own
 * starts with.
 */
export function wrapLine(line: string): string[] {
  // Narrow characters only (ASCII, Latin, Greek, Cyrillic...): one column each, cut by length.
  if (!/[^\u0020-\u10ff]/.test(line)) {
    if (line.length <= WRAP_COLUMNS) return [line];
    const lines = [line.slice(0, WRAP_COLUMNS)];
    const step = WRAP_COLUMNS - CONTINUATION.length;
    for (let at = WRAP_COLUMNS; at < line.length; at += step) {
      lines.push(CONTINUATION + line.slice(at, at + step));
    }
    return lines;
  }
  const lines: string[] = [];
  let current = "";
  let columns = 0;
  for (const char of line) {
    const width = WIDE.test(char) ? 2 : 1;
    if (columns + width > WRAP_COLUMNS) {
      lines.push(current);
      current = CONTINUATION;
      columns = CONTINUATION.length;
    }
    current += char;
    columns += width;
  }
  lines.push(current);
  return lines;
}
