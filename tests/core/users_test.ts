import assert from "node:assert/strict";
import { Relay } from "../../core/mod.ts";
import {
  assertFields,
  FakeClient,
  fakeClock,
  fakePort,
  jsonUser,
  ofType,
  textUser,
} from "../_fakes.ts";

function login(relay: Relay, name: string, extra: Record<string, unknown> = {}) {
  const client = new FakeClient(relay, "frames");
  client.send({ type: "login", name, ...extra });
  return { client, events: client.events() };
}

Deno.test("Users: a dropped user's name is kept for them; their reclaim token takes it back", () => {
  const relay = new Relay({ resumeWindowMs: 0 });
  const victim = jsonUser(relay, "victim");
  victim.session.disconnect();
  const attacker = login(relay, "Victim");
  assertFields(ofType(attacker.events, "error")[0], { code: "name_taken" });
  assert.match(
    ofType(attacker.events, "error")[0]!.message as string,
    /kept for a user whose connection just dropped/,
  );
  const guess = login(relay, "victim", { reclaim: "guess" });
  assertFields(ofType(guess.events, "error")[0], { code: "name_taken" });
  const token = ofType(victim.frames.map((f) => JSON.parse(f.data as string)), "welcome")[0]!
    .reclaim;
  const back = login(relay, "victim", { reclaim: token });
  assertFields(ofType(back.events, "welcome")[0], { name: "victim", reclaim: token });
});

Deno.test("Users: a held name is free again after nameGraceMs", () => {
  const clock = fakeClock();
  const relay = new Relay({ now: clock.now, nameGraceMs: 30_000, resumeWindowMs: 0 });
  jsonUser(relay, "ann").session.disconnect();
  clock.set(1_700_000_029_000);
  assertFields(ofType(login(relay, "ann").events, "error")[0], { code: "name_taken" });
  clock.set(1_700_000_030_000);
  assertFields(ofType(login(relay, "ann").events, "welcome")[0], { name: "ann" });
});

Deno.test("Users: a user who quits frees the name at once", () => {
  const relay = new Relay();
  const ann = textUser(relay, "ann");
  ann.type("/quit\r\n");
  assertFields(ofType(login(relay, "ann").events, "welcome")[0], { name: "ann" });
});

Deno.test("Users: a rename frees the old name at once", () => {
  const relay = new Relay();
  const ann = jsonUser(relay, "ann");
  ann.send({ type: "nick", name: "anna" });
  assertFields(ofType(login(relay, "ann").events, "welcome")[0], { name: "ann" });
  assertFields(ofType(login(relay, "ANNA").events, "error")[0], { code: "name_taken" });
});

Deno.test("Users: a name that looks like one online is taken, and says whom it looks like", () => {
  const relay = new Relay();
  jsonUser(relay, "ann");
  for (const name of ["\u0430nn", "ＡＮＮ", "𝚊𝚗𝚗"]) {
    const error = ofType(login(relay, name).events, "error")[0];
    assertFields(error, { code: "name_taken" }, name);
    assert.match(error!.message as string, /looks too much like "ann", who is online/, name);
  }
});

Deno.test("Users: a blank or invisible name is name_invalid", () => {
  const relay = new Relay();
  for (const name of ["\u3164", "\u2800", "\u115f", "\uffa0", "ann\ufe0f", "an\u034fn"]) {
    assertFields(ofType(login(relay, name).events, "error")[0], { code: "name_invalid" }, name);
  }
});

Deno.test("Users: one address cannot keep more names than it may have connections", () => {
  const relay = new Relay({ maxConnectionsPerAddress: 3 });
  const drop = (name: string) => {
    const session = relay.connect(fakePort("frames"), { remoteAddress: "192.0.2.5" });
    session.receiveText(JSON.stringify({ type: "login", name }));
    session.disconnect();
  };
  for (const name of ["n1", "n2", "n3", "n4"]) drop(name);
  assertFields(ofType(login(relay, "n3").events, "error")[0], { code: "name_taken" });
  assertFields(ofType(login(relay, "n4").events, "welcome")[0], { name: "n4" }, "not kept");
});
