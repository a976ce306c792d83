// Draws the page from its state (web/_state.ts): the screens, the status, the
// conversation on screen, the sidebar and the member list. It reads the state
// and writes the DOM, and nothing else: clicks call back into `Actions`, which
// web/app.ts turns into requests and events.

import { type ButtonElem, document, type Elem, type FormElem, type InputElem } from "./_dom.ts";
import { colorIn, type Colors } from "./_colors.ts";
import { avatar, el, nameTag } from "./_elements.ts";
import { emptyView } from "./_empty.ts";
import { colorSlot } from "./_format.ts";
import { emptyContent } from "./_render_empty.ts";
import { LogView } from "./_render_log.ts";
import {
  activeChannel,
  bannerText,
  type Channel,
  conversationColors,
  documentTitle,
  joinedRooms,
  type PageState,
  roomKey,
  statusText,
} from "./_state.ts";

function $<T extends Elem = Elem>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the page has no #${id}`);
  return element as T;
}

/** The page's elements, found once. */
export function findUi() {
  return {
    login: $("login"),
    loginForm: $<FormElem>("login-form"),
    name: $<InputElem>("name"),
    loginError: $("login-error"),
    loginButton: $<ButtonElem>("login-button"),
    loginStatus: $("login-status"),
    nameFields: $("name-fields"),
    chat: $("chat"),
    channelTitle: $("channel-title"),
    channelMeta: $("channel-meta"),
    channelTopic: $("channel-topic"),
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
    memberNote: $("member-note"),
    memberList: $("member-list"),
    scrim: $("scrim"),
  };
}

/** The page's elements. */
export type Ui = ReturnType<typeof findUi>;

/** What clicks in the drawn page ask for. */
export interface Actions {
  select(key: string): void;
  joinRoom(room: string): void;
  leaveRoom(room: string): void;
  closeDm(key: string): void;
  openDm(name: string): void;
}

/** Keeps the DOM in step with the page's state; call {@link Renderer.render} after each change. */
export class Renderer {
  #ui: Ui;
  #actions: Actions;
  #logs = new Map<string, LogView>();
  /** The conversation whose log is on screen (null: nothing drawn yet). */
  #shown: string | undefined | null = null;
  /** Whether the log is scrolled to (near) its end, so new entries keep it there. */
  #pinned = true;
  #chatShown = false;
  #drawn = { header: "", sidebar: "", members: "", me: "", empty: "" };
  /** The pane's empty state (web/_empty.ts), above the log; hidden once there are messages. */
  #empty: Elem = el("div", "empty");

  constructor(ui: Ui, actions: Actions) {
    this.#ui = ui;
    this.#actions = actions;
    this.#empty.id = "empty";
    ui.log.addEventListener("scroll", () => this.#pinned = this.#nearBottom(), { passive: true });
  }

  /** Draws `state`; `now` is for the reconnect countdown. */
  render(state: PageState, now: number): void {
    const ui = this.#ui;
    if (state.everConnected && !this.#chatShown) {
      this.#chatShown = true;
      ui.login.hidden = true;
      ui.chat.hidden = false;
      ui.input.focus();
    }
    this.#renderMe(state);
    this.renderStatus(state, now);
    this.#renderLog(state);
    this.#renderHeader(state);
    this.#renderSidebar(state);
    this.#renderMembers(state);
    document.title = documentTitle(state);
  }

  /** Draws the status and the banner only (the reconnect countdown ticks with this). */
  renderStatus(state: PageState, now: number): void {
    const ui = this.#ui;
    const phase = state.connection.phase;
    const text = statusText(state, now);
    ui.status.dataset.state = phase;
    ui.statusText.textContent = text;
    ui.loginStatus.textContent = phase === "connecting" ? text : "";
    const banner = bannerText(state, now);
    ui.banner.hidden = banner === undefined;
    ui.banner.dataset.state = phase;
    if (banner !== undefined) ui.bannerText.textContent = banner;
    // The library retries by itself; the button only starts again once it gave up,
    // and never after the relay ended the session for good (a kick, a ban).
    ui.retry.hidden = phase !== "offline" || state.ended !== undefined;
    ui.retry.textContent = "Reconnect";
  }

  /** Closes the rooms and members drawers (narrow screens). */
  closeDrawers(): void {
    this.#ui.chat.classList.remove("show-rooms", "show-members");
    this.#ui.scrim.hidden = true;
  }

  /** Opens one drawer, or closes it when open. */
  toggleDrawer(which: "show-rooms" | "show-members"): void {
    const open = !this.#ui.chat.classList.contains(which);
    this.closeDrawers();
    this.#ui.chat.classList.toggle(which, open);
    this.#ui.scrim.hidden = !open;
  }

  #nearBottom(): boolean {
    const log = this.#ui.log;
    return log.scrollHeight - log.scrollTop - log.clientHeight < 80;
  }

  #scrollToBottom(): void {
    this.#ui.log.scrollTop = this.#ui.log.scrollHeight;
  }

  #renderMe(state: PageState): void {
    if (this.#drawn.me === state.me) return;
    this.#drawn.me = state.me;
    this.#ui.meName.textContent = state.me;
    this.#ui.meAvatar.className = `avatar c${colorSlot(state.me)}`;
    this.#ui.meAvatar.textContent = [...state.me][0]?.toUpperCase() ?? "?";
  }

  #renderLog(state: PageState): void {
    for (const [key, view] of this.#logs) {
      if (state.channels.has(key)) continue;
      view.destroy();
      this.#logs.delete(key);
    }
    const channel = activeChannel(state);
    const colors = conversationColors(state, channel);
    this.#renderEmpty(state, colors);
    if (channel?.key !== this.#shown) {
      this.#shown = channel?.key;
      this.#pinned = true;
      if (channel) {
        const view = this.#logFor(channel.key);
        view.update(channel.items, colors);
        this.#ui.log.replaceChildren(this.#empty, view.element);
      } else {
        this.#ui.log.replaceChildren(this.#empty);
      }
      this.#scrollToBottom();
      this.closeDrawers();
      return;
    }
    if (!channel) return;
    const stick = this.#nearBottom();
    if (this.#logFor(channel.key).update(channel.items, colors) && stick) this.#scrollToBottom();
  }

  #renderEmpty(state: PageState, colors: Colors): void {
    const view = emptyView(state);
    const signature = JSON.stringify([view, view?.kind === "room" ? [...colors] : []]);
    if (signature === this.#drawn.empty) return;
    this.#drawn.empty = signature;
    const empty = this.#empty;
    empty.hidden = view === undefined;
    if (view === undefined) return empty.replaceChildren();
    empty.className = view.kind === "none" ? "empty" : "empty empty-card";
    empty.dataset.kind = view.kind;
    empty.replaceChildren(...emptyContent(view, colors, (room) => this.#actions.joinRoom(room)));
  }

  #logFor(key: string): LogView {
    let view = this.#logs.get(key);
    if (!view) {
      // A picture that finishes loading grows the log; keep the newest line in view.
      view = new LogView(() => {
        if (this.#shown === key && this.#pinned) this.#scrollToBottom();
      });
      this.#logs.set(key, view);
    }
    return view;
  }

  #renderHeader(state: PageState): void {
    const ui = this.#ui;
    const channel = activeChannel(state);
    const signature = JSON.stringify(
      channel ? [channel.key, channel.name, channel.joined, channel.count, channel.topic] : [],
    );
    if (signature === this.#drawn.header) return;
    this.#drawn.header = signature;
    const topic = channel?.kind === "room" ? channel.topic : undefined;
    ui.channelTopic.hidden = topic === undefined;
    ui.channelTopic.textContent = topic?.text ?? "";
    if (topic) ui.channelTopic.title = `Topic, set by ${topic.by}: ${topic.text}`;
    else ui.channelTopic.removeAttribute("title");
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

  #renderSidebar(state: PageState): void {
    const ui = this.#ui;
    const rooms = joinedRooms(state).sort((a, b) => a.name.localeCompare(b.name));
    // Rooms we are not in (and one we just left, still on screen) can be joined with a click.
    const others = [...state.directory.entries()]
      .filter(([name]) => !state.channels.get(roomKey(name))?.joined)
      .sort(([a], [b]) => a.localeCompare(b));
    const dms = [...state.channels.values()].filter((channel) => channel.kind === "dm");
    const signature = JSON.stringify([
      state.active,
      rooms.map((channel) => [channel.name, channel.count, channel.unread]),
      others,
      dms.map((channel) => [channel.key, channel.name, channel.unread]),
    ]);
    if (signature === this.#drawn.sidebar) return;
    this.#drawn.sidebar = signature;
    ui.roomList.replaceChildren(
      ...rooms.map((channel) => this.#channelButton(state, channel, `#${channel.name}`)),
    );
    ui.otherRoomsTitle.hidden = others.length === 0;
    ui.otherRooms.replaceChildren(...others.map(([name, members]) => {
      const item = el("li");
      const button = el("button", "channel other");
      button.type = "button";
      button.title = `Join #${name}`;
      button.append(el("span", "channel-name", `#${name}`), el("span", "badge", String(members)));
      button.addEventListener("click", () => this.#actions.joinRoom(name));
      item.append(button);
      return item;
    }));
    ui.dmTitle.hidden = dms.length === 0;
    ui.dmList.replaceChildren(
      ...dms.map((channel) => this.#channelButton(state, channel, `@${channel.name}`)),
    );
  }

  #channelButton(state: PageState, channel: Channel, label: string): Elem {
    const item = el("li", channel.key === state.active ? "active" : "");
    const button = el("button", "channel");
    button.type = "button";
    button.dataset.key = channel.key;
    button.append(
      ...(channel.kind === "dm"
        ? nameTag(channel.name, "channel-name", label)
        : [el("span", "channel-name", label)]),
    );
    if (channel.unread > 0) button.append(el("span", "badge unread", String(channel.unread)));
    else if (channel.kind === "room") {
      button.append(el("span", "badge", String(channel.count)));
    }
    button.addEventListener("click", () => this.#actions.select(channel.key));
    item.append(button);
    const close = el("button", "close", "×");
    close.type = "button";
    close.title = channel.kind === "room" ? `Leave #${channel.name}` : "Close conversation";
    close.setAttribute("aria-label", close.title);
    close.addEventListener("click", (event) => {
      event.stopPropagation();
      if (channel.kind === "room") this.#actions.leaveRoom(channel.name);
      else this.#actions.closeDm(channel.key);
    });
    item.append(close);
    return item;
  }

  #renderMembers(state: PageState): void {
    const ui = this.#ui;
    const channel = activeChannel(state);
    const colors = conversationColors(state, channel);
    const stale = channel?.kind === "room" && channel.joined && channel.stale;
    const signature = JSON.stringify([
      state.me,
      channel?.key,
      channel?.joined,
      channel?.count,
      channel?.members,
      stale,
      [...colors],
    ]);
    if (signature === this.#drawn.members) return;
    this.#drawn.members = signature;
    // While the connection is down the list may show people who are gone: greyed, and said so.
    ui.membersPanel.classList.toggle("stale", stale);
    ui.memberList.setAttribute("aria-busy", String(stale));
    // Only while shown: a hidden element named by aria-describedby would still be read out.
    if (stale) ui.memberList.setAttribute("aria-describedby", "member-note");
    else ui.memberList.removeAttribute("aria-describedby");
    ui.memberNote.hidden = !stale;
    const item = (name: string) => this.#memberItem(state, name, colors);
    if (!channel || channel.kind !== "room" || !channel.joined) {
      ui.memberCount.textContent = "";
      ui.memberList.replaceChildren();
      if (channel?.kind === "dm") ui.memberList.append(item(state.me), item(channel.name));
      return;
    }
    ui.memberCount.textContent = String(channel.count);
    ui.memberList.replaceChildren(...channel.members.map(item));
    if (channel.count > channel.members.length) {
      ui.memberList.append(el("li", "more", `and ${channel.count - channel.members.length} more`));
    }
  }

  #memberItem(state: PageState, name: string, colors: Colors): Elem {
    const item = el("li");
    const own = name.toLowerCase() === state.me.toLowerCase();
    const button = el("button", own ? "member own" : "member");
    button.type = "button";
    button.dataset.name = name;
    button.append(avatar(name, colorIn(colors, name)), ...nameTag(name, "member-name"));
    if (own) {
      button.append(el("span", "you", "you"));
      button.disabled = true;
    } else {
      button.title = `Send ${name} a private message`;
      button.addEventListener("click", () => this.#actions.openDm(name));
    }
    item.append(button);
    return item;
  }
}
