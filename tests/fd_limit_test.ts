// Running out of file descriptors: the real CLI under a small open-files
// limit, flooded with idle connections on both ports from many addresses. It
// must stay up, refuse cleanly, not spin, and serve again once the flood's
// sockets are gone (its deadlines close them).
import assert from "node:assert/strict";
import net from "node:net";
import { Relay } from "../core/mod.ts";
import { ConnectionGate } from "../server/_gate.ts";
import { serveTcpGated } from "../server/tcp.ts";
import { TcpLineClient, within, WsJsonClient } from "./_helpers.ts";
import {
  closedSocket,
  cpuSeconds,
  hasPrlimit,
  healthz,
  loopbackAddress,
  spawnCli,
} from "./_server_helpers.ts";

const CI = Deno.env.get("CI") === "true";
const PRLIMIT = await hasPrlimit();
if (!PRLIMIT) {
  console.warn(
    "fd_limit_test.ts: SKIPPING the open-files flood: `prlimit` is not on PATH" +
      (CI ? " (CI=true, so it fails instead)" : ""),
  );
}

const LIMIT = 256;
/** Idle connections per port: more than the limit on each port alone. */
const FLOOD = 400;

/**
 * Starts `count` connections to `port` from addresses in `block`, all at once,
 * and gives them `ms` to connect (past the listen backlog the kernel retries
 * for seconds). Returns every socket, connected or not, for the caller to destroy.
 */
async function flood(
  port: number,
  block: number,
  count: number,
  ms: number,
): Promise<net.Socket[]> {
  const sockets: net.Socket[] = [];
  const settled: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const socket = net.connect({
      host: "127.0.0.1",
      port,
      localAddress: loopbackAddress(block, i),
    });
    socket.on("error", () => {}); // refused or reset: the server's answer, not a failure
    sockets.push(socket);
    settled.push(
      new Promise((resolve) => {
        socket.once("connect", () => resolve());
        socket.once("close", () => resolve());
      }),
    );
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    Promise.all(settled),
    new Promise((resolve) => timer = setTimeout(resolve, ms)),
  ]);
  clearTimeout(timer);
  return sockets;
}

Deno.test({
  name: "fd limit: a flood of idle connections on both ports under nofile=256",
  ignore: !PRLIMIT && !CI,
  async fn() {
    if (!PRLIMIT) throw new Error("prlimit is not on PATH, and CI=true: a skipped test fails");
    await using server = await spawnCli({
      prefix: ["prlimit", `--nofile=${LIMIT}:${LIMIT}`],
      flags: ["--headers-timeout", "1", "--login-timeout", "1"],
    });
    const capacity = server.startup.find((line) => line.includes("file descriptors"))!;
    assert.match(capacity, new RegExp(`file descriptors: ${LIMIT} .*accepting up to \\d+`));
    const cap = Number(/accepting up to (\d+)/.exec(capacity)![1]);
    assert.ok(cap < LIMIT - 40, `the cap (${cap}) leaves room below the limit (${LIMIT})`);

    const cpuBefore = await cpuSeconds(server.pid);
    const started = performance.now();
    // Both ports at once, every connection from its own address.
    const [http, tcp] = await Promise.all([
      flood(server.httpPort, 41, FLOOD, 1500),
      flood(server.tcpPort, 42, FLOOD, 1500),
    ]);
    const sockets = [...http, ...tcp];
    try {
      // Held open for a moment: the server must neither die nor spin meanwhile.
      await new Promise((resolve) => setTimeout(resolve, 500));
      const connected = sockets.filter((socket) => socket.remotePort !== undefined).length;
      assert.ok(connected > cap, `${connected} connections reached the server, more than its cap`);
      const cpu = await cpuSeconds(server.pid) - cpuBefore;
      const wall = (performance.now() - started) / 1000;
      assert.ok(
        cpu < wall * 0.8,
        `the server used ${cpu.toFixed(2)} s of CPU in ${wall.toFixed(2)} s`,
      );
      assert.equal(server.child.pid, server.pid);
      const exited = await Promise.race([server.status.then(() => true), Promise.resolve(false)]);
      assert.equal(exited, false, `the server exited: ${server.stderr.join("\n")}`);
    } finally {
      for (const socket of sockets) socket.destroy();
    }
    await Promise.all(sockets.map(closedSocket));

    // The deadlines (1 s here) close whatever the server still holds; then it serves again.
    const health = await within(
      (async () => {
        while (true) {
          try {
            return await healthz(server.httpPort);
          } catch {
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
        }
      })(),
      10_000,
      "/healthz to answer after the flood",
    );
    assert.equal(health.status, "ok");
    await using wes = await WsJsonClient.login(server.wsUrl, "wes");
    await using tom = await TcpLineClient.login(server.tcpPort, "tom");
    await tom.send("still here");
    assert.equal((await wes.expect("message")).text, "still here");
    assert.deepEqual(
      server.stderr.filter((line) => /Too many open files|panicked|Uncaught/.test(line)),
      [],
    );
  },
});

Deno.test("serveTcp: a failing accept backs off instead of spinning", async () => {
  let accepts = 0;
  let closed = false;
  let wake: (() => void) | undefined;
  const listener = {
    addr: { transport: "tcp", hostname: "127.0.0.1", port: 1 } as Deno.NetAddr,
    accept(): Promise<Deno.Conn> {
      accepts++;
      if (closed) return Promise.reject(new Deno.errors.BadResource("closed"));
      return Promise.reject(new Error("Too many open files (os error 24)"));
    },
    close() {
      closed = true;
      wake?.();
    },
  } as unknown as Deno.Listener;
  const relay = new Relay();
  const server = serveTcpGated(relay, listener, new ConnectionGate(relay, 10, 10));
  await new Promise<void>((resolve) => {
    wake = resolve;
    setTimeout(resolve, 300);
  });
  const seen = accepts;
  server.stop();
  await server.finished;
  // 5, 10, 20, 40, 80, 160 ms: about 7 tries in 300 ms, not thousands.
  assert.ok(seen >= 3 && seen <= 10, `${seen} accepts in 300 ms`);
});
