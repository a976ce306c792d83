// Writers woken during one pass of the event loop (one read's worth of
// messages, say) flush together when it ends: each connection then writes
// everything that pass queued for it at once, however the messages arrived.
//
// A pass spends at most a millisecond writing. The connections it did not
// reach flush from a shared timer a moment later, first, with whatever queued
// for them meanwhile, and so does anything woken before then. An idle server
// writes every message at once; a saturated one (a message to a thousand
// sockets is a thousand writes) gets fewer, larger writes, each costing its
// sender and its reader about what one message would. The timer runs only
// when a pass ran out of budget, never for a quiet connection.

/** Longest a pass of flushes runs before the rest wait for the timer, in ms. */
const BUDGET_MS = 1;
/** How many flushes run between two looks at the clock. */
const CHECK_EVERY = 16;

let pending: (() => void)[] = [];
let timer: ReturnType<typeof setTimeout> | undefined;
let microtask = false;

function flushAll(): void {
  microtask = false;
  if (timer !== undefined) return; // the timer's turn: it keeps the order
  run();
}

function flushLate(): void {
  timer = undefined;
  run();
}

function run(): void {
  const flushes = pending;
  pending = [];
  const until = performance.now() + BUDGET_MS;
  for (let i = 0; i < flushes.length; i++) {
    flushes[i]!();
    if (
      i % CHECK_EVERY === CHECK_EVERY - 1 && i + 1 < flushes.length && performance.now() > until
    ) {
      // Out of budget: the rest go first next time, before anything woken since.
      pending = flushes.slice(i + 1).concat(pending);
      timer = setTimeout(flushLate, 0);
      return;
    }
  }
}

/** Runs `flush` once the current task's work is done; call it once per wake. */
export function flushSoon(flush: () => void): void {
  pending.push(flush);
  if (microtask || timer !== undefined) return;
  microtask = true;
  queueMicrotask(flushAll);
}
