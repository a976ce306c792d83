// Text-mode input: a slash command or something to say, turned into the same
// requests JSON clients send, so both modes share one set of handlers.

import { RelayError } from "./errors.ts";
import type { ClientRequest } from "./protocol.ts";

/** Rooms one `/rooms` line lists: a line, not a page. */
const TEXT_ROOMS = 20;
/** Messages `/history` shows unless told how many. */
const TEXT_HISTORY = 20;

function splitFirst(rest: string): [string, string] {
  const match = /^(\S+)\s*([\s\S]*)$/.exec(rest);
  return match ? [match[1]!, match[2]!] : ["", ""];
}

function needsRoom(current: string | undefined): string {
  if (current === undefined) {
    throw new RelayError("not_in_room", "you are not in any room; /join one first");
  }
  return current;
}

function usage(text: string): never {
  throw new RelayError("bad_message", `usage: ${text}`);
}

/**
 * Parses one text-mode line from a logged-in user. `current` is the room plain
 * text goes to. Returns null for a blank line.
 */
export function parseTextLine(line: string, current: string | undefined): ClientRequest | null {
  if (line.trim() === "") return null;
  if (!line.startsWith("/") || line.startsWith("//")) {
    const text = line.startsWith("//") ? line.slice(1) : line;
    return {
      type: "publish",
      room: needsRoom(current),
      content: { kind: "text", text, action: false },
    };
  }
  const [command, rest] = splitFirst(line.slice(1));
  const arg = rest.trim();
  switch (command.toLowerCase()) {
    case "nick":
    case "name":
      return arg ? { type: "nick", name: arg } : usage("/nick NAME");
    case "join":
    case "j":
      return arg ? { type: "join", room: arg } : usage("/join ROOM");
    case "leave":
    case "part":
      return { type: "leave", room: arg || needsRoom(current) };
    case "msg":
    case "m": {
      const [to, text] = splitFirst(arg);
      return to && text
        ? { type: "direct", to, content: { kind: "text", text, action: false } }
        : usage("/msg NAME TEXT");
    }
    case "who":
      return { type: "presence", room: arg || needsRoom(current) };
    case "rooms":
    case "list":
      return arg
        ? { type: "rooms", limit: TEXT_ROOMS, after: arg }
        : { type: "rooms", limit: TEXT_ROOMS };
    case "history": {
      if (arg !== "" && !/^\d{1,3}$/.test(arg)) usage("/history [N]");
      const limit = arg === "" ? TEXT_HISTORY : Math.min(Math.max(Number(arg), 1), 100);
      return { type: "history", room: needsRoom(current), limit };
    }
    case "me":
      return arg
        ? {
          type: "publish",
          room: needsRoom(current),
          content: { kind: "text", text: arg, action: true },
        }
        : usage("/me ACTION");
    case "echo":
      if (arg === "" || arg === "on") return { type: "echo", on: true };
      return arg === "off" ? { type: "echo", on: false } : usage("/echo [on|off]");
    case "help":
    case "?":
      return { type: "help" };
    case "auth":
      return arg ? { type: "refresh", token: arg } : usage("/auth TOKEN");
    case "oper":
      return arg ? { type: "oper", password: arg } : usage("/oper PASSWORD");
    case "kick": {
      const [name, reason] = splitFirst(arg);
      if (!name) usage("/kick NAME [REASON]");
      return reason ? { type: "kick", name, reason: reason.trim() } : { type: "kick", name };
    }
    case "ban":
    case "mute": {
      const [target, rest] = splitFirst(arg);
      const ban = command.toLowerCase() === "ban";
      if (!target) usage(`/${ban ? "ban NAME|ADDRESS" : "mute NAME"} [MINUTES] [REASON]`);
      const [first, after] = splitFirst(rest);
      const minutes = /^\d+(\.\d+)?$/.test(first) ? Number(first) : undefined;
      const reason = (minutes === undefined ? rest : after).trim();
      const extra = {
        ...(minutes === undefined ? {} : { minutes }),
        ...(reason === "" ? {} : { reason }),
      };
      return ban ? { type: "ban", target, ...extra } : { type: "mute", name: target, ...extra };
    }
    case "unban":
      return arg ? { type: "unban", target: arg } : usage("/unban NAME|ADDRESS");
    case "unmute":
      return arg ? { type: "unmute", name: arg } : usage("/unmute NAME");
    case "topic":
      return arg
        ? { type: "topic", room: needsRoom(current), text: arg }
        : { type: "topic", room: needsRoom(current) };
    case "quit":
    case "exit":
      return { type: "quit" };
    default:
      throw new RelayError(
        "unknown_command",
        `unknown command /${command.slice(0, 32)}; try /help`,
      );
  }
}
