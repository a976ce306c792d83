// One event, encoded at most once per wire format however many sessions receive it.

import { utf8Length } from "./_utf8.ts";
import { encodeBinaryFrame } from "./binary_frame.ts";
import type { DirectEvent, MessageEvent, ServerEvent } from "./protocol.ts";
import { renderIrcShared } from "./irc_render.ts";
import { terminalSafe } from "./sanitize.ts";
import { renderTextLines } from "./text_render.ts";
import { webSocketBinaryFrame, webSocketTextFrame } from "./websocket_frame.ts";

/**
 * How a session receives events.
 *
 * @example The same event in two formats
 * ```ts
 * import { Outgoing, WireFormat } from "@crosswire/relay";
 * const out = new Outgoing({ type: "joined", ts: 0, room: "lobby", name: "ann" });
 * const line = out.frame(WireFormat.TextLine)!.data as Uint8Array;
 * if (new TextDecoder().decode(line) !== "-!- [lobby] ann joined\r\n") {
 *   throw new Error("unexpected text line");
 * }
 * const json = out.frame(WireFormat.JsonFrame)!.data as string;
 * if (JSON.parse(json).name !== "ann") throw new Error("unexpected JSON frame");
 * ```
 */
export const WireFormat = {
  /** Plain lines for telnet and netcat (TCP text mode). */
  TextLine: 0,
  /** One JSON object per line (TCP JSON mode). */
  JsonLine: 1,
  /** One JSON object per frame, and files as binary frames (WebSocket). */
  JsonFrame: 2,
  /**
   * The same, as whole WebSocket frames (RFC 6455, server to client), for a
   * transport that writes its socket's bytes itself.
   */
  WebSocketFrame: 3,
  /**
   * IRC lines (RFC 1459), for IRC clients on TCP: what every IRC receiver sees
   * alike (room messages, joins, renames); replies that name their receiver
   * are rendered per session.
   */
  IrcLine: 4,
} as const;
/** One of {@link WireFormat}'s values. */
export type WireFormat = typeof WireFormat[keyof typeof WireFormat];

/**
 * Encoded bytes or text ready for a transport, with its size counted once.
 *
 * @example `bytes` counts UTF-8 bytes, not UTF-16 units
 * ```ts
 * import { type Frame, Outgoing, WireFormat } from "@crosswire/relay";
 * const frame: Frame = new Outgoing({ type: "notice", ts: 0, text: "é" })
 *   .frame(WireFormat.JsonFrame)!;
 * const expected = new TextEncoder().encode(frame.data as string).length;
 * if (frame.bytes !== expected) throw new Error("miscounted");
 * ```
 */
export interface Frame {
  /** A string is a text frame; bytes are a binary frame or raw stream bytes. */
  readonly data: string | Uint8Array<ArrayBuffer>;
  /** Size in bytes on the wire. */
  readonly bytes: number;
}

const encoder = new TextEncoder();

function bytesFrame(data: Uint8Array<ArrayBuffer>): Frame {
  return { data, bytes: data.length };
}

function toJson(event: ServerEvent): string {
  if ((event.type === "message" || event.type === "direct") && event.data) {
    return JSON.stringify({ ...event, data: event.data.toBase64() });
  }
  return JSON.stringify(event);
}

function binaryFrame(event: MessageEvent | DirectEvent, data: Uint8Array): Frame {
  const { data: _payload, ...header } = event;
  return bytesFrame(encodeBinaryFrame(header, data));
}

/**
 * An event on its way to one or many sessions. Each wire format's encoding is
 * made on first use and shared by every recipient after that.
 *
 * @example Encoded once, however many ask
 * ```ts
 * import { Outgoing, WireFormat } from "@crosswire/relay";
 * const out = new Outgoing({ type: "notice", ts: 0, text: "hello" });
 * const first = out.frame(WireFormat.JsonLine);
 * if (first === null || out.frame(WireFormat.JsonLine) !== first) {
 *   throw new Error("the frame should be made once and reused");
 * }
 * ```
 */
export class Outgoing {
  /** The event being sent. */
  readonly event: ServerEvent;
  #frames: (Frame | null | undefined)[] = [undefined, undefined, undefined, undefined, undefined];
  #json: string | undefined;

  #replayed: boolean;

  /**
   * Wraps `event`; nothing is encoded until a format is asked for. A
   * `replayed` message (from history) shows its time in text mode.
   */
  constructor(event: ServerEvent, replayed = false) {
    this.event = event;
    this.#replayed = replayed;
  }

  /** The frame for `format`, or null when that format does not show this event. */
  frame(format: WireFormat): Frame | null {
    return this.#frames[format] ??= this.#encode(format);
  }

  #encode(format: WireFormat): Frame | null {
    const event = this.event;
    switch (format) {
      case WireFormat.TextLine: {
        const lines = renderTextLines(event, this.#replayed);
        if (lines.length === 0) return null;
        // Terminals show invisible characters as nothing, boxes or spaces: drop them.
        return bytesFrame(encoder.encode(terminalSafe(lines.join("\r\n")) + "\r\n"));
      }
      case WireFormat.JsonLine:
        return bytesFrame(encoder.encode(this.#jsonText() + "\n"));
      case WireFormat.JsonFrame: {
        if ((event.type === "message" || event.type === "direct") && event.data) {
          return binaryFrame(event, event.data);
        }
        const json = this.#jsonText();
        return { data: json, bytes: utf8Length(json) };
      }
      case WireFormat.WebSocketFrame: {
        const frame = this.frame(WireFormat.JsonFrame)!;
        return bytesFrame(
          typeof frame.data === "string"
            ? webSocketTextFrame(frame.data)
            : webSocketBinaryFrame(frame.data),
        );
      }
      case WireFormat.IrcLine: {
        const lines = renderIrcShared(event, this.#replayed);
        if (lines === null || lines.length === 0) return null;
        return bytesFrame(encoder.encode(lines.join("\r\n") + "\r\n"));
      }
    }
  }

  #jsonText(): string {
    return this.#json ??= toJson(this.event);
  }
}
