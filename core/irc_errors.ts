// The numerics IRC clients know for the relay's errors. An error's `ref` is
// the IRC command that asked (`JOIN #games`, `KICK #lobby bob`), so the same
// code can become the numeric that command's clients expect: `forbidden` is
// "Cannot join channel" for a JOIN and "not channel operator" for a TOPIC.

import type { ErrorEvent } from "./protocol.ts";

/** A numeric reply: its code, its middle parameters and its text. */
export type IrcNumeric = [code: string, params: string[], text: string];

/**
 * What IRC shows for a relay error: a numeric, `"silent"` when the answer is
 * an empty one or comes another way (a KICK's reason is in the ERROR that
 * follows), or undefined for a NOTICE with the code and message.
 */
export function errorNumeric(
  event: ErrorEvent,
  command: string,
  arg: string,
): IrcNumeric | "silent" | undefined {
  // A KICK's ref is `KICK #channel nick`.
  const [channel = "", nick = ""] = command === "KICK" ? arg.split(" ") : [arg, arg];
  const message = event.message;
  switch (event.code) {
    case "name_taken":
      return command === "NICK" ? ["433", [arg], message] : undefined;
    case "name_invalid":
      return command === "NICK" ? ["432", [arg], message] : undefined;
    case "no_such_user":
      return ["401", [nick || "*"], "No such nick/channel"];
    case "not_in_room":
      if (command === "PART") return ["442", [arg], "You're not on that channel"];
      return command === "PRIVMSG" ? ["404", [arg], "Cannot send to channel"] : undefined;
    case "room_invalid":
    case "room_limit":
      return channel === "" ? undefined : ["403", [channel], message];
    case "too_many_rooms":
      return ["405", [arg || "*"], "You have joined too many channels"];
    case "empty_message":
      return ["412", [], "No text to send"];
    case "line_too_long":
      return ["417", [], "Input line was too long"];
    case "forbidden":
      return forbidden(command, channel, message);
    case "muted":
      // To a channel it is IRC's +m; a private message gets the notice.
      return command === "PRIVMSG" && arg.startsWith("#")
        ? ["404", [arg], `Cannot send to channel: ${message}`]
        : undefined;
    case "room_full":
      return command === "JOIN" ? ["471", [arg], `Cannot join channel: ${message}`] : undefined;
    case "banned":
      return ["465", [], message];
    case "kicked":
      // The user saw the KICK in their channels; ERROR gives the reason as it closes.
      return "silent";
    default:
      return undefined;
  }
}

function forbidden(
  command: string,
  channel: string,
  message: string,
): IrcNumeric | "silent" | undefined {
  switch (command) {
    case "JOIN":
      // A private room, or one the token does not grant: IRC's invite-only channel.
      return ["473", [channel], `Cannot join channel: ${message}`];
    case "PRIVMSG":
      return ["404", [channel], `Cannot send to channel: ${message}`];
    case "TOPIC":
    case "KICK":
      return ["482", [channel], message];
    case "NICK":
      return ["432", [channel], message];
    case "OPER":
      return ["464", [], message];
    // A private room looks, to those who may not enter it, like one with nobody in it.
    case "NAMES":
      return ["366", [channel], "End of /NAMES list."];
    case "WHO":
      return ["315", [channel], "End of /WHO list."];
    case "LIST":
      return "silent";
    case "MUTE":
    case "UNMUTE":
    case "BAN":
    case "UNBAN":
      return ["481", [], `Permission Denied: ${message}`];
    default:
      return undefined;
  }
}
