// ANSI colours for the terminal client, only when stdout is a terminal and
// NO_COLOR is unset: piped output stays plain text.

import type { ServerEvent } from "../core/protocol.ts";

/** Wraps a line in a colour, or returns it unchanged. */
export type Paint = (line: string) => string;

/** The paints the client uses, all identity functions when colour is off. */
export interface Colors {
  dim: Paint;
  red: Paint;
  yellow: Paint;
  cyan: Paint;
  magenta: Paint;
  plain: Paint;
  /** Reverse video for a part of a line (the `(?)` after a name that could mislead); it
   * turns only reverse video off after, so the line's own colour goes on. */
  mark: Paint;
}

const ansi = (open: number): Paint => (line) => `\x1b[${open}m${line}\x1b[0m`;

/** Colour paints when `enabled`, else paints that change nothing. */
export function colorsFor(enabled: boolean): Colors {
  const plain: Paint = (line) => line;
  if (!enabled) {
    return {
      dim: plain,
      red: plain,
      yellow: plain,
      cyan: plain,
      magenta: plain,
      plain,
      mark: plain,
    };
  }
  return {
    dim: ansi(2),
    red: ansi(31),
    yellow: ansi(33),
    cyan: ansi(36),
    magenta: ansi(35),
    plain,
    mark: (part) => `\x1b[7m${part}\x1b[27m`,
  };
}

/** The paint for an event's lines. */
export function styleFor(event: ServerEvent, colors: Colors): Paint {
  switch (event.type) {
    case "error":
    case "moderated":
      return colors.red;
    case "notice":
    case "welcome":
    case "topic":
      return colors.yellow;
    case "direct":
      return colors.magenta;
    case "presence":
    case "rooms":
      return colors.cyan;
    case "joined":
    case "left":
    case "renamed":
    case "pong":
      return colors.dim;
    default:
      return colors.plain;
  }
}
