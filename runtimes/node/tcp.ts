// Raw TCP on Node (node:net, node:tls) for telnet, netcat and the terminal
// client. This file only accepts, reads and writes: the session wiring and
// admission are shared with Deno and Bun (server/_tcp_session.ts,
// server/_tcp_accept.ts).

import net from "node:net";
import tls from "node:tls";
import type { Relay } from "../../core/mod.ts";
import type { ConnectionGate } from "../../server/_gate.ts";
import { asListenError } from "../../server/_listen_error.ts";
import { plainAddress } from "../../server/_node_http.ts";
import type { BoundTcp, Listening, TlsFiles } from "../../server/_runtime.ts";
import { TcpConnections } from "../../server/_tcp_accept.ts";
import type { TcpFraming, TcpSessionHandle, TcpSocket } from "../../server/_tcp_session.ts";

/** How long a closing socket may take to hand its last bytes to the system. */
const CLOSE_GRACE_MS = 2000;
/** How long a TLS handshake may take before the socket is dropped. */
const TLS_HANDSHAKE_MS = 10_000;

function ignore(): void {}

// A node:net socket as the shared session wiring writes it: a write that
// leaves node holding more than its high-water mark waits for `drain`, so
// what the next passes queue waits in the core's queue meanwhile.
function nodeSocket(socket: net.Socket): TcpSocket {
  return {
    write(bytes) {
      if (socket.destroyed) throw new Error("the socket is closed");
      if (socket.write(bytes)) return undefined;
      return new Promise<void>((resolve, reject) => {
        const drained = () => {
          socket.off("close", closed);
          resolve();
        };
        const closed = () => {
          socket.off("drain", drained);
          reject(new Error("the socket closed"));
        };
        socket.once("drain", drained);
        socket.once("close", closed);
      });
    },
    close() {
      // What node still holds goes out first, unless the peer stopped reading.
      if (socket.writableLength === 0) return void socket.destroy();
      const cut = setTimeout(() => socket.destroy(), CLOSE_GRACE_MS);
      socket.once("close", () => clearTimeout(cut));
      socket.end(() => socket.destroy());
    },
  };
}

// Feeds what the socket reads to the session; the session hears once that the peer is gone.
function feed(socket: net.Socket, handle: TcpSessionHandle): void {
  let gone = false;
  const ended = () => {
    if (gone) return;
    gone = true;
    handle.ended();
  };
  socket.on("data", (chunk: Uint8Array) => {
    // A plain view: Buffer's slice() shares memory where Uint8Array's copies.
    handle.feed(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    if (!handle.open) socket.pause();
  });
  socket.on("end", ended);
  socket.on("close", ended);
}

/** Binds a TCP (TLS with `tlsFiles`) port on node:net; rejects with a ListenError. */
export async function bindNodeTcp(
  hostname: string,
  port: number,
  tlsFiles: TlsFiles | undefined,
): Promise<BoundTcp> {
  // Half-open, as on Deno: a peer that ends its side still gets what is queued for it.
  const socketOptions = { allowHalfOpen: true, noDelay: true, keepAlive: true };
  const server: net.Server = tlsFiles
    ? tls.createServer({
      ...socketOptions,
      cert: tlsFiles.cert,
      key: tlsFiles.key,
      handshakeTimeout: TLS_HANDSHAKE_MS,
    })
    : net.createServer(socketOptions);
  // Sockets accepted before serve() wait for it.
  let accepted: ((socket: net.Socket) => void) | undefined;
  const early: net.Socket[] = [];
  server.on(tlsFiles ? "secureConnection" : "connection", (socket: net.Socket) => {
    // Errors end a socket (`close` follows); none may become an uncaught exception.
    socket.on("error", ignore);
    if (accepted) accepted(socket);
    else early.push(socket);
  });
  // A failed handshake or accept (out of descriptors, say) concerns one socket, not the server.
  server.on("tlsClientError", ignore);
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error) => reject(asListenError(error, hostname, port)));
    server.listen({ host: hostname, port }, () => {
      server.removeAllListeners("error");
      server.on("error", ignore);
      resolve();
    });
  });
  const bound = server.address() as net.AddressInfo;
  const addr = { transport: "tcp", hostname: bound.address, port: bound.port } as const;
  return {
    addr,
    serve(relay: Relay, gate: ConnectionGate, framing?: TcpFraming): Listening {
      const connections = new TcpConnections(relay, gate, framing);
      const closed = new Promise<void>((resolve) => server.once("close", () => resolve()));
      accepted = (socket) => {
        const handle = connections.accept(plainAddress(socket.remoteAddress), nodeSocket(socket));
        if (handle) feed(socket, handle);
      };
      for (const socket of early.splice(0)) accepted(socket);
      return {
        addr,
        stop() {
          server.close();
          connections.stop();
        },
        destroyAll: () => connections.destroyAll(),
        finished: Promise.all([closed, connections.finished]).then(() => {}),
      };
    },
    close() {
      server.close();
      for (const socket of early.splice(0)) socket.destroy();
    },
  };
}
