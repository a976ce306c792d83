// The composer's history: lines sent, recalled with the arrow keys, with the
// line being typed kept as a draft. No DOM, so tests/web_state_test.ts checks it.

/** Lines sent from the composer, newest last, and where recall is. */
export class InputHistory {
  #lines: string[] = [];
  #index = 0;
  #draft = "";
  #size: number;

  /** @param size Lines kept. @default 100 */
  constructor(size = 100) {
    this.#size = size;
  }

  /** Whether recall is past the newest line (on the draft). */
  get atEnd(): boolean {
    return this.#index === this.#lines.length;
  }

  /** Remembers a sent line (not twice in a row) and goes back to an empty draft. */
  push(line: string): void {
    if (this.#lines.at(-1) !== line) this.#lines.push(line);
    if (this.#lines.length > this.#size) this.#lines.shift();
    this.#index = this.#lines.length;
    this.#draft = "";
  }

  /**
   * Steps back (-1) or forward (1) from what the composer holds now.
   *
   * @returns The text to put in the composer, or `undefined` when there is no history.
   */
  recall(step: -1 | 1, current: string): string | undefined {
    if (this.#lines.length === 0) return undefined;
    if (this.atEnd) this.#draft = current;
    this.#index = Math.max(0, Math.min(this.#lines.length, this.#index + step));
    return this.atEnd ? this.#draft : this.#lines[this.#index] ?? "";
  }
}
