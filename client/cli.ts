/**
 * The terminal client: `deno run -A client/mod.ts [flags]`. Lines typed go to
 * the server as if typed in telnet; `/send` and `/quit` are handled here. On a
 * terminal it keeps an input line (client/_line_editor.ts) that incoming text
 * never garbles; from a pipe it reads and prints plain lines.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { formatBytes, TEXT_HELP } from "../core/text_render.ts";
import { misleadingReason } from "../core/misleading.ts";
import { cleanText } from "../core/sanitize.ts";
import type { ServerEvent } from "../core/protocol.ts";
import { connect, type CrosswireClient } from "./client.ts";
import type { ConnectOptions } from "./options.ts";
import { CrosswireClientError } from "./errors.ts";
import { saveDownload } from "./_downloads.ts";
import { guessMediaType } from "./_media_type.ts";
import { type Colors, colorsFor, styleFor } from "./_colors.ts";
import { namesIn, renderClientEvent, renderEvent, showName } from "./_render.ts";
import { RoomTracker } from "./_rooms.ts";
import { complete, type CompletionSource } from "./_completion.ts";
import { LineEditor } from "./_line_editor.ts";

export { renderClientEvent, renderEvent, type RenderOptions, showName } from "./_render.ts";

const QUIT_WAIT_MS = 2000;

const HELP = `crosswire terminal client

Usage: deno run -A client/mod.ts [flags]

  --url URL        server URL: ws://host:8080/ws, wss://..., tcp://host:4040 or tls://host:4040
                   (default tcp://HOST:PORT from --host and --port)
  --host HOST      server host for TCP (default localhost)
  --port PORT      server TCP port (default 4040)
  --tls            connect to --host/--port with TLS
  --ca FILE        PEM certificate of a private CA to trust for TLS
                   (for wss:// run Deno with --cert FILE instead)
  --name NAME      your name (otherwise you are asked)
  --token TOKEN    log in with a token; the server takes your name from it.
                   Prefer the CROSSWIRE_TOKEN environment variable: other users
                   of the machine can see command lines. Never printed.
  --downloads DIR  where received files are saved (default ./downloads)
  --no-reconnect   exit when the connection drops, rather than reconnect
  --help           show this help

When the connection drops, the client reconnects by itself and shows the
messages missed meanwhile; "-- some messages in #ROOM could not be
recovered --" marks what the server no longer had.

Type /help for the server's commands. Handled here:
  /send FILE [NAME]  share FILE with your current room, or privately with NAME
  /auth TOKEN        replace your token (before it runs out); used if the
                     client has to log in again
  /quit              leave and exit
Admins (by token, or after /oper PASSWORD) also have /kick, /ban, /unban,
/mute, /unmute and /topic; /help on the server lists them.

On a terminal the input line stays put while others talk. Tab completes
commands and the names of people in your room; the up arrow recalls earlier
lines; Ctrl-C clears the line, and on an empty line quits (as Ctrl-D does).
`;

// What `/help` adds after the server's list: the client's own commands and keys.
const CLIENT_HELP = [
  "Added by this terminal client:",
  "  /send FILE [NAME]  share FILE with your current room, or privately with NAME",
];
const KEYS_HELP = [
  "  Tab                complete a command, or the name of someone in your room",
  "  Up, Down           earlier lines you typed",
  "  Ctrl-C             clear the line; on an empty line, quit (as Ctrl-D does)",
];

// Every command Tab completes: the server's (from its own help, where the admins'
// share a line), and /send.
const COMMANDS = [
  ...new Set([
    ...TEXT_HELP.flatMap((line) => /^\s+(\/\w+)/.exec(line)?.[1] ?? []),
    "/auth",
    "/oper",
    "/kick",
    "/ban",
    "/unban",
    "/mute",
    "/unmute",
    "/topic",
    "/send",
  ]),
].sort();

// Lines that carry a secret: shown masked on a terminal and kept out of its history.
const SECRET_LINE = /^(\/(?:auth|oper)\s+)\S[\s\S]*$/i;

/** What the terminal client needs from its surroundings; tests may replace any of it. */
interface Io {
  lines: AsyncIterator<string>;
  out(line: string): void;
  err(line: string): void;
  /** Asks for one line (the name). */
  prompt(text: string): void;
  /** An interactive terminal: an input line with a prompt, history and completion. */
  interactive: boolean;
  /** The prompt of the chat, once logged in; nothing when not interactive. */
  setPrompt(text: string): void;
  /** What Tab completes from, once logged in. */
  completeFrom(source: CompletionSource): void;
  /** Gives the terminal back; output after it goes straight out. */
  close(): void;
  colors: Colors;
}

/**
 * Runs the terminal client until the user quits, stdin ends, or the server goes away.
 *
 * @param args Command-line flags (see `--help`).
 * @returns The exit code: 0 after `/quit`, end of input or Ctrl-C; 1 when the
 * connection fails or is lost; 2 for bad flags.
 *
 * @example Printing the help
 * ```ts ignore
 * import { main } from "./cli.ts";
 * const code = await main(["--help"]);
 * if (code !== 0) throw new Error("help failed");
 * ```
 */
export async function main(args: string[]): Promise<number> {
  let flags;
  try {
    flags = parseArgs({
      args,
      options: {
        url: { type: "string" },
        host: { type: "string" },
        port: { type: "string" },
        name: { type: "string" },
        token: { type: "string" },
        downloads: { type: "string", default: "downloads" },
        tls: { type: "boolean", default: false },
        ca: { type: "string" },
        "no-reconnect": { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    console.error(`crosswire: ${(error as Error).message}\nRun with --help to see the flags.`);
    return 2;
  }
  if (flags.help) {
    console.log(HELP);
    return 0;
  }
  if (flags.url !== undefined && (flags.host !== undefined || flags.port !== undefined)) {
    console.error("crosswire: use either --url or --host/--port, not both");
    return 2;
  }
  const port = flags.port ?? "4040";
  if (!/^\d{1,5}$/.test(port) || Number(port) > 65535) {
    console.error(`crosswire: --port must be a port number, not "${port}"`);
    return 2;
  }
  const url = flags.url ?? `${flags.tls ? "tls" : "tcp"}://${flags.host ?? "localhost"}:${port}`;
  let caCerts: string[] | undefined;
  if (flags.ca !== undefined) {
    try {
      caCerts = [await Deno.readTextFile(flags.ca)];
    } catch (error) {
      console.error(`crosswire: cannot read --ca ${flags.ca}: ${(error as Error).message}`);
      return 2;
    }
  }
  const token = flags.token ?? environment("CROSSWIRE_TOKEN");
  if (token !== undefined && token.trim() === "") {
    console.error("crosswire: the token is empty");
    return 2;
  }
  const io = terminalIo();
  try {
    const client = await logIn(url, { name: flags.name, token: token?.trim() }, io, {
      ...(caCerts ? { caCerts } : {}),
      ...(flags["no-reconnect"] ? { reconnect: false } : {}),
    });
    if (!client) return 1;
    return await session(client, flags.downloads, io);
  } finally {
    io.close();
  }
}

// A person at a terminal gets the line editor; pipes and scripts get plain lines, as ever.
function terminalIo(): Io {
  const colors = colorsFor(Deno.stdout.isTerminal() && Deno.env.get("NO_COLOR") === undefined);
  if (Deno.stdin.isTerminal() && Deno.stdout.isTerminal()) {
    let source: CompletionSource | undefined;
    const editor = new LineEditor({
      complete: (before) => source ? complete(before, source) : [[], before],
      secret: (line) => SECRET_LINE.exec(line)?.[1]?.concat("********"),
    });
    return {
      lines: editor.lines,
      out: (line) => editor.print(line),
      err: (line) => editor.print(line, true),
      prompt: (text) => editor.ask(text),
      interactive: true,
      setPrompt: (text) => editor.setPrompt(text),
      completeFrom: (next) => source = next,
      close: () => editor.close(),
      colors,
    };
  }
  const encoder = new TextEncoder();
  return {
    lines: stdinLines(),
    out: (line) => console.log(line),
    err: (line) => console.error(line),
    prompt: (text) => void Deno.stdout.writeSync(encoder.encode(text)),
    interactive: false,
    setPrompt: () => {},
    completeFrom: () => {},
    close: () => {},
    colors,
  };
}

// `[lobby] > `, or `> ` outside any room.
function promptFor(room: string | undefined): string {
  return room === undefined ? "> " : `[${cleanText(room)}] > `;
}

async function* stdinLines(): AsyncGenerator<string> {
  let pending = "";
  for await (const chunk of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
    pending += chunk;
    const parts = pending.split(/\r?\n/);
    pending = parts.pop() ?? "";
    yield* parts;
  }
  if (pending !== "") yield pending;
}

// An environment variable, or undefined when it is unset or may not be read.
function environment(name: string): string | undefined {
  try {
    return Deno.env.get(name) || undefined;
  } catch {
    return undefined;
  }
}

// Connects, asking for a name (again) until the server accepts one; with a
// token the server names the user, so nothing is asked.
async function logIn(
  url: string,
  who: { name: string | undefined; token: string | undefined },
  io: Io,
  options: Omit<ConnectOptions, "name" | "token">,
): Promise<CrosswireClient | undefined> {
  const { token } = who;
  // Whatever is printed, the token is not: it may sit in the URL or come back in a message.
  const hide = (text: string) => {
    const shown = text.replace(/([?&#]token=)[^&#\s]*/gi, "$1…");
    return token === undefined ? shown : shown.replaceAll(token, "…");
  };
  if (token !== undefined) {
    try {
      return await connect(url, { ...options, token, ...(who.name ? { name: who.name } : {}) });
    } catch (error) {
      io.err(hide(loginFailure(error, url)));
      return undefined;
    }
  }
  let name = who.name;
  while (true) {
    if (name === undefined || name.trim() === "") {
      io.prompt("Your name: ");
      const next = await io.lines.next();
      if (next.done) {
        io.err("crosswire: no name given; bye");
        return undefined;
      }
      name = next.value.trim();
      if (name === "") continue;
    }
    try {
      return await connect(url, { ...options, name });
    } catch (error) {
      if (
        error instanceof CrosswireClientError &&
        (error.code === "name_taken" || error.code === "name_invalid")
      ) {
        io.err(`crosswire: ${error.message}`);
        name = undefined;
        continue;
      }
      io.err(hide(loginFailure(error, url)));
      return undefined;
    }
  }
}

// Why logging in failed, in a line.
function loginFailure(error: unknown, url: string): string {
  const message = (error as Error).message;
  if (error instanceof CrosswireClientError) {
    switch (error.code) {
      case "auth_required":
        return "crosswire: this server needs a token: run with --token TOKEN " +
          "(or set CROSSWIRE_TOKEN)";
      case "auth_failed":
        return `crosswire: the token was refused: ${message}`;
      case "banned":
        return `crosswire: ${message}`;
    }
  }
  // The library's message often names the URL already.
  return message.includes(url)
    ? `crosswire: ${message}`
    : `crosswire: cannot connect to ${url}: ${message}`;
}

async function session(client: CrosswireClient, downloads: string, io: Io): Promise<number> {
  const rooms = new RoomTracker(client.welcome.rooms);
  const saves = new Set<Promise<void>>();
  let leaving = false;
  io.completeFrom({
    commands: COMMANDS,
    members: () => rooms.members(),
    known: () => rooms.known(),
    me: () => client.name,
  });
  io.setPrompt(promptFor(rooms.current));
  // Each /help typed: the client's own commands follow the server's list.
  let helpAsked = 0;

  const explained = new Set<string>();
  const show = (event: ServerEvent, replayed: boolean) => {
    rooms.seen(event, client.name);
    const style = styleFor(event, io.colors);
    const mark = io.colors.mark;
    if ((event.type === "message" || event.type === "direct") && event.file && event.data) {
      const line = renderEvent(event, mark, { replayed })[0]!;
      if (event.from === client.name) return io.out(style(line));
      const saving = saveDownload(downloads, event.file.name, event.data).then(
        (path) => io.out(style(`${line}; saved to ${path}`)),
        (error) => io.err(`crosswire: could not save ${line}: ${(error as Error).message}`),
      );
      saves.add(saving);
      void saving.finally(() => saves.delete(saving));
    } else {
      for (const line of renderEvent(event, mark, { replayed })) io.out(style(line));
    }
    // The first time a name that could mislead shows up, say why it is marked.
    for (const name of namesIn(event)) {
      const reason = explained.has(name) ? undefined : misleadingReason(name);
      if (reason === undefined) continue;
      explained.add(name);
      io.out(
        io.colors.dim(`* ${showName(name, mark)} could be mistaken for another name. ${reason}`),
      );
    }
  };
  // Messages still to come from a typed /history, and whether the client is
  // getting its session back: both are shown with the time they were said.
  let fromHistory = 0;
  let restoring = false;
  // Registered before the events that followed `welcome` are released, so none is missed.
  client.on("*", (event) => {
    switch (event.type) {
      case "close":
        return; // the loop below says goodbye
      case "pong":
        if (event.ref) return; // our own end-of-input ping: not worth a line
        break;
      case "reconnecting":
        restoring = true;
        return io.out(io.colors.yellow(renderClientEvent(event)));
      case "resumed":
        restoring = false;
        return io.out(io.colors.yellow(renderClientEvent(event)));
      case "gap":
        return io.out(io.colors.red(renderClientEvent(event)));
      case "history":
        fromHistory = event.count;
        break;
    }
    let replayed = false;
    if (event.type === "message" || event.type === "direct") {
      replayed = restoring || fromHistory > 0;
      if (fromHistory > 0) fromHistory--;
    }
    show(event, replayed);
    io.setPrompt(promptFor(rooms.current));
    if (helpAsked > 0 && event.type === "notice" && event.text.startsWith(TEXT_HELP[0]!)) {
      helpAsked--;
      const lines = io.interactive ? [...CLIENT_HELP, ...KEYS_HELP] : CLIENT_HELP;
      for (const line of lines) io.out(io.colors.dim(`* ${line}`));
    }
  });

  let interrupted: () => void = () => {};
  const interrupt = new Promise<"interrupt">((resolve) => interrupted = () => resolve("interrupt"));
  const onSignal = () => interrupted();
  Deno.addSignalListener("SIGINT", onSignal);
  const lost = client.closed.then((event) => ({ lost: event }));

  try {
    while (true) {
      const next = await Promise.race([io.lines.next(), lost, interrupt]);
      if (next === "interrupt") break;
      if ("lost" in next) {
        io.err(lostMessage(next.lost.code, next.lost.reason));
        return 1;
      }
      if (next.done) {
        // A round trip after the last line proves the server handled every line.
        try {
          await client.ping();
        } catch {
          io.err(lostMessage((await client.closed).code, (await client.closed).reason));
          return 1;
        }
        break;
      }
      const line = next.value;
      rooms.typed(line);
      if (/^\/(?:help|\?)\s*$/i.test(line)) helpAsked++;
      if (/^\/(quit|exit)\s*$/i.test(line)) {
        leaving = true;
        await quit(client);
        break;
      }
      if (/^\/send(\s|$)/i.test(line)) {
        await sendFile(client, line, rooms.current, io);
        continue;
      }
      if (line.trim() === "") continue;
      try {
        client.input(line);
      } catch (error) {
        io.err(`crosswire: ${(error as Error).message}`);
      }
    }
    leaving = true;
    await Promise.all(saves);
    await client.close();
    return 0;
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    if (!leaving) await client.close();
  }
}

// Says goodbye properly, but does not wait long for the server to hang up.
async function quit(client: CrosswireClient): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    client.input("/quit");
    await Promise.race([
      client.closed,
      new Promise((resolve) => timer = setTimeout(resolve, QUIT_WAIT_MS)),
    ]);
  } catch { /* already closed */ }
  clearTimeout(timer);
}

function lostMessage(code: number, reason: string): string {
  const why = reason ? `${code}: ${reason}` : `${code}`;
  switch (code) {
    case 4003:
      return `crosswire: your token expired (${why}); run again with a new --token`;
    case 4010:
      return `crosswire: you were disconnected by an admin (${why})`;
    case 4011:
      return `crosswire: you are banned (${why})`;
    default:
      return `crosswire: connection to the server was lost (${why})`;
  }
}

// `/send FILE [NAME]`; FILE may be quoted when it has spaces.
async function sendFile(
  client: CrosswireClient,
  line: string,
  room: string | undefined,
  io: Io,
): Promise<void> {
  const match = /^\/send\s+(?:"([^"]+)"|(\S+))(?:\s+(\S+))?\s*$/i.exec(line);
  const path = match?.[1] ?? match?.[2];
  if (!match || path === undefined) return io.err("crosswire: usage: /send FILE [NAME]");
  const to = match[3];
  if (to === undefined && room === undefined) {
    return io.err("crosswire: you are in no room; /join one, or /send FILE NAME");
  }
  const max = client.limits.maxFileBytes;
  let bytes: Uint8Array;
  try {
    const info = await Deno.stat(path);
    if (!info.isFile) return io.err(`crosswire: ${path} is not a file`);
    if (info.size > max) {
      return io.err(
        `crosswire: not sent: ${path} is ${
          formatBytes(info.size)
        }; the server accepts files up to ${formatBytes(max)}`,
      );
    }
    bytes = await Deno.readFile(path);
  } catch (error) {
    return io.err(`crosswire: cannot read ${path}: ${(error as Error).message}`);
  }
  const name = path.split(/[\\/]/).at(-1) || "file";
  try {
    client.sendFile(to === undefined ? { room: room! } : { to }, bytes, {
      name,
      type: guessMediaType(name),
    });
    io.out(`* sent ${name} (${formatBytes(bytes.length)}) to ${to ?? room}`);
  } catch (error) {
    io.err(`crosswire: not sent: ${(error as Error).message}`);
  }
}
