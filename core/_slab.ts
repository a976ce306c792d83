// Output buffers for one write each, cut from shared slabs. A fresh small
// Uint8Array costs a backing-store allocation (about a microsecond); a view into
// a slab costs an object. A slab is never reused: when it is full the next one
// is made, and the old one is freed once every write that holds a view is done.

const SLAB_BYTES = 64 * 1024;
/** Larger buffers get their own memory, so one big write never pins a slab. */
const MAX_SLAB_ALLOC = 16 * 1024;

let slab = new Uint8Array(SLAB_BYTES);
let used = 0;

/** A buffer of `length` bytes for one write; its contents are unspecified until filled. */
export function outputBuffer(length: number): Uint8Array<ArrayBuffer> {
  if (length > MAX_SLAB_ALLOC) return new Uint8Array(length);
  if (used + length > SLAB_BYTES) {
    slab = new Uint8Array(SLAB_BYTES);
    used = 0;
  }
  const out = slab.subarray(used, used + length);
  used += length;
  return out;
}
