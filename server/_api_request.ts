// Reading a server API request: the JSON body and the query, each field
// checked for its type, with a message that names the field.

import { tooStructured } from "../core/_structure.ts";
import type { Context } from "hono";
import { type ApiContent, RelayError } from "../core/mod.ts";

/** A request body's fields, once it is known to be a JSON object. */
export type Fields = Record<string, unknown>;

function bad(message: string): never {
  throw new RelayError("bad_message", message);
}

/** The body as a JSON object whose keys are all among `allowed`; `bad_json` / `bad_message`. */
export async function jsonBody(c: Context, allowed: readonly string[]): Promise<Fields> {
  let body: unknown;
  const text = await c.req.text();
  if (tooStructured(text)) {
    bad('a body this large must be a file: one base64 "data" string and a few fields');
  }
  try {
    body = JSON.parse(text);
  } catch {
    throw new RelayError("bad_json", 'the body must be JSON, e.g. {"room":"lobby","text":"hi"}');
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    bad("the body must be a JSON object");
  }
  // A misspelt optional field ("frm") would otherwise be dropped without a word.
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key)) {
      bad(`unknown field ${JSON.stringify(key)}; allowed: ${allowed.join(", ")}`);
    }
  }
  return body as Fields;
}

/** `fields[key]` as a string; `bad_message` when absent or not one. */
export function requiredString(fields: Fields, key: string): string {
  const value = fields[key];
  if (typeof value !== "string") {
    bad(value === undefined ? `"${key}" is missing` : `"${key}" must be a string`);
  }
  return value;
}

/** `fields[key]` as a string, or undefined when absent (or null). */
export function optionalString(fields: Fields, key: string): string | undefined {
  const value = fields[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") bad(`"${key}" must be a string`);
  return value;
}

/** `fields[key]` as a finite number, or undefined when absent (or null). */
export function optionalNumber(fields: Fields, key: string): number | undefined {
  const value = fields[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value)) bad(`"${key}" must be a number`);
  return value;
}

/** `fields[key]` as a boolean, or undefined when absent (or null). */
export function optionalBoolean(fields: Fields, key: string): boolean | undefined {
  const value = fields[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "boolean") bad(`"${key}" must be true or false`);
  return value;
}

/** What to say: `text` (with `action`), or `data` in base64 with an optional `file` {name, type}. */
export function content(fields: Fields): ApiContent {
  const data = optionalString(fields, "data");
  if (data === undefined) {
    if (fields.file !== undefined) bad('"file" goes with "data" (the file\'s bytes in base64)');
    if (fields.text === undefined) bad('give "text", or "data" (base64) for a file');
    const text = requiredString(fields, "text");
    return optionalBoolean(fields, "action") ? { text, action: true } : { text };
  }
  if (fields.text !== undefined) bad('give "text" or "data", not both');
  if (fields.action !== undefined) bad('"action" goes with "text", not with a file');
  let bytes: Uint8Array;
  try {
    bytes = Uint8Array.fromBase64(data);
  } catch {
    bad('"data" must be base64');
  }
  const file = fields.file;
  if (file === undefined || file === null) return { data: bytes };
  if (typeof file !== "object" || Array.isArray(file)) bad('"file" must be {"name","type"}');
  const info = file as Fields;
  for (const key of Object.keys(info)) {
    if (key !== "name" && key !== "type") bad(`unknown field "file.${key}"; allowed: name, type`);
  }
  const name = fileField(info, "name");
  const type = fileField(info, "type");
  return {
    data: bytes,
    ...(name === undefined ? {} : { name }),
    ...(type === undefined ? {} : { type }),
  };
}

function fileField(info: Fields, key: "name" | "type"): string | undefined {
  const value = info[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") bad(`"file.${key}" must be a string`);
  return value;
}

/** The `limit` query parameter: a whole number from 1 to 1000, or undefined. */
export function limitQuery(c: Context): number | undefined {
  const raw = c.req.query("limit");
  if (raw === undefined || raw === "") return undefined;
  const limit = /^\d{1,4}$/.test(raw) ? Number(raw) : NaN;
  if (!(limit >= 1 && limit <= 1000)) bad('"limit" must be a whole number from 1 to 1000');
  return limit;
}
