// UTS #39 confusable detection: two strings that look alike have the same skeleton.
// The table (core/_confusables_data.ts, about 40 KB) is decoded on first use; the page never
// loads it (it flags look-alikes with the small ASCII table in core/misleading.ts instead).

import { CONFUSABLES_VERSION, PROTOTYPES } from "./_confusables_data.ts";

/** The Unicode version of the confusables data `skeleton()` uses. */
export const CONFUSABLES_UNICODE_VERSION: string = CONFUSABLES_VERSION;

const IGNORABLE = /\p{Default_Ignorable_Code_Point}/gu;

let table: Map<number, string> | undefined;

function prototypes(): Map<number, string> {
  if (table) return table;
  table = new Map();
  let source = 0;
  for (const entry of PROTOTYPES.split(",")) {
    const colon = entry.indexOf(":");
    source += parseInt(entry.slice(0, colon), 36);
    const points = entry.slice(colon + 1).split(".").map((point) => parseInt(point, 36));
    table.set(source, String.fromCodePoint(...points));
  }
  return table;
}

/**
 * The UTS #39 skeleton of `text`: NFD, without Default_Ignorable_Code_Point characters, each
 * character replaced by its prototype from Unicode's confusables data, NFD again. Strings that
 * look alike (`"раураl"` in Cyrillic and `"paypal"`) have equal skeletons. A skeleton is a key
 * for comparing, not text to show: `m` becomes `rn`.
 *
 * @param text Any text.
 * @returns The skeleton.
 */
export function skeleton(text: string): string {
  const map = prototypes();
  let out = "";
  for (const char of text.normalize("NFD").replace(IGNORABLE, "")) {
    out += map.get(char.codePointAt(0)!) ?? char;
  }
  return out.normalize("NFD");
}
