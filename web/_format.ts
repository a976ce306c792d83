// Small pure helpers for the chat page: times, sizes, colours, links, look-alike names.

import { couldMislead, misleadingReason } from "../core/misleading.ts";

/** `12:03` in the reader's locale. */
export function formatTime(ts: number): string {
  return new Date(ts).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

/** `12.3 KiB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KiB", "MiB", "GiB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value >= 100 ? Math.round(value) : value.toFixed(1).replace(/\.0$/, "")} ${
    units[unit]
  }`;
}

/** A stable palette slot (0-7) for a name, so each person keeps one colour. */
export function colorSlot(name: string): number {
  let hash = 0;
  for (const char of name.toLowerCase()) hash = (hash * 31 + char.codePointAt(0)!) >>> 0;
  return hash % 8;
}

/** A piece of message text: plain, or a web link. */
export type Segment = { text: string; href?: string };

/**
 * Splits text into plain parts and http(s) links. Only `http:` and `https:`
 * become links, so no `javascript:` URL can ever be clicked.
 */
export function splitLinks(text: string): Segment[] {
  const segments: Segment[] = [];
  const pattern = /\bhttps?:\/\/[^\s<>"']+/gi;
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    // Trailing punctuation usually ends the sentence, not the URL.
    const raw = match[0].replace(/[.,;:!?)\]]+$/, "");
    const start = match.index;
    let href: string | undefined;
    try {
      const url = new URL(raw);
      if (url.protocol === "http:" || url.protocol === "https:") href = url.href;
    } catch { /* not a URL after all */ }
    if (!href) continue;
    if (start > last) segments.push({ text: text.slice(last, start) });
    segments.push({ text: raw, href });
    last = start + raw.length;
  }
  if (last < text.length) segments.push({ text: text.slice(last) });
  return segments;
}

/** Media types shown inline as pictures. SVG is left out: opened on its own it could run script. */
export function isPreviewableImage(type: string): boolean {
  return /^image\/(png|jpeg|gif|webp|avif|bmp)$/i.test(type);
}

/**
 * The warning the page shows on a name that could be mistaken for another (see
 * `misleadingReason` in core/misleading.ts), or `undefined` for an ordinary name.
 */
export function lookalikeWarning(name: string): string | undefined {
  const reason = misleadingReason(name);
  return reason === undefined
    ? undefined
    : `This name could be mistaken for another. ${reason} Check who it is before you trust it.`;
}

/** A name in running text: `аnn(?)` when it could mislead, like the terminal client shows it. */
export function markedName(name: string): string {
  return couldMislead(name) ? `${name}(?)` : name;
}
