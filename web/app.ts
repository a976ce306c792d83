// The crosswire chat page. It talks to the relay through the same client
// library as the terminal client (client/client.ts), bundled for browsers by
// web/build.ts. Everything other people send is put on the page with
// textContent or as attribute values, never parsed as HTML.

import { connect, type CrosswireClient } from "../client/client.ts";
import { CrosswireClientError } from "../client/errors.ts";
import type { FileInfo, ServerEvent } from "../core/protocol.ts";
import { HELP, parseLine } from "./_commands.ts";
import {
  type ButtonElem,
  document,
  type DragEventLike,
  type Elem,
  type FormElem,
  type InputElem,
  type KeyEvent,
  type PasteEvent,
  type TagMap,
} from "./_dom.ts";
import {
  backoffDelay,
  colorSlot,
  formatBytes,
  formatTime,
  isPreviewableImage,
  lookalikeWarning,
  markedName,
  splitLinks,
} from "./_format.ts";

// ---------------------------------------------------------------- elements

function $<T extends Elem = Elem>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the page has no #${id}`);
  return element as T;
}

const ui = {
  login: $("login"),
  loginForm: $<FormElem>("login-form"),
  name: $<InputElem>("name"),
  loginError: $("login-error"),
  loginButton: $<ButtonElem>("login-button"),
  loginStatus: $("login-status"),
  chat: $("chat"),
  channelTitle: $("channel-title"),
  channelMeta: $("channel-meta"),
  status: $("status"),
  statusText: $("status-text"),
  toggleRooms: $("toggle-rooms"),
  toggleMembers: $("toggle-members"),
  sidebar: $("sidebar"),
  meAvatar: $("me-avatar"),
  meName: $("me-name"),
  roomList: $("room-list"),
  joinForm: $<FormElem>("join-form"),
  joinInput: $<InputElem>("join-input"),
  otherRoomsTitle: $("other-rooms-title"),
  otherRooms: $("other-rooms"),
  dmTitle: $("dm-title"),
  dmList: $("dm-list"),
  main: $("main"),
  banner: $("banner"),
  bannerText: $("banner-text"),
  retry: $<ButtonElem>("retry"),
  log: $("log"),
  composer: $<FormElem>("composer"),
  attach: $<ButtonElem>("attach"),
  fileInput: $<InputElem>("file-input"),
  input: $<InputElem>("input"),
  drop: $("drop"),
  dropTarget: $("drop-target"),
  membersPanel: $("members-panel"),
  memberCount: $("member-count"),
  memberList: $("member-list"),
  scrim: $("scrim"),
};

/** Makes an element; `text` is set with textContent, so it is never parsed as HTML. */
function el<K extends keyof TagMap>(tag: K, className = "", text?: string): TagMap[K] {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text !== undefined) element.textContent = text;
  return element;
}

/**
 * A name, as a span with `className`. A name that could be mistaken for another also gets a
 * dotted underline, a "?" badge after it, and the reason as the tooltip of both.
 */
function nameTag(name: string, className: string, text = name): Elem[] {
  const tag = el("span", className, text);
  const warning = lookalikeWarning(name);
  if (warning === undefined) return [tag];
  tag.classList.toggle("lookalike", true);
  tag.title = warning;
  const badge = el("span", "lookalike-badge", "?");
  badge.title = warning;
  badge.setAttribute("role", "img");
  badge.setAttribute("aria-label", warning);
  return [tag, badge];
}

function avatar(name: string): Elem {
  const element = el("span", `avatar c${colorSlot(name)}`, [...name][0]?.toUpperCase() ?? "?");
  element.setAttribute("aria-hidden", "true");
  return element;
}

// ------------------------------------------------------------------- state

/** A conversation on screen: a room, or private messages with one person. */
interface Channel {
  key: string;
  kind: "room" | "dm";
  /** Room name, or the other person's name. */
  name: string;
  log: Elem;
  unread: number;
  /** Rooms only: whether we are a member. */
  joined: boolean;
  members: string[];
  count: number;
  lastSender: string | undefined;
  lastTs: number;
}

const MAX_LOG_ITEMS = 800;
const GROUP_WINDOW_MS = 5 * 60_000;
const HISTORY_SIZE = 100;

const channels = new Map<string, Channel>();
/** Every room on the server with its member count, from the last `rooms` reply. */
let directory = new Map<string, number>();
let active: Channel | undefined;
let client: CrosswireClient | undefined;
let myName = "";
/** The secret from our last `welcome` that takes our name back after a drop. */
let reclaim: string | undefined;
let attempt = 0;
let reconnectTimer: ReturnType<typeof setTimeout> | undefined;
let countdown: ReturnType<typeof setInterval> | undefined;
let directoryTimer: ReturnType<typeof setInterval> | undefined;
let quitting = false;
let everConnected = false;
const history: string[] = [];
let historyIndex = 0;
let draft = "";

function wsUrl(): string {
  const url = new URL("ws", location.href);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  return url.href;
}

const roomKey = (room: string) => `#${room}`;
const dmKey = (name: string) => `@${name.toLowerCase()}`;

function channelFor(kind: "room" | "dm", name: string): Channel {
  const key = kind === "room" ? roomKey(name) : dmKey(name);
  let channel = channels.get(key);
  if (!channel) {
    channel = {
      key,
      kind,
      name,
      log: el("div", "log-inner"),
      unread: 0,
      joined: false,
      members: [],
      count: 0,
      lastSender: undefined,
      lastTs: 0,
    };
    channels.set(key, channel);
  }
  return channel;
}

function joinedRooms(): Channel[] {
  return [...channels.values()].filter((channel) => channel.kind === "room" && channel.joined);
}

// ----------------------------------------------------------------- the log

function nearBottom(): boolean {
  const log = ui.log;
  return log.scrollHeight - log.scrollTop - log.clientHeight < 80;
}

function scrollToBottom(): void {
  ui.log.scrollTop = ui.log.scrollHeight;
}

/** Appends an entry to a channel's log, counting it as unread when not on screen. */
function append(channel: Channel, entry: Elem, countsAsUnread = false): void {
  const visible = channel === active;
  const stick = visible && nearBottom();
  channel.log.append(entry);
  while (channel.log.childElementCount > MAX_LOG_ITEMS) {
    const first = channel.log.firstElementChild as Elem | null;
    if (!first) break;
    for (const node of first.querySelectorAll("[data-blob]")) {
      URL.revokeObjectURL(node.dataset.blob ?? "");
    }
    first.remove();
  }
  if (visible && stick) scrollToBottom();
  if (countsAsUnread && (!visible || document.hidden)) {
    channel.unread++;
    renderSidebar();
    updateTitle();
  }
}

/** A server notice, an error, or the page's own remark, in one channel (default: on screen). */
function note(text: string, kind: "notice" | "error" | "event" = "notice", target = active): void {
  const channel = target ?? channelFor("room", "lobby");
  const entry = el("div", `line ${kind}`);
  entry.append(el("span", "line-text", text));
  entry.append(timeElement(Date.now()));
  channel.lastSender = undefined;
  append(channel, entry);
}

function timeElement(ts: number): Elem {
  const time = el("time", "time", formatTime(ts));
  time.dateTime = new Date(ts).toISOString();
  time.title = new Date(ts).toLocaleString();
  return time;
}

function textBody(text: string): Elem {
  const body = el("div", "text");
  for (const segment of splitLinks(text)) {
    if (segment.href) {
      const link = el("a", "", segment.text);
      link.href = segment.href;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      body.append(link);
    } else {
      body.append(document.createTextNode(segment.text));
    }
  }
  return body;
}

function fileBody(file: FileInfo, data: Uint8Array | undefined, channel: Channel): Elem {
  const body = el("div", "file");
  const caption = `${file.name} · ${formatBytes(file.size ?? data?.length ?? 0)}`;
  if (!data) {
    body.append(el("span", "file-name", caption));
    return body;
  }
  const previewable = isPreviewableImage(file.type);
  // Anything but a plain picture is handed out as opaque bytes, so a shared
  // HTML or SVG file can never be opened as a document of this page's origin.
  const blob = new Blob([data.slice()], {
    type: previewable ? file.type : "application/octet-stream",
  });
  const url = URL.createObjectURL(blob);
  body.dataset.blob = url;
  if (previewable) {
    const link = el("a", "preview");
    link.href = url;
    link.target = "_blank";
    link.rel = "noopener";
    const image = el("img");
    image.src = url;
    image.alt = file.name;
    image.addEventListener("load", () => scrollIfPinned(channel), { once: true });
    link.append(image);
    body.append(link);
  }
  const row = el("div", "file-row");
  if (!previewable) row.append(el("span", "file-icon"));
  row.append(el("span", "file-name", caption));
  const download = el("a", "download", "Download");
  download.href = url;
  download.download = file.name;
  row.append(download);
  body.append(row);
  return body;
}

// A picture that finishes loading grows the log; keep the newest line in view.
let pinned = true;
function scrollIfPinned(channel: Channel): void {
  if (channel === active && pinned) scrollToBottom();
}

interface ChatItem {
  from: string;
  ts: number;
  text?: string | undefined;
  action?: boolean | undefined;
  file?: FileInfo | undefined;
  data?: Uint8Array | undefined;
  to?: string | undefined;
}

function addMessage(channel: Channel, item: ChatItem, isPrivate: boolean): void {
  const own = item.from.toLowerCase() === myName.toLowerCase();
  const classes = ["msg"];
  if (own) classes.push("own");
  if (isPrivate) classes.push("private");
  if (item.action) classes.push("action");
  const continued = !item.action && channel.lastSender === item.from &&
    item.ts - channel.lastTs < GROUP_WINDOW_MS;
  if (continued) classes.push("cont");
  const entry = el("div", classes.join(" "));
  entry.dataset.from = item.from;
  entry.append(avatar(item.from));
  const body = el("div", "body");
  const meta = el("div", "meta");
  meta.append(...nameTag(item.from, `from c${colorSlot(item.from)}`));
  if (isPrivate) {
    meta.append(el("span", "tag", own ? `private to ${markedName(item.to ?? "")}` : "private"));
  }
  meta.append(timeElement(item.ts));
  body.append(meta);
  if (item.file) {
    body.append(fileBody(item.file, item.data, channel));
  } else if (item.action) {
    const line = textBody(item.text ?? "");
    line.prepend(...nameTag(item.from, `actor c${colorSlot(item.from)}`, `${item.from} `));
    body.append(line);
  } else {
    body.append(textBody(item.text ?? ""));
  }
  entry.append(body);
  channel.lastSender = item.action ? undefined : item.from;
  channel.lastTs = item.ts;
  append(channel, entry, !own);
}

// ------------------------------------------------------------- the screens

function showChat(): void {
  ui.login.hidden = true;
  ui.chat.hidden = false;
  ui.meName.textContent = myName;
  renderMe();
  ui.input.focus();
}

function renderMe(): void {
  ui.meName.textContent = myName;
  ui.meAvatar.className = `avatar c${colorSlot(myName)}`;
  ui.meAvatar.textContent = [...myName][0]?.toUpperCase() ?? "?";
}

function setStatus(state: "online" | "connecting" | "reconnecting" | "offline", text: string) {
  ui.status.dataset.state = state;
  ui.statusText.textContent = text;
  ui.loginStatus.textContent = state === "connecting" ? text : "";
  const down = state !== "online" && everConnected;
  ui.banner.hidden = !down;
  ui.banner.dataset.state = state;
  if (down) {
    ui.bannerText.textContent = state === "offline"
      ? "You are disconnected."
      : state === "connecting"
      ? "Connection lost. Reconnecting…"
      : `Connection lost. ${text}…`;
  }
  ui.retry.hidden = state === "connecting";
  ui.retry.textContent = state === "offline" ? "Reconnect" : "Retry now";
}

function select(channel: Channel | undefined): void {
  pinned = true;
  active = channel;
  if (channel) {
    channel.unread = 0;
    ui.log.replaceChildren(channel.log);
  } else {
    const empty = el("div", "empty");
    empty.append(
      el("p", "empty-title", "You are not in any room."),
      el("p", "", "Join or create one from the list of rooms."),
    );
    ui.log.replaceChildren(empty);
  }
  renderHeader();
  renderSidebar();
  renderMembers();
  updateTitle();
  scrollToBottom();
  closeDrawers();
}

function renderHeader(): void {
  const channel = active;
  if (!channel) {
    ui.channelTitle.textContent = "crosswire";
    ui.channelMeta.textContent = "";
    ui.input.placeholder = "Join a room to chat";
    ui.dropTarget.textContent = "";
    return;
  }
  if (channel.kind === "room") {
    ui.channelTitle.textContent = `#${channel.name}`;
    ui.channelMeta.textContent = channel.joined
      ? `${channel.count} ${channel.count === 1 ? "member" : "members"}`
      : "you left this room";
    ui.input.placeholder = `Message #${channel.name}`;
    ui.dropTarget.textContent = `#${channel.name}`;
  } else {
    ui.channelTitle.replaceChildren(...nameTag(channel.name, "", `@${channel.name}`));
    ui.channelMeta.textContent = "private conversation";
    ui.input.placeholder = `Private message to ${channel.name}`;
    ui.dropTarget.textContent = `@${channel.name}`;
  }
}

function channelButton(channel: Channel, label: string, count?: number): Elem {
  const item = el("li", channel === active ? "active" : "");
  const button = el("button", "channel");
  button.type = "button";
  button.dataset.key = channel.key;
  button.append(
    ...(channel.kind === "dm"
      ? nameTag(channel.name, "channel-name", label)
      : [el("span", "channel-name", label)]),
  );
  if (channel.unread > 0) button.append(el("span", "badge unread", String(channel.unread)));
  else if (count !== undefined) button.append(el("span", "badge", String(count)));
  button.addEventListener("click", () => select(channel));
  item.append(button);
  const close = el("button", "close", "×");
  close.type = "button";
  close.title = channel.kind === "room" ? `Leave #${channel.name}` : "Close conversation";
  close.setAttribute("aria-label", close.title);
  close.addEventListener("click", (event) => {
    event.stopPropagation();
    if (channel.kind === "room") void leaveRoom(channel.name);
    else closeDm(channel);
  });
  item.append(close);
  return item;
}

function renderSidebar(): void {
  const rooms = joinedRooms().sort((a, b) => a.name.localeCompare(b.name));
  ui.roomList.replaceChildren(
    ...rooms.map((channel) => channelButton(channel, `#${channel.name}`, channel.count)),
  );
  // Rooms we are not in (and one we just left, still on screen) can be joined with a click.
  const others = [...directory.entries()]
    .filter(([name]) => !channels.get(roomKey(name))?.joined)
    .sort(([a], [b]) => a.localeCompare(b));
  ui.otherRoomsTitle.hidden = others.length === 0;
  ui.otherRooms.replaceChildren(...others.map(([name, members]) => {
    const item = el("li");
    const button = el("button", "channel other");
    button.type = "button";
    button.title = `Join #${name}`;
    button.append(el("span", "channel-name", `#${name}`), el("span", "badge", String(members)));
    button.addEventListener("click", () => void joinRoom(name));
    item.append(button);
    return item;
  }));
  const dms = [...channels.values()].filter((channel) => channel.kind === "dm");
  ui.dmTitle.hidden = dms.length === 0;
  ui.dmList.replaceChildren(...dms.map((channel) => channelButton(channel, `@${channel.name}`)));
}

function renderMembers(): void {
  const channel = active;
  if (!channel || channel.kind !== "room" || !channel.joined) {
    ui.memberCount.textContent = "";
    ui.memberList.replaceChildren();
    if (channel?.kind === "dm") {
      ui.memberList.append(memberItem(myName), memberItem(channel.name));
    }
    return;
  }
  ui.memberCount.textContent = String(channel.count);
  ui.memberList.replaceChildren(...channel.members.map(memberItem));
  if (channel.count > channel.members.length) {
    ui.memberList.append(el("li", "more", `and ${channel.count - channel.members.length} more`));
  }
}

function memberItem(name: string): Elem {
  const item = el("li");
  const own = name.toLowerCase() === myName.toLowerCase();
  const button = el("button", own ? "member own" : "member");
  button.type = "button";
  button.dataset.name = name;
  button.append(avatar(name), ...nameTag(name, "member-name"));
  if (own) {
    button.append(el("span", "you", "you"));
    button.disabled = true;
  } else {
    button.title = `Send ${name} a private message`;
    button.addEventListener("click", () => openDm(name));
  }
  item.append(button);
  return item;
}

function updateTitle(): void {
  const unread = [...channels.values()].reduce((sum, channel) => sum + channel.unread, 0);
  const where = active ? (active.kind === "room" ? `#${active.name}` : `@${active.name}`) : "";
  document.title = `${unread > 0 ? `(${unread}) ` : ""}${where ? `${where} · ` : ""}crosswire`;
}

function openDm(name: string): void {
  select(channelFor("dm", name));
  ui.input.focus();
}

function closeDm(channel: Channel): void {
  channels.delete(channel.key);
  if (active === channel) select(joinedRooms()[0]);
  else renderSidebar();
}

function closeDrawers(): void {
  ui.chat.classList.remove("show-rooms", "show-members");
  ui.scrim.hidden = true;
}

function toggleDrawer(which: "show-rooms" | "show-members"): void {
  const open = !ui.chat.classList.contains(which);
  closeDrawers();
  ui.chat.classList.toggle(which, open);
  ui.scrim.hidden = !open;
}

// ---------------------------------------------------------------- events

function onEvent(event: ServerEvent): void {
  if (client) myName = client.name;
  switch (event.type) {
    case "message": {
      const channel = channelFor("room", event.room);
      addMessage(channel, event, false);
      break;
    }
    case "direct": {
      const own = event.from.toLowerCase() === myName.toLowerCase();
      const peer = own ? event.to : event.from;
      const channel = channelFor("dm", peer);
      channel.name = peer;
      addMessage(channel, event, true);
      renderSidebar();
      break;
    }
    case "joined": {
      const channel = channelFor("room", event.room);
      if (event.name === myName) {
        const wasJoined = channel.joined;
        channel.joined = true;
        if (!wasJoined && channel.members.length === 0) {
          channel.members = [myName];
          channel.count = 1;
        }
        if (!active || (active.kind === "room" && !active.joined)) select(channel);
      } else if (!channel.members.includes(event.name)) {
        channel.members.push(event.name);
        channel.count++;
        note(`${markedName(event.name)} joined`, "event", channel);
      }
      directory.set(event.room, channel.count);
      refresh(channel);
      break;
    }
    case "left": {
      const channel = channelFor("room", event.room);
      if (event.name === myName) {
        channel.joined = false;
        channel.members = [];
        const remaining = (directory.get(event.room) ?? 1) - 1;
        if (remaining > 0) directory.set(event.room, remaining);
        else directory.delete(event.room);
        if (active === channel) select(joinedRooms()[0] ?? channel);
        else renderSidebar();
        break;
      }
      channel.members = channel.members.filter((name) => name !== event.name);
      channel.count = Math.max(channel.members.length, channel.count - 1);
      directory.set(event.room, channel.count);
      note(
        `${markedName(event.name)} ${event.reason === "disconnect" ? "disconnected" : "left"}`,
        "event",
        channel,
      );
      refresh(channel);
      break;
    }
    case "renamed": {
      const mine = event.to === myName;
      if (mine) {
        renderMe();
        rememberName(myName);
      }
      const dm = channels.get(dmKey(event.from));
      if (dm && !mine) {
        channels.delete(dm.key);
        dm.key = dmKey(event.to);
        dm.name = event.to;
        channels.set(dm.key, dm);
      }
      if (event.room === undefined) break;
      const channel = channelFor("room", event.room);
      channel.members = channel.members.map((name) => name === event.from ? event.to : name);
      note(
        mine
          ? `You are now ${markedName(event.to)}`
          : `${markedName(event.from)} is now ${markedName(event.to)}`,
        "event",
        channel,
      );
      refresh(channel);
      break;
    }
    case "presence": {
      const channel = channels.get(roomKey(event.room));
      if (channel?.joined) {
        channel.members = [...event.members];
        channel.count = event.count;
        directory.set(event.room, event.count);
        refresh(channel);
      }
      break;
    }
    case "rooms":
      directory = new Map(event.rooms.map((room) => [room.name, room.members]));
      renderSidebar();
      break;
    case "notice":
      note(event.text, "notice");
      break;
    case "error":
      note(event.message, "error");
      break;
    default:
      break;
  }
}

function refresh(channel: Channel): void {
  renderSidebar();
  if (channel === active) {
    renderHeader();
    renderMembers();
  }
}

// ------------------------------------------------------------ connection

function rememberName(name: string): void {
  try {
    localStorage.setItem("crosswire.name", name);
  } catch { /* storage may be off */ }
}

function loginErrorText(error: unknown): string {
  if (error instanceof CrosswireClientError) {
    switch (error.code) {
      case "name_taken":
        return "Someone online already has that name. Try another.";
      case "name_invalid":
        return `That name won't work: ${error.message}.`;
      case "connect_failed":
      case "connection_closed":
        return "Can't reach the server. Is it running?";
      case "timeout":
        return "The server did not answer in time. Try again.";
      default:
        return error.message;
    }
  }
  return String(error);
}

async function login(name: string): Promise<void> {
  ui.loginError.hidden = true;
  ui.loginButton.disabled = true;
  setStatus("connecting", "Connecting…");
  try {
    const next = await connect(wsUrl(), { name, echo: true });
    myName = next.name;
    everConnected = true;
    rememberName(myName);
    showChat();
    attach(next);
    setStatus("online", "Connected");
    const others = next.welcome.others;
    note(
      `Welcome, ${myName}! ${
        others === 0
          ? "Nobody else is"
          : `${others} other ${others === 1 ? "person is" : "people are"}`
      } online. Type /help for commands.`,
      "notice",
      channelFor("room", "lobby"),
    );
    if (next.welcome.motd) note(next.welcome.motd, "notice", channelFor("room", "lobby"));
    void refreshDirectory();
  } catch (error) {
    setStatus("offline", "Offline");
    ui.loginError.textContent = loginErrorText(error);
    ui.loginError.hidden = false;
    ui.name.setAttribute("aria-invalid", "true");
    ui.name.focus();
    ui.name.select();
  } finally {
    ui.loginButton.disabled = false;
  }
}

function attach(next: CrosswireClient): void {
  client = next;
  reclaim = next.welcome.reclaim;
  quitting = false;
  next.on("*", (event) => {
    if (event.type !== "close") onEvent(event);
  });
  void next.closed.then((event) => {
    if (client !== next) return;
    client = undefined;
    if (quitting) {
      setStatus("offline", "Offline");
      note("You are disconnected.", "notice");
      return;
    }
    note(`Connection lost${event.reason ? ` (${event.reason})` : ""}.`, "error");
    scheduleReconnect();
  });
  clearInterval(directoryTimer);
  directoryTimer = setInterval(() => void refreshDirectory(), 10_000);
}

function scheduleReconnect(): void {
  clearTimeout(reconnectTimer);
  clearInterval(countdown);
  const delay = backoffDelay(attempt++);
  const due = Date.now() + delay;
  const tick = () => {
    const seconds = Math.max(1, Math.ceil((due - Date.now()) / 1000));
    setStatus("reconnecting", `Reconnecting in ${seconds} s`);
  };
  tick();
  countdown = setInterval(tick, 1000);
  reconnectTimer = setTimeout(() => void reconnect(), delay);
}

async function reconnect(): Promise<void> {
  clearTimeout(reconnectTimer);
  clearInterval(countdown);
  reconnectTimer = undefined;
  if (client) return;
  setStatus("connecting", "Reconnecting…");
  const rooms = joinedRooms().map((channel) => channel.name);
  let next: CrosswireClient;
  try {
    // The reclaim secret takes back our name, which the relay keeps for us after a drop.
    next = await connect(wsUrl(), {
      name: myName,
      echo: true,
      timeoutMs: 8000,
      ...(reclaim === undefined ? {} : { reclaim }),
    });
  } catch (error) {
    if (error instanceof CrosswireClientError && error.code === "name_taken" && attempt === 1) {
      note(
        `The server still holds your name for another session as ${myName}; trying again.`,
        "notice",
      );
    }
    scheduleReconnect();
    return;
  }
  attempt = 0;
  attach(next);
  // The relay puts every new session in the lobby; restore exactly the rooms we had.
  const restored: string[] = [];
  for (const room of rooms) {
    if (room === "lobby") {
      restored.push(room);
      continue;
    }
    try {
      await next.join(room);
      restored.push(room);
    } catch { /* its error event is already on screen */ }
  }
  if (!rooms.includes("lobby")) {
    try {
      await next.leave("lobby");
    } catch { /* already gone */ }
  }
  if (client !== next) return;
  setStatus("online", "Connected");
  note(
    `Reconnected as ${myName}${
      restored.length ? ` and rejoined ${restored.map((room) => `#${room}`).join(", ")}` : ""
    }.`,
    "notice",
  );
  void refreshDirectory();
}

function retryNow(): void {
  if (client) return;
  attempt = 0;
  quitting = false;
  void reconnect();
}

async function refreshDirectory(): Promise<void> {
  try {
    await client?.rooms(); // the `rooms` event updates the list
  } catch { /* offline; the next tick tries again */ }
}

// --------------------------------------------------------------- actions

async function joinRoom(room: string): Promise<void> {
  const name = room.replace(/^#/, "").trim();
  if (!name) return;
  const existing = channels.get(roomKey(name));
  if (existing?.joined) return select(existing);
  if (!client) return note("Not connected; try again once the connection is back.", "error");
  try {
    await client.join(name);
    select(channelFor("room", name));
  } catch { /* shown by the error event */ }
}

async function leaveRoom(room: string): Promise<void> {
  if (!client) return note("Not connected.", "error");
  try {
    await client.leave(room);
  } catch { /* shown by the error event */ }
}

function currentClient(): CrosswireClient | undefined {
  if (!client) note("Not connected: your message was not sent.", "error");
  return client;
}

function textTooLong(text: string): boolean {
  const max = client?.limits.maxTextBytes ?? 8192;
  const size = new TextEncoder().encode(text).length;
  if (size <= max) return false;
  note(`That message is ${formatBytes(size)}; the limit is ${formatBytes(max)}.`, "error");
  return true;
}

function refuse(message: string): false {
  note(message, "error");
  return false;
}

/** Handles one composer line; returns false when it was not sent (keep it in the box). */
function submit(line: string): boolean {
  const command = parseLine(line);
  const channel = active;
  switch (command.kind) {
    case "say":
    case "me": {
      if (!channel) return refuse("Join a room first.");
      if (channel.kind === "room" && !channel.joined) {
        return refuse(`You are not in #${channel.name}; /join ${channel.name} first.`);
      }
      const current = currentClient();
      if (!current || textTooLong(command.text)) return false;
      const options = { action: command.kind === "me" };
      if (channel.kind === "room") current.send(channel.name, command.text, options);
      else current.direct(channel.name, command.text, options);
      return true;
    }
    case "msg": {
      const current = currentClient();
      if (!current || textTooLong(command.text)) return false;
      current.direct(command.to, command.text);
      select(channelFor("dm", command.to));
      return true;
    }
    case "join":
      void joinRoom(command.room);
      return true;
    case "leave": {
      const room = command.room ?? (channel?.kind === "room" ? channel.name : undefined);
      if (!room) return refuse("usage: /leave ROOM");
      void leaveRoom(room);
      return true;
    }
    case "nick":
      if (!currentClient()) return false;
      client?.nick(command.name).catch(() => {});
      return true;
    case "who": {
      const room = command.room ?? (channel?.kind === "room" ? channel.name : undefined);
      if (!room) return refuse("usage: /who ROOM");
      client?.presence(room).then(
        (presence) =>
          note(`${presence.count} in #${room}: ${presence.members.map(markedName).join(", ")}`),
        () => {},
      );
      return true;
    }
    case "rooms":
      client?.rooms().then((reply) =>
        note(
          reply.rooms.length === 0
            ? "No rooms."
            : `Rooms: ${reply.rooms.map((room) => `#${room.name} (${room.members})`).join(", ")}`,
        ), () => {});
      return true;
    case "clear":
      if (channel) {
        channel.log.replaceChildren();
        channel.lastSender = undefined;
      }
      return true;
    case "help":
      note(["Commands:", ...HELP.map((line) => `  ${line}`)].join("\n"));
      return true;
    case "quit":
      quitting = true;
      void client?.close();
      return true;
    case "raw":
      if (!currentClient()) return false;
      client?.input(command.line);
      return true;
    case "usage":
      return refuse(command.message);
  }
}

async function shareFiles(files: Iterable<File>): Promise<void> {
  const channel = active;
  if (!channel || (channel.kind === "room" && !channel.joined)) {
    return note("Join a room to share files.", "error");
  }
  for (const file of files) {
    const current = currentClient();
    if (!current) return;
    const max = current.limits.maxFileBytes;
    const name = file.name || "pasted-file";
    if (file.size > max) {
      note(
        `${name} is ${formatBytes(file.size)}; files can be at most ${formatBytes(max)}.`,
        "error",
      );
      continue;
    }
    if (file.size === 0) {
      note(`${name} is empty; nothing to send.`, "error");
      continue;
    }
    const bytes = new Uint8Array(await file.arrayBuffer());
    const target = channel.kind === "room" ? { room: channel.name } : { to: channel.name };
    try {
      current.sendFile(target, bytes, { name, type: file.type || "application/octet-stream" });
    } catch (error) {
      note(error instanceof Error ? error.message : String(error), "error");
    }
  }
}

// ------------------------------------------------------------------ wiring

function autosize(): void {
  ui.input.style.height = "auto";
  ui.input.style.height = `${Math.min(ui.input.scrollHeight, 160)}px`;
}

function recall(step: -1 | 1): void {
  if (history.length === 0) return;
  if (historyIndex === history.length) draft = ui.input.value;
  historyIndex = Math.max(0, Math.min(history.length, historyIndex + step));
  ui.input.value = historyIndex === history.length ? draft : history[historyIndex] ?? "";
  autosize();
  const end = ui.input.value.length;
  ui.input.setSelectionRange(end, end);
}

function wire(): void {
  try {
    ui.name.value = localStorage.getItem("crosswire.name") ?? "";
  } catch { /* storage may be off */ }

  ui.loginForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const name = ui.name.value.trim();
    if (!name) {
      ui.loginError.textContent = "Type a name first.";
      ui.loginError.hidden = false;
      return;
    }
    void login(name);
  });
  ui.name.addEventListener("input", () => {
    ui.loginError.hidden = true;
    ui.name.removeAttribute("aria-invalid");
  });

  ui.composer.addEventListener("submit", (event) => {
    event.preventDefault();
    const line = ui.input.value.replace(/\s+$/, "");
    if (!line.trim()) return;
    if (!submit(line)) return;
    if (history.at(-1) !== line) history.push(line);
    if (history.length > HISTORY_SIZE) history.shift();
    historyIndex = history.length;
    draft = "";
    ui.input.value = "";
    autosize();
  });
  ui.input.addEventListener("keydown", (event: KeyEvent) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      ui.composer.requestSubmit();
    } else if (
      event.key === "ArrowUp" &&
      !ui.input.value.slice(0, ui.input.selectionStart ?? 0).includes("\n")
    ) {
      event.preventDefault();
      recall(-1);
    } else if (
      event.key === "ArrowDown" && historyIndex < history.length &&
      !ui.input.value.slice(ui.input.selectionEnd ?? 0).includes("\n")
    ) {
      event.preventDefault();
      recall(1);
    } else if (event.key === "Escape") {
      closeDrawers();
    }
  });
  ui.input.addEventListener("input", autosize);
  ui.input.addEventListener("paste", (event: PasteEvent) => {
    const files = [...(event.clipboardData?.files ?? [])];
    if (files.length === 0) return;
    event.preventDefault();
    void shareFiles(files);
  });

  ui.attach.addEventListener("click", () => ui.fileInput.click());
  ui.fileInput.addEventListener("change", () => {
    const files = [...(ui.fileInput.files ?? [])];
    ui.fileInput.value = "";
    void shareFiles(files);
  });

  let dragDepth = 0;
  const hasFiles = (event: DragEventLike) => event.dataTransfer?.types.includes("Files") ?? false;
  ui.main.addEventListener("dragenter", (event: DragEventLike) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    dragDepth++;
    ui.drop.hidden = false;
  });
  ui.main.addEventListener("dragover", (event: DragEventLike) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    if (event.dataTransfer) event.dataTransfer.dropEffect = "copy";
  });
  ui.main.addEventListener("dragleave", () => {
    dragDepth = Math.max(0, dragDepth - 1);
    if (dragDepth === 0) ui.drop.hidden = true;
  });
  ui.main.addEventListener("drop", (event: DragEventLike) => {
    event.preventDefault();
    dragDepth = 0;
    ui.drop.hidden = true;
    void shareFiles([...(event.dataTransfer?.files ?? [])]);
  });

  ui.log.addEventListener("scroll", () => pinned = nearBottom(), { passive: true });
  ui.joinForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const room = ui.joinInput.value.trim();
    ui.joinInput.value = "";
    if (room) void joinRoom(room);
  });
  ui.retry.addEventListener("click", retryNow);
  ui.toggleRooms.addEventListener("click", () => toggleDrawer("show-rooms"));
  ui.toggleMembers.addEventListener("click", () => toggleDrawer("show-members"));
  ui.scrim.addEventListener("click", closeDrawers);
  addEventListener("online", () => {
    if (!client && everConnected && !quitting) retryNow();
  });
  addEventListener("focus", () => void refreshDirectory());
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && active && active.unread > 0) {
      active.unread = 0;
      renderSidebar();
      updateTitle();
    }
  });
  setStatus("offline", "Not connected");
  select(undefined);
}

wire();
