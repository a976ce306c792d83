// The chat page's state, as a pure function of what happened: the events the
// client library delivers (server events and its own reconnecting / resumed /
// gap / close) and what the user did on the page (select, clear, ...).
// No DOM and no clock here: `reduce(state, event, now)` returns a new state (or
// the same object when nothing changed), so tests/web_state_test.ts checks it
// in Deno, and web/_render.ts draws whatever it returns.

import type {
  ConnectionCloseEvent,
  GapEvent,
  ReconnectingEvent,
  ResumedEvent,
} from "../client/events.ts";
import type {
  DirectEvent,
  ErrorEvent,
  FileInfo,
  MessageEvent,
  ModeratedEvent,
  Position,
  ServerEvent,
} from "../core/protocol.ts";
import type { Addresses } from "./_addresses.ts";
import { assignColors, type Colors } from "./_colors.ts";
import { markedName } from "./_format.ts";

/** Log entries kept per conversation; older ones drop off the top. */
export const MAX_LOG_ITEMS = 800;
/** Messages from one sender within this window are drawn as one group. */
export const GROUP_WINDOW_MS = 5 * 60_000;

// ------------------------------------------------------------------ events

/** Kinds of line the page writes in its own voice (or the server's); `moderation`: what a moderator did. */
export type NoteStyle = "notice" | "error" | "event" | "moderation";

/** What the user did, or what the page itself knows. */
export type PageAction =
  /** A login or resume started. */
  | { type: "connecting" }
  /** A login or resume failed before `welcome`. */
  | { type: "connect_failed" }
  /** The user asked to quit: the coming close is not a loss. */
  | { type: "quitting" }
  /** Show a conversation (`undefined`: none). */
  | { type: "select"; key: string | undefined }
  /** Open (and show) a private conversation. */
  | { type: "open_dm"; name: string }
  /** Close a private conversation. */
  | { type: "close_dm"; key: string }
  /** The tab was hidden or shown. */
  | { type: "visibility"; visible: boolean }
  /** `/clear`: empty a conversation's log on this screen. */
  | { type: "clear"; key: string }
  /** A line in the page's own voice; in `key`, else the conversation on screen. */
  | { type: "note"; text: string; style: NoteStyle; key?: string }
  /** Where others can join from (for the empty room's invitation). */
  | { type: "addresses"; addresses: Addresses }
  /**
   * Earlier messages fetched with `client.history()`: merged in place by
   * position, never twice, and never counted as unread.
   */
  | { type: "backfill"; messages: readonly (MessageEvent | DirectEvent)[] };

/** Everything `reduce` understands. Other server events leave the state as it is. */
export type PageEvent =
  | ServerEvent
  | ReconnectingEvent
  | ResumedEvent
  | GapEvent
  | ConnectionCloseEvent
  | PageAction;

// ------------------------------------------------------------------- state

/** A chat message in a log. */
export interface MessageItem {
  kind: "message";
  /** Unique in this state; the renderer keys elements by it. */
  seq: number;
  id: string | undefined;
  from: string;
  /** Private messages: the recipient. */
  to: string | undefined;
  ts: number;
  text: string | undefined;
  action: boolean;
  file: FileInfo | undefined;
  data: Uint8Array | undefined;
  isPrivate: boolean;
  /** Sent by us. */
  own: boolean;
  /** Same sender as the message before, shortly after it: drawn without a header. */
  continued: boolean;
  /** Where it is in its stream, when the relay said. */
  position: Position | undefined;
}

/** A line in the page's or the server's voice. */
export interface LineItem {
  kind: "line";
  seq: number;
  style: NoteStyle;
  text: string;
  ts: number;
}

/** Messages that could not be recovered belong here. */
export interface GapItem {
  kind: "gap";
  seq: number;
  text: string;
  reason: GapEvent["reason"];
  ts: number;
  /** The last position before the gap, so earlier messages merged later go above it. */
  after: Position | undefined;
}

/** One entry in a conversation's log. */
export type LogItem = MessageItem | LineItem | GapItem;

/** A conversation: a room, or private messages with one person. */
export interface Channel {
  /** `#room` or `@name` (lower case). */
  key: string;
  kind: "room" | "dm";
  /** Room name, or the other person's name. */
  name: string;
  items: readonly LogItem[];
  unread: number;
  /** Rooms only: whether we are a member. */
  joined: boolean;
  members: readonly string[];
  count: number;
  /**
   * Rooms only: `members` may be out of date (the connection dropped); a
   * fresh `presence` replaces them.
   */
  stale: boolean;
  /** Rooms only: each member's colour, kept apart while colours are free (web/_colors.ts). */
  colors: Colors;
  /** Rooms only: the topic, once the relay told it (never empty). */
  topic: { text: string; by: string } | undefined;
}

/** Where the connection is. */
export type Connection =
  | { phase: "offline" }
  | { phase: "connecting" }
  /** `recovered`: how many missed messages came back with the last reconnect. */
  | { phase: "online"; recovered: number | undefined }
  | { phase: "reconnecting"; attempt: number; retryAt: number };

/** The whole page. */
export interface PageState {
  /** Our name ("" before the first welcome). */
  me: string;
  connection: Connection;
  /** Whether we were ever logged in (the login screen is gone for good). */
  everConnected: boolean;
  /** The user quit: the close that follows is expected. */
  quitting: boolean;
  /** Conversations by key, in the order they appeared. */
  channels: ReadonlyMap<string, Channel>;
  /** The key of the conversation on screen. */
  active: string | undefined;
  /** Every room on the server and its member count (the last `rooms` reply, kept current). */
  directory: ReadonlyMap<string, number>;
  /** Whether the tab is visible. */
  visible: boolean;
  /** The next log item's `seq`. */
  seq: number;
  /** Where others can join from, once known. */
  addresses: Addresses | undefined;
  /**
   * Why the relay ended the session for good (a kick, a ban, an expired
   * token): the page says so and does not reconnect.
   */
  ended: string | undefined;
}

/**
 * The page before anything happened.
 *
 * @param visible Whether the tab is visible. @default true
 */
export function initialState(visible = true): PageState {
  return {
    me: "",
    connection: { phase: "offline" },
    everConnected: false,
    quitting: false,
    channels: new Map(),
    active: undefined,
    directory: new Map(),
    visible,
    seq: 1,
    addresses: undefined,
    ended: undefined,
  };
}

/** The key of a room's conversation. */
export const roomKey = (room: string): string => `#${room}`;
/** The key of a private conversation (names are unique regardless of case). */
export const dmKey = (name: string): string => `@${name.toLowerCase()}`;

/** The conversation on screen. */
export function activeChannel(state: PageState): Channel | undefined {
  return state.active === undefined ? undefined : state.channels.get(state.active);
}

/**
 * The colours of the people in `channel` (web/_colors.ts): a room's, kept as
 * members come and go; in a private conversation, ours and theirs, apart.
 */
export function conversationColors(state: PageState, channel: Channel | undefined): Colors {
  if (channel?.kind !== "dm") return channel?.colors ?? NO_COLORS;
  // The same object while the pair is the same, so the log is not walked again for nothing.
  const pair = `${state.me}\n${channel.name}`;
  if (dmColors?.pair !== pair) {
    dmColors = { pair, colors: assignColors(NO_COLORS, [state.me, channel.name], state.me) };
  }
  return dmColors.colors;
}

const NO_COLORS: Colors = new Map();
let dmColors: { pair: string; colors: Colors } | undefined;

/** The rooms we are in, in the order we met them. */
export function joinedRooms(state: PageState): Channel[] {
  return [...state.channels.values()].filter((channel) =>
    channel.kind === "room" && channel.joined
  );
}

/** Unread messages across every conversation. */
export function unreadTotal(state: PageState): number {
  let total = 0;
  for (const channel of state.channels.values()) total += channel.unread;
  return total;
}

/** The tab's title: unread count, the conversation on screen, and the app. */
export function documentTitle(state: PageState): string {
  const unread = unreadTotal(state);
  const channel = activeChannel(state);
  const where = channel ? (channel.kind === "room" ? `#${channel.name}` : `@${channel.name}`) : "";
  return `${unread > 0 ? `(${unread}) ` : ""}${where ? `${where} · ` : ""}crosswire`;
}

/** `"3 missed messages recovered"`. */
export function recoveredText(count: number): string {
  if (count === 0) return "no missed messages";
  return `${count} missed ${count === 1 ? "message" : "messages"} recovered`;
}

/** The status line's text, at time `now`. */
export function statusText(state: PageState, now: number): string {
  const connection = state.connection;
  switch (connection.phase) {
    case "offline":
      if (state.ended !== undefined) return "Disconnected";
      return state.everConnected ? "Offline" : "Not connected";
    case "connecting":
      return state.everConnected ? "Reconnecting…" : "Connecting…";
    case "online":
      return connection.recovered === undefined
        ? "Connected"
        : `Reconnected — ${recoveredText(connection.recovered)}`;
    case "reconnecting": {
      const seconds = Math.ceil((connection.retryAt - now) / 1000);
      return seconds > 0
        ? `Reconnecting in ${seconds} s (attempt ${connection.attempt})`
        : `Reconnecting (attempt ${connection.attempt})`;
    }
  }
}

/** The banner over the log while the connection is down, or `undefined` when it is up. */
export function bannerText(state: PageState, now: number): string | undefined {
  if (!state.everConnected) return undefined;
  switch (state.connection.phase) {
    case "online":
      return undefined;
    case "offline":
      return state.ended ?? "You are disconnected.";
    case "connecting":
      return "Connection lost. Reconnecting…";
    case "reconnecting":
      return `Connection lost. ${statusText(state, now)}…`;
  }
}

// ----------------------------------------------------------------- reduce

/**
 * The state after `event`, which happened at `now` (ms since the epoch; used
 * only to time-stamp the page's own lines and to count down a reconnect).
 * Returns `state` itself when the event changes nothing.
 */
export function reduce(state: PageState, event: PageEvent, now: number): PageState {
  switch (event.type) {
    case "welcome": {
      let next: PageState = {
        ...state,
        me: event.name,
        connection: { phase: "online", recovered: undefined },
        everConnected: true,
        quitting: false,
      };
      if (event.resumed) {
        // The same session: exactly its rooms, no `joined` events will follow.
        for (const room of event.rooms) next = upsert(next, room, "room", { joined: true });
        for (const channel of next.channels.values()) {
          if (channel.kind === "room" && channel.joined && !event.rooms.includes(channel.name)) {
            next = putChannel(next, {
              ...channel,
              joined: false,
              members: [],
              count: 0,
              stale: false,
            });
          }
        }
        if (!activeChannel(next)) next = select(next, joinedRooms(next)[0]?.key);
        return next;
      }
      if (state.everConnected) return next; // a new session after a drop: the library rejoins
      // The greeting goes to the first room the user lands in: a token may grant
      // other rooms than the lobby, or none (then there is nowhere to greet).
      const first = event.rooms[0];
      if (first === undefined) return next;
      const others = event.others;
      next = note(
        next,
        `Welcome, ${event.name}! ${
          others === 0
            ? "Nobody else is"
            : `${others} other ${others === 1 ? "person is" : "people are"}`
        } online. Type /help for commands.`,
        "notice",
        now,
        roomKey(first),
      );
      if (event.motd) next = note(next, event.motd, "notice", now, roomKey(first));
      return next;
    }
    case "message":
      return addMessage(state, "room", event.room, event, false);
    case "direct": {
      const own = sameName(event.from, state.me);
      return addMessage(state, "dm", own ? event.to : event.from, event, false);
    }
    case "backfill": {
      let next = state;
      for (const message of event.messages) {
        next = message.type === "message"
          ? addMessage(next, "room", message.room, message, true)
          : addMessage(
            next,
            "dm",
            sameName(message.from, next.me) ? message.to : message.from,
            message,
            true,
          );
      }
      return next;
    }
    case "joined": {
      const key = roomKey(event.room);
      let next = state;
      let channel = next.channels.get(key) ?? newChannel("room", event.room);
      if (event.name === state.me) {
        const first = !channel.joined && channel.members.length === 0;
        channel = {
          ...channel,
          joined: true,
          ...(first ? { members: [state.me], count: 1 } : {}),
        };
        next = putChannel(next, channel);
        const active = activeChannel(next);
        if (!active || (active.kind === "room" && !active.joined)) next = select(next, key);
      } else if (!channel.members.includes(event.name)) {
        channel = {
          ...channel,
          members: [...channel.members, event.name],
          count: channel.count + 1,
        };
        next = putChannel(next, channel);
        next = note(next, `${markedName(event.name)} joined`, "event", event.ts, key);
      } else {
        return state;
      }
      return withDirectory(next, event.room, next.channels.get(key)?.count ?? 0);
    }
    case "left": {
      const key = roomKey(event.room);
      const channel = state.channels.get(key) ?? newChannel("room", event.room);
      if (event.name === state.me) {
        let next = putChannel(state, { ...channel, joined: false, members: [], stale: false });
        const remaining = (state.directory.get(event.room) ?? 1) - 1;
        next = withDirectory(next, event.room, remaining);
        if (state.active === key) next = select(next, joinedRooms(next)[0]?.key ?? key);
        return next;
      }
      const members = channel.members.filter((name) => name !== event.name);
      const count = Math.max(members.length, channel.count - 1);
      let next = putChannel(state, { ...channel, members, count });
      next = withDirectory(next, event.room, count);
      return note(
        next,
        `${markedName(event.name)} ${event.reason === "disconnect" ? "disconnected" : "left"}`,
        "event",
        event.ts,
        key,
      );
    }
    case "renamed": {
      const mine = event.from === state.me || event.to === state.me;
      let next = event.from === state.me ? { ...state, me: event.to } : state;
      const dm = next.channels.get(dmKey(event.from));
      if (dm && !mine) {
        const channels = new Map(next.channels);
        channels.delete(dm.key);
        const renamed = { ...dm, key: dmKey(event.to), name: event.to };
        channels.set(renamed.key, renamed);
        next = {
          ...next,
          channels,
          active: next.active === dm.key ? renamed.key : next.active,
        };
      }
      if (event.room === undefined) return next;
      const key = roomKey(event.room);
      const channel = next.channels.get(key) ?? newChannel("room", event.room);
      next = putChannel(next, {
        ...channel,
        members: channel.members.map((name) => name === event.from ? event.to : name),
      });
      return note(
        next,
        mine
          ? `You are now ${markedName(event.to)}`
          : `${markedName(event.from)} is now ${markedName(event.to)}`,
        "event",
        event.ts,
        key,
      );
    }
    case "presence": {
      const channel = state.channels.get(roomKey(event.room));
      if (!channel?.joined) return state;
      const next = putChannel(state, {
        ...channel,
        members: [...event.members],
        count: event.count,
        stale: false,
      });
      return withDirectory(next, event.room, event.count);
    }
    case "rooms":
      return {
        ...state,
        directory: new Map(event.rooms.map((room) => [room.name, room.members])),
      };
    case "notice":
      return note(state, event.text, "notice", event.ts);
    case "moderated":
      return note(
        state,
        moderatedText(event, state.me),
        sameName(event.name, state.me) ? "error" : "moderation",
        event.ts,
        event.room === undefined ? undefined : roomKey(event.room),
      );
    case "topic": {
      const key = roomKey(event.room);
      const channel = state.channels.get(key);
      if (!channel) return state;
      const topic = event.text === "" ? undefined : { text: event.text, by: event.by };
      // Told again on every join: a line only when it is news.
      if (topic?.text === channel.topic?.text && topic?.by === channel.topic?.by) return state;
      const next = putChannel(state, { ...channel, topic });
      const text = topic === undefined
        ? `${markedName(event.by)} cleared the topic`
        : `Topic: ${topic.text} (set by ${markedName(event.by)})`;
      return note(next, text, "notice", event.ts, key);
    }
    case "error":
      // A kick or a ban closes the connection next: the close says it (and why) once.
      if (event.code === "kicked" || event.code === "banned") return state;
      return note(state, errorText(event), "error", now);
    case "reconnecting": {
      let next = state;
      if (state.connection.phase === "online") {
        next = note(
          next,
          `Connection lost${event.reason ? ` (${event.reason})` : ""}; reconnecting.`,
          "error",
          now,
        );
      }
      return {
        ...staleMembers(next),
        connection: { phase: "reconnecting", attempt: event.attempt, retryAt: now + event.delayMs },
      };
    }
    case "resumed": {
      let next = state;
      if (event.session) {
        for (const { room } of event.rooms) next = upsert(next, room, "room", { joined: true });
      }
      const recovered = event.rooms.reduce((sum, room) => sum + room.count, 0) +
        (event.direct?.count ?? 0);
      next = {
        ...next,
        connection: { phase: "online", recovered },
        everConnected: true,
      };
      return note(next, `Reconnected — ${recoveredText(recovered)}.`, "notice", now);
    }
    case "gap":
      return addGap(state, event, now);
    case "close": {
      const ended = endedText(event);
      const next: PageState = {
        ...staleMembers(state),
        connection: { phase: "offline" },
        ...(ended === undefined ? {} : { ended }),
      };
      if (ended !== undefined) return note(next, ended, "error", now);
      if (!state.everConnected) return next;
      if (state.quitting) return note(next, "You are disconnected.", "notice", now);
      return note(
        next,
        `Connection lost${event.reason ? ` (${event.reason})` : ""}.`,
        "error",
        now,
      );
    }
    case "connecting":
      return { ...staleMembers(state), connection: { phase: "connecting" }, quitting: false };
    case "connect_failed":
      return { ...state, connection: { phase: "offline" } };
    case "quitting":
      return { ...state, quitting: true };
    case "select":
      // A conversation that is gone (closed meanwhile, or not back yet after a reload) is not shown.
      if (event.key !== undefined && !state.channels.has(event.key)) return state;
      return select(state, event.key);
    case "open_dm": {
      const key = dmKey(event.name);
      const next = state.channels.has(key)
        ? state
        : putChannel(state, newChannel("dm", event.name));
      return select(next, key);
    }
    case "close_dm": {
      if (!state.channels.has(event.key)) return state;
      const channels = new Map(state.channels);
      channels.delete(event.key);
      const next = { ...state, channels };
      return state.active === event.key ? select(next, joinedRooms(next)[0]?.key) : next;
    }
    case "visibility": {
      const next = { ...state, visible: event.visible };
      const active = activeChannel(next);
      return event.visible && active && active.unread > 0
        ? putChannel(next, { ...active, unread: 0 })
        : next;
    }
    case "clear": {
      const channel = state.channels.get(event.key);
      return channel ? putChannel(state, { ...channel, items: [] }) : state;
    }
    case "note":
      return note(state, event.text, event.style, now, event.key);
    case "addresses":
      return { ...state, addresses: event.addresses };
    default:
      return state;
  }
}

// ---------------------------------------------------------------- helpers

const MODERATED: Record<ModeratedEvent["action"], [others: string, you: string]> = {
  kick: ["was kicked", "You were kicked"],
  ban: ["was banned", "You were banned"],
  unban: ["is no longer banned", "You are no longer banned"],
  mute: ["was muted", "You were muted"],
  unmute: ["may speak again", "You may speak again"],
};

/** What a moderator did, in words: `bob was kicked by ann (spam)`; `You were …` for `me`. */
export function moderatedText(event: ModeratedEvent, me: string): string {
  const [others, you] = MODERATED[event.action] ?? [`: ${event.action}`, `You: ${event.action}`];
  const who = sameName(event.name, me) ? you : `${markedName(event.name)} ${others}`;
  const end = new Date(typeof event.until === "number" ? event.until : NaN);
  const until = Number.isNaN(end.getTime())
    ? ""
    : ` until ${end.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" })}`;
  const why = event.reason ? ` (${event.reason})` : "";
  return `${who} by ${markedName(event.by)}${until}${why}`;
}

// Errors about what a user may do read as what they are, not as failures.
const ERROR_LABELS: Partial<Record<ErrorEvent["code"], string>> = {
  forbidden: "Not allowed",
  muted: "Muted",
  room_full: "Room full",
  kicked: "Kicked",
  banned: "Banned",
  token_expired: "Sign-in expired",
  auth_failed: "Sign-in refused",
  auth_required: "Sign-in needed",
};

/** An error as the page shows it: `Not allowed: you may not post in news: …`. */
export function errorText(event: ErrorEvent): string {
  const label = ERROR_LABELS[event.code];
  return label === undefined ? event.message : `${label}: ${event.message}`;
}

/**
 * Why the relay closed the connection for good, for closes after which the
 * page does not reconnect (kicked 4010, banned 4011, token expired 4003).
 */
export function endedText(event: ConnectionCloseEvent): string | undefined {
  const reason = event.reason ? ` (${event.reason})` : "";
  switch (event.code) {
    case 4010:
      return `A moderator disconnected you${reason}. Reload the page to come back.`;
    case 4011:
      return `You are banned${reason}.`;
    case 4003:
      return `Your sign-in expired${reason}. Open the chat again from your app to continue.`;
    default:
      return undefined;
  }
}

function sameName(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

function newChannel(kind: "room" | "dm", name: string): Channel {
  return {
    key: kind === "room" ? roomKey(name) : dmKey(name),
    kind,
    name,
    items: [],
    unread: 0,
    joined: false,
    members: [],
    count: 0,
    stale: false,
    colors: new Map(),
    topic: undefined,
  };
}

function putChannel(state: PageState, channel: Channel): PageState {
  const before = state.channels.get(channel.key);
  if (channel.kind === "room" && channel.members !== before?.members) {
    channel = { ...channel, colors: assignColors(channel.colors, channel.members, state.me) };
  }
  const channels = new Map(state.channels);
  channels.set(channel.key, channel);
  return { ...state, channels };
}

/** Marks every joined room's member list as possibly out of date. */
function staleMembers(state: PageState): PageState {
  let next = state;
  for (const channel of state.channels.values()) {
    if (channel.kind === "room" && channel.joined && !channel.stale) {
      next = putChannel(next, { ...channel, stale: true });
    }
  }
  return next;
}

/** The channel for `name`, created when new, with `changes` applied. */
function upsert(
  state: PageState,
  name: string,
  kind: "room" | "dm",
  changes: Partial<Channel>,
): PageState {
  const key = kind === "room" ? roomKey(name) : dmKey(name);
  const channel = state.channels.get(key) ?? newChannel(kind, name);
  return putChannel(state, { ...channel, ...changes });
}

function withDirectory(state: PageState, room: string, count: number): PageState {
  const directory = new Map(state.directory);
  if (count > 0) directory.set(room, count);
  else directory.delete(room);
  return { ...state, directory };
}

function select(state: PageState, key: string | undefined): PageState {
  const channel = key === undefined ? undefined : state.channels.get(key);
  const next = { ...state, active: channel?.key };
  return channel && channel.unread > 0 ? putChannel(next, { ...channel, unread: 0 }) : next;
}

/** A line in `key`'s log, else the conversation on screen, else the lobby's. */
function note(
  state: PageState,
  text: string,
  style: NoteStyle,
  ts: number,
  key: string | undefined = state.active,
): PageState {
  const channel = (key === undefined ? undefined : state.channels.get(key)) ??
    (key?.startsWith("@") ? newChannel("dm", key.slice(1)) : undefined) ??
    (key?.startsWith("#") ? newChannel("room", key.slice(1)) : undefined) ??
    joinedRooms(state)[0] ?? state.channels.get(roomKey("lobby")) ??
    newChannel("room", "lobby");
  const item: LineItem = { kind: "line", seq: state.seq, style, text, ts };
  return putChannel(
    { ...state, seq: state.seq + 1 },
    { ...channel, items: trim([...channel.items, item]) },
  );
}

function positionOf(event: MessageEvent | DirectEvent): Position | undefined {
  return typeof event.offset === "number" && typeof event.epoch === "string"
    ? { offset: event.offset, epoch: event.epoch }
    : undefined;
}

/**
 * Where a message at `position` goes: before the first message of the same
 * epoch that is later, or the first gap that comes after it; else at the end.
 */
function placeOf(items: readonly LogItem[], position: Position | undefined): number {
  if (!position) return items.length;
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    const mark = item.kind === "message"
      ? item.position
      : item.kind === "gap"
      ? item.after
      : undefined;
    if (!mark || mark.epoch !== position.epoch) continue;
    if (item.kind === "message" ? mark.offset > position.offset : mark.offset >= position.offset) {
      return i;
    }
  }
  return items.length;
}

function isDuplicate(items: readonly LogItem[], id: string | undefined, position?: Position) {
  return items.some((item) =>
    item.kind === "message" &&
    ((id !== undefined && item.id === id) ||
      (position !== undefined && item.position !== undefined &&
        item.position.epoch === position.epoch && item.position.offset === position.offset))
  );
}

function continues(previous: LogItem | undefined, item: MessageItem): boolean {
  return !item.action && previous?.kind === "message" && !previous.action &&
    previous.from === item.from && item.ts >= previous.ts &&
    item.ts - previous.ts < GROUP_WINDOW_MS;
}

/** Sets `continued` on the message at `index` from its neighbour (a new object when it changes). */
function regroup(items: LogItem[], index: number): void {
  const item = items[index];
  if (item?.kind !== "message") return;
  const continued = continues(items[index - 1], item);
  if (continued !== item.continued) items[index] = { ...item, continued };
}

function trim(items: LogItem[]): LogItem[] {
  if (items.length <= MAX_LOG_ITEMS) return items;
  const kept = items.slice(items.length - MAX_LOG_ITEMS);
  regroup(kept, 0);
  return kept;
}

function addMessage(
  state: PageState,
  kind: "room" | "dm",
  name: string,
  event: MessageEvent | DirectEvent,
  backfill: boolean,
): PageState {
  const key = kind === "room" ? roomKey(name) : dmKey(name);
  const existing = state.channels.get(key);
  const channel = existing
    ? (kind === "dm" ? { ...existing, name } : existing)
    : newChannel(kind, name);
  const position = positionOf(event);
  if (isDuplicate(channel.items, event.id, position)) return state;
  const own = sameName(event.from, state.me);
  const item: MessageItem = {
    kind: "message",
    seq: state.seq,
    id: event.id,
    from: event.from,
    to: event.type === "direct" ? event.to : undefined,
    ts: event.ts,
    text: event.text,
    action: event.action === true,
    file: event.file,
    data: event.data,
    isPrivate: event.type === "direct",
    own,
    continued: false,
    position,
  };
  const items = [...channel.items];
  const at = placeOf(items, position);
  items.splice(at, 0, item);
  regroup(items, at);
  regroup(items, at + 1);
  const unseen = !backfill && !own && (state.active !== key || !state.visible);
  return putChannel(
    { ...state, seq: state.seq + 1 },
    { ...channel, items: trim(items), unread: channel.unread + (unseen ? 1 : 0) },
  );
}

function lastPosition(items: readonly LogItem[]): Position | undefined {
  for (let i = items.length - 1; i >= 0; i--) {
    const item = items[i]!;
    if (item.kind === "message" && item.position) return item.position;
    if (item.kind === "gap" && item.after) return item.after;
  }
  return undefined;
}

function addGap(state: PageState, event: GapEvent, now: number): PageState {
  const gap = (channel: Channel, text: string, seq: number): Channel => {
    const item: GapItem = {
      kind: "gap",
      seq,
      text,
      reason: event.reason,
      ts: now,
      after: lastPosition(channel.items),
    };
    return { ...channel, items: trim([...channel.items, item]) };
  };
  if (event.room !== undefined) {
    const channel = state.channels.get(roomKey(event.room)) ?? newChannel("room", event.room);
    return putChannel(
      { ...state, seq: state.seq + 1 },
      gap(channel, "Some messages could not be recovered", state.seq),
    );
  }
  // The private stream: every private conversation may have lost something.
  const dms = [...state.channels.values()].filter((channel) => channel.kind === "dm");
  if (dms.length === 0) {
    return note(state, "Some private messages could not be recovered.", "error", now);
  }
  let next = state;
  for (const channel of dms) {
    next = putChannel(
      { ...next, seq: next.seq + 1 },
      gap(channel, "Some private messages could not be recovered", next.seq),
    );
  }
  return next;
}
