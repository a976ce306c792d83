import assert from "node:assert/strict";
import { TcpLineClient, within, WsJsonClient } from "./_helpers.ts";
import { healthz, spawnCli } from "./_server_helpers.ts";
import { stalledTcp, stalledWebSocket } from "./_stalled_peers.ts";

Deno.test("Slow consumers: peers that never read are dropped; fast ones get everything in order", async () => {
  // The server runs in its own process so its memory can be read from /proc. Its
  // young generation is pinned small: V8 grows it (up to 32 MiB) with the allocation
  // rate, which would hide in the peak what the server actually keeps.
  await using server = await spawnCli({
    denoFlags: ["--v8-flags=--max-semi-space-size=1"],
    flags: [
      "--max-queued-bytes=2097152",
      "--rate=100000",
      "--rate-burst=100000",
      "--rate-bytes=1073741824",
      "--room-rate-bytes=1073741824",
      // A dropped consumer leaves at once, rather than being kept for a resume.
      "--resume-window=0",
    ],
  });
  await using fastWs = await WsJsonClient.login(server.wsUrl, "fastws");
  await using fastTcp = await TcpLineClient.login(server.tcpPort, "fasttcp");
  const slowWs = await stalledWebSocket(server.httpPort, "slowws");
  const slowTcp = await stalledTcp(server.tcpPort, "slowtcp");
  await fastWs.expect((event) => event.type === "joined" && event.name === "slowws");
  await fastWs.expect((event) => event.type === "joined" && event.name === "slowtcp");
  const publisher = await WsJsonClient.login(server.wsUrl, "publisher");
  const rssBeforeKiB = await server.memoryKiB("VmRSS");

  // 4,000 messages of 4 KiB: 16 MiB for each reader, more than kernel buffers hold.
  const count = 4000;
  const filler = "x".repeat(4096);
  let wsSeen = 0;
  let tcpSeen = 0;
  const wsDone = (async () => {
    while (wsSeen < count) {
      const event = await fastWs.expect(
        (e) => e.type === "message" && e.from === "publisher",
        30_000,
      );
      assert.equal(event.text, `${wsSeen} ${filler}`, "WebSocket reader got messages in order");
      wsSeen++;
    }
  })();
  const tcpDone = (async () => {
    while (tcpSeen < count) {
      // Text mode wraps long lines itself: the continuations are indented by four spaces.
      const expected = `[lobby] publisher: ${tcpSeen} ${filler}`;
      let line = await fastTcp.expect((l) => l.startsWith("[lobby] publisher: "), 30_000);
      while (line.length < expected.length) {
        line += (await fastTcp.expect(() => true, 30_000)).replace(/^ {4}/, "");
      }
      assert.equal(line, expected, "TCP reader got messages in order");
      tcpSeen++;
    }
  })();
  const readers = Promise.all([wsDone, tcpDone]);
  readers.catch(() => {}); // observed below; this only keeps an early failure from going unhandled
  for (let n = 0; n < count; n++) {
    publisher.send({ type: "publish", room: "lobby", text: `${n} ${filler}` });
    // Let the publisher's own socket drain now and then; the server never waits for anyone.
    if (n % 100 === 99) {
      publisher.send({ type: "ping" });
      await publisher.expect("pong", 30_000);
    }
  }
  await within(readers, 60_000, "the fast readers to get every message");
  const peakGrowthMiB = ((await server.memoryKiB("VmHWM")) - rssBeforeKiB) / 1024;

  // The reader loop above skipped other events; `seen` keeps them all.
  const dropped = () =>
    fastWs.inbox.seen.filter((e) => e.type === "left" && e.reason === "disconnect").map((e) =>
      e.name
    );
  while (dropped().length < 2) await fastWs.expect("left", 10_000);
  assert.deepEqual(dropped().sort(), ["slowtcp", "slowws"]);
  const stats = await healthz(server.httpPort);
  assert.equal(stats.node.users, 3, "only the fast readers and the publisher are left");
  // A slow session holds at most 4 x --max-queued-bytes (the core closes it there, or
  // after --slow-consumer-seconds behind) plus the socket's 1 MiB high-water mark: 2 x 9
  // MiB here. The rest is the fast path's garbage and the runtime's slack (about 30 MiB
  // in this test), and the room's history: it keeps only 100 messages (400 KiB), but each
  // lives long enough to reach V8's old space, which frees them lazily (16 MiB of them pass
  // through; about 12 MiB more at the peak than with --history=0, measured). Unbounded
  // queues would hold 2 x 16 MiB more than all that.
  console.log(`slow-consumer test: server peak RSS grew ${peakGrowthMiB.toFixed(1)} MiB`);
  const boundMiB = 2 * (4 * 2 + 1) + 40 + 16;
  assert.ok(peakGrowthMiB < boundMiB, `server peak RSS grew by ${peakGrowthMiB.toFixed(1)} MiB`);
  slowWs.close();
  slowTcp.close();
  await publisher.close();
});
