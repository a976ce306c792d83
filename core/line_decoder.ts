// Turns a TCP byte stream into lines. Reads split anywhere (inside a CRLF, a UTF-8
// character or a telnet command), so all state lives here between pushes.

const LF = 0x0a;
const CR = 0x0d;
const NUL = 0x00;
const IAC = 0xff;
const SB = 0xfa;
const SE = 0xf0;
const WILL = 0xfb;
const DONT = 0xfe;

// Telnet parser states.
const Telnet = {
  Data: 0,
  Command: 1, // after IAC
  Option: 2, // after IAC WILL/WONT/DO/DONT
  Sub: 3, // inside IAC SB ... IAC SE
  SubCommand: 4, // IAC inside a subnegotiation
} as const;

const decoder = new TextDecoder("utf-8", { fatal: false });
const INITIAL_CAPACITY = 256;
const SHRINK_ABOVE = 64 * 1024;

/** The result of {@link LineDecoder.push}. */
export type PushResult = "ok" | "too_long";

/**
 * Splits bytes into lines on LF, CRLF or a lone CR, strips telnet IAC
 * negotiation, and decodes each whole line as UTF-8 (invalid bytes become
 * U+FFFD). A line over `maxLineBytes` stops the decoder: memory never grows
 * past the limit.
 */
export class LineDecoder {
  /** Longest line accepted, in bytes, not counting the line ending. */
  maxLineBytes: number;
  #buffer = new Uint8Array(INITIAL_CAPACITY);
  #length = 0;
  #telnet: number = Telnet.Data;
  #afterCR = false;
  #failed = false;

  constructor(maxLineBytes: number) {
    this.maxLineBytes = maxLineBytes;
  }

  /** Bytes held for the line not yet ended. */
  get pendingBytes(): number {
    return this.#length;
  }

  /**
   * Feeds a chunk; calls `onLine` for each complete line, in order. Returns
   * `"too_long"` once a line passes the limit; later pushes do nothing.
   * `onLine` may raise `maxLineBytes` for the lines after it.
   */
  push(chunk: Uint8Array, onLine: (line: string) => void): PushResult {
    if (this.#failed) return "too_long";
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i]!;
      switch (this.#telnet) {
        case Telnet.Data:
          if (byte === IAC) {
            this.#telnet = Telnet.Command;
            continue;
          }
          break;
        case Telnet.Command:
          if (byte === IAC) {
            this.#telnet = Telnet.Data; // IAC IAC is a literal 0xFF data byte
            break;
          }
          this.#telnet = byte === SB
            ? Telnet.Sub
            : byte >= WILL && byte <= DONT
            ? Telnet.Option
            : Telnet.Data;
          continue;
        case Telnet.Option:
          this.#telnet = Telnet.Data;
          continue;
        case Telnet.Sub:
          if (byte === IAC) this.#telnet = Telnet.SubCommand;
          continue;
        case Telnet.SubCommand:
          this.#telnet = byte === SE ? Telnet.Data : Telnet.Sub;
          continue;
      }
      const afterCR = this.#afterCR;
      this.#afterCR = false;
      if (byte === LF || byte === CR) {
        if (byte === LF && afterCR) continue; // the LF of a CRLF
        this.#afterCR = byte === CR;
        this.#emit(onLine);
        continue;
      }
      if (byte === NUL && afterCR) continue; // telnet sends CR NUL for a bare CR
      if (this.#length >= this.maxLineBytes) {
        this.#fail();
        return "too_long";
      }
      this.#append(byte);
    }
    return "ok";
  }

  #append(byte: number): void {
    if (this.#length === this.#buffer.length) {
      const grown = new Uint8Array(
        Math.min(this.#buffer.length * 2, Math.max(this.maxLineBytes, 1)),
      );
      grown.set(this.#buffer);
      this.#buffer = grown;
    }
    this.#buffer[this.#length++] = byte;
  }

  #emit(onLine: (line: string) => void): void {
    const line = decoder.decode(this.#buffer.subarray(0, this.#length));
    this.#length = 0;
    if (this.#buffer.length > SHRINK_ABOVE) this.#buffer = new Uint8Array(INITIAL_CAPACITY);
    onLine(line);
  }

  #fail(): void {
    this.#failed = true;
    this.#length = 0;
    this.#buffer = new Uint8Array(0);
  }
}
