/**
 * crosswire on Redis: several relay processes that share one Redis act as one
 * relay. Names are unique across them, presence is shared (and a dead node's
 * users leave within its timeout), and room events, private messages and
 * notices cross between nodes over Redis pub/sub. Bans, mutes and room
 * topics are kept in Redis (so a node that starts later applies them) and
 * sent to every node; a node back from an outage reads them again, and when
 * Redis itself restarted empty, the nodes write back the ones they hold.
 *
 * @example Two nodes on one Redis
 * ```ts ignore
 * import { startServer } from "@crosswire/relay";
 * import { RedisEngine } from "@crosswire/relay/redis";
 * const engine = new RedisEngine({ url: "redis://127.0.0.1:6379" });
 * const server = await startServer({ port: 8080, relay: { engine } });
 * ```
 *
 * @module
 */
export { RedisEngine } from "./engine.ts";
export type { RedisEngineOptions } from "./engine.ts";
export { redactUrl, RedisUnreachableError } from "./link.ts";
