// What the terminal client knows of its rooms: which one plain text goes to
// (the last one joined, as the server decides) and who is in each, from the
// presence, join, leave and rename events it sees. Tab completion and the
// prompt read it; it never asks the server anything.

import type { ServerEvent } from "../core/protocol.ts";

/** The rooms the terminal client is in, the current one, and their members. */
export class RoomTracker {
  #rooms: string[];
  #pendingJoin: string | undefined;
  // Members by room, in the order they were listed or joined.
  #members = new Map<string, Set<string>>();
  // People met in private messages: worth completing after /msg.
  #private = new Set<string>();

  constructor(rooms: readonly string[]) {
    this.#rooms = [...rooms];
  }

  /** The room plain text goes to, if any. */
  get current(): string | undefined {
    return this.#rooms.at(-1);
  }

  /** Members of `room` (default: the current one) as last seen. */
  members(room = this.current): string[] {
    return room === undefined ? [] : [...this.#members.get(room) ?? []];
  }

  /** Everyone seen in any room or in a private message. */
  known(): string[] {
    const all = new Set<string>();
    for (const members of this.#members.values()) for (const name of members) all.add(name);
    for (const name of this.#private) all.add(name);
    return [...all];
  }

  /** Notes a line the user typed: `/join` makes the room current once it answers. */
  typed(line: string): void {
    const join = /^\/(?:join|j)\s+(\S+)/i.exec(line);
    if (join) this.#pendingJoin = roomKey(join[1]!);
  }

  /** Follows an event from the server; `me` is the user's name at that moment. */
  seen(event: ServerEvent, me: string): void {
    switch (event.type) {
      case "joined":
        if (event.name === me) this.#moveToEnd(event.room);
        this.#roster(event.room).add(event.name);
        return;
      case "presence":
        // The list may be cut short in a big room (count > members): keep who else we know.
        if (event.count <= event.members.length) this.#members.set(event.room, new Set());
        for (const name of event.members) this.#roster(event.room).add(name);
        if (event.room === this.#pendingJoin) {
          this.#pendingJoin = undefined;
          if (this.#rooms.includes(event.room)) this.#moveToEnd(event.room);
        }
        return;
      case "left":
        if (event.name === me) {
          this.#rooms = this.#rooms.filter((room) => room !== event.room);
          this.#members.delete(event.room);
        } else this.#members.get(event.room)?.delete(event.name);
        return;
      case "renamed":
        for (const [room, members] of this.#members) {
          if (event.room !== undefined && event.room !== room) continue;
          if (members.delete(event.from)) members.add(event.to);
        }
        if (this.#private.delete(event.from)) this.#private.add(event.to);
        return;
      case "direct":
        for (const name of [event.from, event.to]) if (name !== me) this.#private.add(name);
        return;
    }
  }

  #roster(room: string): Set<string> {
    let members = this.#members.get(room);
    if (!members) this.#members.set(room, members = new Set());
    return members;
  }

  #moveToEnd(room: string): void {
    this.#rooms = [...this.#rooms.filter((each) => each !== room), room];
  }
}

function roomKey(room: string): string {
  return (room.startsWith("#") ? room.slice(1) : room).normalize("NFC");
}
