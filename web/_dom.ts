// The small part of the browser DOM the page uses, declared here instead of
// with `/// <reference lib="dom" />`: the project has one deno.json, and the
// DOM library loaded into `deno check .` would change Deno's own types (its
// streams, for one) in every other file of the program.

/** An event, as much of it as the page reads. */
export interface DomEvent {
  preventDefault(): void;
  stopPropagation(): void;
}

/** A key press in the composer. */
export interface KeyEvent extends DomEvent {
  readonly key: string;
  readonly shiftKey: boolean;
  readonly isComposing: boolean;
}

/** Dropped or pasted data. */
export interface DataTransferLike {
  readonly types: readonly string[];
  readonly files: ArrayLike<File> & Iterable<File>;
  dropEffect: string;
}

/** A drag over or a drop onto the chat. */
export interface DragEventLike extends DomEvent {
  readonly dataTransfer: DataTransferLike | null;
}

/** A paste into the composer. */
export interface PasteEvent extends DomEvent {
  readonly clipboardData: DataTransferLike | null;
}

/** A text node. */
export interface TextNode {
  textContent: string | null;
}

/** An element, with the members the page uses. */
export interface Elem {
  id: string;
  className: string;
  textContent: string | null;
  hidden: boolean;
  title: string;
  readonly dataset: Record<string, string | undefined>;
  readonly classList: {
    remove(...tokens: string[]): void;
    toggle(token: string, force?: boolean): boolean;
    contains(token: string): boolean;
  };
  readonly style: { height: string };
  readonly childElementCount: number;
  readonly firstElementChild: Elem | null;
  readonly nextElementSibling: Elem | null;
  scrollTop: number;
  readonly scrollHeight: number;
  readonly clientHeight: number;
  append(...nodes: (Elem | TextNode | string)[]): void;
  prepend(...nodes: (Elem | TextNode | string)[]): void;
  replaceChildren(...nodes: (Elem | TextNode | string)[]): void;
  after(...nodes: (Elem | TextNode | string)[]): void;
  remove(): void;
  querySelectorAll(selectors: string): Iterable<Elem>;
  setAttribute(name: string, value: string): void;
  removeAttribute(name: string): void;
  addEventListener<E extends DomEvent = DomEvent>(
    type: string,
    listener: (event: E) => void,
    options?: { once?: boolean; passive?: boolean },
  ): void;
  focus(): void;
  click(): void;
}

/** `<button>`. */
export interface ButtonElem extends Elem {
  type: string;
  disabled: boolean;
}

/** `<a>`. */
export interface AnchorElem extends Elem {
  href: string;
  target: string;
  rel: string;
  download: string;
}

/** `<img>`. */
export interface ImageElem extends Elem {
  src: string;
  alt: string;
}

/** `<time>`. */
export interface TimeElem extends Elem {
  dateTime: string;
}

/** `<input>` and `<textarea>`. */
export interface InputElem extends Elem {
  value: string;
  placeholder: string;
  disabled: boolean;
  readonly selectionStart: number | null;
  readonly selectionEnd: number | null;
  readonly files: (ArrayLike<File> & Iterable<File>) | null;
  select(): void;
  setSelectionRange(start: number, end: number): void;
}

/** `<form>`. */
export interface FormElem extends Elem {
  requestSubmit(): void;
}

/** Tag names the page creates, and what each makes. */
export interface TagMap {
  a: AnchorElem;
  button: ButtonElem;
  code: Elem;
  dd: Elem;
  div: Elem;
  dl: Elem;
  dt: Elem;
  h3: Elem;
  img: ImageElem;
  li: Elem;
  p: Elem;
  span: Elem;
  time: TimeElem;
  ul: Elem;
}

/** The document, as much of it as the page uses. */
export interface Doc {
  title: string;
  readonly hidden: boolean;
  getElementById(id: string): Elem | null;
  createElement<K extends keyof TagMap>(tag: K): TagMap[K];
  createTextNode(text: string): TextNode;
  addEventListener(type: string, listener: () => void): void;
}

/** The page's document. */
export const document: Doc = (globalThis as unknown as { document: Doc }).document;

/** The tab's history, as much of it as the page uses: changing the address without a reload. */
export interface PageHistory {
  readonly state: unknown;
  replaceState(state: unknown, unused: string, url: string): void;
}

/** The tab's history. */
export const history: PageHistory = (globalThis as unknown as { history: PageHistory }).history;
