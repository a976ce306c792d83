// The terminal client spawned with `deno run`, and what the tests around it
// need: its output read until a marker appears, a telnet-style user, and a
// server on free ports. Shared by tests/cli_*_test.ts.

import { startServer } from "../server/mod.ts";
import type { RelayOptions, RunningServer } from "../mod.ts";

const CLI = new URL("../client/mod.ts", import.meta.url).pathname;
const TIMEOUT_MS = 15_000;
const encoder = new TextEncoder();

/** What {@link Output.waitFor} waits for: text, a pattern, or a test. */
export type Pattern = string | RegExp | ((text: string) => boolean);

function matches(text: string, pattern: Pattern): boolean {
  if (typeof pattern === "string") return text.includes(pattern);
  if (pattern instanceof RegExp) return pattern.test(text);
  return pattern(text);
}

/** Collects a byte stream as text and lets a test wait for a marker in it. */
export class Output {
  text = "";
  readonly done: Promise<void>;
  #checks = new Set<() => void>();
  #ended = false;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.done = (async () => {
      try {
        for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
          this.text += chunk;
          for (const check of [...this.#checks]) check();
        }
      } finally {
        this.#ended = true;
        for (const check of [...this.#checks]) check();
      }
    })();
  }

  /** Resolves once the text so far matches `pattern`; rejects at the end or after a timeout. */
  waitFor(pattern: Pattern, what = String(pattern)): Promise<void> {
    return new Promise((resolve, reject) => {
      const finish = (error?: Error) => {
        clearTimeout(timer);
        this.#checks.delete(check);
        if (error) reject(error);
        else resolve();
      };
      const check = () => {
        if (matches(this.text, pattern)) finish();
        else if (this.#ended) finish(new Error(`ended before ${what}; got:\n${this.text}`));
      };
      const timer = setTimeout(
        () => finish(new Error(`timed out waiting for ${what}; got:\n${this.text}`)),
        TIMEOUT_MS,
      );
      this.#checks.add(check);
      check();
    });
  }
}

/** One spawned terminal client with piped stdin, stdout and stderr. */
export class Cli {
  readonly stdout: Output;
  readonly stderr: Output;
  #child: Deno.ChildProcess;
  #stdin: WritableStreamDefaultWriter<Uint8Array>;
  #stdinClosed = false;

  /** Starts the client with `args`, and `env` besides NO_COLOR. */
  constructor(args: string[], env: Record<string, string> = {}) {
    this.#child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", CLI, ...args],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1", ...env },
    }).spawn();
    this.#stdin = this.#child.stdin.getWriter();
    this.stdout = new Output(this.#child.stdout);
    this.stderr = new Output(this.#child.stderr);
  }

  async type(line: string): Promise<void> {
    await this.#stdin.write(encoder.encode(line + "\n"));
  }

  async endInput(): Promise<void> {
    if (this.#stdinClosed) return;
    this.#stdinClosed = true;
    await this.#stdin.close().catch(() => {}); // the client may have exited already
  }

  /** Waits for the exit status, with both outputs read to the end. */
  async status(): Promise<Deno.CommandStatus> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tooLong = new Promise<never>((_, reject) =>
      timer = setTimeout(() => reject(new Error("the client did not exit")), TIMEOUT_MS)
    );
    try {
      const status = await Promise.race([this.#child.status, tooLong]);
      await Promise.all([this.stdout.done, this.stderr.done]);
      return status;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Ends stdin, kills the process if it still runs, and waits for it. */
  async dispose(): Promise<void> {
    await this.endInput();
    try {
      this.#child.kill();
    } catch { /* already exited */ }
    await this.#child.status;
    await Promise.allSettled([this.stdout.done, this.stderr.done]);
    this.#stdin.releaseLock();
  }
}

/** A telnet-style user on raw TCP: text mode, plain lines. */
export class RawTcpUser {
  readonly output: Output;
  #conn: Deno.TcpConn;

  private constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
    this.output = new Output(conn.readable);
  }

  static async login(server: RunningServer, name: string): Promise<RawTcpUser> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.tcpAddr!.port });
    const user = new RawTcpUser(conn);
    await user.type(name);
    await user.output.waitFor(`Welcome, ${name}!`);
    return user;
  }

  async type(line: string): Promise<void> {
    await this.#conn.write(encoder.encode(line + "\r\n"));
  }

  /** Hangs up; the server closes its side and the output ends. */
  async close(): Promise<void> {
    try {
      await this.#conn.closeWrite();
    } catch { /* the server already closed it */ }
    await this.output.done.catch(() => {});
  }
}

/** Starts a server on free ports with `relay` options; runs `cleanup` steps and shuts it down after. */
export async function withServer(
  body: (server: RunningServer, cleanup: (() => Promise<void>)[]) => Promise<void>,
  relay: RelayOptions = {},
): Promise<void> {
  const server = await startServer({ hostname: "127.0.0.1", port: 0, tcpPort: 0, relay });
  const cleanup: (() => Promise<void>)[] = [];
  try {
    await body(server, cleanup);
  } finally {
    for (const step of cleanup.reverse()) await step();
    await server.shutdown();
  }
}

/** The client flags for the server's TCP port. */
export function tcpArgs(server: RunningServer): string[] {
  return ["--host", "127.0.0.1", "--port", String(server.tcpAddr!.port)];
}

/** The client flags for the server's WebSocket. */
export function wsArgs(server: RunningServer): string[] {
  return ["--url", `ws://127.0.0.1:${server.httpAddr.port}/ws`];
}
