// Room fan-out sits behind this interface so a Redis or BroadcastChannel
// backplane can replace the in-memory one without touching room logic.

import { Outgoing } from "./outgoing.ts";
import type { ServerEvent } from "./protocol.ts";

/**
 * Receives published events; sessions implement it.
 *
 * @example A subscriber that records events
 * ```ts
 * import { MemoryPubSub, type Subscriber } from "@crosswire/relay";
 * const seen: string[] = [];
 * const subscriber: Subscriber = { id: "s1", deliver: (out) => seen.push(out.event.type) };
 * const pubsub = new MemoryPubSub();
 * pubsub.subscribe("lobby", subscriber);
 * pubsub.publish("lobby", { type: "notice", ts: 0, text: "hi" });
 * if (seen[0] !== "notice") throw new Error("not delivered");
 * ```
 */
export interface Subscriber {
  /** Unique id; `publish` can skip it by this id. */
  readonly id: string;
  /** Takes one event; must not throw, await or re-encode per call. */
  deliver(message: Outgoing): void;
}

/**
 * Options for {@link PubSub.publish}.
 *
 * @example Leaving out the sender
 * ```ts
 * import { MemoryPubSub, type PublishOptions } from "@crosswire/relay";
 * const pubsub = new MemoryPubSub();
 * const seen: string[] = [];
 * pubsub.subscribe("lobby", { id: "ann", deliver: () => seen.push("ann") });
 * pubsub.subscribe("lobby", { id: "bob", deliver: () => seen.push("bob") });
 * const options: PublishOptions = { except: "ann" };
 * pubsub.publish("lobby", { type: "notice", ts: 0, text: "hi" }, options);
 * if (seen.join() !== "bob") throw new Error("the sender should be skipped");
 * ```
 */
export interface PublishOptions {
  /**
   * A subscriber id that must not receive this event (the sender without echo).
   * @default undefined
   */
  except?: string;
}

/**
 * Topic-based fan-out. `publish` delivers to every subscriber of a topic in
 * subscription order, synchronously for the in-memory implementation.
 *
 * @example Publishing to a topic
 * ```ts
 * import { MemoryPubSub, type PubSub } from "@crosswire/relay";
 * const pubsub: PubSub = new MemoryPubSub();
 * let count = 0;
 * pubsub.subscribe("t", { id: "a", deliver: () => count++ });
 * pubsub.subscribe("t", { id: "b", deliver: () => count++ });
 * pubsub.publish("t", { type: "notice", ts: 0, text: "x" }, { except: "a" });
 * if (count !== 1) throw new Error("except was not honoured");
 * ```
 */
export interface PubSub {
  /** Adds `subscriber` to `topic`. */
  subscribe(topic: string, subscriber: Subscriber): void;
  /** Removes `subscriber` from `topic`; the topic disappears when empty. */
  unsubscribe(topic: string, subscriber: Subscriber): void;
  /** Sends `event` to the topic's subscribers, encoding it once per wire format. */
  publish(topic: string, event: ServerEvent, options?: PublishOptions): void;
}

/**
 * The default {@link PubSub}: subscribers in this process, delivered in order.
 *
 * @example Unsubscribed topics receive nothing
 * ```ts
 * import { MemoryPubSub, type Subscriber } from "@crosswire/relay";
 * const pubsub = new MemoryPubSub();
 * let count = 0;
 * const subscriber: Subscriber = { id: "s1", deliver: () => count++ };
 * pubsub.subscribe("lobby", subscriber);
 * pubsub.publish("lobby", { type: "notice", ts: 0, text: "one" });
 * pubsub.unsubscribe("lobby", subscriber);
 * pubsub.publish("lobby", { type: "notice", ts: 0, text: "two" });
 * if (count !== 1) throw new Error("delivered after unsubscribe");
 * ```
 */
export class MemoryPubSub implements PubSub {
  #topics = new Map<string, Set<Subscriber>>();

  /** Adds `subscriber` to `topic`; adding it twice has no effect. */
  subscribe(topic: string, subscriber: Subscriber): void {
    let subscribers = this.#topics.get(topic);
    if (!subscribers) this.#topics.set(topic, subscribers = new Set());
    subscribers.add(subscriber);
  }

  /** Removes `subscriber` from `topic`; the topic disappears when empty. */
  unsubscribe(topic: string, subscriber: Subscriber): void {
    const subscribers = this.#topics.get(topic);
    if (!subscribers) return;
    subscribers.delete(subscriber);
    if (subscribers.size === 0) this.#topics.delete(topic);
  }

  /** Delivers `event` synchronously, in subscription order, encoded once for all. */
  publish(topic: string, event: ServerEvent, options: PublishOptions = {}): void {
    const subscribers = this.#topics.get(topic);
    if (!subscribers) return;
    const message = new Outgoing(event);
    for (const subscriber of subscribers) {
      if (subscriber.id !== options.except) subscriber.deliver(message);
    }
  }
}
