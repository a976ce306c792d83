// How events look to a telnet or netcat user: plain lines, nothing a terminal obeys.

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
  "  /rooms            list rooms and member counts",
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

function fileNotice(file: FileInfo): string {
  return `shared ${cleanText(file.name)} (${formatBytes(file.size)}, ${
    cleanText(file.type)
  }); a WebSocket client can receive it`;
}

// A multi-line message becomes several lines, each with the same prefix.
function prefixed(prefix: string, text: string): string[] {
  return cleanText(text, true).split("\n").map((line) => prefix + line);
}

/** The lines (without line endings) a text-mode user sees for `event`; none for some events. */
export function renderTextLines(event: ServerEvent): string[] {
  switch (event.type) {
    case "hello":
      return [];
    case "welcome": {
      const others = event.others === 1 ? "1 other user" : `${event.others} other users`;
      const lines = [
        `Welcome, ${event.name}! ${others} online. You are in ${
          event.rooms.join(", ") || "no room"
        }; type /help for commands.`,
      ];
      if (event.motd) lines.push(...prefixed("* ", event.motd));
      return lines;
    }
    case "message":
      if (event.file) return [`[${event.room}] * ${event.from} ${fileNotice(event.file)}`];
      return event.action
        ? prefixed(`[${event.room}] * ${event.from} `, event.text ?? "")
        : prefixed(`[${event.room}] ${event.from}: `, event.text ?? "");
    case "direct": {
      const head = `[private ${event.from} -> ${event.to}] `;
      if (event.file) return [head + fileNotice(event.file)];
      return prefixed(event.action ? `${head}* ${event.from} ` : head, event.text ?? "");
    }
    case "joined":
      return [`[${event.room}] * ${event.name} joined`];
    case "left":
      return [
        `[${event.room}] * ${event.name} ${event.reason === "leave" ? "left" : "disconnected"}`,
      ];
    case "renamed":
      return [`${event.room ? `[${event.room}] ` : ""}* ${event.from} is now ${event.to}`];
    case "presence": {
      const more = event.count > event.members.length
        ? ` and ${event.count - event.members.length} more`
        : "";
      return [`[${event.room}] ${event.count} here: ${event.members.join(", ")}${more}`];
    }
    case "rooms":
      return [
        event.rooms.length === 0
          ? "No rooms."
          : `Rooms: ${event.rooms.map((room) => `${room.name} (${room.members})`).join(", ")}`,
      ];
    case "pong":
      return ["pong"];
    case "notice":
      return prefixed("* ", event.text);
    case "error":
      return [`! ${event.code}: ${cleanText(event.message)}`];
  }
}
