// The server API for backends: publish, direct, rooms, presence, disconnect
// and ban over HTTP, authorised by the API key (a bearer token). Off without a key.

import type { Context, Hono, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { type MaybePromise, type Relay, RelayError, validateRoom } from "../core/mod.ts";
import { apiKeyRequired } from "./_api_auth.ts";
import { errorResponse, failure } from "./_api_errors.ts";
import {
  content,
  jsonBody,
  limitQuery,
  optionalNumber,
  optionalString,
  requiredString,
} from "./_api_request.ts";

const OFF_MESSAGE = "the server API is off: start the server with --api-key KEY";
// A backend may speak under a name of its choosing; the server's own by default.
const CONTENT_FIELDS = ["text", "action", "data", "file", "from"] as const;

/**
 * Mounts the server API on `app`: `POST /api/publish`, `POST /api/direct`,
 * `GET /api/rooms`, `GET /api/presence`, `POST /api/disconnect`,
 * `POST /api/ban` and `POST /api/unban`, each needing
 * `Authorization: Bearer <apiKey>` (401 `auth_failed` otherwise). Without
 * `apiKey` each of them answers 404 saying how to turn the API on. Other
 * `/api` paths (such as `/api/stats`) are left to whoever mounts them.
 *
 * @param app The relay's Hono app.
 * @param relay The relay the API drives (its `api`), whose frame limit caps request bodies.
 * @param apiKey The bearer token (letters, digits, `-._~+/`, trailing `=`), or undefined for off.
 * @throws {TypeError} When `apiKey` has characters no bearer token may carry.
 *
 * @example A backend says something in the lobby
 * ```ts
 * import { Hono } from "hono";
 * import { type Port, Relay } from "@crosswire/relay";
 * import { mountApi } from "./api.ts";
 * const relay = new Relay();
 * const app = new Hono();
 * mountApi(app, relay, "0123456789abcdef");
 * const port: Port = { framing: "frames", wake: () => {}, close: () => {} };
 * const ann = relay.connect(port);
 * ann.receiveText('{"type":"login","name":"ann"}');
 * ann.outbound.take();
 * const response = await app.request("/api/publish", {
 *   method: "POST",
 *   headers: { authorization: "Bearer 0123456789abcdef" },
 *   body: JSON.stringify({ room: "lobby", text: "Deploy finished" }),
 * });
 * const { id } = await response.json();
 * const heard = JSON.parse(ann.outbound.take()[0]!.data as string);
 * if (heard.id !== id || heard.from !== "server") throw new Error("not delivered");
 * ```
 */
export function mountApi(app: Hono, relay: Relay, apiKey: string | undefined): void {
  const routes: [method: "GET" | "POST", path: string, handle: (c: Context) => Promise<object>][] =
    [
      ["POST", "/api/publish", async (c) => {
        const body = await jsonBody(c, ["room", ...CONTENT_FIELDS]);
        const room = requiredString(body, "room");
        const event = relay.api.publish(room, content(body), optionalString(body, "from"));
        return { id: event.id, room: event.room, ts: event.ts };
      }],
      ["POST", "/api/direct", async (c) => {
        const body = await jsonBody(c, ["to", ...CONTENT_FIELDS]);
        const to = requiredString(body, "to");
        await relay.api.direct(to, content(body), optionalString(body, "from"));
        return { ok: true };
      }],
      ["GET", "/api/rooms", async (c) => {
        const page = await relay.api.rooms(limitQuery(c), c.req.query("after") || undefined);
        return { rooms: page.rooms, total: page.total };
      }],
      ["GET", "/api/presence", async (c) => {
        const raw = c.req.query("room");
        if (raw === undefined || raw === "") {
          throw new RelayError("bad_message", '"room" is missing: /api/presence?room=lobby');
        }
        const room = validateRoom(raw);
        const { members, count } = await relay.api.presence(room);
        return { room, members, count };
      }],
      ["POST", "/api/disconnect", async (c) => {
        const body = await jsonBody(c, ["name", "reason"]);
        const name = requiredString(body, "name");
        return done(relay.api.disconnect(name, optionalString(body, "reason")));
      }],
      ["POST", "/api/ban", async (c) => {
        const body = await jsonBody(c, ["target", "minutes", "reason"]);
        const target = requiredString(body, "target");
        const minutes = optionalNumber(body, "minutes");
        const reason = optionalString(body, "reason");
        return done(relay.api.ban(target, {
          ...(minutes === undefined ? {} : { minutes }),
          ...(reason === undefined ? {} : { reason }),
        }));
      }],
      ["POST", "/api/unban", async (c) => {
        const body = await jsonBody(c, ["target"]);
        return done(relay.api.unban(requiredString(body, "target")));
      }],
    ];

  if (apiKey === undefined) {
    const off = (c: Context) => errorResponse(c, "not_found", OFF_MESSAGE, 404);
    for (const [, path] of routes) app.all(path, off);
    return;
  }

  const guard = apiKeyRequired(apiKey);
  const maxBytes = relay.limits.maxFrameBytes;
  const limit: MiddlewareHandler = bodyLimit({
    maxSize: maxBytes,
    onError: (c) =>
      errorResponse(c, "too_large", `a request body may be at most ${maxBytes} bytes`, 413),
  });
  for (const [method, path, handle] of routes) {
    app.on(method, path, guard, ...(method === "POST" ? [limit] : []), async (c) => {
      try {
        return c.json(await handle(c), 200, { "cache-control": "no-store" });
      } catch (error) {
        return failure(c, error);
      }
    });
    // The right path with the wrong method: say which one it takes, rather than "no such path".
    app.all(
      path,
      (c) =>
        errorResponse(c, "method_not_allowed", `use ${method} ${path}`, 405, { allow: method }),
    );
  }
}

async function done(outcome: MaybePromise<string>): Promise<{ ok: true; message: string }> {
  return { ok: true, message: await outcome };
}
