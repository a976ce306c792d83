// The open-files limit on Node and Bun, from /proc through node:fs (Linux).
// Both raise their soft limit to the hard one when they start, as Deno does
// (and neither could here: there is no setrlimit without a native addon), so
// this only reads it. Elsewhere (macOS) it is unknown and not applied.

import { readdirSync, readFileSync } from "node:fs";
import { type FdLimit, parseProcLimits } from "./_fd_budget.ts";

/** The process's open-files limit and descriptors in use; undefined where /proc is not there. */
export function readProcFdLimit(): FdLimit | undefined {
  try {
    const limits = parseProcLimits(readFileSync("/proc/self/limits", "utf8"));
    if (limits === undefined) return undefined;
    // The listing holds one descriptor of its own while it reads.
    const inUse = readdirSync("/proc/self/fd").length - 1;
    return { ...limits, inUse };
  } catch {
    return undefined;
  }
}
