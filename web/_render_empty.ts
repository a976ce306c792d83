// Draws the pane's empty state (web/_empty.ts): a card saying who is here and
// how others can join, in place of a blank log.

import type { Elem } from "./_dom.ts";
import { colorIn, type Colors } from "./_colors.ts";
import type { EmptyView, Invite } from "./_empty.ts";
import { avatar, el, nameTag } from "./_elements.ts";

/** Members listed by name on the card; the rest are counted. */
const LISTED_MEMBERS = 12;

/** The card's content for `view`; `joinRoom` backs the button of a room we left. */
export function emptyContent(
  view: EmptyView,
  colors: Colors,
  joinRoom: (room: string) => void,
): Elem[] {
  switch (view.kind) {
    case "none":
      return [
        el("p", "empty-title", "You are not in any room."),
        el("p", "empty-text", "Join or create one from the list of rooms."),
      ];
    case "dm":
      return [
        el("div", "empty-icon"),
        el("p", "empty-title", `Private conversation with ${view.name}`),
        el("p", "empty-text", `Only you and ${view.name} see what is said here.`),
      ];
    case "left": {
      const button = el("button", "primary", `Join #${view.room}`);
      button.type = "button";
      button.addEventListener("click", () => joinRoom(view.room));
      return [
        el("div", "empty-icon"),
        el("p", "empty-title", `You left #${view.room}`),
        el("p", "empty-text", "Join again to see who is here and to talk."),
        button,
      ];
    }
    case "room":
      return [
        el("div", "empty-icon"),
        el("p", "empty-title", `No messages in #${view.room} yet`),
        el(
          "p",
          "empty-text",
          view.count > 1 ? "Say hello below." : "Say hello below, or invite someone to join you.",
        ),
        membersSection(view, colors),
        ...(view.invite ? [inviteSection(view.invite)] : []),
      ];
  }
}

function membersSection(view: Extract<EmptyView, { kind: "room" }>, colors: Colors): Elem {
  const section = el("div", "empty-section");
  const heading = el("h3", "", "Here now ");
  heading.append(el("span", "count", String(view.count)));
  const list = el("ul", "empty-members");
  list.classList.toggle("stale", view.stale);
  list.setAttribute("aria-busy", String(view.stale));
  for (const name of view.members.slice(0, LISTED_MEMBERS)) {
    const item = el("li");
    item.dataset.name = name;
    item.append(avatar(name, colorIn(colors, name)), ...nameTag(name, "member-name"));
    if (name.toLowerCase() === view.me.toLowerCase()) item.append(el("span", "you", "you"));
    list.append(item);
  }
  const more = view.count - Math.min(view.members.length, LISTED_MEMBERS);
  if (more > 0) list.append(el("li", "more", `and ${more} more`));
  section.append(heading, list);
  if (view.stale) {
    section.append(el("p", "stale-note", "Not connected: this list may be out of date."));
  }
  return section;
}

function inviteSection(invite: Invite): Elem {
  const section = el("div", "empty-section");
  section.append(el("h3", "", "Invite others"));
  const list = el("dl", "invite");
  const row = (label: string, kind: string, ...value: (Elem | string)[]) => {
    const term = el("dt", "", label);
    const detail = el("dd");
    detail.dataset.invite = kind;
    detail.append(...value);
    list.append(term, detail);
  };
  row("Browser", "page", el("code", "", invite.page));
  if (invite.telnet !== undefined) {
    const then = invite.join === undefined
      ? []
      : [el("span", "then", "then"), el("code", "", invite.join)];
    row("Terminal", "telnet", el("code", "", invite.telnet), ...then);
  }
  row("WebSocket", "websocket", el("code", "", invite.websocket));
  section.append(list);
  return section;
}
