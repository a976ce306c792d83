/**
 * The WebSocket transport: web-standard `WebSocket`, so it works in Deno and browsers.
 *
 * @module
 */
import { type ClientErrorCode, CrosswireClientError } from "./errors.ts";
import type { Transport, TransportReceiver } from "./transport.ts";

const OPEN = 1; // WebSocket.OPEN, without relying on a global WebSocket

/**
 * Options for {@link openWebSocket}.
 *
 * @example A shorter wait for the socket to open
 * ```ts
 * import type { WebSocketOptions } from "@crosswire/relay/client";
 * const options: WebSocketOptions = { timeoutMs: 2000 };
 * if (options.timeoutMs !== 2000) throw new Error("unexpected");
 * ```
 */
export interface WebSocketOptions {
  /** WebSocket implementation. @default globalThis.WebSocket */
  WebSocket?: new (url: string) => WebSocket;
  /** How long to wait for the socket to open, in ms. @default 10000 */
  timeoutMs?: number;
}

/**
 * Opens a WebSocket and wraps it as a {@link Transport}. Files go as binary frames.
 * It asks the relay for batched frames (`{"type":"hello","batch":true}`) and
 * splits each text frame on newlines.
 *
 * @param url A `ws:` or `wss:` URL.
 * @param options The WebSocket implementation and how long to wait for the socket to open.
 * @returns The transport, once the socket is open.
 * @throws {CrosswireClientError} `connect_failed` when the socket fails first,
 * `timeout` when it takes longer than `timeoutMs`.
 *
 * @example Opening a socket to a running relay
 * ```ts
 * import { startServer } from "@crosswire/relay";
 * import { openWebSocket } from "@crosswire/relay/client";
 * const server = await startServer({ hostname: "127.0.0.1", port: 0, tcpPort: null });
 * const url = new URL(`ws://127.0.0.1:${server.httpAddr.port}/ws`);
 * const transport = await openWebSocket(url);
 * let onClosed = () => {};
 * const closed = new Promise<void>((resolve) => onClosed = resolve);
 * const hello = await new Promise<string>((resolve) =>
 *   transport.start({ text: resolve, binary: () => {}, closed: () => onClosed() })
 * );
 * if (!hello.includes('"hello"')) throw new Error("no hello");
 * transport.close();
 * await closed;
 * await server.shutdown();
 * ```
 */
export function openWebSocket(
  url: URL,
  options: WebSocketOptions = {},
): Promise<Transport> {
  const WebSocketImpl = options.WebSocket ?? globalThis.WebSocket;
  const timeoutMs = options.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    let ws: WebSocket;
    try {
      ws = new WebSocketImpl(url.href);
    } catch (cause) {
      reject(
        new CrosswireClientError("connect_failed", `cannot connect to ${url.href}`, { cause }),
      );
      return;
    }
    ws.binaryType = "arraybuffer";
    let receiver: TransportReceiver | undefined;
    const early: MessageEvent[] = [];
    let opened = false;
    let closedInfo: { code: number; reason: string } | undefined;
    const timer = setTimeout(() => {
      ws.close();
      fail(`timed out connecting to ${url.href}`, "timeout");
    }, timeoutMs);
    const fail = (message: string, code: ClientErrorCode = "connect_failed") => {
      clearTimeout(timer);
      reject(new CrosswireClientError(code, message));
    };
    const deliver = (event: MessageEvent) => {
      if (!receiver) return void early.push(event);
      // We ask for batching below, so one text frame may hold several JSON messages.
      if (typeof event.data === "string") {
        for (const part of event.data.split("\n")) receiver.text(part);
      } else if (event.data instanceof ArrayBuffer) receiver.binary(new Uint8Array(event.data));
      else if (ArrayBuffer.isView(event.data)) {
        const view = event.data;
        receiver.binary(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
      }
    };
    ws.onmessage = deliver;
    ws.onerror = () => {}; // `close` follows and carries the details
    ws.onclose = (event) => {
      if (!opened) return fail(`cannot connect to ${url.href} (${event.code})`);
      // A connection that just ended has no close frame: 1006, though Deno says 0.
      const code = event.code >= 1000 && event.code <= 4999 ? event.code : 1006;
      closedInfo = { code, reason: event.reason };
      receiver?.closed(code, event.reason);
    };
    ws.onopen = () => {
      opened = true;
      clearTimeout(timer);
      // Several messages per frame under load: far fewer frames for both ends to handle.
      ws.send(JSON.stringify({ type: "hello", batch: true }));
      resolve({
        binaryFrames: true,
        start(next) {
          receiver = next;
          for (const event of early.splice(0)) deliver(event);
          if (closedInfo) next.closed(closedInfo.code, closedInfo.reason);
        },
        send(data) {
          if (ws.readyState !== OPEN) {
            throw new CrosswireClientError("connection_closed", "the connection is closed");
          }
          ws.send(data);
        },
        close() {
          ws.close(1000, "bye");
        },
      });
    };
  });
}
