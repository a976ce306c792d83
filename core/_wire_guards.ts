// Checks for values that arrive from other nodes (untrusted shapes): plain
// objects, ids, texts and times, each bounded.

/** The longest id, key, name, room or address accepted (every real one is far shorter). */
export const MAX_ID = 1024;

/** A JSON object (not null, not an array). */
export type Obj = Record<string, unknown>;

/** True for a plain object. */
export function isObj(value: unknown): value is Obj {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** True for a non-empty string of at most {@link MAX_ID} characters. */
export function isId(value: unknown): value is string {
  return typeof value === "string" && value.length > 0 && value.length <= MAX_ID;
}

/** True for a string of at most `max` characters. */
export function isTextUpTo(value: unknown, max: number): value is string {
  return typeof value === "string" && value.length <= max;
}

/** True for a finite number (a time in milliseconds, an offset). */
export function isTime(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value);
}
