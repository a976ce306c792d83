/**
 * The naive baseline the relay is measured against: bare `Deno.serve` and
 * `Deno.upgradeWebSocket`, every text frame a client sends is broadcast to all
 * the other clients, one `send()` per message per recipient. No protocol, no
 * queue, no coalescing: this is the "runtime's naive limit" of issue 4.
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

const clients = new Set<WebSocket>();

const server = Deno.serve({
  hostname: flags.host,
  port: Number(flags.port ?? "8090"),
  onListen: ({ hostname, port }) => console.log(`baseline: ws://${hostname}:${port}/ws`),
}, (request) => {
  if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
    return new Response("baseline: WebSocket only\n", { status: 426 });
  }
  const { socket, response } = Deno.upgradeWebSocket(request);
  socket.onopen = () => clients.add(socket);
  socket.onmessage = (event) => {
    if (typeof event.data !== "string") return;
    for (const client of clients) {
      if (client === socket || client.readyState !== WebSocket.OPEN) continue;
      try {
        client.send(event.data);
      } catch { /* closing: the close handler removes it */ }
    }
  };
  socket.onclose = () => clients.delete(socket);
  socket.onerror = () => clients.delete(socket);
  return response;
});

const stop = () => {
  for (const client of clients) client.close(1001, "shutting down");
  void server.shutdown().then(() => Deno.exit(0));
  setTimeout(() => Deno.exit(0), 2000);
};
Deno.addSignalListener("SIGTERM", stop);
Deno.addSignalListener("SIGINT", stop);
