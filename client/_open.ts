// Opens the transport a URL names: WebSocket for ws: and wss:, the Deno TCP
// transport (loaded on demand, so browsers never see it) for tcp: and tls:.

import { CrosswireClientError } from "./errors.ts";
import { explainHandshake } from "./_handshake_error.ts";
import type { ConnectOptions } from "./options.ts";
import type { Transport } from "./transport.ts";
import { openWebSocket } from "./websocket_transport.ts";

/**
 * A function that opens a new connection to `url` each time it is called.
 * Throws a TypeError at once for a scheme no transport serves.
 */
export function openerFor(url: URL, options: ConnectOptions): () => Promise<Transport> {
  const custom = options.openTransport;
  if (custom) return () => custom(url);
  const timeoutMs = options.timeoutMs ?? 10_000;
  if (url.protocol === "ws:" || url.protocol === "wss:") {
    return async () => {
      try {
        return await openWebSocket(url, {
          timeoutMs,
          ...(options.WebSocket ? { WebSocket: options.WebSocket } : {}),
        });
      } catch (error) {
        // A failed handshake says nothing of why (Deno's close code is 0): ask over HTTP.
        if (error instanceof CrosswireClientError && error.code === "connect_failed") {
          throw await explainHandshake(url, error, timeoutMs);
        }
        throw error;
      }
    };
  }
  if (url.protocol === "tcp:" || url.protocol === "tls:") {
    return async () => {
      const { connectTcp } = await import("./tcp_transport.ts");
      const opening = connectTcp(url, {
        maxLineBytes: options.maxLineBytes ?? 64 << 20,
        tls: url.protocol === "tls:",
        ...(options.caCerts ? { caCerts: options.caCerts } : {}),
      });
      return await within(opening, timeoutMs, url);
    };
  }
  throw new TypeError(`unsupported URL scheme "${url.protocol}"; use ws:, wss:, tcp: or tls:`);
}

// A TCP connect to a host that does not answer can take minutes: give up
// sooner, and close the connection should it open after all.
function within(opening: Promise<Transport>, timeoutMs: number, url: URL): Promise<Transport> {
  return new Promise((resolve, reject) => {
    let late = false;
    const timer = setTimeout(() => {
      late = true;
      reject(new CrosswireClientError("timeout", `timed out connecting to ${url.host}`));
    }, timeoutMs);
    opening.then(
      (transport) => {
        clearTimeout(timer);
        if (late) transport.close();
        else resolve(transport);
      },
      (error) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
