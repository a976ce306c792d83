// The few Workers runtime APIs this adapter uses, declared here rather than
// pulling in @cloudflare/workers-types: the rest of the tree is checked by
// Deno, where these globals do not exist.

/** A server-side WebSocket accepted with the Hibernation API. */
export interface HibernatableWebSocket extends WebSocket {
  /** Keeps `value` (structured-clone data, at most 16 KiB) across hibernation. */
  serializeAttachment(value: unknown): void;
  /** What {@link serializeAttachment} kept, or null. */
  deserializeAttachment(): unknown;
}

/** `this.ctx` of a Durable Object: the parts used here. */
export interface DurableObjectState {
  /** Accepts `ws` for the Hibernation API: its events go to the object's handler methods. */
  acceptWebSocket(ws: WebSocket, tags?: string[]): void;
  /** The sockets accepted so far that are still connected, the object's previous lives included. */
  getWebSockets(tag?: string): HibernatableWebSocket[];
  /** A request frame the runtime answers itself, without waking the object. */
  setWebSocketAutoResponse(pair?: unknown): void;
}

/** A Durable Object stub: requests go to the object. */
export interface DurableObjectStub {
  fetch(request: Request): Promise<Response>;
}

/** A Durable Object namespace binding. */
export interface DurableObjectNamespace {
  idFromName(name: string): unknown;
  get(id: unknown): DurableObjectStub;
}

/** The Worker's bindings and variables (wrangler.toml). */
export interface Env {
  /** The Durable Object that runs the relay. */
  RELAY: DurableObjectNamespace;
  /** Host names answered besides localhost and IP literals, comma-separated ("*" for any). */
  CROSSWIRE_ALLOWED_HOSTS?: string;
  /** Browser origins allowed to open a WebSocket besides the page's own, comma-separated. */
  CROSSWIRE_ALLOW_ORIGINS?: string;
  /** Shown to every user at login. */
  CROSSWIRE_MOTD?: string;
}

interface WorkersGlobals {
  WebSocketPair: new () => Record<0 | 1, WebSocket>;
  WebSocketRequestResponsePair: new (request: string, response: string) => unknown;
}

const workers = globalThis as unknown as WorkersGlobals;

/** A connected pair: the client end goes in the 101 response, the server end stays. */
export function webSocketPair(): { client: WebSocket; server: HibernatableWebSocket } {
  const pair = new workers.WebSocketPair();
  return { client: pair[0], server: pair[1] as HibernatableWebSocket };
}

/** A frame the runtime answers with `response` while the object sleeps. */
export function autoResponse(request: string, response: string): unknown {
  return new workers.WebSocketRequestResponsePair(request, response);
}

/** The 101 response that hands `client` to the peer. */
export function upgradeResponse(client: WebSocket): Response {
  return new Response(null, { status: 101, webSocket: client } as ResponseInit);
}

/** Comma-separated values from a variable, trimmed, empty ones left out. */
export function listVar(value: string | undefined): string[] {
  return (value ?? "").split(",").map((item) => item.trim()).filter((item) => item !== "");
}
