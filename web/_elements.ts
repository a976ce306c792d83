// Element builders shared by the page's renderers. User text only ever goes in
// with textContent or as an attribute value, never parsed as HTML.

import { document, type Elem, type TagMap } from "./_dom.ts";
import { colorSlot, formatTime, lookalikeWarning } from "./_format.ts";

/** Makes an element; `text` is set with textContent, so it is never parsed as HTML. */
export function el<K extends keyof TagMap>(tag: K, className = "", text?: string): TagMap[K] {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text !== undefined) element.textContent = text;
  return element;
}

/**
 * A name, as a span with `className`. A name that could be mistaken for another also gets a
 * dotted underline, a "?" badge after it, and the reason as the tooltip of both.
 */
export function nameTag(name: string, className: string, text = name): Elem[] {
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

/**
 * A rounded badge with the name's first letter, in colour `slot` (the room's
 * colour for the name, web/_colors.ts; by default the name's own).
 */
export function avatar(name: string, slot: number = colorSlot(name)): Elem {
  const element = el("span", `avatar c${slot}`, [...name][0]?.toUpperCase() ?? "?");
  element.setAttribute("aria-hidden", "true");
  return element;
}

/** `12:03`, with the full date and time as its tooltip. */
export function timeElement(ts: number): Elem {
  const time = el("time", "time", formatTime(ts));
  time.dateTime = new Date(ts).toISOString();
  time.title = new Date(ts).toLocaleString();
  return time;
}
