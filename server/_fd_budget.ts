// How many sockets this process may hold. Every accepted socket is a file
// descriptor; a process out of them cannot accept (Deno.serve dies of it, and
// node:http's listener stops accepting for good), so the server admits fewer
// sockets than the limit, keeping room for one full listen backlog, refusals
// in flight, and what the process itself has open. Each runtime reads the
// limit its own way (_fd_limit.ts on Deno, _fd_proc.ts on Node and Bun).

/** The open-files limit of this process, and what it uses already. */
export interface FdLimit {
  /** The soft limit: the most descriptors this process may have open. */
  readonly soft: number;
  /** The hard limit: the most the soft limit may be raised to, or Infinity. */
  readonly hard: number;
  /** Descriptors open now. */
  readonly inUse: number;
  /** The soft limit before this process raised it, when it did. */
  readonly raisedFrom?: number;
}

/** The socket budget derived from an {@link FdLimit}. */
export interface FdBudget {
  /** The limit it was derived from, or undefined when it could not be read. */
  readonly limit: FdLimit | undefined;
  /** Sockets (both ports together) the server may hold open. */
  readonly maxSockets: number;
  /** Listen backlog for the HTTP port: sockets accepted in one go may reach this. */
  readonly backlog: number;
  /** Refused sockets that may be open at once while they are told why. */
  readonly maxRefusing: number;
}

/** The listen backlog when descriptors are plentiful. */
const MAX_BACKLOG = 128;
/** Descriptors kept free for files, a backplane connection, child processes. */
const SPARE = 32;
/** The two listening sockets. */
const LISTENERS = 2;

/**
 * Sockets the server may hold under `limit`: the soft limit less what is in
 * use, the listeners, one full backlog, refusals in flight and a spare.
 * Throws a RangeError when that leaves nothing.
 */
export function fdBudget(limit: FdLimit | undefined): FdBudget {
  if (limit === undefined || limit.soft === Infinity) {
    return { limit, maxSockets: Infinity, backlog: MAX_BACKLOG, maxRefusing: 64 };
  }
  // A small limit gets a small backlog, so the reserve does not eat it all.
  const backlog = Math.max(8, Math.min(MAX_BACKLOG, Math.floor(limit.soft / 16)));
  const maxRefusing = backlog;
  const reserve = limit.inUse + LISTENERS + backlog + maxRefusing + SPARE;
  const maxSockets = limit.soft - reserve;
  if (maxSockets < 1) {
    throw new RangeError(
      `the open-files limit (${limit.soft}) is too low to serve anything: ${reserve} are ` +
        `needed before the first connection; raise it (ulimit -n)`,
    );
  }
  return { limit, maxSockets, backlog, maxRefusing };
}

/** The soft and hard open-files limits from the text of /proc/self/limits (Linux). */
export function parseProcLimits(text: string): { soft: number; hard: number } | undefined {
  const match = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(text);
  if (!match) return undefined;
  const value = (field: string) => field === "unlimited" ? Infinity : Number(field);
  return { soft: value(match[1]!), hard: value(match[2]!) };
}
