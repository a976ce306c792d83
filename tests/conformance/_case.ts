// What every conformance case gets, and what a case is. Cases share one
// server, one after another, so each makes its own names and rooms.

/** The limits a server announces in its `hello` (the numbers cases must use). */
export interface Limits {
  maxLineBytes: number;
  maxFrameBytes: number;
  maxTextBytes: number;
  maxFileBytes: number;
}

/** What a case runs against. */
export interface Context {
  /** The WebSocket endpoint. */
  ws: string;
  /** The TCP text-mode endpoint, when the target has one. */
  tcp: { hostname: string; port: number } | undefined;
  /** The limits the server announced. */
  limits: Limits;
  /** `base` with a random suffix: a name or room no other case (or run) uses. */
  unique(base: string): string;
}

/** One conformance case. */
export interface Case {
  /** What it checks, as a sentence. */
  name: string;
  /** `"tcp"`: needs the TCP endpoint; `"raw"`: needs a `ws://` URL to write raw frames to. */
  needs?: "tcp" | "raw";
  run(context: Context): Promise<void>;
}

// No l, o, i, m, w, 0 or 1: suffixes never look alike, whatever the
// server's look-alike rules for names.
const ALPHABET = "abcdefghjknpqrstuvxyz23456789";

/** A random suffix of `length` characters from a look-alike-free alphabet. */
export function randomSuffix(length = 6): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  return [...bytes].map((byte) => ALPHABET[byte % ALPHABET.length]).join("");
}
