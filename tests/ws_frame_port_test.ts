// The port for sockets the server writes itself: everything a pass of the
// event loop queues for a connection leaves in one write, and a socket that
// stops draining leaves the backlog in the core's queue.

import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import type { Socket } from "node:net";
import { WSContext } from "hono/ws";
import { Relay } from "../core/mod.ts";
import { framePort } from "../server/_ws_frame_port.ts";
import { FrameWriter } from "../server/_ws_frames.ts";
import { jsonUser } from "./_fakes.ts";

/** Records writes; `writableLength` says what it pretends is still unsent. */
class FakeSocket extends EventEmitter {
  writes: Uint8Array[] = [];
  writableLength = 0;
  destroyed = false;
  write(bytes: Uint8Array): boolean {
    this.writes.push(bytes.slice());
    return true;
  }
}

/** The text frames in one write, as [opcode, payload text]. */
function framesOf(bytes: Uint8Array): [number, string][] {
  const out: [number, string][] = [];
  for (let at = 0; at < bytes.length;) {
    let length = bytes[at + 1]! & 0x7f;
    let start = at + 2;
    if (length === 126) {
      length = (bytes[at + 2]! << 8) | bytes[at + 3]!;
      start += 2;
    }
    out.push([bytes[at]! & 0x0f, new TextDecoder().decode(bytes.subarray(start, start + length))]);
    at = start + length;
  }
  return out;
}

const nextTask = () => new Promise((resolve) => setTimeout(resolve, 0));

function connect(relay: Relay) {
  const socket = new FakeSocket();
  const closes: number[] = [];
  const ws = new WSContext({
    raw: {},
    readyState: 1,
    send: () => assert.fail("frames go to the writer, not through send()"),
    close: (code?: number) => closes.push(code ?? 0),
  });
  const writer = new FrameWriter(socket as unknown as Socket, () => closes.length === 0);
  const port = framePort(ws, writer, () => assert.fail("not broken"));
  const session = relay.connect(port);
  return { socket, session, closes };
}

async function loggedIn(relay: Relay, name: string, batch: boolean) {
  const client = connect(relay);
  if (batch) client.session.receiveText('{"type":"hello","batch":true}');
  client.session.receiveText(JSON.stringify({ type: "login", name }));
  await nextTask();
  assert.ok(client.socket.writes.length > 0, "welcomed");
  client.socket.writes = [];
  return client;
}

Deno.test("framePort: messages queued in one pass leave in one write, as frames or one batch", async () => {
  const relay = new Relay({ historyOnJoin: 0 });
  const plain = await loggedIn(relay, "plain", false);
  const batched = await loggedIn(relay, "batched", true);
  plain.socket.writes = [];
  const ann = jsonUser(relay, "ann");
  await nextTask();
  plain.socket.writes = [];
  batched.socket.writes = [];
  for (const text of ["one", "two", "three"]) {
    ann.send({ type: "publish", room: "lobby", text });
  }
  await nextTask();
  assert.equal(plain.socket.writes.length, 1, "one write for three messages");
  const frames = framesOf(plain.socket.writes[0]!);
  assert.deepEqual(frames.map(([opcode, text]) => [opcode, JSON.parse(text).text]), [
    [1, "one"],
    [1, "two"],
    [1, "three"],
  ]);
  assert.equal(batched.socket.writes.length, 1);
  const [[opcode, batch]] = framesOf(batched.socket.writes[0]!) as [[number, string]];
  assert.equal(opcode, 1);
  assert.deepEqual(batch.split("\n").map((line) => JSON.parse(line).text), ["one", "two", "three"]);
  relay.close();
});

Deno.test("framePort: a socket that stops draining keeps its backlog in the core's queue until drain", async () => {
  const relay = new Relay({ historyOnJoin: 0 });
  const slow = await loggedIn(relay, "slow", false);
  const ann = jsonUser(relay, "ann");
  await nextTask();
  slow.socket.writes = [];
  slow.socket.writableLength = 2 * 1024 * 1024;
  ann.send({ type: "publish", room: "lobby", text: "first" });
  await nextTask();
  ann.send({ type: "publish", room: "lobby", text: "second" });
  await nextTask();
  assert.equal(slow.socket.writes.length, 0, "nothing written while the socket is full");
  assert.equal(slow.session.outbound.length, 2, "the backlog waits in the core's queue");
  slow.socket.writableLength = 0;
  slow.socket.emit("drain");
  assert.equal(slow.socket.writes.length, 1);
  assert.deepEqual(
    framesOf(slow.socket.writes[0]!).map(([, text]) => JSON.parse(text).text),
    ["first", "second"],
  );
  relay.close();
});

Deno.test("framePort: close writes what is queued, then closes", async () => {
  const relay = new Relay();
  const client = await loggedIn(relay, "bye", false);
  client.session.close(4000, "bye now", { type: "notice", ts: 0, text: "last words" });
  assert.equal(client.socket.writes.length, 0, "not re-entrantly");
  await nextTask();
  assert.deepEqual(client.closes, [4000]);
  assert.equal(client.socket.writes.length, 1, "the notice went out before the close");
  assert.equal(JSON.parse(framesOf(client.socket.writes[0]!)[0]![1]).text, "last words");
  relay.close();
});
