import assert from "node:assert/strict";
import { Relay } from "../../core/mod.ts";
import { decodeRequest } from "../../core/protocol.ts";
import { assertFields, codeOf, jsonUser, ofType, textUser } from "../_fakes.ts";

Deno.test("decodeRequest() refuses a large object of many keys without parsing it", () => {
  const keys = Array.from({ length: 20_000 }, (_, i) => `"k${i}":1`).join(",");
  const json = `{"type":"ping",${keys}}`;
  const started = performance.now();
  assert.equal(codeOf(() => decodeRequest(json)), "bad_message");
  assert.ok(performance.now() - started < 50, "refused cheaply");
});

Deno.test("decodeRequest() still reads a large file message", () => {
  const data = new Uint8Array(300_000).toBase64();
  const request = decodeRequest(
    JSON.stringify({ type: "publish", room: "r", data, file: { name: "a", type: "b/c" } }),
  );
  assert.equal(request.type, "publish");
});

Deno.test("Relay text mode: a user cannot forge the server's voice with /me", () => {
  const relay = new Relay();
  const watcher = textUser(relay, "watcher");
  const bob = jsonUser(relay, "bob");
  const carl = jsonUser(relay, "carl");
  watcher.lines();
  for (const text of ["left", "disconnected", "is now admin", "joined"]) {
    bob.send({ type: "publish", room: "lobby", text, action: true });
  }
  carl.send({ type: "leave", room: "lobby" });
  bob.send({ type: "nick", name: "robert" });
  const lines = watcher.lines();
  const forged = lines.slice(0, 4);
  const real = lines.slice(4);
  assert.deepEqual(forged, [
    "[lobby] * bob left",
    "[lobby] * bob disconnected",
    "[lobby] * bob is now admin",
    "[lobby] * bob joined",
  ]);
  assert.deepEqual(real, ["-!- [lobby] carl left", "-!- [lobby] bob is now robert"]);
  for (const line of lines) {
    assert.ok(
      line.startsWith("-!- ") !== line.startsWith("[lobby] "),
      `every line is either the server's or a user's: ${line}`,
    );
  }
  assertFields(ofType(bob.events(), "message")[0] ?? { type: "none" }, { type: "none" });
});

Deno.test("decodeRequest() refuses large arrays of empty objects and numbers without parsing", () => {
  for (const filler of ["{},", "1,", "[],"]) {
    const json = `{"type":"ping","x":[${filler.repeat(100_000)}0]}`;
    const started = performance.now();
    assert.equal(codeOf(() => decodeRequest(json)), "bad_message", filler);
    assert.ok(performance.now() - started < 50, "refused cheaply");
  }
});
