// What a line typed into the chat page means: text to say, or a command.
// Kept free of the DOM so tests/web_test.ts can check it in Deno.

/** One parsed line from the composer. */
export type Command =
  | { kind: "say"; text: string }
  | { kind: "me"; text: string }
  | { kind: "msg"; to: string; text: string }
  | { kind: "join"; room: string }
  | { kind: "leave"; room: string | undefined }
  | { kind: "nick"; name: string }
  | { kind: "who"; room: string | undefined }
  | { kind: "rooms" }
  | { kind: "topic"; text: string | undefined }
  | { kind: "clear" }
  | { kind: "help" }
  | { kind: "quit" }
  | { kind: "raw"; line: string }
  | { kind: "usage"; message: string };

/** The commands the page understands, for `/help`. */
export const HELP: readonly string[] = [
  "/join ROOM: join or create a room",
  "/leave [ROOM]: leave a room (default: this one)",
  "/msg NAME TEXT: private message (or click a member)",
  "/me ACTION: say what you do",
  "/nick NAME: change your name",
  "/who [ROOM]: who is here",
  "/rooms: every room and its member count",
  "/topic [TEXT]: this room's topic (admins: set it)",
  "/clear: clear this conversation on your screen",
  "/quit: disconnect",
  "//text: say something that starts with a slash",
  "Admins: /kick NAME [REASON], /ban NAME|ADDRESS [MINUTES] [REASON], /unban NAME|ADDRESS,",
  "  /mute NAME [MINUTES] [REASON], /unmute NAME; /oper PASSWORD makes you one",
  "/auth TOKEN: replace your sign-in token before it runs out",
];

/**
 * Parses one composer line. Anything that is not a known command goes to the
 * server as typed (`raw`), so server-side commands keep working.
 */
export function parseLine(line: string): Command {
  if (!line.startsWith("/")) return { kind: "say", text: line };
  if (line.startsWith("//")) return { kind: "say", text: line.slice(1) };
  const match = /^\/(\S+)\s*([\s\S]*)$/.exec(line);
  const verb = (match?.[1] ?? "").toLowerCase();
  const rest = (match?.[2] ?? "").trim();
  const [first = "", ...others] = rest.split(/\s+/);
  switch (verb) {
    case "me":
      return rest ? { kind: "me", text: rest } : usage("/me ACTION");
    case "msg":
    case "m": {
      const text = rest.slice(first.length).trim();
      return first && text ? { kind: "msg", to: first, text } : usage("/msg NAME TEXT");
    }
    case "join":
    case "j":
      return first && others.length === 0 ? { kind: "join", room: first } : usage("/join ROOM");
    case "leave":
    case "part":
      return others.length === 0 ? { kind: "leave", room: first || undefined } : usage(
        "/leave [ROOM]",
      );
    case "nick":
      return first && others.length === 0 ? { kind: "nick", name: first } : usage("/nick NAME");
    case "who":
      return { kind: "who", room: first || undefined };
    case "rooms":
      return { kind: "rooms" };
    case "topic":
      return { kind: "topic", text: rest || undefined };
    case "clear":
      return { kind: "clear" };
    case "help":
    case "?":
      return { kind: "help" };
    case "quit":
      return { kind: "quit" };
    default:
      return { kind: "raw", line };
  }
}

function usage(text: string): Command {
  return { kind: "usage", message: `usage: ${text}` };
}
