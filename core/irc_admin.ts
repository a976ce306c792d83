// An IRC client's lines about who may do what: TOPIC, KICK and OPER, which
// IRC has, and MUTE, UNMUTE, BAN and UNBAN, which it has not (typed with
// `/quote`, read as text mode reads `/mute` and the rest). They become the
// requests JSON and text-mode clients send; the relay decides who may.

import type { MaybePromise } from "./engine.ts";
import { RelayError } from "./errors.ts";
import { type IrcContext, type IrcMessage, stripIrcFormatting } from "./irc_commands.ts";
import { roomOfChannel } from "./irc_render.ts";
import { validateRoom } from "./names.ts";
import type { ClientRequest } from "./protocol.ts";
import { parseTextLine } from "./text_commands.ts";

/** The commands {@link runIrcAdminCommand} handles. */
export const IRC_ADMIN_COMMANDS: ReadonlySet<string> = new Set([
  "TOPIC",
  "KICK",
  "OPER",
  "MUTE",
  "UNMUTE",
  "BAN",
  "UNBAN",
]);

/**
 * The `ref` command of a TOPIC that asks (`TOPIC? #channel`): its answer is
 * 332 and 333 (or 331), where a TOPIC that sets is answered by the TOPIC line
 * everyone in the channel sees.
 */
export const TOPIC_QUERY = "TOPIC?";

/** Nicks one KICK may name. */
const MAX_KICKS = 4;

/** Handles one of {@link IRC_ADMIN_COMMANDS} from a registered user. */
export function runIrcAdminCommand(ctx: IrcContext, message: IrcMessage): MaybePromise<void> {
  const { command, params } = message;
  const needMore = () => ctx.reply((r) => r.numeric("461", [command], "Not enough parameters"));
  switch (command) {
    case "TOPIC": {
      const [channel, text] = params;
      if (channel === undefined) return needMore();
      if (!channel.startsWith("#")) {
        return ctx.reply((r) => r.numeric("403", [channel], "No such channel"));
      }
      const room = roomOfChannel(channel);
      if (text === undefined) {
        return ctx.request({ type: "topic", room, ref: `${TOPIC_QUERY} ${channel}` });
      }
      // As on IRC servers, a topic is set from inside the channel: its TOPIC line is the answer.
      if (!inChannel(ctx, room)) {
        return ctx.reply((r) => r.numeric("442", [channel], "You're not on that channel"));
      }
      return ctx.request({
        type: "topic",
        room,
        text: stripIrcFormatting(text),
        ref: `TOPIC ${channel}`,
      });
    }
    case "KICK": {
      // A kick here disconnects the user from the whole relay: the channel names where it was asked.
      const [channel, nicks, reason] = params;
      if (channel === undefined || nicks === undefined) return needMore();
      if (!channel.startsWith("#")) {
        return ctx.reply((r) => r.numeric("403", [channel], "No such channel"));
      }
      const why = stripIrcFormatting(reason ?? "").trim();
      const names = nicks.split(",").filter((nick) => nick !== "").slice(0, MAX_KICKS);
      return ctx.request(...names.map((name): ClientRequest => ({
        type: "kick",
        name,
        ...(why === "" ? {} : { reason: why }),
        ref: `KICK ${channel} ${name}`,
      })));
    }
    case "OPER": {
      // `OPER name password`: the relay has one operator password, so the name is not used.
      const password = params[1];
      if (password === undefined) return needMore();
      return ctx.request({ type: "oper", password, ref: "OPER" });
    }
    default:
      return moderate(ctx, command, params);
  }
}

// MUTE, UNMUTE, BAN, UNBAN: read as text mode reads `/mute NAME [MINUTES] [REASON]`.
function moderate(ctx: IrcContext, command: string, params: string[]): MaybePromise<void> {
  const target = params[0];
  if (target === undefined || target === "") {
    return ctx.reply((r) => r.numeric("461", [command], "Not enough parameters"));
  }
  let request: ClientRequest;
  try {
    const line = `/${command.toLowerCase()} ${stripIrcFormatting(params.join(" "))}`;
    request = parseTextLine(line, undefined)!;
  } catch (error) {
    if (!(error instanceof RelayError)) throw error;
    return ctx.reply((r) => r.numeric("461", [command], error.message));
  }
  return ctx.request({ ...request, ref: `${command} ${target}` });
}

// Whether the user is in the room a channel names.
function inChannel(ctx: IrcContext, room: string): boolean {
  try {
    return ctx.rooms.has(validateRoom(room));
  } catch {
    return false; // an invalid name is no room anyone is in
  }
}
