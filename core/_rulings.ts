// Moderation rulings as engines keep and exchange them: which ones are kept,
// which are in force, and the check every ruling from another node passes
// (it arrived over a wire, so its shape is untrusted).

import { isId, isObj, isTextUpTo, isTime } from "./_wire_guards.ts";
import type { Ruling } from "./engine.ts";

/** A ruling that is kept (a ban, a mute, a topic); a kick is not. */
export type KeptRuling = Exclude<Ruling, { kind: "kick" }>;

/** The longest reason or topic accepted from the wire (the relay's own limit is far lower). */
const MAX_TEXT = 16 * 1024;

function isText(value: unknown): value is string {
  return isTextUpTo(value, MAX_TEXT);
}

/** The name target in `value`, when it is one: a fresh object with only that field. */
function nameTarget(value: unknown): { name: string } | undefined {
  if (!isObj(value) || !isId(value.name) || value.address !== undefined) return;
  return { name: value.name };
}

/**
 * The ruling in `value` when it is a well-formed one, rebuilt with only the
 * fields a ruling has; else undefined.
 */
export function readRuling(value: unknown): Ruling | undefined {
  if (!isObj(value) || !isId(value.by)) return;
  const { by, reason } = value;
  if (reason !== undefined && !isText(reason)) return;
  const why = reason === undefined ? {} : { reason };
  switch (value.kind) {
    case "kick": {
      const target = nameTarget(value.target);
      return target && { kind: "kick", target, by, ...why };
    }
    case "mute": {
      const target = nameTarget(value.target);
      if (!target || !isTime(value.until)) return;
      return { kind: "mute", target, until: value.until, by, ...why };
    }
    case "ban": {
      if (!isTime(value.until)) return;
      const raw = value.target;
      const target = nameTarget(raw) ??
        (isObj(raw) && isId(raw.address) && raw.name === undefined
          ? { address: raw.address }
          : undefined);
      return target && { kind: "ban", target, until: value.until, by, ...why };
    }
    case "topic":
      if (!isId(value.room) || !isText(value.text) || !isTime(value.ts)) return;
      return { kind: "topic", room: value.room, text: value.text, by, ts: value.ts };
    default:
      return;
  }
}

/** True when `ruling` is kept rather than only sent on (a ban, mute or topic). */
export function isKept(ruling: Ruling): ruling is KeptRuling {
  return ruling.kind !== "kick";
}

/** True when a kept ruling still holds at `now`: a ban or mute not yet over, a topic not cleared. */
export function inForce(ruling: KeptRuling, now: number): boolean {
  return ruling.kind === "topic" ? ruling.text !== "" : ruling.until > now;
}
