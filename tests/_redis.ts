// A throwaway redis-server for tests: a free port, no persistence, killed and
// reaped by `await using`. Without redis-server the tests skip loudly, and
// under CI=true that is a failure.

import { Relay, type RelayOptions } from "../core/mod.ts";
import { RedisEngine } from "../redis/mod.ts";
import { within } from "./_helpers.ts";
import { type CliServer, spawnCli } from "./_server_helpers.ts";

const REDIS_SERVER = "redis-server";

/** True when `redis-server` can run here. */
export function redisAvailable(): boolean {
  try {
    const { success } = new Deno.Command(REDIS_SERVER, { args: ["--version"], stdout: "null" })
      .outputSync();
    return success;
  } catch {
    return false;
  }
}

/** `ignore` for Deno.test: skips loudly without redis-server; under CI=true that fails instead. */
export function redisMissing(): boolean {
  if (redisAvailable()) return false;
  if (Deno.env.get("CI") === "true") {
    throw new Error(
      "redis-server is missing, and CI=true: install it (apt-get install redis-server)",
    );
  }
  console.warn(
    "⚠️  SKIPPING the Redis tests: redis-server is missing (apt-get install redis-server).",
  );
  return true;
}

/** A running redis-server. */
export interface TestRedis extends AsyncDisposable {
  port: number;
  url: string;
  child: Deno.ChildProcess;
  /** Stops it with SIGKILL (data is gone: no persistence) and waits for it. */
  kill(): Promise<void>;
  /** Starts it again on the same port. */
  restart(): Promise<void>;
  /** One command with redis-cli, e.g. `["INFO", "commandstats"]`. */
  cli(...args: string[]): Promise<string>;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

async function spawn(port: number): Promise<Deno.ChildProcess> {
  const child = new Deno.Command(REDIS_SERVER, {
    args: ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    stdout: "null",
    stderr: "null",
    stdin: "null",
  }).spawn();
  // Ready once it accepts a connection and answers PING.
  await within(
    (async () => {
      while (true) {
        try {
          const conn = await Deno.connect({ hostname: "127.0.0.1", port });
          await conn.write(new TextEncoder().encode("PING\r\n"));
          const buffer = new Uint8Array(16);
          const read = await conn.read(buffer);
          conn.close();
          if (read && new TextDecoder().decode(buffer.subarray(0, read)).startsWith("+PONG")) {
            return;
          }
        } catch { /* not listening yet */ }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })(),
    10_000,
    "redis-server to start",
  );
  return child;
}

/** Starts redis-server on a free port. */
export async function startRedis(): Promise<TestRedis> {
  const port = freePort();
  let child = await spawn(port);
  let alive = true;
  const redis: TestRedis = {
    port,
    url: `redis://127.0.0.1:${port}`,
    get child() {
      return child;
    },
    async kill() {
      if (!alive) return;
      alive = false;
      child.kill("SIGKILL");
      await child.status;
    },
    async restart() {
      await redis.kill();
      child = await spawn(port);
      alive = true;
    },
    async cli(...args: string[]) {
      const { stdout } = await new Deno.Command("redis-cli", {
        args: ["-p", String(port), ...args],
        stdout: "piped",
        stderr: "null",
      }).output();
      return new TextDecoder().decode(stdout);
    },
    [Symbol.asyncDispose]: () => redis.kill(),
  };
  return redis;
}

/** A relay node in this process on the Redis at `url` under `prefix`, started. */
export async function relayNode(
  url: string,
  prefix: string,
  options: RelayOptions = {},
): Promise<{ relay: Relay } & AsyncDisposable> {
  const relay = new Relay({
    engine: new RedisEngine({ url, prefix, log: () => {} }),
    ...options,
  });
  await relay.start();
  return {
    relay,
    async [Symbol.asyncDispose]() {
      relay.close();
      await relay.engine.close();
    },
  };
}

/**
 * A `main.ts` node of the cluster on `redis` under `prefix`: a dead node is
 * noticed after 5 s, a dropped user's name is free at once.
 */
export function cliNode(
  redis: TestRedis,
  prefix: string,
  extra: string[] = [],
): Promise<CliServer> {
  return spawnCli({
    flags: [
      "--redis",
      redis.url,
      "--redis-prefix",
      prefix,
      "--node-timeout",
      "5",
      "--name-grace",
      "0",
      ...extra,
    ],
  });
}
