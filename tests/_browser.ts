// Shared by the browser tests (tests/browser_*test.ts): Debian's Chromium
// driven by playwright-core (never a downloaded browser), page helpers, and a
// gate for the page's WebSocket that a test can drop or hold back.
//
// Without /usr/bin/chromium the tests are skipped with a warning; under
// CI=true that is a failure instead (see `browserMissing`).

import {
  type BrowserContext,
  chromium,
  type Page,
  type WebSocketRoute,
} from "npm:playwright-core@1.65.1";

/** The browser the tests drive. */
export const CHROMIUM = "/usr/bin/chromium";
/** How long a page wait may take by default. */
export const WAIT_MS = 10_000;

function chromiumInstalled(): boolean {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
}

/** Whether Chromium is missing (warned about once, loudly, when it is). */
export const browserMissing: boolean = !chromiumInstalled();
if (browserMissing && Deno.env.get("CI") !== "true") {
  console.warn(
    `\n⚠️  SKIPPING the browser tests: ${CHROMIUM} is missing (apt-get install chromium).\n`,
  );
}

/** `ignore` for a browser test: skipped without Chromium, except under CI=true. */
export const ignoreBrowser: boolean = browserMissing && Deno.env.get("CI") !== "true";

/** Throws under CI=true when Chromium is missing: call first in every browser test. */
export function requireBrowser(): void {
  if (browserMissing) {
    throw new Error(`CI=true but ${CHROMIUM} is missing: the browser tests cannot run`);
  }
}

/** Problems a page reported: uncaught errors and CSP violations. */
export function watch(page: Page, label: string, problems: string[]): void {
  page.on("pageerror", (error) => problems.push(`${label}: uncaught ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error" && /Content Security Policy|Refused to/i.test(message.text())) {
      problems.push(`${label}: ${message.text()}`);
    }
  });
  page.on("dialog", (dialog) => {
    problems.push(`${label}: a dialog opened: ${dialog.message()}`);
    void dialog.dismiss();
  });
  page.setDefaultTimeout(WAIT_MS);
}

/** Opens the page at `url` and logs in as `name`; resolves once it is online and listed. */
export async function login(page: Page, url: string, name: string): Promise<void> {
  await page.goto(url);
  await page.fill("#name", name);
  await page.press("#name", "Enter");
  await page.locator("#chat").waitFor({ state: "visible" });
  await page.locator('#status[data-state="online"]').waitFor();
  await page.locator('#member-list [data-name="' + name + '"]').waitFor();
}

/** Types `text` into the composer and sends it. */
export async function say(page: Page, text: string): Promise<void> {
  await page.fill("#input", text);
  await page.press("#input", "Enter");
}

/** The text of the newest message from `from` that contains `text`, as shown. */
export function message(page: Page, from: string, text: string) {
  return page.locator(`#log .msg[data-from="${from}"] .text`, { hasText: text }).last();
}

/** How {@link withChromium} sets up the browser. */
export interface ChromiumOptions {
  /** @default { width: 1280, height: 760 } */
  viewport?: { width: number; height: number };
  /** Turn transitions off (the page honours reduced motion), for screenshots. @default false */
  reducedMotion?: boolean;
}

/** Launches Chromium with a fresh profile; closes it (and removes the profile) afterwards. */
export async function withChromium(
  fn: (context: BrowserContext) => Promise<void>,
  options: ChromiumOptions = {},
): Promise<void> {
  const profile = await Deno.makeTempDir({ prefix: "crosswire-chromium-" });
  let context: BrowserContext | undefined;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: options.viewport ?? { width: 1280, height: 760 },
      reducedMotion: options.reducedMotion ? "reduce" : "no-preference",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    await fn(context);
  } finally {
    await context?.close();
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  }
}

/** A promise with its resolve function. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => resolve = done);
  return { promise, resolve };
}

/**
 * Routes a page's WebSocket connections through Playwright: each goes straight
 * to the server, unless the test holds them back; `drop()` closes the current
 * one as a network failure would, without a `quit`.
 */
export class SocketGate {
  #current: WebSocketRoute | undefined;
  #held: { release: ReturnType<typeof deferred>; arrived: ReturnType<typeof deferred> } | undefined;

  /** Installs a gate on `page`'s connections to `/ws`. */
  static async install(page: Page): Promise<SocketGate> {
    const gate = new SocketGate();
    await page.routeWebSocket(/\/ws$/, async (route) => {
      gate.#current = route;
      const held = gate.#held;
      if (held) {
        held.arrived.resolve();
        await held.release.promise;
      }
      route.connectToServer();
    });
    return gate;
  }

  /** Holds the next connections back until `release()`. */
  hold(): void {
    this.#held = { release: deferred(), arrived: deferred() };
  }

  /** Resolves once a connection is being held back. */
  arrived(): Promise<void> {
    if (!this.#held) throw new Error("hold() first");
    return this.#held.arrived.promise;
  }

  /** Lets held connections through to the server. */
  release(): void {
    this.#held?.release.resolve();
    this.#held = undefined;
  }

  /** Closes the page's current connection (and its server side) as if the network failed. */
  async drop(): Promise<void> {
    await this.#current?.close({ code: 4000, reason: "dropped by the test" });
  }
}
