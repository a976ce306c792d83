// What the conversation pane says before anyone has said anything: who is here
// and how to bring others in, instead of a blank pane. Pure: it reads the
// page's state (web/_state.ts); web/_render_empty.ts draws it.

import { type Addresses, telnetCommand } from "./_addresses.ts";
import { activeChannel, type Channel, type PageState } from "./_state.ts";

/** How to join the room on screen from elsewhere. */
export interface Invite {
  /** The chat page's address, for a browser. */
  page: string;
  /** `telnet HOST PORT`; absent when the server has no TCP listener. */
  telnet?: string;
  /** The WebSocket endpoint, for programs. */
  websocket: string;
  /** The command that gets a telnet user from the lobby (where they start) here. */
  join?: string;
}

/** The pane's empty state, by what is on screen. */
export type EmptyView =
  /** No conversation at all. */
  | { kind: "none" }
  /** A room we are in, with no messages yet. */
  | {
    kind: "room";
    room: string;
    me: string;
    members: readonly string[];
    /** Members in all; more than `members` when the relay listed only some. */
    count: number;
    /** The list may be out of date (the connection is down). */
    stale: boolean;
    /** Absent until the page knows its addresses. */
    invite: Invite | undefined;
  }
  /** A room we left, with no messages kept. */
  | { kind: "left"; room: string }
  /** A private conversation with no messages yet. */
  | { kind: "dm"; name: string };

/** The empty state to show, or `undefined` when the conversation on screen has messages. */
export function emptyView(state: PageState): EmptyView | undefined {
  const channel = activeChannel(state);
  if (!channel) return { kind: "none" };
  if (hasMessages(channel)) return undefined;
  if (channel.kind === "dm") return { kind: "dm", name: channel.name };
  if (!channel.joined) return { kind: "left", room: channel.name };
  return {
    kind: "room",
    room: channel.name,
    me: state.me,
    members: channel.members,
    count: Math.max(channel.count, channel.members.length),
    stale: channel.stale,
    invite: state.addresses && invite(state.addresses, channel.name),
  };
}

function hasMessages(channel: Channel): boolean {
  return channel.items.some((item) => item.kind === "message");
}

function invite(addresses: Addresses, room: string): Invite {
  return {
    page: addresses.page,
    ...(addresses.tcp ? { telnet: telnetCommand(addresses.tcp) } : {}),
    websocket: addresses.websocket,
    ...(room === "lobby" ? {} : { join: `/join ${room}` }),
  };
}
