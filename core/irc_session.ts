// One IRC client's side of a session: registration (CAP, PASS, NICK, USER),
// then its lines handed to irc_commands.ts and irc_admin.ts; and what it
// receives: the events every IRC receiver shares (rendered once, in
// Outgoing), and the replies that name it (numerics, notices), rendered here.

import { then } from "./_maybe.ts";
import type { MaybePromise } from "./engine.ts";
import { CloseCode } from "./errors.ts";
import { IRC_ADMIN_COMMANDS, runIrcAdminCommand, TOPIC_QUERY } from "./irc_admin.ts";
import {
  type IrcContext,
  type IrcMessage,
  isupport,
  motd,
  nickProblem,
  parseIrcLine,
  runIrcCommand,
  whoLine,
} from "./irc_commands.ts";
import { errorNumeric } from "./irc_errors.ts";
import { ircChannel, ircNick, IrcReplies } from "./irc_render.ts";
import { type Frame, type Outgoing, WireFormat } from "./outgoing.ts";
import { RateLimiter } from "./rate_limiter.ts";
import type {
  ClientRequest,
  ErrorEvent,
  ModeratedEvent,
  NoticeEvent,
  PresenceEvent,
  RoomsEvent,
  ServerEvent,
  TopicEvent,
  WelcomeEvent,
} from "./protocol.ts";
import type { Session, SessionHost } from "./session.ts";
import { moderatedText } from "./text_render.ts";

export { IRC_LINE_BYTES } from "./irc_render.ts";
export { startsIrc } from "./irc_commands.ts";

/**
 * What an IRC session needs from the relay: a subset of {@link SessionHost},
 * and whether the relay verifies tokens (`authenticates`): only then is a
 * PASS a token. Without it a PASS is ignored, as before tokens, so an IRC
 * client's saved server password never breaks anonymous use.
 */
export type IrcHost =
  & Pick<SessionHost, "handle" | "hello" | "findName" | "limits" | "rateLimits" | "now" | "clock">
  & { readonly authenticates?: boolean };

/** Renames remembered to show each once, though it arrives once per shared room. */
const RECENT_RENAMES = 16;
/** Kicks remembered, to leave out the PART that follows each. */
const RECENT_KICKS = 16;

const encoder = new TextEncoder();

/** Lines as one frame of bytes, each ended with CRLF. */
function linesFrame(lines: string[]): Frame | null {
  if (lines.length === 0) return null;
  const data = encoder.encode(lines.join("\r\n") + "\r\n");
  return { data, bytes: data.length };
}

// An IRC server name looks like a host name.
function serverName(name: string): string {
  return name.replace(/[^A-Za-z0-9.-]/g, "-").slice(0, 63) || "crosswire";
}

/** The IRC side of one {@link Session}; made by the session when its client speaks IRC. */
export class IrcSession implements IrcContext {
  /** The server's name in IRC lines. */
  readonly server: string;
  /** The user's away message, when away. */
  away: string | undefined;
  /** The message of the day from the welcome. */
  motd: string | undefined;
  #session: Session;
  #host: IrcHost;
  #push: (frame: Frame) => void;
  #nick: string | undefined;
  #user = false;
  #negotiating = false;
  #quitting = false;
  #pinged = false;
  #renames: string[] = [];
  // The token a PASS gave, for the login.
  #token: string | undefined;
  // Why the relay refused the login, when IRC then closes the link (a bad token).
  #refused: string | undefined;
  // Rooms this user joined during the request being handled: a topic for one is 332, not TOPIC.
  #fresh = new Set<string>();
  // `room\nname` of recent kicks: the PART of the kicked user is not shown after its KICK.
  #kicks: string[] = [];
  // Requests handed to the relay, against the message rate (a line may ask for several).
  #requests: RateLimiter;
  #pausedSeen: number;

  /**
   * @param push Queues a frame for the client (not re-entrantly closing anything).
   */
  constructor(session: Session, host: IrcHost, push: (frame: Frame) => void) {
    this.#session = session;
    this.#host = host;
    this.#push = push;
    const hello = host.hello();
    this.server = serverName(hello.type === "hello" ? hello.server : "crosswire");
    this.#requests = new RateLimiter(host.rateLimits, host.now());
    this.#pausedSeen = host.clock.pausedMs;
  }

  /** The user's nick as IRC shows it; `*` before registration. */
  get nick(): string {
    const name = this.#session.name;
    return name === undefined ? "*" : ircNick(name);
  }

  /** The user's crosswire name. */
  get name(): string {
    return this.#session.name ?? "";
  }

  /** The rooms the user is in. */
  get rooms(): ReadonlySet<string> {
    return this.#session.rooms;
  }

  /** Rooms one user may be in at once. */
  get maxRooms(): number {
    return this.#host.limits.maxRoomsPerSession;
  }

  /** True when the user logged in with a token. */
  get hasToken(): boolean {
    return this.#session.identity !== undefined;
  }

  /** Handles one line from the client; a promise holds back the lines after it. */
  line(raw: string): MaybePromise<void> {
    this.#pinged = false;
    const message = parseIrcLine(raw);
    if (message === undefined) return;
    const { command, params } = message;
    switch (command) {
      case "PING":
        if (params.length === 0) {
          return this.reply((r) => r.numeric("409", [], "No origin specified"));
        }
        return this.reply((r) => r.command("PONG", [this.server], params[0]!));
      case "PONG":
        return;
      case "CAP":
        return this.#cap(params);
      case "QUIT":
        this.#quitting = true;
        return this.request({ type: "quit" });
    }
    if (this.#session.state !== "ready") return this.#register(message);
    if (IRC_ADMIN_COMMANDS.has(command)) return runIrcAdminCommand(this, message);
    return runIrcCommand(this, message);
  }

  /** Sends the replies `build` adds, to this user. */
  reply(build: (replies: IrcReplies) => void): void {
    const replies = new IrcReplies(this.server, this.nick);
    build(replies);
    const frame = linesFrame(replies.lines);
    if (frame) this.#push(frame);
  }

  /**
   * Hands requests to the relay, each after the one before is done. A line
   * counts once against the session's rate limit, but one IRC line may ask for
   * several things (PRIVMSG to 4 targets, JOIN of 32 channels, NAMES of 8): so
   * each request also counts here against the same message rate, and those
   * past it are dropped with the usual rate_limited notice. IRC users get no
   * more than the other modes' users.
   */
  request(...all: ClientRequest[]): MaybePromise<void> {
    const requests = this.#admit(all);
    let i = 0;
    const next = (): MaybePromise<void> => {
      while (i < requests.length && this.#session.state !== "closed") {
        const pending = this.#host.handle(this.#session, requests[i++]!);
        if (pending instanceof Promise) return pending.then(next);
      }
      this.#fresh.clear();
    };
    return next();
  }

  // The requests the message rate lets through now, in order (login and quit always pass).
  #admit(requests: ClientRequest[]): ClientRequest[] {
    const host = this.#host;
    const now = host.now();
    const paused = host.clock.pausedMs;
    if (paused !== this.#pausedSeen) {
      // As the session does: input that waited out a pause of the relay is not a burst.
      this.#requests.credit((paused - this.#pausedSeen) / 1000, now);
      this.#pausedSeen = paused;
    }
    let kept = 0;
    for (const request of requests) {
      if (request.type !== "login" && request.type !== "quit" && !this.#requests.take(0, now)) {
        break;
      }
      kept++;
    }
    if (kept === requests.length) return requests;
    this.reply((r) =>
      r.notice(
        `error rate_limited: slow down: ${
          requests.length - kept
        } of that line's ${requests.length} ` +
          "requests were dropped",
      )
    );
    return requests.slice(0, kept);
  }

  /** The crosswire name of the user online as `nick` (or a look-alike), if any. */
  find(nick: string): MaybePromise<string | undefined> {
    return this.#host.findName(nick);
  }

  /**
   * The frame this user receives for `message`: the one all IRC receivers
   * share, or one that names this user, or null when IRC shows nothing.
   */
  frame(message: Outgoing): Frame | null {
    const event = message.event;
    switch (event.type) {
      case "message":
        return message.frame(WireFormat.IrcLine);
      case "joined":
        if (event.name === this.#session.name) this.#fresh.add(event.room);
        return message.frame(WireFormat.IrcLine);
      case "left": {
        // The KICK said it: a kicked user's departure is not told again.
        const kick = this.#kicks.indexOf(`${event.room}\n${event.name}`);
        if (kick < 0) return message.frame(WireFormat.IrcLine);
        this.#kicks.splice(kick, 1);
        return null;
      }
      case "moderated":
        return this.#moderated(message, event);
      case "topic":
        return this.#topicFrame(message, event);
      case "direct":
        // The sender's copy: IRC clients show what their user sent themselves.
        if (event.from === this.#session.name && event.to !== event.from) return null;
        return message.frame(WireFormat.IrcLine);
      case "renamed": {
        // Told once per room the two share: IRC renames a nick everywhere at once.
        const key = `${event.ts} ${event.from} ${event.to}`;
        if (this.#renames.includes(key)) return null;
        this.#renames.push(key);
        if (this.#renames.length > RECENT_RENAMES) this.#renames.shift();
        return message.frame(WireFormat.IrcLine);
      }
      default: {
        const replies = new IrcReplies(this.server, this.nick);
        this.#render(replies, event);
        return linesFrame(replies.lines);
      }
    }
  }

  /** The connection is closing: IRC's last word, `ERROR`. */
  closing(reason: string): void {
    const frame = linesFrame([`ERROR :Closing link: ${this.server} (${reason})`]);
    if (frame) this.#push(frame);
  }

  /**
   * Called from the relay's sweep with how long the client has been silent: at
   * half the idle timeout it is sent a PING, which a live client answers.
   */
  idle(idleMs: number, timeoutMs: number): void {
    if (this.#pinged || timeoutMs <= 0 || idleMs < timeoutMs / 2) return;
    this.#pinged = true;
    const frame = linesFrame([`PING :${this.server}`]);
    if (frame) this.#push(frame);
  }

  #register({ command, params }: IrcMessage): MaybePromise<void> {
    switch (command) {
      case "PASS":
        if (params.length === 0) {
          this.reply((r) => r.numeric("461", [command], "Not enough parameters"));
        }
        // The server password is the user's token, when the relay takes tokens.
        if (this.#host.authenticates === true && params[0]) this.#token = params[0];
        return;
      case "NICK": {
        const nick = params[0];
        if (nick === undefined || nick === "") {
          return this.reply((r) => r.numeric("431", [], "No nickname given"));
        }
        const problem = nickProblem(nick);
        if (problem) return this.reply((r) => r.numeric("432", [nick], problem));
        this.#nick = nick;
        return this.#logIn();
      }
      case "USER":
        if (params.length === 0) {
          return this.reply((r) => r.numeric("461", [command], "Not enough parameters"));
        }
        this.#user = true;
        return this.#logIn();
      default:
        return this.reply((r) => r.numeric("451", [], "You have not registered"));
    }
  }

  // With a nick and USER, and capability negotiation over, the user logs in;
  // a taken nick comes back as 433 and the client tries another. With a
  // token, the token names the user, and a refused login closes the link.
  #logIn(): MaybePromise<void> {
    const nick = this.#nick;
    if (nick === undefined || !this.#user || this.#negotiating) return;
    const token = this.#token;
    const login: ClientRequest = token === undefined
      ? { type: "login", name: nick, ref: `NICK ${nick}` }
      : { type: "login", name: nick, token, ref: `NICK ${nick}` };
    return then(this.request(login), () => {
      const refused = this.#refused;
      if (refused === undefined || this.#session.state !== "new") return;
      this.#session.close(CloseCode.policyViolation, refused, undefined, "quit");
    });
  }

  #cap(params: string[]): MaybePromise<void> {
    const sub = (params[0] ?? "").toUpperCase();
    const registered = this.#session.state === "ready";
    switch (sub) {
      case "LS":
      case "LIST":
        // No capability is offered: none is implemented.
        if (!registered && sub === "LS") this.#negotiating = true;
        return this.reply((r) => r.command("CAP", [this.nick, sub], ""));
      case "REQ":
        if (!registered) this.#negotiating = true;
        return this.reply((r) => r.command("CAP", [this.nick, "NAK"], params[1] ?? ""));
      case "END":
        this.#negotiating = false;
        return registered ? undefined : this.#logIn();
      default:
        return this.reply((r) => r.numeric("410", [sub || "*"], "Invalid CAP command"));
    }
  }

  #render(r: IrcReplies, event: ServerEvent): void {
    switch (event.type) {
      case "welcome":
        return this.#welcome(r, event);
      case "presence":
        return this.#presence(r, event);
      case "rooms":
        return this.#rooms(r, event);
      case "history":
        if (event.room !== undefined && event.count > 0) {
          const count = event.count === 1 ? "1 earlier message" : `${event.count} earlier messages`;
          r.notice(`${count} (times in UTC):`, ircChannel(event.room));
        }
        return;
      case "notice":
        return this.#notice(r, event);
      case "error":
        return this.#error(r, event);
      default:
        return; // hello, pong: nothing IRC needs
    }
  }

  #welcome(r: IrcReplies, event: WelcomeEvent): void {
    const nick = ircNick(event.name);
    this.motd = event.motd;
    r.numeric("001", [], `Welcome to crosswire, ${nick}!${nick}@crosswire`)
      .numeric("002", [], `Your host is ${this.server}, running crosswire`)
      .numeric("003", [], "This server speaks the crosswire protocol, version 1")
      .numeric("004", [this.server, "crosswire-1", "i", "nt"])
      .numeric("005", isupport(this.maxRooms), "are supported by this server")
      .numeric(
        "251",
        [],
        event.others === 0
          ? "You are the only user online"
          : `There are ${event.others + 1} users online`,
      );
    motd(r, this.server, event.motd);
    if (this.#token !== undefined && this.#nick !== undefined && nick !== this.#nick) {
      r.notice(`Your token names you ${nick}: that is your nick here, not ${this.#nick}.`);
    }
  }

  // A moderator's act: a KICK in each channel, or the server's NOTICE there (to
  // a user in no channel, the server's NOTICE to them), never in a user's voice.
  #moderated(message: Outgoing, event: ModeratedEvent): Frame | null {
    if (event.room !== undefined && event.action === "kick") {
      this.#kicks.push(`${event.room}\n${event.name}`);
      if (this.#kicks.length > RECENT_KICKS) this.#kicks.shift();
      return message.frame(WireFormat.IrcLine);
    }
    const replies = new IrcReplies(this.server, this.nick);
    const to = event.room === undefined ? this.nick : ircChannel(event.room);
    replies.notice(moderatedText(event), to);
    return linesFrame(replies.lines);
  }

  // A topic this user asked for, or found on joining, is 332 and 333; a change is the TOPIC line.
  #topicFrame(message: Outgoing, event: TopicEvent): Frame | null {
    const [command] = refOf(event);
    const joined = this.#fresh.delete(event.room);
    if (!joined && command !== TOPIC_QUERY && command !== "JOIN") {
      return message.frame(WireFormat.IrcLine);
    }
    const replies = new IrcReplies(this.server, this.nick);
    const channel = ircChannel(event.room);
    if (event.text === "") {
      replies.numeric("331", [channel], "No topic is set");
    } else {
      replies.numeric("332", [channel], event.text)
        .numeric("333", [channel, ircNick(event.by), String(Math.floor(event.ts / 1000))]);
    }
    return linesFrame(replies.lines);
  }

  #notice(r: IrcReplies, event: NoticeEvent): void {
    const [command, arg] = refOf(event);
    switch (command) {
      case "OPER":
        return void r.numeric("381", [], "You are now an IRC operator");
      case TOPIC_QUERY:
        // The answer when there is no topic (one that is set comes as a topic event).
        return void r.numeric("331", [arg], "No topic is set");
      case "TOPIC":
        return; // a topic set from the channel: its TOPIC line there says it
    }
    // The relay says goodbye to a QUIT; IRC says it with ERROR.
    if (!this.#quitting) r.notice(event.text);
  }

  #presence(r: IrcReplies, event: PresenceEvent): void {
    const channel = ircChannel(event.room);
    const command = event.ref?.split(" ")[0];
    if (command === "WHO") {
      for (const name of event.members) whoLine(r, this.server, channel, name);
      r.numeric("315", [channel], "End of /WHO list.");
    } else if (command === "LIST") {
      if (event.count > 0) r.numeric("322", [channel, String(event.count)], "");
    } else {
      r.list("353", ["=", channel], event.members.map(ircNick));
      r.numeric("366", [channel], "End of /NAMES list.");
    }
  }

  #rooms(r: IrcReplies, event: RoomsEvent): void {
    for (const room of event.rooms) {
      r.numeric("322", [ircChannel(room.name), String(room.members)], "");
    }
    r.numeric("323", [], "End of /LIST");
  }

  #error(r: IrcReplies, event: ErrorEvent): void {
    const [command, arg] = refOf(event);
    if (command === "NOTICE") return; // never answered with an error (RFC 2812, 3.3.2)
    if (command === "NICK" && this.#session.state === "new" && this.#loginRefused(r, event)) return;
    const numeric = errorNumeric(event, command, arg);
    if (numeric === "silent") return;
    if (numeric) return void r.numeric(...numeric);
    const text = event.code === "token_expired"
      ? event.message.replace("(refresh, or /auth TOKEN)", "(/quote PASS TOKEN)")
      : event.message;
    r.notice(`error ${event.code}: ${text}`);
  }

  // A login the relay refused for its token (or for want of one): 464, as for
  // a wrong server password, and the link is closed once the login is over.
  // Any refusal of a token's login closes it too: another nick cannot help.
  #loginRefused(r: IrcReplies, event: ErrorEvent): boolean {
    switch (event.code) {
      case "auth_required":
        r.numeric(
          "464",
          [],
          "Password required: this server needs a token; connect with it as the server password (PASS)",
        );
        this.#refused = "a token is required: send it as the server password (PASS)";
        return true;
      case "auth_failed":
      case "token_expired":
        r.numeric("464", [], "Password incorrect");
        r.notice(`Your token was refused: ${event.message}`);
        this.#refused = "Password incorrect";
        return true;
      default:
        if (this.#token === undefined) return false;
        r.notice(`error ${event.code}: ${event.message}`);
        this.#refused = event.message;
        return true;
    }
  }
}

// The IRC command (and its argument) that made the request an event answers:
// its `ref`, which the relay puts on every reply (typed or not, as on notices).
function refOf(event: ServerEvent): [command: string, arg: string] {
  const raw = (event as { ref?: unknown }).ref;
  const ref = typeof raw === "string" ? raw : "";
  const space = ref.indexOf(" ");
  return space < 0 ? [ref, ""] : [ref.slice(0, space), ref.slice(space + 1)];
}
