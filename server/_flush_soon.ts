// Writers woken during one pass of the event loop (one read's worth of
// messages, say) flush together when it ends: each connection then writes
// everything that pass queued for it at once, however the messages arrived.
//
// A big pass (hundreds of connections) spends at most two milliseconds
// writing. The connections it did not reach flush from a shared timer a moment
// later, first, with whatever queued for them meanwhile, and so does anything
// woken before then. A message to a room goes out at once; a fan-out to
// thousands under load gets fewer, larger writes, each costing its sender and
// its reader about what one message would (a message to a thousand sockets is
// a thousand writes). The timer runs only when a pass ran out of budget, never
// for a quiet connection.

/** Longest a pass of flushes runs before the rest wait for the timer, in ms... */
const BUDGET_MS = 2;
/** ...once it has flushed this many: smaller passes (a message to a room) always run whole. */
const MIN_PASS = 256;
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
      i >= MIN_PASS && i % CHECK_EVERY === CHECK_EVERY - 1 && i + 1 < flushes.length &&
      performance.now() > until
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
