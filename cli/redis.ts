// A cluster node: the Redis engine for --redis, loaded only when asked for
// (a single node never loads the Redis client).

import type { Engine, RelayOptions } from "../core/mod.ts";
import type { RedisConfig } from "./flags.ts";

/** The Redis module, as loaded. */
export type RedisModule = typeof import("../redis/mod.ts");

/** Loads the Redis module. */
export function loadRedis(): Promise<RedisModule> {
  return import("../redis/mod.ts");
}

/** The engine for `config`, with the relay's announcement limit. */
export function redisEngine(
  redis: RedisModule,
  config: RedisConfig,
  relay: RelayOptions,
): Engine {
  return new redis.RedisEngine({
    url: config.url,
    prefix: config.prefix,
    nodeTimeoutMs: config.nodeTimeoutMs,
    connectTimeoutMs: config.connectTimeoutMs,
    ...(relay.maxAnnouncedRoomSize === undefined
      ? {}
      : { maxAnnouncedRoomSize: relay.maxAnnouncedRoomSize }),
  });
}
