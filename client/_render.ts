// What the terminal client prints for each event. Users' words start with
// `[room]` or `[private FROM -> TO]`; the server's voice starts with `-!- `;
// the client's own news starts with `* `, and a gap is a line of its own
// between dashes: no user can produce any of those three.

import { formatBytes } from "../core/text_render.ts";
import { cleanText, terminalSafe } from "../core/sanitize.ts";
import { couldMislead } from "../core/misleading.ts";
import type { FileInfo, ModeratedEvent, ServerEvent } from "../core/protocol.ts";
import type { GapEvent, ReconnectingEvent, ResumedEvent } from "./events.ts";
import type { Paint } from "./_colors.ts";

const SERVER = "-!- ";

/**
 * How the terminal client shows a name: cleaned for the terminal, and followed by `(?)`
 * (painted with `mark`) when it could mislead (see `couldMislead` in core/misleading.ts).
 */
export function showName(name: string, mark: Paint = (text) => text): string {
  const shown = terminalSafe(cleanText(name));
  return couldMislead(name) ? `${shown}${mark("(?)")}` : shown;
}

// The server's report of a share (as in text mode): no /me can imitate it.
function fileText(file: FileInfo): string {
  return `shared a file: ${JSON.stringify(cleanText(file.name))} (${formatBytes(file.size)}, ${
    cleanText(file.type)
  })`;
}

// A multi-line text becomes several lines, each with the same prefix.
function prefixed(prefix: string, text: string): string[] {
  return cleanText(text, true).split("\n").map((line) => prefix + line);
}

/** How {@link renderEvent} shows an event. */
export interface RenderOptions {
  /** The message is from history: show when it was said, `[lobby 14:02]`. @default false */
  replayed?: boolean;
}

/**
 * The lines the terminal client prints for `event`, without colour. What users say starts with
 * `[room]` or `[private FROM -> TO]`; everything the server says (welcome, joins, leaves,
 * renames, presence, rooms, history, notices, errors) starts with `-!- `, which no user can
 * produce, so nobody can forge the server's voice. Names that could mislead carry `(?)`,
 * painted with `mark`.
 *
 * @param event An event from the server.
 * @param mark Paints the `(?)` after a name that could mislead.
 * @param options Whether the message is from history.
 * @returns The lines to print; none for `hello`.
 */
export function renderEvent(
  event: ServerEvent,
  mark: Paint = (text) => text,
  options: RenderOptions = {},
): string[] {
  const who = (name: string) => showName(name, mark);
  const room = (name: string) => `[${cleanText(name)}]`;
  switch (event.type) {
    case "hello":
      return [];
    case "message":
    case "direct": {
      // A message from history shows when it was said, in UTC like the server's text mode.
      const at = options.replayed ? ` ${clock(event.ts)}` : "";
      const head = event.type === "message"
        ? `[${cleanText(event.room)}${at}] `
        : `[private ${who(event.from)} -> ${who(event.to)}${at}] `;
      if (event.file) return [`${SERVER}${head}${who(event.from)} ${fileText(event.file)}`];
      const text = event.text ?? "";
      if (event.action) return prefixed(`${head}* ${who(event.from)} `, text);
      return prefixed(event.type === "message" ? `${head}${who(event.from)}: ` : head, text);
    }
    case "welcome": {
      const others = event.others === 1 ? "1 other user" : `${event.others} other users`;
      const where = event.rooms.map((each) => cleanText(each)).join(", ") || "no room";
      return [
        `${SERVER}Welcome, ${
          who(event.name)
        }! ${others} online. You are in ${where}; type /help for commands.`,
        ...(event.motd ? prefixed(SERVER, event.motd) : []),
      ];
    }
    case "joined":
      return [`${SERVER}${room(event.room)} ${who(event.name)} joined`];
    case "left": {
      const how = event.reason === "leave" ? "left" : "disconnected";
      return [`${SERVER}${room(event.room)} ${who(event.name)} ${how}`];
    }
    case "renamed": {
      const where = event.room === undefined ? "" : `${room(event.room)} `;
      return [`${SERVER}${where}${who(event.from)} is now ${who(event.to)}`];
    }
    case "presence": {
      const more = event.count > event.members.length
        ? ` and ${event.count - event.members.length} more`
        : "";
      const members = event.members.map(who).join(", ");
      return [`${SERVER}${room(event.room)} ${event.count} here: ${members}${more}`];
    }
    case "rooms": {
      if (event.total === 0) return [`${SERVER}No rooms.`];
      const listed = event.rooms.map((each) => `${cleanText(each.name)} (${each.members})`);
      const last = event.rooms.at(-1)?.name;
      return [
        event.total > event.rooms.length && last !== undefined
          ? `${SERVER}Rooms: ${listed.join(", ")} and more; /rooms ${
            cleanText(last)
          } lists those after ${cleanText(last)}`
          : `${SERVER}Rooms: ${listed.join(", ") || "none after that"}`,
      ];
    }
    case "history": {
      const where = event.room === undefined ? "private messages" : room(event.room);
      if (event.count === 0) return [`${SERVER}${where} no messages`];
      const count = event.count === 1 ? "1 message" : `${event.count} messages`;
      return [`${SERVER}${where} the last ${count} (times in UTC):`];
    }
    case "pong":
      return [`${SERVER}pong`];
    case "notice":
      return prefixed(SERVER, event.text);
    case "moderated": {
      const where = event.room === undefined ? "" : `${room(event.room)} `;
      return [`${SERVER}${where}${moderatedText(event, who)}`];
    }
    case "topic":
      return [
        event.text === ""
          ? `${SERVER}${room(event.room)} ${who(event.by)} cleared the topic`
          : `${SERVER}${room(event.room)} topic: ${cleanText(event.text)} (set by ${
            who(event.by)
          })`,
      ];
    case "error":
      return [`${SERVER}error ${cleanText(event.code)}: ${cleanText(event.message)}`];
  }
}

// What a moderator did, as the server's text mode says it: `bob was kicked by ann (spam)`.
function moderatedText(event: ModeratedEvent, who: (name: string) => string): string {
  const end = new Date(typeof event.until === "number" ? event.until : NaN);
  const until = Number.isNaN(end.getTime())
    ? ""
    : ` until ${end.toISOString().slice(0, 16).replace("T", " ")} UTC`;
  const did = {
    kick: "was kicked",
    ban: "was banned",
    unban: "is no longer banned",
    mute: "was muted",
    unmute: "may speak again",
  }[event.action] ?? cleanText(String(event.action));
  const why = event.reason === undefined ? "" : ` (${cleanText(event.reason)})`;
  return `${who(event.name)} ${did} by ${who(event.by)}${until}${why}`;
}

/** The user names an event shows. */
export function namesIn(event: ServerEvent): string[] {
  switch (event.type) {
    case "message":
      return [event.from];
    case "direct":
      return [event.from, event.to];
    case "welcome":
    case "joined":
    case "left":
      return [event.name];
    case "renamed":
      return [event.from, event.to];
    case "presence":
      return event.members;
    case "moderated":
      return [event.name, event.by];
    case "topic":
      return [event.by];
    default:
      return [];
  }
}

/**
 * The lines for the client's own news about its connection: a reconnect to
 * come, the session back (and how much came back), or a gap.
 */
export function renderClientEvent(event: ReconnectingEvent | ResumedEvent | GapEvent): string {
  switch (event.type) {
    case "reconnecting": {
      const seconds = (event.delayMs / 1000).toFixed(1);
      const why = `${event.code}${event.reason ? `: ${cleanText(event.reason)}` : ""}`;
      return event.attempt === 1
        ? `* connection lost (${why}); reconnecting in ${seconds} s…`
        : `* still not connected (${why}); reconnecting in ${seconds} s… (attempt ${event.attempt})`;
    }
    case "resumed": {
      const count = event.rooms.reduce((sum, room) => sum + room.count, event.direct?.count ?? 0);
      const recovered = `${count} missed message${count === 1 ? "" : "s"} recovered`;
      return event.session
        ? `* reconnected: ${recovered}`
        : `* reconnected: session expired, logged in again; ${recovered}`;
    }
    case "gap":
      return event.room === undefined
        ? "-- some private messages could not be recovered --"
        : `-- some messages in #${cleanText(event.room)} could not be recovered --`;
  }
}

/** `14:02`, in UTC: what the server's text mode shows for a message from history. */
function clock(ts: number): string {
  return new Date(ts).toISOString().slice(11, 16);
}
