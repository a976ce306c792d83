// Writers woken during one pass of the event loop (one read's worth of
// messages, say) flush together when it ends: each connection then writes
// everything that pass queued for it at once, however the messages arrived.

let pending: (() => void)[] = [];

function flushAll(): void {
  const flushes = pending;
  pending = [];
  for (let i = 0; i < flushes.length; i++) flushes[i]!();
}

/** Runs `flush` once the current task's work is done; call it once per wake. */
export function flushSoon(flush: () => void): void {
  if (pending.push(flush) === 1) queueMicrotask(flushAll);
}
