// Backpressure on Node and Bun: a WebSocket peer and a telnet peer that stop
// reading are dropped as slow consumers, while readers that keep up get every
// message in order. On Bun this is the app's port reading Bun's
// getBufferedAmount() and keeping the backlog in the relay's queue; on both,
// TCP writes that the runtime cannot take at once make the next ones wait.

import assert from "node:assert/strict";
import { TcpLineClient, within, WsJsonClient } from "../_helpers.ts";
import { launch } from "../conformance/launch.ts";
import { LOOPBACK_FLAGS, runtimeAvailable, serverCommand } from "./_node_bun.ts";
import { stalledTcp, stalledWebSocket } from "../_stalled_peers.ts";

const FILE = "tests/runtimes/node_bun_slow_consumer_test.ts";
for (const runtime of ["node", "bun"] as const) {
  Deno.test({
    name: `${runtime}: peers that never read are dropped; fast ones get everything in order`,
    ignore: !(await runtimeAvailable(runtime, FILE)),
  }, async () => {
    const { command, args, cwd } = await serverCommand(runtime, [
      ...LOOPBACK_FLAGS,
      "--max-queued-bytes=262144",
      "--slow-consumer-seconds=1",
      "--rate=100000",
      "--rate-burst=100000",
      "--rate-bytes=1073741824",
      "--room-rate-bytes=1073741824",
      // A dropped consumer leaves at once, rather than being kept for a resume.
      "--resume-window=0",
    ]);
    const server = await launch(command, args, { cwd, tcp: true });
    const slow: Deno.TcpConn[] = [];
    try {
      await using fastWs = await WsJsonClient.login(server.ws, "fastws");
      await using fastTcp = await TcpLineClient.login(server.tcp!.port, "fasttcp");
      const httpPort = Number(new URL(server.ws).port);
      slow.push(await stalledWebSocket(httpPort, "slowws"));
      slow.push(await stalledTcp(server.tcp!.port, "slowtcp"));
      await fastWs.expect((event) => event.type === "joined" && event.name === "slowws");
      await fastWs.expect((event) => event.type === "joined" && event.name === "slowtcp");
      await using publisher = await WsJsonClient.login(server.ws, "publisher");

      // 3,000 messages of 4 KiB: 12 MiB for each reader, more than the socket buffers hold.
      const count = 3000;
      const filler = "x".repeat(4096);
      const wsDone = (async () => {
        for (let seen = 0; seen < count; seen++) {
          const event = await fastWs.expect(
            (e) => e.type === "message" && e.from === "publisher",
            30_000,
          );
          assert.equal(event.text, `${seen} ${filler}`, "WebSocket reader got messages in order");
        }
      })();
      const tcpDone = (async () => {
        for (let seen = 0; seen < count; seen++) {
          // Text mode wraps long lines itself: the continuations are indented by four spaces.
          const expected = `[lobby] publisher: ${seen} ${filler}`;
          let line = await fastTcp.expect((l) => l.startsWith("[lobby] publisher: "), 30_000);
          while (line.length < expected.length) {
            line += (await fastTcp.expect(() => true, 30_000)).replace(/^ {4}/, "");
          }
          assert.equal(line, expected, "TCP reader got messages in order");
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

      const dropped = () =>
        fastWs.inbox.seen
          .filter((e) => e.type === "left" && e.reason === "disconnect")
          .map((e) => e.name);
      // Bounded: each wait takes a new `left` event or fails after 10 s.
      while (dropped().length < 2) await fastWs.expect("left", 10_000);
      assert.deepEqual(dropped().sort(), ["slowtcp", "slowws"]);
      const health = await (await fetch(server.http + "healthz")).json();
      assert.equal(health.node.users, 3, "only the fast readers and the publisher are left");
    } catch (error) {
      console.error(`the ${runtime} server printed:\n${server.output()}`);
      throw error;
    } finally {
      for (const conn of slow) conn.close();
      await server.stop();
    }
  });
}
