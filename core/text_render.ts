// How events look to a telnet or netcat user: plain lines, nothing a terminal obeys.

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
  "  /me ACTION        describe an action",
  "  /echo [on|off]    see your own messages or not",
  "  /help             show this help",
  "  /quit             leave the server",
  "Any other line is said in the current room.",
];

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
  }, ${cleanText(file.type)}); a WebSocket client can receive it`;
}

// A multi-line message becomes several lines, each with the same prefix.
function prefixed(prefix: string, text: string): string[] {
  return cleanText(text, true).split("\n").map((line) => prefix + line);
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
export function renderTextLines(event: ServerEvent): string[] {
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
      if (event.file) return [`${SERVER}[${event.room}] ${fileNotice(event.from, event.file)}`];
      return event.action
        ? prefixed(`[${event.room}] * ${who(event.from)} `, event.text ?? "")
        : prefixed(`[${event.room}] ${who(event.from)}: `, event.text ?? "");
    case "direct": {
      const head = `[private ${who(event.from)} -> ${who(event.to)}] `;
      if (event.file) return [`${SERVER}${head}${fileNotice(event.from, event.file)}`];
      return prefixed(event.action ? `${head}* ${who(event.from)} ` : head, event.text ?? "");
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
    case "pong":
      return [`${SERVER}pong`];
    case "notice":
      return prefixed(SERVER, event.text);
    case "error":
      return [`${SERVER}error ${event.code}: ${cleanText(event.message)}`];
  }
}
