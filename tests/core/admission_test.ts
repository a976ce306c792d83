import assert from "node:assert/strict";
import { addressKey, Admission, CloseCode, Relay } from "../../core/mod.ts";
import { assertFields, FakeClient, fakeClock, fakePort, jsonUser, ofType } from "../_fakes.ts";

const limits = { maxConnections: 3, maxConnectionsPerAddress: 2, maxPendingPerAddress: 1 };

Deno.test("Admission.admit() counts every open connection, in all and per address", () => {
  const admission = new Admission({ ...limits, maxPendingPerAddress: 5 });
  const a1 = admission.admit("a", 0)!;
  const a2 = admission.admit("a", 0)!;
  assert.equal(admission.admit("a", 0), undefined, "two per address");
  const b1 = admission.admit("b", 0)!;
  assert.equal(admission.admit("c", 0), undefined, "three in all");
  assert.equal(admission.open, 3);
  a1.release();
  a1.release(); // safe twice
  assert.equal(admission.open, 2);
  assert.ok(admission.admit("c", 0));
  for (const ticket of [a2, b1]) ticket.release();
});

Deno.test("Admission.admit() limits connections that have not logged in, per address", () => {
  const admission = new Admission(limits);
  const first = admission.admit("a", 0)!;
  assert.equal(admission.admit("a", 0), undefined, "one pending per address");
  assert.ok(admission.admit("b", 0), "another address is not affected");
  first.loggedIn();
  first.loggedIn(); // safe twice
  assert.equal(admission.pending, 1);
  const second = admission.admit("a", 0);
  assert.ok(second, "a logged-in connection no longer counts as pending");
  second!.release();
  first.release();
  assert.equal(admission.pending, 1);
  assert.equal(admission.open, 1);
});

Deno.test("Relay.connect() with a ticket uses it; the session releases it when it ends", () => {
  const relay = new Relay({ maxConnectionsPerAddress: 1 });
  const ticket = relay.admit("192.0.2.7")!;
  assert.equal(relay.admit("192.0.2.7"), undefined, "the socket counts before it is a session");
  const client = new FakeClient(relay, "frames");
  const session = relay.connect(fakePort("frames"), { ticket });
  assert.equal(session.remoteAddress, "192.0.2.7");
  session.receiveText('{"type":"login","name":"ann"}');
  assert.equal(ticket.pending, false);
  session.disconnect();
  assert.equal(ticket.released, true);
  assert.ok(relay.admit("192.0.2.7"));
  client.session.disconnect();
});

Deno.test("Relay refuses a connection over the pending limit with server_busy", () => {
  const relay = new Relay({ maxPendingPerAddress: 2 });
  const sessions = [1, 2, 3].map(() =>
    relay.connect(fakePort("frames"), { remoteAddress: "192.0.2.9" })
  );
  assert.deepEqual(sessions.map((session) => session.state), ["new", "new", "closed"]);
  sessions[0]!.receiveText('{"type":"login","name":"ann"}');
  const fourth = new FakeClient(relay, "frames");
  assert.equal(fourth.session.state, "new");
  const again = relay.connect(fakePort("frames"), { remoteAddress: "192.0.2.9" });
  assert.equal(again.state, "new", "a login frees a pending place");
});

Deno.test("Relay closes a connection that does not log in within loginTimeoutMs (4002)", () => {
  const clock = fakeClock();
  const relay = new Relay({ now: clock.now, loginTimeoutMs: 5000 });
  const lurker = new FakeClient(relay, "lines");
  const ann = jsonUser(relay, "ann");
  lurker.type("\r\n"); // blank lines are activity, not a login
  for (let t = 1000; t <= 5000; t += 1000) {
    clock.set(1_700_000_000_000 + t);
    if (t === 3000) lurker.type("\r\n");
    relay.sweep();
  }
  assert.deepEqual(lurker.port.closes.map((close) => close.code), [CloseCode.loginTimeout]);
  assert.match(lurker.lines().at(-1)!, /^-!- error login_timeout: log in within 5 seconds/);
  assert.equal(ann.session.state, "ready", "a logged-in user is not affected");
});

Deno.test("Relay closes a connection that sends more than maxLoginBytes before login", () => {
  const relay = new Relay({ maxLoginBytes: 100 });
  const ws = new FakeClient(relay, "frames");
  ws.events();
  ws.session.receiveText(JSON.stringify({ type: "ping", pad: "x".repeat(200) }));
  assert.deepEqual(ws.port.closes.map((close) => close.code), [CloseCode.tooBig]);
  assertFields(ofType(ws.events(), "error")[0], { code: "too_large" });
  const tcp = new FakeClient(relay, "lines");
  tcp.type("x".repeat(60));
  tcp.type("x".repeat(60));
  assert.deepEqual(tcp.port.closes.map((close) => close.code), [CloseCode.tooBig]);
  const ann = jsonUser(relay, "ann");
  ann.send({ type: "publish", room: "lobby", text: "y".repeat(500) });
  assert.equal(ann.session.state, "ready", "after login the frame limit applies instead");
});

Deno.test("addressKey() counts IPv4 as it is and IPv6 by its /64", () => {
  assert.equal(addressKey("192.0.2.1"), "192.0.2.1");
  assert.equal(addressKey("::ffff:192.0.2.1"), "192.0.2.1");
  assert.equal(addressKey("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
  assert.equal(addressKey("2001:db8:1:2::ffff"), "2001:db8:1:2::/64");
  assert.equal(addressKey("[2001:db8::1]"), "2001:db8:0:0::/64");
  assert.equal(addressKey("::1"), "0:0:0:0::/64");
  assert.equal(addressKey("fe80::1%eth0"), "fe80:0:0:0::/64");
  const admission = new Admission({ ...limits, maxPendingPerAddress: 5 });
  admission.admit("2001:db8:1:2::1", 0);
  admission.admit("2001:db8:1:2::2", 0);
  assert.equal(admission.admit("2001:db8:1:2::3", 0), undefined, "one /64, two per address");
});
