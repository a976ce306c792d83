import assert from "node:assert/strict";
import { Relay } from "../../core/mod.ts";
import { assertFields, fakeClock, jsonUser, ofType, textUser } from "../_fakes.ts";

Deno.test("Messages: a crowd cannot drown one user in private messages", () => {
  const clock = fakeClock();
  const relay = new Relay({
    now: clock.now,
    directMessagesPerSecond: 5,
    rateMessageBurst: 10,
    maxQueuedBytes: 64 * 1024,
  });
  const victim = jsonUser(relay, "victim");
  const crowd = Array.from({ length: 20 }, (_, i) => textUser(relay, `c${i}`));
  const text = "x".repeat(4000);
  for (const sender of crowd) for (let i = 0; i < 5; i++) sender.type(`/msg victim ${text}\r\n`);
  const received = ofType(victim.events(), "direct").length;
  assert.equal(received, 10, "the burst, then the rest is refused");
  const refused = crowd.flatMap((sender) => sender.lines())
    .filter((line) => line.includes("victim is receiving too many private messages")).length;
  assert.equal(refused, 90);
  assert.equal(victim.session.state, "ready");
  assert.equal(victim.port.closes.length, 0);
  clock.set(1_700_000_001_000);
  crowd[0]!.type("/msg victim hello again\r\n");
  assertFields(ofType(victim.events(), "direct")[0], { from: "c0", text: "hello again" });
});

Deno.test("Messages: private messages to one user do not use up another's allowance", () => {
  const relay = new Relay({ directMessagesPerSecond: 1, rateMessageBurst: 3 });
  const ann = jsonUser(relay, "ann");
  const bob = jsonUser(relay, "bob");
  const senders = ["s1", "s2", "s3", "s4"].map((name) => jsonUser(relay, name));
  for (const sender of senders) sender.send({ type: "direct", to: "ann", text: "hi" });
  senders[3]!.send({ type: "direct", to: "bob", text: "hi" });
  assert.equal(ofType(ann.events(), "direct").length, 3);
  assert.equal(ofType(bob.events(), "direct").length, 1);
  assertFields(ofType(senders[3]!.events(), "error")[0], { code: "rate_limited" });
});
