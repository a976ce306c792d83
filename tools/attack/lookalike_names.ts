/**
 * lookalike-names: while `ann` is online, log in under names that look like
 * hers (Cyrillic а, a variation selector, a combining grapheme joiner,
 * fullwidth and mathematical letters) and under names that look blank
 * (Hangul fillers, the Braille blank). Recorded: which were accepted.
 *
 * @module
 */
import type { Attack } from "./_attack.ts";
import { RawWs } from "./_net.ts";

const CANDIDATES = [
  "\u0430nn", // Cyrillic а
  "ann\uFE0F", // variation selector 16
  "an\u034Fn", // combining grapheme joiner
  "\uFF21\uFF2E\uFF2E", // fullwidth ＡＮＮ
  "\u{1D68A}\u{1D697}\u{1D697}", // mathematical monospace 𝚊𝚗𝚗
  "\u3164", // Hangul filler
  "\u2800", // Braille blank
  "\u115F", // Hangul choseong filler
  "\uFFA0", // halfwidth Hangul filler
  "ANN", // control: the same name in capitals must be refused
];

/** A name with every non-ASCII code point spelled out. */
export function label(name: string): string {
  return [...name].map((c) => {
    const code = c.codePointAt(0)!;
    return code < 0x80 ? c : `U+${code.toString(16).toUpperCase().padStart(4, "0")}`;
  }).join(" ");
}

/** Lookalike and blank names while `ann` is online. */
export const lookalikeNames: Attack = {
  name: "lookalike-names",
  summary: "log in as lookalikes of ann (аnn, ＡＮＮ, 𝚊𝚗𝚗, ...) and as blank-looking names",
  async run(context) {
    const port = context.server.httpPort;
    const ann = await RawWs.open({ port, localAddress: "127.24.0.1" });
    context.note("ann online", (await ann.login("ann")).ok);
    const accepted: string[] = [];
    for (const name of CANDIDATES) {
      const ws = await RawWs.open({ port, localAddress: "127.24.0.2" });
      const result = await ws.login(name);
      context.note(label(name), result.ok ? "accepted" : `refused (${result.code})`);
      if (result.ok) accepted.push(label(name));
      ws.destroy();
      await ws.closed;
    }
    context.note("accepted", accepted.length === 0 ? "none" : accepted.join(", "));
    ann.destroy();
  },
};
