// What a text-mode line (telnet, netcat, or a JSON `input` request) asks for:
// before login every plain line is a name; after it, slash commands and chat.

import { RelayError } from "./errors.ts";
import type { ClientRequest } from "./protocol.ts";
import type { Session } from "./session.ts";
import { parseTextLine } from "./text_commands.ts";

// Commands a text-mode user may type before choosing a name.
const PRE_LOGIN_COMMANDS = new Set(["nick", "name", "help", "?", "quit", "exit", "auth"]);

/**
 * What one line asks for: a login with a name (or a token, from `/auth`), a
 * request, or nothing (a blank line).
 */
export type LineIntent =
  | { login: string; token?: string }
  | { request: ClientRequest }
  | undefined;

/** Reads one text-mode line from `session`. Throws `not_logged_in` for commands that need a name. */
export function readLine(session: Session, line: string): LineIntent {
  if (session.state !== "new") {
    const request = parseTextLine(line, session.currentRoom);
    return request ? { request } : undefined;
  }
  const trimmed = line.trim();
  if (trimmed === "") return undefined;
  if (!trimmed.startsWith("/")) return { login: trimmed };
  const command = /^\/(\S*)/.exec(trimmed)![1]!.toLowerCase();
  if (!PRE_LOGIN_COMMANDS.has(command)) {
    throw new RelayError("not_logged_in", "log in first: type your name");
  }
  const request = parseTextLine(trimmed, undefined)!;
  if (request.type === "nick") return { login: request.name };
  return request.type === "refresh" ? { login: "", token: request.token } : { request };
}
