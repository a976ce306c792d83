// The open-files limit on Deno (the budget it sets is _fd_budget.ts's).
//
// Deno raises its soft limit to the hard limit when it starts; this raises it
// again where that did not happen, and reads what the process runs with.
// Deno's sandbox keeps /proc/self from anything short of --allow-all, so the
// limit comes from libc through FFI (getrlimit; setrlimit; fcntl to count the
// descriptors in use) when --allow-ffi is granted, else from /proc when it is
// readable. Without either, the limit is unknown and not applied.

import { type FdLimit, parseProcLimits } from "./_fd_budget.ts";

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
    const limits = parseProcLimits(Deno.readTextFileSync("/proc/self/limits"));
    if (!limits) return undefined;
    let inUse = 0;
    for (const _ of Deno.readDirSync("/proc/self/fd")) inUse++;
    return { ...limits, inUse: inUse - 1 }; // less the listing's own
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
