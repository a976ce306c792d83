// Where other people can join from, for the empty room's invitation: the page
// itself, its WebSocket, and the server's TCP (telnet) port. The page knows the
// first two from its own address; only the server knows whether it listens on
// TCP, and where: `GET /` with `Accept: application/json` says (server/app.ts).
// Runtimes without TCP (Cloudflare, Deno Deploy) leave `tcp` out.

/** Addresses to give someone who should join this chat. */
export interface Addresses {
  /** The chat page, for a browser. */
  page: string;
  /** The WebSocket endpoint, for programs (docs/PROTOCOL.md). */
  websocket: string;
  /** The TCP listener, for telnet or nc; absent when the server has none. */
  tcp?: { host: string; port: number };
}

/** The part of `location` the page's addresses come from. */
export interface PageLocation {
  readonly href: string;
}

/** The page's own addresses, known without asking the server. */
export function pageAddresses(location: PageLocation): Addresses {
  const page = new URL("./", location.href);
  page.search = "";
  page.hash = "";
  const websocket = new URL("ws", page);
  websocket.protocol = page.protocol === "https:" ? "wss:" : "ws:";
  return { page: page.href, websocket: websocket.href };
}

/**
 * `known` with the TCP listener from the server's JSON description (`GET /`),
 * when it names a valid port. Anything else (an older server, a proxy's error
 * page) leaves `known` as it is.
 */
export function withServerAddresses(known: Addresses, description: unknown): Addresses {
  const tcp = (description as { tcp?: { host?: unknown; port?: unknown } } | null)?.tcp;
  const port = tcp?.port;
  if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535) {
    return known;
  }
  // The host the browser reached is the one to give out; IPv6 loses its brackets for telnet.
  const host = new URL(known.page).hostname.replace(/^\[(.*)\]$/, "$1");
  return { ...known, tcp: { host, port } };
}

/** `telnet HOST PORT`, as someone would type it. */
export function telnetCommand(tcp: { host: string; port: number }): string {
  return `telnet ${tcp.host} ${tcp.port}`;
}
