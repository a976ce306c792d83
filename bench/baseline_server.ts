/**
 * The naive baseline the relay is measured against: bare `Deno.serve` and
 * `Deno.upgradeWebSocket`, every text frame a client sends is broadcast to all
 * the other clients, one `send()` per message per recipient. No protocol, no
 * queue, no coalescing: this is the "runtime's naive limit" of issue 4.
 *
 * Rooms: a client that connects to `/ws?room=NAME` is in room NAME only, and
 * its frames go to the other clients of that room. Without `?room` a client is
 * in the one global room, which rooms never see.
 *
 * ```sh
 * deno run -A bench/baseline_server.ts --host 127.0.0.1 --port 8090
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";

const flags = parseArgs({
  args: Deno.args,
  options: {
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string" },
  },
  strict: true,
}).values;

/** The global room: clients that named no room. */
const clients = new Set<WebSocket>();
/** The named rooms (never removed: a bench server lives for one scenario). */
const rooms = new Map<string, Set<WebSocket>>();

function roomOf(name: string): Set<WebSocket> {
  let room = rooms.get(name);
  if (!room) rooms.set(name, room = new Set());
  return room;
}

const server = Deno.serve({
  hostname: flags.host,
  port: Number(flags.port ?? "8090"),
  onListen: ({ hostname, port }) => console.log(`baseline: ws://${hostname}:${port}/ws`),
}, (request) => {
  if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
    return new Response("baseline: WebSocket only\n", { status: 426 });
  }
  const name = new URL(request.url).searchParams.get("room");
  const peers = name === null ? clients : roomOf(name);
  const { socket, response } = Deno.upgradeWebSocket(request);
  socket.onopen = () => peers.add(socket);
  socket.onmessage = (event) => {
    if (typeof event.data !== "string") return;
    for (const client of peers) {
      if (client === socket || client.readyState !== WebSocket.OPEN) continue;
      try {
        client.send(event.data);
      } catch { /* closing: the close handler removes it */ }
    }
  };
  socket.onclose = () => peers.delete(socket);
  socket.onerror = () => peers.delete(socket);
  return response;
});

const stop = () => {
  for (const room of [clients, ...rooms.values()]) {
    for (const client of room) client.close(1001, "shutting down");
  }
  void server.shutdown().then(() => Deno.exit(0));
  setTimeout(() => Deno.exit(0), 2000);
};
Deno.addSignalListener("SIGTERM", stop);
Deno.addSignalListener("SIGINT", stop);
