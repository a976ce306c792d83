// The connections a case opened, so a failure can show what each of them
// received last: the wait that timed out is often on another connection
// than the error that explains it.

/** A connection that can say who it is and what it received last. */
export interface Journaled {
  label(): string;
  recent(): string;
}

let opened: Journaled[] = [];

/** Forgets the connections of the case before. */
export function beginCase(): void {
  opened = [];
}

/** Remembers a connection the running case opened. */
export function track(connection: Journaled): void {
  opened.push(connection);
}

/** What each connection of the running case received last, for a failure message. */
export function journal(): string {
  if (opened.length <= 1) return ""; // the failed wait already showed it
  const parts = opened.map((connection) => `  ${connection.label()}:\n${connection.recent()}`);
  return `\nwhat each connection of this case received last:\n${parts.join("\n")}`;
}
