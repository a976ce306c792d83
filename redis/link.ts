// The two Redis connections of one node (commands, and a subscriber), and
// whether both are usable. Commands never queue while Redis is away and never
// wait forever on a hung one: the node must notice, say so, and go on alone.

import { Redis, type RedisOptions } from "ioredis";
import { SCRIPTS } from "./scripts.ts";

/** The connections' state: both ready, or not (yet, or any more), or closed for good. */
export type LinkState = "connecting" | "ready" | "down" | "closed";

/** Options for {@link RedisLink}. */
export interface LinkOptions {
  /** `redis://` or `rediss://` URL, with user and password when needed. */
  url: string;
  /** Names the connections in `CLIENT LIST`. */
  name: string;
  /** A command with no answer for this long fails, and the link counts as down. */
  commandTimeoutMs: number;
  /** Extra ioredis options, such as `tls: { ca }`. */
  redis?: RedisOptions;
  /** A message on a subscribed channel. */
  message(channel: string, payload: string): void;
  /** Either connection was lost (or failed): the node is on its own until `ready` again. */
  lost(reason: string): void;
  /** Both connections are ready again (after a start, or a loss). */
  ready(): void;
}

function backoff(attempt: number): number {
  return Math.min(100 * 2 ** Math.min(attempt, 5), 2000) + Math.floor(Math.random() * 100);
}

/**
 * Redis could not be reached within the startup wait. Its message is one
 * line, fit to print, with any password in the URL replaced.
 *
 * @example
 * ```ts
 * import { RedisUnreachableError } from "@crosswire/relay/redis";
 * const error = new RedisUnreachableError("cannot reach Redis");
 * if (error.name !== "RedisUnreachableError") throw new Error("unexpected name");
 * ```
 */
export class RedisUnreachableError extends Error {
  /**
   * Makes the error.
   *
   * @param message One line: where, for how long, and the last error.
   */
  constructor(message: string) {
    super(message);
    this.name = "RedisUnreachableError";
  }
}

/**
 * The password in a Redis URL, replaced, for messages and logs.
 *
 * @example
 * ```ts
 * import { redactUrl } from "@crosswire/relay/redis";
 * if (redactUrl("redis://:secret@db:6379") !== "redis://:***@db:6379") throw new Error("leaked");
 * ```
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(an invalid URL)";
  }
}

/** A command connection and a subscriber connection to one Redis. */
export class RedisLink {
  /** Runs commands and scripts. */
  readonly cmd: Redis;
  /** Only subscribes and receives. */
  readonly sub: Redis;
  #options: LinkOptions;
  #state: LinkState = "connecting";
  #lastError = "";
  #giveUpAt = Infinity;

  constructor(options: LinkOptions) {
    this.#options = options;
    const common: RedisOptions = {
      lazyConnect: true,
      // Never hold commands while Redis is away, never replay them late: the
      // relay counts what it could not send and says so.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: options.commandTimeoutMs,
      // The default leaves a 2 s timer behind when closing a link that never connected.
      disconnectTimeout: 50,
      connectTimeout: Math.max(options.commandTimeoutMs, 1000),
      // Resubscribed by the engine, which must know when it is done.
      autoResubscribe: false,
      retryStrategy: (attempt) => Date.now() > this.#giveUpAt ? null : backoff(attempt),
      ...options.redis,
    };
    // ioredis's option types do not allow exactOptionalPropertyTypes' undefined.
    const named = (role: string) =>
      ({ ...common, connectionName: `${options.name}:${role}` }) as never;
    this.cmd = new Redis(options.url, named("cmd"));
    this.sub = new Redis(options.url, named("sub"));
    for (const [name, lua] of Object.entries(SCRIPTS)) {
      this.cmd.defineCommand(name, { numberOfKeys: 0, lua });
    }
    for (const client of [this.cmd, this.sub]) {
      client.on("error", (error: Error) => this.#lastError = error.message);
      client.on("close", () => this.#lose("the connection to Redis closed"));
      client.on("ready", () => this.#maybeReady());
    }
    this.sub.on("message", (channel: string, payload: string) => options.message(channel, payload));
  }

  /** The state now. */
  get state(): LinkState {
    return this.#state;
  }

  /** The last error either connection reported. */
  get lastError(): string {
    return this.#lastError;
  }

  /**
   * Connects both, retrying for up to `timeoutMs`; rejects with a one-line
   * reason when Redis cannot be reached in that time.
   */
  async start(timeoutMs: number): Promise<void> {
    this.#giveUpAt = Date.now() + timeoutMs;
    const ready = Promise.all(
      [this.cmd, this.sub].map((client) =>
        new Promise<void>((resolve, reject) => {
          client.once("ready", () => resolve());
          client.once("end", () => reject(new Error(this.#lastError || "connection ended")));
        })
      ),
    );
    for (const client of [this.cmd, this.sub]) client.connect().catch(() => {});
    try {
      await ready;
    } catch (error) {
      await this.close();
      const seconds = Math.round(timeoutMs / 1000);
      throw new RedisUnreachableError(
        `cannot reach Redis at ${redactUrl(this.#options.url)} after ${seconds} s (${
          (error as Error).message
        })`,
      );
    }
    // From now on, reconnect for as long as it takes: the node stays up meanwhile.
    this.#giveUpAt = Infinity;
    this.#state = "ready";
  }

  /** The link looks broken (a heartbeat timed out): drop both connections so they reconnect. */
  reset(reason: string): void {
    if (this.#state === "closed") return;
    this.#lose(reason);
    for (const client of [this.cmd, this.sub]) client.disconnect(true);
  }

  /** Closes both connections; pending commands are answered first when Redis is there. */
  async close(): Promise<void> {
    if (this.#state === "closed") return;
    const wasReady = this.#state === "ready";
    this.#state = "closed";
    await Promise.all([this.cmd, this.sub].map(async (client) => {
      if (wasReady && client.status === "ready") {
        try {
          await client.quit();
          return;
        } catch { /* it went away meanwhile */ }
      }
      client.disconnect();
    }));
    // ioredis ends a disconnected client on its own timer; let it run out.
    await new Promise((resolve) => setTimeout(resolve, 60));
  }

  #lose(reason: string): void {
    if (this.#state !== "ready") return;
    this.#state = "down";
    this.#options.lost(this.#lastError ? `${reason}: ${this.#lastError}` : reason);
  }

  #maybeReady(): void {
    if (this.#state !== "down") return;
    if (this.cmd.status !== "ready" || this.sub.status !== "ready") return;
    this.#state = "ready";
    this.#options.ready();
  }
}
