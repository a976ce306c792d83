// The clients people use, on the Worker run by `wrangler dev` (workerd): the
// chat page served by the Worker, in Chromium (under its Content-Security-
// Policy), and the terminal client, chatting with each other through the
// relay's Durable Object.

import assert from "node:assert/strict";
import { launch } from "../conformance/launch.ts";
import { within } from "../conformance/_inbox.ts";
import {
  ignoreBrowser,
  login,
  message,
  requireBrowser,
  say,
  watch,
  withChromium,
} from "../_browser.ts";
import {
  cloudflareCommand,
  LOOPBACK_FLAGS,
  WRANGLER_READY_MS,
  wranglerAvailable,
} from "./_cloudflare.ts";

const WRANGLER = await wranglerAvailable("tests/runtimes/cloudflare_clients_test.ts");
const CLIENT = new URL("../../client/mod.ts", import.meta.url).pathname;
const WAIT_MS = 10_000;

/** The terminal client, its stdout read into `text` as it comes. */
class TerminalClient implements AsyncDisposable {
  text = "";
  #child: Deno.ChildProcess;
  #stdin: WritableStreamDefaultWriter<Uint8Array>;
  #read: Promise<void>;
  #wake = () => {};

  constructor(url: string, name: string) {
    this.#child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", CLIENT, "--url", url, "--name", name, "--no-reconnect"],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    this.#stdin = this.#child.stdin.getWriter();
    const read = async (stream: ReadableStream<Uint8Array>) => {
      for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
        this.text += chunk;
        this.#wake();
      }
    };
    this.#read = Promise.all([read(this.#child.stdout), read(this.#child.stderr)]).then(() => {});
  }

  /** Waits until the output contains `expected`. */
  async waitFor(expected: string): Promise<void> {
    const found = async () => {
      while (!this.text.includes(expected)) {
        await new Promise<void>((resolve) => this.#wake = resolve);
      }
    };
    try {
      await within(found(), WAIT_MS, JSON.stringify(expected));
    } catch (error) {
      throw new Error(`${(error as Error).message}; the client printed:\n${this.text}`);
    }
  }

  async type(line: string): Promise<void> {
    await this.#stdin.write(new TextEncoder().encode(line + "\n"));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.#stdin.close().catch(() => {}); // end of input: the client says bye and exits
    const status = await within(this.#child.status, WAIT_MS, "the client to exit").catch(() => {
      this.#child.kill();
      return this.#child.status;
    });
    await this.#read;
    assert.equal(status.code, 0, `the client's exit code; it printed:\n${this.text}`);
  }
}

Deno.test({
  name: "cloudflare: the chat page in Chromium and the terminal client talk through the Worker",
  ignore: !WRANGLER || ignoreBrowser,
}, async () => {
  requireBrowser();
  const { command, args, cwd } = cloudflareCommand(LOOPBACK_FLAGS);
  const server = await launch(command, args, { cwd, timeoutMs: WRANGLER_READY_MS });
  const problems: string[] = [];
  try {
    await using carl = new TerminalClient(server.ws, "carl");
    await carl.waitFor("Welcome, carl!");
    await withChromium(async (context) => {
      const ann = await context.newPage();
      watch(ann, "ann", problems);
      await login(ann, server.http, "ann");
      await ann.locator('#member-list [data-name="carl"]').waitFor();
      await carl.waitFor("[lobby] ann joined");

      await say(ann, "hello from the page on Workers");
      await carl.waitFor("[lobby] ann: hello from the page on Workers");
      await carl.type("hi from the terminal");
      await message(ann, "carl", "hi from the terminal").waitFor();
      await ann.close();
    });
  } catch (error) {
    console.error(`the server printed:\n${server.output()}`);
    throw error;
  } finally {
    await server.stop();
  }
  assert.deepEqual(problems, []);
});
