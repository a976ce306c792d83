// The terminal client's input line on a TTY, built on node:readline: line
// editing, history (up arrow), Tab completion, and a prompt that incoming text
// never garbles. What arrives is written above the prompt: the prompt and the
// half-typed line under it are wiped, the text printed, and both redrawn with
// the cursor where it was.

import process from "node:process";
import { clearScreenDown, createInterface, cursorTo, moveCursor } from "node:readline";

/** Typed lines kept for the up arrow. */
const HISTORY_SIZE = 1000;
/** Typed lines waiting to be read before the editor stops reading keys (a huge paste). */
const MAX_QUEUED_LINES = 1000;

/** How a {@link LineEditor} completes and what its prompt says at first. */
export interface LineEditorOptions {
  /** node:readline's completer: candidates for the text before the cursor, and what they replace. */
  complete(before: string): [string[], string];
  /**
   * For a line that carries a secret (`/auth TOKEN`), what to show in its
   * place once entered; undefined for any other line. Such lines are not kept
   * for the up arrow. @default every line is shown as typed
   */
  secret?(line: string): string | undefined;
}

/**
 * The input line of an interactive terminal. Ctrl-C clears a line that has
 * text and ends input on an empty one, as Ctrl-D does; either way `lines`
 * then ends and the caller quits.
 */
export class LineEditor {
  /** The lines the user enters, until Ctrl-D, Ctrl-C on an empty line, or {@link close}. */
  readonly lines: AsyncIterator<string>;
  #rl: ReturnType<typeof createInterface>;
  #queue: string[] = [];
  #reader: ((result: IteratorResult<string>) => void) | undefined;
  #ended = false;
  #paused = false;
  // The prompt the chat shows; a question (`ask`) replaces it for one line.
  #chatPrompt = "";
  #asking = false;
  #pending: { text: string; error: boolean }[] = [];
  #flushing = false;

  constructor(options: LineEditorOptions) {
    const rl = this.#rl = createInterface({
      input: process.stdin,
      output: process.stdout,
      terminal: true,
      prompt: "",
      historySize: HISTORY_SIZE,
      removeHistoryDuplicates: true,
      completer: (before: string) => options.complete(before),
    });
    rl.on("line", (line: string) => {
      const masked = options.secret?.(line);
      if (masked !== undefined) this.#mask(line, masked);
      if (this.#asking) {
        this.#asking = false;
        rl.setPrompt(this.#chatPrompt);
      }
      this.#push(line);
      if (!this.#ended) rl.prompt();
    });
    rl.on("SIGINT", () => {
      if (rl.line === "") return rl.close();
      // As in a shell: Ctrl-C throws the line away. End of line, then delete to its start.
      rl.write(null, { ctrl: true, name: "e" });
      rl.write(null, { ctrl: true, name: "u" });
    });
    rl.on("close", () => {
      // The prompt goes; what was still to print stays; the shell's prompt comes next.
      this.#wipePrompt();
      this.#end();
      this.#flush();
    });
    this.lines = {
      next: () => {
        const line = this.#queue.shift();
        if (this.#paused && this.#queue.length < MAX_QUEUED_LINES / 2) {
          this.#paused = false;
          rl.resume();
        }
        if (line !== undefined) return Promise.resolve({ done: false, value: line });
        if (this.#ended) return Promise.resolve({ done: true, value: undefined });
        return new Promise((resolve) => this.#reader = resolve);
      },
    };
  }

  /** Shows `text` as the prompt of the chat (say, the current room); redraws at once. */
  setPrompt(text: string): void {
    if (text === this.#chatPrompt && !this.#asking) return;
    this.#chatPrompt = text;
    if (this.#asking || this.#ended) return;
    this.#rl.setPrompt(text);
    this.#rl.prompt(true);
  }

  /** Asks a question: `text` is the prompt for the next line only. */
  ask(text: string): void {
    if (this.#ended) return;
    this.#asking = true;
    this.#rl.setPrompt(text);
    this.#rl.prompt();
  }

  /**
   * Prints a line above the prompt (on stderr when `error`). Lines that arrive
   * together are written together, with one redraw of the prompt.
   */
  print(text: string, error = false): void {
    this.#pending.push({ text, error });
    if (this.#flushing) return;
    this.#flushing = true;
    queueMicrotask(() => this.#flush());
  }

  /** Prints what is pending, takes the prompt away and gives the terminal back. */
  close(): void {
    if (this.#ended) return this.#flush();
    this.#rl.close(); // its close listener does the rest
  }

  #flush(): void {
    this.#flushing = false;
    if (this.#pending.length === 0) return;
    const lines = this.#pending.splice(0);
    const rows = this.#ended ? 0 : this.#wipePrompt();
    for (const { text, error } of lines) {
      (error ? process.stderr : process.stdout).write(`${text}\n`);
    }
    if (this.#ended) return;
    // readline's redraw first climbs back to where it last drew the prompt, `rows` up
    // from the cursor: blank rows for it to climb, which it clears again.
    process.stdout.write("\n".repeat(rows));
    this.#rl.prompt(true);
  }

  // From the cursor up to the row the prompt starts on, then everything below it.
  // Returns how many rows up that was.
  #wipePrompt(): number {
    const rows = this.#cursorRow();
    moveCursor(process.stdout, 0, -rows);
    cursorTo(process.stdout, 0);
    clearScreenDown(process.stdout);
    return rows;
  }

  // The row of the prompt the cursor is on, as readline last drew it (its `prevRows`,
  // which its redraw climbs), else as the line and the width say it should be.
  #cursorRow(): number {
    const drawn = (this.#rl as unknown as { prevRows?: unknown }).prevRows;
    return typeof drawn === "number" && Number.isSafeInteger(drawn) && drawn >= 0
      ? drawn
      : this.#rl.getCursorPos().rows;
  }

  // A secret was typed: out of the history, and on screen only masked. The
  // terminal showed it after the prompt and readline moved to the next row.
  #mask(line: string, masked: string): void {
    const history = (this.#rl as unknown as { history?: unknown }).history;
    if (Array.isArray(history) && history[0] === line) history.shift();
    const columns = process.stdout.columns;
    if (!columns || columns <= 0) return;
    const prompt = this.#rl.getPrompt();
    const width = [...prompt].length + [...line].length;
    const rows = Math.max(1, Math.ceil(width / columns));
    moveCursor(process.stdout, 0, -rows);
    cursorTo(process.stdout, 0);
    clearScreenDown(process.stdout);
    process.stdout.write(`${prompt}${masked}\n`);
  }

  #push(line: string): void {
    if (this.#reader) {
      const reader = this.#reader;
      this.#reader = undefined;
      return reader({ done: false, value: line });
    }
    this.#queue.push(line);
    if (this.#queue.length >= MAX_QUEUED_LINES && !this.#paused) {
      this.#paused = true;
      this.#rl.pause();
    }
  }

  #end(): void {
    this.#ended = true;
    const reader = this.#reader;
    this.#reader = undefined;
    reader?.({ done: true, value: undefined });
  }
}
