// A telnet-style user on the TCP endpoint: writes lines ending in CRLF and
// reads the server's lines as a terminal would show them.

import { Inbox, WAIT_MS, within } from "./_inbox.ts";
import { track } from "./_journal.ts";

const encoder = new TextEncoder();

/** One TCP connection, read line by line. */
export class TcpClient implements AsyncDisposable {
  readonly conn: Deno.Conn;
  readonly inbox: Inbox<string> = new Inbox((line) => JSON.stringify(line), () => this.label());
  /** Resolves when the server has closed the connection (or it was closed here). */
  readonly ended: Promise<void>;
  /** The name it logged in with in text mode, once welcomed. */
  name: string | undefined;
  #closed = false;

  private constructor(conn: Deno.Conn) {
    this.conn = conn;
    track({ label: () => this.label(), recent: () => this.inbox.recent() });
    this.ended = this.#read();
  }

  /** Connects; the greeting is the first line to expect. */
  static async connect(address: { hostname: string; port: number }): Promise<TcpClient> {
    const conn = await within(
      Deno.connect({ hostname: address.hostname, port: address.port, transport: "tcp" }),
      WAIT_MS,
      `a TCP connection to ${address.hostname}:${address.port}`,
    );
    return new TcpClient(conn);
  }

  /** Connects, answers the name prompt with `name`, and reads up to the lobby's member line. */
  static async login(
    address: { hostname: string; port: number },
    name: string,
  ): Promise<TcpClient> {
    const client = await TcpClient.connect(address);
    try {
      await client.expect("What's your name?");
      await client.send(name);
      await client.expect(`-!- Welcome, ${name}!`);
      await client.expect((line) => line.startsWith("-!- [lobby] ") && line.includes(" here: "));
      client.name = name;
    } catch (error) {
      await client.close().catch(() => {}); // the first failure is the one to report
      throw error;
    }
    return client;
  }

  /** Names the connection in failure messages. */
  label(): string {
    return `TCP ${this.name ?? "(not logged in)"}`;
  }

  /** Writes `text` as it is (UTF-8). */
  async write(text: string): Promise<void> {
    const bytes = encoder.encode(text);
    for (let offset = 0; offset < bytes.length;) {
      offset += await this.conn.write(bytes.subarray(offset));
    }
  }

  /** Sends one line, ended with CRLF as telnet does. */
  send(line: string): Promise<void> {
    return this.write(line + "\r\n");
  }

  /** Waits for a line containing `text` (or one `match` accepts), dropping the lines before it. */
  expect(match: string | ((line: string) => boolean), ms: number = WAIT_MS): Promise<string> {
    const test = typeof match === "string" ? (line: string) => line.includes(match) : match;
    const what = typeof match === "string" ? `a line with ${JSON.stringify(match)}` : "a line";
    return this.inbox.take(test, what, () => undefined, ms);
  }

  /** Waits for the server to close the connection. */
  async expectClosed(ms: number = WAIT_MS): Promise<void> {
    try {
      await within(this.ended, ms, "the server to close the TCP connection");
    } catch (error) {
      const message = `${this.label()}: ${(error as Error).message}`;
      throw new Error(`${message}\n  last received:\n${this.inbox.recent()}`);
    }
  }

  /** Closes from this side; resolves once the reader has stopped. */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      try {
        this.conn.close();
      } catch { /* already closed */ }
    }
    await this.ended;
  }

  /** A logged-in text-mode user says `/quit`, so the name is free at once; then it closes. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.#closed && this.name !== undefined) {
      try {
        await this.send("/quit");
        await within(this.ended, WAIT_MS, "the server to close after /quit");
      } catch { /* closed from this side below */ }
    }
    await this.close();
  }

  async #read(): Promise<void> {
    const decoder = new TextDecoder();
    const buffer = new Uint8Array(16 * 1024);
    let pending = "";
    let why = "the server closed the TCP connection";
    try {
      for (let count = await this.conn.read(buffer); count !== null;) {
        pending += decoder.decode(buffer.subarray(0, count), { stream: true });
        const lines = pending.split("\n");
        pending = lines.pop()!;
        for (const line of lines) this.inbox.push(line.replace(/\r$/, ""));
        count = await this.conn.read(buffer);
      }
    } catch (error) {
      why = `the TCP connection failed: ${(error as Error).message}`;
    }
    if (pending !== "") this.inbox.push(pending);
    this.inbox.end(why);
  }
}
