// Draws one conversation's log from its items (web/_state.ts). Each item gets
// one element, built once and kept while the item is the same object; items
// merged in the middle (recovered messages) are put in place, and items that
// went away (trimmed, cleared) are removed with their file URLs revoked.

import type { Elem } from "./_dom.ts";
import { colorIn, type Colors } from "./_colors.ts";
import { avatar, el, nameTag, timeElement } from "./_elements.ts";
import { formatBytes, isPreviewableImage, markedName, splitLinks } from "./_format.ts";
import type { GapItem, LineItem, LogItem, MessageItem } from "./_state.ts";
import { document } from "./_dom.ts";

/** One conversation's log, kept in step with its items. */
export class LogView {
  /** The element holding the entries; the page shows it while the conversation is on screen. */
  readonly element: Elem = el("div", "log-inner");
  #items: readonly LogItem[] = [];
  #colors: Colors = new Map();
  /** By item `seq`: its element, and the sender's colour it was drawn in. */
  #entries = new Map<number, { item: LogItem; element: Elem; slot: number | undefined }>();
  #grew: () => void;

  /** @param grew Called when an entry grows after it was drawn (a picture loaded). */
  constructor(grew: () => void) {
    this.#grew = grew;
  }

  /**
   * Makes the log show `items`, in order, each sender in their colour in `colors`.
   *
   * @returns Whether anything changed.
   */
  update(items: readonly LogItem[], colors: Colors): boolean {
    if (items === this.#items && colors === this.#colors) return false;
    this.#items = items;
    this.#colors = colors;
    const wanted = new Map(items.map((item) => [item.seq, item]));
    for (const [seq, entry] of this.#entries) {
      const item = wanted.get(seq);
      // A sender whose colour changed (rare: colours stay put while free) is drawn again.
      if (item === entry.item && slotOf(item, colors) === entry.slot) continue;
      discard(entry.element);
      this.#entries.delete(seq);
    }
    let previous: Elem | null = null;
    for (const item of items) {
      let entry = this.#entries.get(item.seq);
      if (!entry) {
        const slot = slotOf(item, colors);
        entry = { item, element: this.#build(item, slot), slot };
        this.#entries.set(item.seq, entry);
      }
      const here: Elem | null = previous
        ? previous.nextElementSibling
        : this.element.firstElementChild;
      if (here !== entry.element) {
        if (previous) previous.after(entry.element);
        else this.element.prepend(entry.element);
      }
      previous = entry.element;
    }
    return true;
  }

  /** Removes every entry and frees its file URLs. */
  destroy(): void {
    for (const entry of this.#entries.values()) discard(entry.element);
    this.#entries.clear();
    this.#items = [];
  }

  #build(item: LogItem, slot: number | undefined): Elem {
    switch (item.kind) {
      case "message":
        return messageEntry(item, this.#grew, slot ?? 0);
      case "line":
        return lineEntry(item);
      case "gap":
        return gapEntry(item);
    }
  }
}

function slotOf(item: LogItem | undefined, colors: Colors): number | undefined {
  return item?.kind === "message" ? colorIn(colors, item.from) : undefined;
}

function discard(element: Elem): void {
  for (const node of element.querySelectorAll("[data-blob]")) {
    URL.revokeObjectURL(node.dataset.blob ?? "");
  }
  element.remove();
}

function lineEntry(item: LineItem): Elem {
  const entry = el("div", `line ${item.style}`);
  entry.append(el("span", "line-text", item.text), timeElement(item.ts));
  return entry;
}

const GAP_REASONS: Record<GapItem["reason"], string> = {
  expired: "the session ended before it could be resumed",
  too_old: "more was said than the server keeps",
  epoch: "the server's history was reset",
  skipped: "the server skipped them",
};

function gapEntry(item: GapItem): Elem {
  const entry = el("div", "line gap");
  entry.setAttribute("role", "separator");
  entry.title = `Missing messages: ${GAP_REASONS[item.reason] ?? item.reason}.`;
  entry.dataset.reason = item.reason;
  entry.append(el("span", "line-text", item.text), timeElement(item.ts));
  return entry;
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

function fileBody(item: MessageItem, grew: () => void): Elem {
  const file = item.file!;
  const data = item.data;
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
    image.addEventListener("load", grew, { once: true });
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

function messageEntry(item: MessageItem, grew: () => void, slot: number): Elem {
  const classes = ["msg"];
  if (item.own) classes.push("own");
  if (item.isPrivate) classes.push("private");
  if (item.action) classes.push("action");
  if (item.continued) classes.push("cont");
  const entry = el("div", classes.join(" "));
  entry.dataset.from = item.from;
  if (item.id !== undefined) entry.dataset.id = item.id;
  entry.append(avatar(item.from, slot));
  const body = el("div", "body");
  const tag = item.isPrivate
    ? [el("span", "tag", item.own ? `private to ${markedName(item.to ?? "")}` : "private")]
    : [];
  if (item.action && !item.file) {
    // `* ann waves`: the name starts the line, so the time goes on that row, at its end.
    const line = textBody(item.text ?? "");
    line.prepend(...nameTag(item.from, `actor c${slot}`, `${item.from} `));
    const row = el("div", "action-row");
    row.append(line, ...tag, timeElement(item.ts));
    body.append(row);
  } else {
    const meta = el("div", "meta");
    meta.append(...nameTag(item.from, `from c${slot}`), ...tag, timeElement(item.ts));
    body.append(meta);
    body.append(item.file ? fileBody(item, grew) : textBody(item.text ?? ""));
  }
  entry.append(body);
  return entry;
}
