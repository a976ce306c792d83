// Saving received files: a safe base name, in the downloads folder, never
// overwriting (cat.png, cat (1).png, cat (2).png, ...).

import { cleanText } from "../core/sanitize.ts";

const MAX_NAME_CHARS = 128;
const MAX_ATTEMPTS = 1000;

/** Reduces a sender-chosen name to a base name that is safe on every OS. */
export function safeFileName(name: string): string {
  const base = name.split(/[\\/]/).at(-1) ?? "";
  const cleaned = cleanText(base)
    .replace(/[<>:"|?*]/g, "_")
    .replace(/^[.\s]+|[.\s]+$/g, "")
    .slice(0, MAX_NAME_CHARS);
  // Windows reserves these names whatever the extension.
  if (cleaned === "" || /^(con|prn|aux|nul|com\d|lpt\d)(\.|$)/i.test(cleaned)) {
    return cleaned === "" ? "file" : `_${cleaned}`;
  }
  return cleaned;
}

function numbered(name: string, n: number): string {
  if (n === 0) return name;
  const dot = name.lastIndexOf(".");
  return dot > 0 ? `${name.slice(0, dot)} (${n})${name.slice(dot)}` : `${name} (${n})`;
}

/**
 * Writes `data` under `dir` as the safe form of `name`, numbering it when the
 * name is taken. Creates `dir` when missing.
 *
 * @returns The path written.
 */
export async function saveDownload(dir: string, name: string, data: Uint8Array): Promise<string> {
  await Deno.mkdir(dir, { recursive: true });
  const safe = safeFileName(name);
  const separator = dir.endsWith("/") || dir.endsWith("\\") ? "" : "/";
  for (let n = 0; n < MAX_ATTEMPTS; n++) {
    const path = `${dir}${separator}${numbered(safe, n)}`;
    try {
      await Deno.writeFile(path, data, { createNew: true });
      return path;
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    }
  }
  throw new Error(`${MAX_ATTEMPTS} files called ${safe} already exist in ${dir}`);
}
