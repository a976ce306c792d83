/**
 * A crosswire engine on `BroadcastChannel` (`@crosswire/relay/broadcast-channel`):
 * several relays that share channel names act as one relay, with no store in
 * between. On Deno Deploy the channel spans the isolates of a deployment; in
 * the Deno CLI it spans the Workers of one process (not processes); in one
 * thread, several engines hear each other too.
 *
 * How it works: each node is the authority for its own sessions. It tells
 * every change (a name claimed, a room joined, a session parked) on one
 * cluster channel and keeps a replica of every other node's state, so names,
 * presence, the room list and counts are answered at once, from memory. A
 * node starting says hello and gets the others' state; nodes send a heartbeat
 * every `heartbeatMs`; one not heard from for `nodeTimeoutMs` is declared gone
 * and its users leave every room, as when a Redis node dies; a node that
 * closes says goodbye and its users go at once. A batch lost on the way shows
 * as a gap in its sender's sequence, and the receiver asks for the sender's
 * state again. Room messages travel on one channel per room, opened while
 * this node has members there; private messages on the recipient node's own
 * channel. A session parked on one node and resumed on another is handed
 * over by its node (its name and rooms move, nobody sees it leave); a resume
 * that arrives before the news of the drop asks every node. Everything
 * received is checked; a malformed message is ignored.
 *
 * Limits, compared with the Redis engine (`@crosswire/relay/redis`):
 *
 * - **Names are decided locally, races settled after.** A claim is granted at
 *   once from the replica. When two nodes grant one name within the time a
 *   message takes between them, both learn of it; the earlier claim (then the
 *   smaller node id) keeps the name, and the other user is renamed (the relay
 *   does it when told `nameLost`), so both see a welcome first. Claims are
 *   stamped with their node's clock: between isolates whose clocks disagree,
 *   "earlier" is only as good as the clocks, but every node decides alike.
 * - **History is per node.** Each node keeps the room messages it delivered,
 *   positioned in its own streams (own epochs). A client that resumes on the
 *   node it left gets exactly what it missed; on another node its positions
 *   mean nothing there, so it gets `recovered: false` and that node's latest
 *   messages, never messages out of place. A node that stops hearing a room
 *   (its last member there left) forgets the room's history, since it would
 *   miss what is said meanwhile. Private messages kept for a parked session
 *   stay on its node: a resume elsewhere starts a new private stream.
 * - **Always `up`.** There is no link to lose, so the status never says
 *   `degraded` while the engine is open; nodes that fall silent are dropped
 *   instead. A node that was only paused (a frozen isolate) and comes back
 *   is taken back, and its users are announced as joining again.
 * - **Held names go with their node.** A name kept for a dropped user lives
 *   on the node that held the user; if that node goes, so does the hold.
 * - **Delivery is what the platform gives.** Messages on the channel are
 *   structured-cloned and best-effort; a lost room or private message is not
 *   resent (lost presence changes are repaired by the state exchange). A
 *   resume whose handover answer is lost fails, and the session is gone.
 * - **Moderation is everyone's.** Every node keeps every ban, mute and topic
 *   (kicks only pass through) and tells them in its state, so a node that
 *   starts later has them; of two rulings under one key, the later stamp (its
 *   node's clock) wins everywhere, and a lift is remembered for an hour (or
 *   ten node timeouts) so a node that missed it cannot bring the ban back.
 * - **Every node holds everyone's presence.** Memory and the traffic on the
 *   cluster channel grow with the users of the whole deployment, not of one
 *   isolate; it suits a chat of thousands, not millions.
 *
 * @example Two relays in one process, on one channel prefix
 * ```ts
 * import { Relay } from "@crosswire/relay";
 * import { BroadcastChannelEngine } from "@crosswire/relay/broadcast-channel";
 * const prefix = `example-${crypto.randomUUID()}:`;
 * const a = new Relay({ engine: new BroadcastChannelEngine({ prefix, startWaitMs: 10 }) });
 * const b = new Relay({ engine: new BroadcastChannelEngine({ prefix, startWaitMs: 10 }) });
 * await a.start();
 * await b.start();
 * const health = await b.health();
 * await a.engine.close();
 * await b.engine.close();
 * if (health.cluster?.nodes !== 2) throw new Error("both nodes should see each other");
 * ```
 *
 * @module
 */
export { BroadcastChannelEngine } from "./engine.ts";
export type { BroadcastChannelEngineOptions } from "./engine.ts";
