// How many sockets this process may hold. Every accepted socket is a file
// descriptor; a process out of them cannot accept (Deno.serve dies of it, and
// node:http's listener stops accepting for good), so the server admits fewer
// sockets than the limit, keeping room for one full listen backlog, refusals
// in flight, and what the process itself has open.
//
// Deno raises its soft limit to the hard limit when it starts; this raises it
// again where that did not happen, and reads what the process runs with.
// Deno's sandbox keeps /proc/self from anything short of --allow-all, so the
// limit comes from libc through FFI (getrlimit; setrlimit; fcntl to count the
// descriptors in use) when --allow-ffi is granted, else from /proc when it is
// readable. Without either, the limit is unknown and not applied.

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

function granted(descriptor: Deno.PermissionDescriptor): boolean {
  try {
    return Deno.permissions.querySync(descriptor).state === "granted";
  } catch {
    return false;
  }
}

/** Limits at or above this are "unlimited" (RLIM_INFINITY differs between systems). */
const UNLIMITED = 2n ** 62n;
/** Descriptors probed when counting those in use at startup. */
const MAX_PROBED = 8192;

const LIBC = {
  linux: { path: "libc.so.6", nofile: 7 },
  darwin: { path: "libSystem.B.dylib", nofile: 8 },
} as const;

function viaLibc(): FdLimit | undefined {
  const target = Deno.build.os === "linux" || Deno.build.os === "darwin"
    ? LIBC[Deno.build.os]
    : undefined;
  if (target === undefined || !granted({ name: "ffi" })) return undefined;
  let lib;
  try {
    lib = Deno.dlopen(target.path, {
      getrlimit: { parameters: ["i32", "buffer"], result: "i32" },
      setrlimit: { parameters: ["i32", "buffer"], result: "i32" },
      fcntl: { parameters: ["i32", "i32"], result: "i32" },
    });
  } catch {
    return undefined;
  }
  try {
    const limits = new BigUint64Array(2);
    if (lib.symbols.getrlimit(target.nofile, limits) !== 0) return undefined;
    const hard = limits[1]!;
    let soft = limits[0]!;
    let raisedFrom: number | undefined;
    if (soft < hard && hard < UNLIMITED) {
      if (lib.symbols.setrlimit(target.nofile, new BigUint64Array([hard, hard])) === 0) {
        raisedFrom = Number(soft);
        soft = hard;
      }
    }
    const number = (value: bigint) => value >= UNLIMITED ? Infinity : Number(value);
    let inUse = 0;
    const probed = Math.min(number(soft), MAX_PROBED);
    for (let fd = 0; fd < probed; fd++) if (lib.symbols.fcntl(fd, 1 /* F_GETFD */) >= 0) inUse++;
    return {
      soft: number(soft),
      hard: number(hard),
      inUse,
      ...(raisedFrom === undefined ? {} : { raisedFrom }),
    };
  } finally {
    lib.close();
  }
}

function viaProc(): FdLimit | undefined {
  if (Deno.build.os !== "linux" || !granted({ name: "read", path: "/proc/self" })) return undefined;
  try {
    const text = Deno.readTextFileSync("/proc/self/limits");
    const match = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(text);
    if (!match) return undefined;
    const value = (field: string) => field === "unlimited" ? Infinity : Number(field);
    let inUse = 0;
    for (const _ of Deno.readDirSync("/proc/self/fd")) inUse++;
    return { soft: value(match[1]!), hard: value(match[2]!), inUse: inUse - 1 }; // less the listing's own
  } catch {
    return undefined; // Deno allows /proc/self only with --allow-all
  }
}

/**
 * Reads the process's open-files limit, raising the soft limit to the hard
 * one first where it may; undefined where it cannot be read.
 */
export function readFdLimit(): FdLimit | undefined {
  return viaLibc() ?? viaProc();
}

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
