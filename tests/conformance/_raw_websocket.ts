// A WebSocket client written by hand on a TCP connection, for the one thing
// the WebSocket global cannot do: break the protocol on purpose.

import { WAIT_MS, within } from "./_inbox.ts";

/** One frame read off the wire. */
export interface RawFrame {
  opcode: number;
  payload: Uint8Array;
}

const encoder = new TextEncoder();

/** A WebSocket on a raw TCP connection (`ws://` URLs only). */
export class RawWebSocket implements Disposable {
  readonly conn: Deno.Conn;
  #buffer: Uint8Array = new Uint8Array(0);
  #ended = false;

  private constructor(conn: Deno.Conn) {
    this.conn = conn;
  }

  /** Upgrades a connection to `url`; throws unless the server answers 101. */
  static async open(url: string): Promise<RawWebSocket> {
    const target = new URL(url);
    if (target.protocol !== "ws:") throw new Error(`a raw WebSocket needs a ws:// URL, not ${url}`);
    const hostname = target.hostname.replace(/^\[(.*)\]$/, "$1");
    const port = Number(target.port || 80);
    const socket = new RawWebSocket(
      await within(Deno.connect({ hostname, port }), WAIT_MS, `a TCP connection to ${url}`),
    );
    try {
      const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
      await socket.write(encoder.encode(
        [
          `GET ${target.pathname}${target.search} HTTP/1.1`,
          `Host: ${target.host}`,
          "Upgrade: websocket",
          "Connection: Upgrade",
          `Sec-WebSocket-Key: ${key}`,
          "Sec-WebSocket-Version: 13",
          "",
          "",
        ].join("\r\n"),
      ));
      const head = await within(socket.#readHead(), WAIT_MS, "the upgrade response");
      if (!/^HTTP\/1\.1 101 /.test(head)) {
        throw new Error(`the upgrade was refused: ${head.split("\r\n")[0]}`);
      }
    } catch (error) {
      socket.close();
      throw error;
    }
    return socket;
  }

  /** Writes bytes exactly as given. */
  async write(bytes: Uint8Array): Promise<void> {
    for (let offset = 0; offset < bytes.length;) {
      offset += await this.conn.write(bytes.subarray(offset));
    }
  }

  /** One masked client frame with `fin` set. */
  static frame(opcode: number, payload: Uint8Array): Uint8Array {
    const extended = payload.length < 126 ? 0 : payload.length < 65536 ? 2 : 8;
    const frame = new Uint8Array(2 + extended + 4 + payload.length);
    frame[0] = 0x80 | opcode;
    const view = new DataView(frame.buffer);
    if (extended === 0) frame[1] = 0x80 | payload.length;
    else if (extended === 2) {
      frame[1] = 0x80 | 126;
      view.setUint16(2, payload.length);
    } else {
      frame[1] = 0x80 | 127;
      view.setBigUint64(2, BigInt(payload.length));
    }
    const mask = crypto.getRandomValues(new Uint8Array(4));
    frame.set(mask, 2 + extended);
    for (let i = 0; i < payload.length; i++) {
      frame[2 + extended + 4 + i] = payload[i]! ^ mask[i % 4]!;
    }
    return frame;
  }

  /** The next frame, or null when the server has closed the connection. */
  readFrame(ms: number = WAIT_MS): Promise<RawFrame | null> {
    return within(this.#readFrame(), ms, "a WebSocket frame");
  }

  /** Closes the TCP connection. */
  close(): void {
    try {
      this.conn.close();
    } catch { /* already closed */ }
  }

  [Symbol.dispose](): void {
    this.close();
  }

  async #readHead(): Promise<string> {
    while (true) {
      const end = findHeadEnd(this.#buffer);
      if (end >= 0) {
        const head = new TextDecoder().decode(this.#buffer.subarray(0, end));
        this.#buffer = this.#buffer.subarray(end + 4);
        return head;
      }
      if (!(await this.#fill(this.#buffer.length + 1))) {
        throw new Error("the connection closed before the upgrade response");
      }
    }
  }

  async #readFrame(): Promise<RawFrame | null> {
    if (!(await this.#fill(2))) return null;
    const opcode = this.#buffer[0]! & 0x0f;
    let length = this.#buffer[1]! & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (!(await this.#fill(4))) return null;
      length = (this.#buffer[2]! << 8) | this.#buffer[3]!;
      offset = 4;
    } else if (length === 127) {
      if (!(await this.#fill(10))) return null;
      length = Number(new DataView(this.#buffer.buffer, this.#buffer.byteOffset).getBigUint64(2));
      offset = 10;
    }
    if (!(await this.#fill(offset + length))) return null;
    const payload = this.#buffer.slice(offset, offset + length);
    this.#buffer = this.#buffer.subarray(offset + length);
    return { opcode, payload };
  }

  // Reads until `count` bytes are buffered; false at the end (or a reset) before that.
  async #fill(count: number): Promise<boolean> {
    while (this.#buffer.length < count) {
      if (this.#ended) return false;
      const chunk = new Uint8Array(64 * 1024);
      let read: number | null = null;
      try {
        read = await this.conn.read(chunk);
      } catch { /* a reset ends it too */ }
      if (read === null) {
        this.#ended = true;
        return false;
      }
      const joined = new Uint8Array(this.#buffer.length + read);
      joined.set(this.#buffer);
      joined.set(chunk.subarray(0, read), this.#buffer.length);
      this.#buffer = joined;
    }
    return true;
  }
}

function findHeadEnd(bytes: Uint8Array): number {
  for (let i = 0; i + 3 < bytes.length; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) {
      return i;
    }
  }
  return -1;
}

/** The close code a close frame carries, or undefined when it has none. */
export function closeCode(frame: RawFrame): number | undefined {
  return frame.opcode === 8 && frame.payload.length >= 2
    ? (frame.payload[0]! << 8) | frame.payload[1]!
    : undefined;
}
