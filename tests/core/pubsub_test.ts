import assert from "node:assert/strict";
import {
  MemoryPubSub,
  type Outgoing,
  type PublishOptions,
  type PubSub,
  Relay,
  type ServerEvent,
  type Subscriber,
} from "../../core/mod.ts";
import { jsonUser } from "../_fakes.ts";

function recorder(id: string): Subscriber & { got: Outgoing[] } {
  const got: Outgoing[] = [];
  return { id, got, deliver: (message) => got.push(message) };
}

const notice: ServerEvent = { type: "notice", ts: 0, text: "hi" };

Deno.test("MemoryPubSub.publish() delivers to every subscriber in subscription order", () => {
  const pubsub = new MemoryPubSub();
  const order: string[] = [];
  for (const id of ["c", "a", "b"]) {
    pubsub.subscribe("t", { id, deliver: () => order.push(id) });
  }
  pubsub.publish("t", notice);
  assert.deepEqual(order, ["c", "a", "b"]);
});

Deno.test("MemoryPubSub.publish() hands every subscriber the same Outgoing", () => {
  const pubsub = new MemoryPubSub();
  const a = recorder("a");
  const b = recorder("b");
  pubsub.subscribe("t", a);
  pubsub.subscribe("t", b);
  pubsub.publish("t", notice);
  assert.equal(a.got.length, 1);
  assert.ok(a.got[0] === b.got[0]);
  assert.equal(a.got[0]!.event, notice);
});

Deno.test("MemoryPubSub.publish() skips the subscriber named in except", () => {
  const pubsub = new MemoryPubSub();
  const a = recorder("a");
  const b = recorder("b");
  pubsub.subscribe("t", a);
  pubsub.subscribe("t", b);
  pubsub.publish("t", notice, { except: "a" });
  assert.equal(a.got.length, 0);
  assert.equal(b.got.length, 1);
});

Deno.test("MemoryPubSub.publish() only reaches the topic's subscribers", () => {
  const pubsub = new MemoryPubSub();
  const a = recorder("a");
  const b = recorder("b");
  pubsub.subscribe("one", a);
  pubsub.subscribe("two", b);
  pubsub.publish("one", notice);
  pubsub.publish("nobody", notice);
  assert.equal(a.got.length, 1);
  assert.equal(b.got.length, 0);
});

Deno.test("MemoryPubSub.subscribe() twice still delivers once", () => {
  const pubsub = new MemoryPubSub();
  const a = recorder("a");
  pubsub.subscribe("t", a);
  pubsub.subscribe("t", a);
  pubsub.publish("t", notice);
  assert.equal(a.got.length, 1);
});

Deno.test("MemoryPubSub.unsubscribe() stops delivery and tolerates unknown topics", () => {
  const pubsub = new MemoryPubSub();
  const a = recorder("a");
  const b = recorder("b");
  pubsub.subscribe("t", a);
  pubsub.subscribe("t", b);
  pubsub.unsubscribe("t", a);
  pubsub.unsubscribe("missing", a);
  pubsub.publish("t", notice);
  assert.equal(a.got.length, 0);
  assert.equal(b.got.length, 1);
  pubsub.unsubscribe("t", b);
  pubsub.publish("t", notice);
  assert.equal(b.got.length, 1);
  pubsub.subscribe("t", a);
  pubsub.publish("t", notice);
  assert.equal(a.got.length, 1, "an emptied topic can be used again");
});

Deno.test("Relay sends room traffic through the injected PubSub", () => {
  const inner = new MemoryPubSub();
  const calls: { topic: string; type: string; except: string | undefined }[] = [];
  const pubsub: PubSub = {
    subscribe: (topic, subscriber) => inner.subscribe(topic, subscriber),
    unsubscribe: (topic, subscriber) => inner.unsubscribe(topic, subscriber),
    publish(topic: string, event: ServerEvent, options?: PublishOptions) {
      calls.push({ topic, type: event.type, except: options?.except });
      inner.publish(topic, event, options);
    },
  };
  const relay = new Relay({ pubsub });
  const ann = jsonUser(relay, "ann");
  const bob = jsonUser(relay, "bob");
  calls.length = 0;
  ann.send({ type: "publish", room: "lobby", text: "hi" });
  assert.deepEqual(calls, [{ topic: "lobby", type: "message", except: ann.session.id }]);
  assertMessage(bob.events()[0]);
});

function assertMessage(event: Record<string, unknown> | undefined): void {
  assert.equal(event?.type, "message");
  assert.equal(event?.text, "hi");
}
