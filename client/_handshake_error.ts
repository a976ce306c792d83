// Why a WebSocket handshake failed. A failed handshake tells the page nothing
// (Deno reports close code 0, browsers 1006), so the same URL is asked once
// more over plain HTTP(S): its status and error body say whether the path is
// wrong, the host or origin was refused, or nothing answers at all.

import { CrosswireClientError } from "./errors.ts";

/** The path the relay serves WebSockets on (server/app.ts). */
const RELAY_PATH = "/ws";
/** The most of an error body worth reading for its message. */
const MAX_BODY_BYTES = 4096;
/** The longest the second look may take, whatever the connect timeout. */
const MAX_PROBE_MS = 5000;

/**
 * An error that says why the handshake with `url` failed, found by fetching
 * the same URL over HTTP(S); `failure` itself (chained as the cause of the
 * new one) when nothing more can be learnt. Never rejects.
 */
export async function explainHandshake(
  url: URL,
  failure: CrosswireClientError,
  timeoutMs: number,
): Promise<CrosswireClientError> {
  const probe = new URL(url.href);
  probe.protocol = url.protocol === "wss:" ? "https:" : "http:";
  const signal = AbortSignal.timeout(Math.max(1, Math.min(timeoutMs, MAX_PROBE_MS)));
  let status: number;
  let body: string;
  try {
    const response = await fetch(probe, { signal, redirect: "manual" });
    status = response.status;
    body = await readSome(response, signal);
  } catch (error) {
    if (signal.aborted) return failure;
    return new CrosswireClientError(
      "connect_failed",
      `cannot connect to ${url.href}: ${lastReason(error)}`,
      { cause: failure },
    );
  }
  return new CrosswireClientError("connect_failed", describe(url, status, body), {
    cause: failure,
  });
}

/** What to tell a person about a handshake answered with `status` and `body`. */
export function describe(url: URL, status: number, body: string): string {
  const path = url.pathname;
  const said = serverMessage(body);
  if (status === 404) {
    return `no WebSocket endpoint at ${path} (HTTP 404): is this a crosswire server? ` +
      `The relay listens on ${RELAY_PATH}`;
  }
  if (said !== undefined) {
    return `the server refused the WebSocket connection to ${path} (HTTP ${status}): ${said}`;
  }
  if (status === 0) {
    // An opaque answer (a browser's redirect or CORS): the status is hidden.
    return `cannot connect to ${url.href}: the WebSocket handshake failed`;
  }
  const hint = path === RELAY_PATH
    ? "is this a crosswire server?"
    : `is this a crosswire server? The relay listens on ${RELAY_PATH}`;
  return `no WebSocket connection at ${path} (HTTP ${status}): ${hint}`;
}

// The relay answers refusals with {"error":{"code","message"}}; another server's page is not worth quoting.
function serverMessage(body: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    const error = (parsed as { error?: { message?: unknown } } | null)?.error;
    const message = error?.message;
    // Only printable text, briefly: it came from the network.
    if (typeof message !== "string") return undefined;
    const clean = message.replace(/[\p{Cc}\p{Cf}]/gu, "").slice(0, 300);
    return clean === "" ? undefined : clean;
  } catch {
    return undefined;
  }
}

// At most MAX_BODY_BYTES of the body as text; the rest is not read.
async function readSome(response: Response, signal: AbortSignal): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < MAX_BODY_BYTES && !signal.aborted) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } catch {
    // A body cut short still has its status.
  } finally {
    reader.cancel().catch(() => {});
  }
  const bytes = new Uint8Array(Math.min(size, MAX_BODY_BYTES));
  let at = 0;
  for (const chunk of chunks) {
    const part = chunk.subarray(0, bytes.length - at);
    bytes.set(part, at);
    at += part.length;
  }
  return new TextDecoder().decode(bytes);
}

// Deno's fetch errors nest ("fetch failed", caused by "error sending request ...: client
// error (Connect): tcp connect error: Connection refused (os error 111)"): the innermost
// part is the news.
function lastReason(error: unknown): string {
  let inner = error;
  for (let depth = 0; depth < 5 && inner instanceof Error && inner.cause !== undefined; depth++) {
    inner = inner.cause;
  }
  const message = inner instanceof Error ? inner.message : String(inner);
  return message.split(": ").at(-1) || message;
}
