// What the server sends, turned into events: JSON text, or a binary frame
// whose header is the event and whose payload is the file.

import { decodeBinaryFrame } from "../core/binary_frame.ts";
import type { ServerEvent } from "../core/protocol.ts";
import { fromBase64 } from "./_base64.ts";

/** The event in one JSON message, or undefined when it is not one. */
export function parseText(data: string): ServerEvent | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    return undefined; // not JSON: nothing a client can act on
  }
  return toEvent(parsed);
}

/** The event in one binary frame, or undefined when the frame is malformed. */
export function parseBinary(data: Uint8Array): ServerEvent | undefined {
  let frame: ReturnType<typeof decodeBinaryFrame>;
  try {
    frame = decodeBinaryFrame(data);
  } catch {
    return undefined;
  }
  return toEvent({ ...frame.header, data: frame.payload });
}

/** The `ref` an event carries (`welcome` and `history` carry it too, though not every type says so). */
export function refOf(event: ServerEvent): string | undefined {
  const ref = (event as { ref?: unknown }).ref;
  return typeof ref === "string" ? ref : undefined;
}

// Checks the one thing every handler relies on (a string `type`) and turns
// base64 file data into bytes. Anything else is trusted as the protocol says.
function toEvent(value: unknown): ServerEvent | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const fields = value as Record<string, unknown>;
  if (typeof fields.type !== "string") return undefined;
  if ((fields.type === "message" || fields.type === "direct") && fields.data !== undefined) {
    if (typeof fields.data === "string") {
      try {
        return { ...fields, data: fromBase64(fields.data) } as unknown as ServerEvent;
      } catch {
        return undefined;
      }
    }
    if (!(fields.data instanceof Uint8Array)) return undefined;
  }
  return fields as unknown as ServerEvent;
}
