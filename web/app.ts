// The crosswire chat page: the wiring. It talks to the relay through the same
// client library as the terminal client (client/client.ts), which reconnects
// and resumes by itself; it turns what the library and the user do into events
// for the page's state (web/_state.ts, pure), and draws each new state
// (web/_render.ts). Everything other people send is put on the page with
// textContent or as attribute values, never parsed as HTML.

import { connect, type CrosswireClient } from "../client/client.ts";
import type { SavedSession } from "../client/options.ts";
import { CrosswireClientError } from "../client/errors.ts";
import { pageAddresses, withServerAddresses } from "./_addresses.ts";
import { HELP, parseLine } from "./_commands.ts";
import { document, type DragEventLike, history, type KeyEvent, type PasteEvent } from "./_dom.ts";
import { formatBytes, markedName } from "./_format.ts";
import { InputHistory } from "./_input_history.ts";
import { findUi, Renderer, type Ui } from "./_render.ts";
import {
  activeChannel,
  initialState,
  joinedRooms,
  type NoteStyle,
  type PageEvent,
  type PageState,
  reduce,
  roomKey,
} from "./_state.ts";
import { takeToken } from "./_token.ts";

/** Where the page keeps what survives a reload of the tab. */
const STORE = {
  /** The library's `saved()` session, to resume it after a reload. */
  session: "crosswire.session",
  /** The conversation on screen. */
  active: "crosswire.active",
  /** The last name used (in localStorage: it outlives the tab). */
  name: "crosswire.name",
  /** The sign-in token the tab was opened with, for a reload (gone with the tab). */
  token: "crosswire.token",
};
/** Composer lines with a secret: sent, but not kept for the up arrow. */
const SECRET_LINE = /^\/(?:auth|oper)\s/i;
/** Messages per room fetched after a reload, so the log shows what came before. */
const BACKFILL = 100;

const storage = {
  get(area: "local" | "session", key: string): string | undefined {
    try {
      return (area === "local" ? localStorage : sessionStorage).getItem(key) ?? undefined;
    } catch {
      return undefined; // storage may be off
    }
  },
  set(area: "local" | "session", key: string, value: string | undefined): void {
    try {
      const store = area === "local" ? localStorage : sessionStorage;
      if (value === undefined) store.removeItem(key);
      else store.setItem(key, value);
    } catch { /* storage may be off or full */ }
  },
};

function loadSession(): SavedSession | undefined {
  const text = storage.get("session", STORE.session);
  if (text === undefined) return undefined;
  try {
    const saved = JSON.parse(text) as SavedSession;
    return typeof saved?.name === "string" && typeof saved.token === "string" ? saved : undefined;
  } catch {
    return undefined;
  }
}

function wsUrl(): string {
  return pageAddresses(location).websocket;
}

function loginErrorText(error: unknown): string {
  if (error instanceof CrosswireClientError) {
    switch (error.code) {
      case "auth_failed":
        return `The sign-in link was refused: ${error.message}.`;
      case "auth_required":
        return "This chat needs you to sign in: open it from the app that links to it.";
      case "banned":
        return `You are banned: ${error.message}.`;
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

/** The page: one state, one renderer, one client at a time. */
class ChatPage {
  #ui: Ui = findUi();
  #renderer: Renderer;
  #state: PageState = initialState(!document.hidden);
  #client: CrosswireClient | undefined;
  #input = new InputHistory();
  /** The sign-in token this tab was opened with; the relay names the user after it. */
  #token: string | undefined;
  /** After a reload: fetch what came before the replay once the session is back. */
  #backfillPending = false;
  #countdown: ReturnType<typeof setInterval> | undefined;
  #directoryTimer: ReturnType<typeof setInterval> | undefined;
  #saveQueued = false;

  constructor() {
    this.#renderer = new Renderer(this.#ui, {
      select: (key) => {
        this.#dispatch({ type: "select", key });
        this.#renderer.closeDrawers();
      },
      joinRoom: (room) => void this.#joinRoom(room),
      leaveRoom: (room) => void this.#leaveRoom(room),
      closeDm: (key) => this.#dispatch({ type: "close_dm", key }),
      openDm: (name) => {
        this.#dispatch({ type: "open_dm", name });
        this.#ui.input.focus();
      },
    });
  }

  /**
   * Wires the inputs, draws the first state, and signs in with the token the
   * page was opened with, or resumes the tab's session if it had one.
   */
  start(): void {
    this.#wire();
    this.#renderer.render(this.#state, Date.now());
    this.#token = this.#signInToken();
    if (this.#token !== undefined) {
      // The app that linked here says who the user is: no name to pick.
      this.#showNameFields(false);
      void this.#login("");
    } else {
      const saved = loadSession();
      this.#ui.name.value = saved?.name ?? storage.get("local", STORE.name) ?? "";
      if (saved) void this.#login(saved.name);
    }
    void this.#learnAddresses();
  }

  /**
   * The token in the page's address (taken out of the address bar), else the
   * one this tab kept from it for a reload.
   */
  #signInToken(): string | undefined {
    const { token, address } = takeToken(location.href);
    if (address !== undefined) history.replaceState(history.state, "", address);
    if (token === undefined) return storage.get("session", STORE.token);
    // Another token may be someone else's: the tab's saved session is not theirs.
    if (token !== storage.get("session", STORE.token)) {
      storage.set("session", STORE.session, undefined);
    }
    storage.set("session", STORE.token, token);
    return token;
  }

  /** The name field and its button: hidden while a token signs the user in. */
  #showNameFields(shown: boolean): void {
    this.#ui.nameFields.hidden = !shown;
    this.#ui.loginButton.hidden = !shown;
  }

  /** Where others can join from, for the empty room: the page's own, and the server's TCP port. */
  async #learnAddresses(): Promise<void> {
    const known = pageAddresses(location);
    this.#dispatch({ type: "addresses", addresses: known });
    try {
      const response = await fetch(known.page, { headers: { accept: "application/json" } });
      if (!response.ok) return;
      const description: unknown = await response.json();
      this.#dispatch({ type: "addresses", addresses: withServerAddresses(known, description) });
    } catch { /* an older server, or offline: the page's own addresses stand */ }
  }

  #dispatch(event: PageEvent): void {
    const next = reduce(this.#state, event, Date.now());
    if (next === this.#state) return;
    const activeBefore = this.#state.active;
    this.#state = next;
    this.#renderer.render(next, Date.now());
    if (next.active !== activeBefore) storage.set("session", STORE.active, next.active);
    this.#tick();
  }

  #note(text: string, style: NoteStyle = "notice"): void {
    this.#dispatch({ type: "note", text, style });
  }

  /** While a reconnect is pending, the status counts down each second. */
  #tick(): void {
    const waiting = this.#state.connection.phase === "reconnecting";
    if (waiting && this.#countdown === undefined) {
      this.#countdown = setInterval(
        () => this.#renderer.renderStatus(this.#state, Date.now()),
        1000,
      );
    } else if (!waiting && this.#countdown !== undefined) {
      clearInterval(this.#countdown);
      this.#countdown = undefined;
    }
  }

  // ----------------------------------------------------------- connection

  /**
   * Logs in as `name` (with a token: as the token says), resuming this tab's
   * saved session when it is that name's (or, with a token, the tab's).
   */
  async #login(name: string): Promise<void> {
    const ui = this.#ui;
    ui.loginError.hidden = true;
    ui.loginButton.disabled = true;
    this.#dispatch({ type: "connecting" });
    const saved = loadSession();
    const token = this.#token;
    const resume = saved && (token !== undefined || saved.name.toLowerCase() === name.toLowerCase())
      ? saved
      : undefined;
    let client: CrosswireClient;
    try {
      client = await connect(wsUrl(), {
        ...(token === undefined ? { name } : { token }),
        echo: true,
        ...(resume === undefined ? {} : { resume }),
      });
    } catch (error) {
      this.#dispatch({ type: "connect_failed" });
      this.#backfillPending = false;
      if (token !== undefined) this.#tokenFailed(error);
      // A session the relay no longer has (or a name someone else took) is not coming back.
      if (
        !(error instanceof CrosswireClientError) || !/^(connect_failed|timeout)$/.test(error.code)
      ) {
        storage.set("session", STORE.session, undefined);
      }
      if (this.#state.everConnected) {
        this.#note(`Could not reconnect: ${loginErrorText(error)}`, "error");
      } else {
        ui.loginError.textContent = loginErrorText(error);
        ui.loginError.hidden = false;
        if (this.#token === undefined) {
          ui.name.setAttribute("aria-invalid", "true");
          ui.name.focus();
          ui.name.select();
        }
      }
      return;
    } finally {
      ui.loginButton.disabled = false;
    }
    this.#backfillPending = resume !== undefined && this.#state.channels.size === 0;
    this.#attach(client);
  }

  /**
   * Signing in with the token failed: a refused token is dropped (the name
   * field comes back, for a server that lets anyone in); otherwise the
   * button tries the same token again.
   */
  #tokenFailed(error: unknown): void {
    const refused = error instanceof CrosswireClientError &&
      /^(auth_failed|auth_required|banned)$/.test(error.code);
    if (refused) {
      this.#token = undefined;
      storage.set("session", STORE.token, undefined);
      this.#showNameFields(true);
      return;
    }
    this.#ui.loginButton.hidden = false;
    this.#ui.loginButton.textContent = "Try again";
  }

  #attach(client: CrosswireClient): void {
    this.#client = client;
    // A token's name is the token's, not one to suggest next time.
    if (this.#token === undefined) storage.set("local", STORE.name, client.name);
    client.on("*", (event) => {
      if (this.#client !== client) return;
      this.#dispatch(event);
      switch (event.type) {
        case "resumed":
          if (event.session) this.#refreshPresence(client);
          if (this.#backfillPending) void this.#backfill(client);
          void this.#refreshDirectory();
          break;
        case "renamed":
          if (event.to === client.name && this.#token === undefined) {
            storage.set("local", STORE.name, client.name);
          }
          break;
        case "close":
          this.#client = undefined;
          clearInterval(this.#directoryTimer);
          // After /quit, a kick or a ban the relay keeps nothing to resume.
          if (this.#state.quitting || this.#state.ended !== undefined) {
            storage.set("session", STORE.session, undefined);
          }
          break;
      }
      this.#queueSave();
    });
    this.#save();
    clearInterval(this.#directoryTimer);
    this.#directoryTimer = setInterval(() => void this.#refreshDirectory(), 10_000);
    void this.#refreshDirectory();
  }

  /**
   * After a reload the log starts empty: the library replays only what was
   * missed, so fetch what came before it too; the state puts it in place.
   */
  async #backfill(client: CrosswireClient): Promise<void> {
    this.#backfillPending = false;
    const requests = [
      ...joinedRooms(this.#state).map((room) => client.history(room.name, { limit: BACKFILL })),
      client.history(undefined, { limit: BACKFILL }),
    ];
    for (const request of requests) {
      try {
        const { messages } = await request;
        if (this.#client === client) this.#dispatch({ type: "backfill", messages });
      } catch { /* offline again, or the room is gone: the replay still stands */ }
    }
    // Back where the tab was: the conversation exists again now.
    const active = storage.get("session", STORE.active);
    if (active !== undefined) this.#dispatch({ type: "select", key: active });
  }

  /** Members may have come and gone while we were away. */
  #refreshPresence(client: CrosswireClient): void {
    for (const channel of joinedRooms(this.#state)) {
      client.presence(channel.name).catch(() => {});
    }
  }

  async #refreshDirectory(): Promise<void> {
    // While reconnecting, requests wait for the connection: do not pile them up.
    if (!this.#client?.connected) return;
    try {
      await this.#client.rooms(); // the `rooms` event updates the list
    } catch { /* offline; the next tick tries again */ }
  }

  /** Saves the library's session once per turn of events, for a reload to resume. */
  #queueSave(): void {
    if (this.#saveQueued) return;
    this.#saveQueued = true;
    queueMicrotask(() => {
      this.#saveQueued = false;
      this.#save();
    });
  }

  #save(): void {
    const client = this.#client;
    if (!client || this.#state.quitting) return;
    try {
      storage.set("session", STORE.session, JSON.stringify(client.saved()));
    } catch { /* not logged in (yet) */ }
  }

  /**
   * The Reconnect button: once the library gave up (or after /quit), start
   * over; never after the relay ended the session for good (a kick, a ban).
   */
  #reconnect(): void {
    if (this.#client || this.#state.connection.phase !== "offline") return;
    if (this.#state.ended !== undefined) return;
    void this.#login(this.#state.me || this.#ui.name.value.trim());
  }

  // -------------------------------------------------------------- actions

  /** The client, unless it is closed; while it reconnects, what is sent waits for it. */
  #online(): CrosswireClient | undefined {
    if (!this.#client) {
      this.#note("Not connected: your message was not sent.", "error");
      return undefined;
    }
    if (this.#state.connection.phase !== "online") {
      this.#note("Offline: this goes out once the connection is back.");
    }
    return this.#client;
  }

  async #joinRoom(room: string): Promise<void> {
    const name = room.replace(/^#/, "").trim();
    if (!name) return;
    const key = roomKey(name);
    if (this.#state.channels.get(key)?.joined) return this.#dispatch({ type: "select", key });
    const client = this.#client;
    if (!client) {
      return this.#note("Not connected; try again once the connection is back.", "error");
    }
    try {
      await client.join(name);
      this.#dispatch({ type: "select", key });
    } catch { /* shown by the error event */ }
  }

  async #leaveRoom(room: string): Promise<void> {
    const client = this.#client;
    if (!client) return this.#note("Not connected.", "error");
    try {
      await client.leave(room);
    } catch { /* shown by the error event */ }
  }

  #textTooLong(text: string): boolean {
    const max = this.#client?.limits.maxTextBytes ?? 8192;
    const size = new TextEncoder().encode(text).length;
    if (size <= max) return false;
    this.#note(`That message is ${formatBytes(size)}; the limit is ${formatBytes(max)}.`, "error");
    return true;
  }

  #refuse(message: string): false {
    this.#note(message, "error");
    return false;
  }

  /** Handles one composer line; returns false when it was not sent (keep it in the box). */
  #submit(line: string): boolean {
    const command = parseLine(line);
    const channel = activeChannel(this.#state);
    const room = channel?.kind === "room" ? channel.name : undefined;
    switch (command.kind) {
      case "say":
      case "me": {
        if (!channel) return this.#refuse("Join a room first.");
        if (channel.kind === "room" && !channel.joined) {
          return this.#refuse(`You are not in #${channel.name}; /join ${channel.name} first.`);
        }
        const client = this.#online();
        if (!client || this.#textTooLong(command.text)) return false;
        const options = { action: command.kind === "me" };
        if (channel.kind === "room") client.send(channel.name, command.text, options);
        else client.direct(channel.name, command.text, options);
        return true;
      }
      case "msg": {
        const client = this.#online();
        if (!client || this.#textTooLong(command.text)) return false;
        client.direct(command.to, command.text);
        this.#dispatch({ type: "open_dm", name: command.to });
        return true;
      }
      case "join":
        void this.#joinRoom(command.room);
        return true;
      case "leave": {
        const target = command.room ?? room;
        if (!target) return this.#refuse("usage: /leave ROOM");
        void this.#leaveRoom(target);
        return true;
      }
      case "nick":
        this.#online()?.nick(command.name).catch(() => {});
        return this.#client !== undefined;
      case "who": {
        const target = command.room ?? room;
        if (!target) return this.#refuse("usage: /who ROOM");
        this.#client?.presence(target).then(
          (presence) =>
            this.#note(
              `${presence.count} in #${target}: ${presence.members.map(markedName).join(", ")}`,
            ),
          () => {},
        );
        return true;
      }
      case "rooms":
        this.#client?.rooms().then((reply) =>
          this.#note(
            reply.rooms.length === 0
              ? "No rooms."
              : `Rooms: ${reply.rooms.map((r) => `#${r.name} (${r.members})`).join(", ")}`,
          ), () => {});
        return true;
      case "topic": {
        if (!room) return this.#refuse("Open a room first: a topic belongs to a room.");
        const client = this.#online();
        if (!client) return false;
        const known = channel?.topic;
        const text = command.text;
        client.moderate({ type: "topic", room, ...(text === undefined ? {} : { text }) }).then(
          (answer) => {
            // Asked for a topic already on screen: say it again (a new one shows by itself).
            if (answer.type === "topic" && answer.text === (known?.text ?? "")) {
              this.#note(
                answer.text === ""
                  ? `#${room} has no topic.`
                  : `Topic of #${room}: ${answer.text} (set by ${markedName(answer.by)})`,
              );
            }
          },
          () => {}, // shown by the error event
        );
        return true;
      }
      case "clear":
        if (channel) this.#dispatch({ type: "clear", key: channel.key });
        return true;
      case "help":
        this.#note(["Commands:", ...HELP.map((text) => `  ${text}`)].join("\n"));
        return true;
      case "quit":
        this.#dispatch({ type: "quitting" });
        storage.set("session", STORE.session, undefined);
        void this.#client?.close();
        return true;
      case "raw": {
        const client = this.#online();
        if (!client) return false;
        const auth = /^\/auth\s+(\S+)\s*$/i.exec(command.line);
        if (auth) {
          // A new token, once accepted, is the one a reload signs in with.
          const token = auth[1]!;
          client.refresh(token).then(() => {
            if (this.#token === undefined) return;
            this.#token = token;
            storage.set("session", STORE.token, token);
          }, () => {}); // shown by the error event
          return true;
        }
        client.input(command.line);
        return true;
      }
      case "usage":
        return this.#refuse(command.message);
    }
  }

  async #shareFiles(files: Iterable<File>): Promise<void> {
    const channel = activeChannel(this.#state);
    if (!channel || (channel.kind === "room" && !channel.joined)) {
      return this.#note("Join a room to share files.", "error");
    }
    for (const file of files) {
      const client = this.#online();
      if (!client) return;
      const max = client.limits.maxFileBytes;
      const name = file.name || "pasted-file";
      if (file.size > max) {
        this.#note(
          `${name} is ${formatBytes(file.size)}; files can be at most ${formatBytes(max)}.`,
          "error",
        );
        continue;
      }
      if (file.size === 0) {
        this.#note(`${name} is empty; nothing to send.`, "error");
        continue;
      }
      const bytes = new Uint8Array(await file.arrayBuffer());
      const target = channel.kind === "room" ? { room: channel.name } : { to: channel.name };
      try {
        client.sendFile(target, bytes, { name, type: file.type || "application/octet-stream" });
      } catch (error) {
        this.#note(error instanceof Error ? error.message : String(error), "error");
      }
    }
  }

  // --------------------------------------------------------------- inputs

  #autosize(): void {
    const input = this.#ui.input;
    input.style.height = "auto";
    input.style.height = `${Math.min(input.scrollHeight, 160)}px`;
  }

  #recall(step: -1 | 1): void {
    const input = this.#ui.input;
    const text = this.#input.recall(step, input.value);
    if (text === undefined) return;
    input.value = text;
    this.#autosize();
    input.setSelectionRange(text.length, text.length);
  }

  #wire(): void {
    const ui = this.#ui;
    ui.loginForm.addEventListener("submit", (event) => {
      event.preventDefault();
      if (this.#token !== undefined) return void this.#login("");
      const name = ui.name.value.trim();
      if (!name) {
        ui.loginError.textContent = "Type a name first.";
        ui.loginError.hidden = false;
        return;
      }
      void this.#login(name);
    });
    ui.name.addEventListener("input", () => {
      ui.loginError.hidden = true;
      ui.name.removeAttribute("aria-invalid");
    });

    ui.composer.addEventListener("submit", (event) => {
      event.preventDefault();
      const line = ui.input.value.replace(/\s+$/, "");
      if (!line.trim()) return;
      if (!this.#submit(line)) return;
      if (!SECRET_LINE.test(line)) this.#input.push(line);
      ui.input.value = "";
      this.#autosize();
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
        this.#recall(-1);
      } else if (
        event.key === "ArrowDown" && !this.#input.atEnd &&
        !ui.input.value.slice(ui.input.selectionEnd ?? 0).includes("\n")
      ) {
        event.preventDefault();
        this.#recall(1);
      } else if (event.key === "Escape") {
        this.#renderer.closeDrawers();
      }
    });
    ui.input.addEventListener("input", () => this.#autosize());
    ui.input.addEventListener("paste", (event: PasteEvent) => {
      const files = [...(event.clipboardData?.files ?? [])];
      if (files.length === 0) return;
      event.preventDefault();
      void this.#shareFiles(files);
    });

    ui.attach.addEventListener("click", () => ui.fileInput.click());
    ui.fileInput.addEventListener("change", () => {
      const files = [...(ui.fileInput.files ?? [])];
      ui.fileInput.value = "";
      void this.#shareFiles(files);
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
      void this.#shareFiles([...(event.dataTransfer?.files ?? [])]);
    });

    ui.joinForm.addEventListener("submit", (event) => {
      event.preventDefault();
      const room = ui.joinInput.value.trim();
      ui.joinInput.value = "";
      if (room) void this.#joinRoom(room);
    });
    ui.retry.addEventListener("click", () => this.#reconnect());
    ui.toggleRooms.addEventListener("click", () => this.#renderer.toggleDrawer("show-rooms"));
    ui.toggleMembers.addEventListener("click", () => this.#renderer.toggleDrawer("show-members"));
    ui.scrim.addEventListener("click", () => this.#renderer.closeDrawers());
    addEventListener("online", () => {
      if (this.#state.everConnected && !this.#state.quitting) this.#reconnect();
    });
    addEventListener("focus", () => void this.#refreshDirectory());
    // The last chance to store the newest positions before a reload or a closed tab.
    addEventListener("pagehide", () => this.#save());
    document.addEventListener("visibilitychange", () => {
      this.#dispatch({ type: "visibility", visible: !document.hidden });
    });
  }
}

new ChatPage().start();
