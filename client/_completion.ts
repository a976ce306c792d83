// Tab completion for the terminal client: commands at the start of a line,
// otherwise names of people in the current room (anyone known after /msg),
// with or without a leading `@` (the protocol has no mentions, but people
// write them). Shaped for node:readline's `completer`.

/** What completion chooses from, read afresh at each Tab. */
export interface CompletionSource {
  /** Commands with their slash, `/join`. */
  commands: readonly string[];
  /** Members of the current room. */
  members(): readonly string[];
  /** Everyone the client has seen: for `/msg NAME`. */
  known(): readonly string[];
  /** The user's own name, never offered. */
  me(): string;
}

/**
 * Completions for the text before the cursor, as node:readline wants them:
 * the candidates and the part of the line they replace. A single candidate
 * comes with what usually follows it: a space, or `: ` for a name that starts
 * the line (addressing someone, as on IRC).
 */
export function complete(before: string, source: CompletionSource): [string[], string] {
  const word = /\S*$/.exec(before)![0];
  const start = before.length === word.length;
  if (start && word.startsWith("/")) {
    const lower = word.toLowerCase();
    const hits = source.commands.filter((command) => command.startsWith(lower));
    return [hits.length === 1 ? [`${hits[0]} `] : hits, word];
  }
  const toWhom = /^\/(?:msg|m)\s+\S*$/i.test(before);
  // `@` marks a name in a sentence; /msg wants the bare name.
  const at = word.startsWith("@") && !toWhom ? "@" : "";
  const partial = word.startsWith("@") ? word.slice(1) : word;
  const me = source.me();
  const names = unique(toWhom ? source.known() : source.members()).filter((name) => name !== me);
  let hits = names.filter((name) => name.startsWith(partial));
  if (hits.length === 0) {
    // "pat" finds "Patrick" when nothing matches as typed, but only a single name:
    // readline replaces the word then, while a list would keep the wrong case.
    const lower = partial.toLowerCase();
    const loose = names.filter((name) => name.toLowerCase().startsWith(lower));
    if (loose.length === 1) hits = loose;
  }
  if (hits.length === 1) {
    const suffix = start && at === "" ? ": " : " ";
    return [[`${at}${hits[0]}${suffix}`], word];
  }
  return [hits.map((name) => at + name).sort(), word];
}

function unique(names: readonly string[]): string[] {
  return [...new Set(names)];
}
