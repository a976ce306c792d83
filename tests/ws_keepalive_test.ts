// The keepalive pings every peer once an interval, a slice at a time, and cuts
// the ones that stay silent.

import assert from "node:assert/strict";
import { Keepalive, type Pinged } from "../server/_ws_keepalive.ts";

class FakePeer implements Pinged {
  alive = true;
  pings = 0;
  cuts = 0;
  constructor(readonly answers: boolean, readonly onPing: (peer: FakePeer) => void) {}
  ping(): void {
    this.pings++;
    this.onPing(this);
    if (this.answers) queueMicrotask(() => this.alive = true);
  }
  cut(): void {
    this.cuts++;
    this.onPing(this);
  }
}

Deno.test("keepalive: pings are spread over the interval; only the silent peer is cut", async () => {
  const keepalive = new Keepalive<FakePeer>(1000); // four slices of 250 ms
  const perTick = new Map<number, number>();
  let muteCut: () => void = () => {};
  const cut = new Promise<void>((resolve) => muteCut = resolve);
  const seen = (peer: FakePeer) => {
    const tick = Math.round(performance.now() / 50);
    perTick.set(tick, (perTick.get(tick) ?? 0) + 1);
    if (peer.cuts > 0) muteCut();
  };
  const peers = Array.from({ length: 40 }, () => new FakePeer(true, seen));
  const mute = new FakePeer(false, seen);
  for (const peer of [...peers, mute]) keepalive.add(peer);
  try {
    await cut;
    assert.equal(mute.cuts, 1, "the silent peer is cut once");
    assert.ok(mute.pings >= 1, "after it was pinged");
    assert.ok(peers.every((peer) => peer.cuts === 0), "nobody who answers is cut");
    assert.ok(peers.every((peer) => peer.pings >= 1), "everyone was pinged in the interval");
    const most = Math.max(...perTick.values());
    assert.ok(most <= 11, `at most a quarter of the peers at once, saw ${most}`);
  } finally {
    keepalive.stop();
  }
});

Deno.test("keepalive: a peer that left is neither pinged nor cut", async () => {
  const keepalive = new Keepalive<FakePeer>(1000);
  let twice: () => void = () => {};
  const rounds = new Promise<void>((resolve) => twice = resolve);
  const gone = new FakePeer(false, () => assert.fail("a removed peer was pinged"));
  // Pinged twice: a whole round went by, every slot had its turn.
  const here = new FakePeer(true, (peer) => peer.pings >= 2 && twice());
  keepalive.add(gone);
  keepalive.add(here);
  keepalive.delete(gone);
  try {
    await rounds;
    assert.equal(gone.pings + gone.cuts, 0);
  } finally {
    keepalive.stop();
  }
});
