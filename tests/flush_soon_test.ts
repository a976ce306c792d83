// One pass of flushes: everything woken in a task flushes right after it, in
// order; a pass that runs over its budget leaves the rest to a timer.

import assert from "node:assert/strict";
import { flushSoon } from "../server/_flush_soon.ts";

const nextTask = () => new Promise((resolve) => setTimeout(resolve, 0));

function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) { /* a slow write */ }
}

Deno.test("flushSoon: a quiet pass flushes everything right after the task, in order", async () => {
  const ran: number[] = [];
  for (let i = 0; i < 100; i++) flushSoon(() => ran.push(i));
  assert.deepEqual(ran, [], "not re-entrantly");
  await Promise.resolve();
  assert.equal(ran.length, 100, "all in the microtask after the task");
  assert.deepEqual(ran, [...ran].sort((a, b) => a - b));
});

Deno.test("flushSoon: a pass over budget leaves the rest to a timer, ahead of later wakes", async () => {
  const ran: string[] = [];
  for (let i = 0; i < 64; i++) {
    flushSoon(() => {
      busy(0.1);
      ran.push(`a${i}`);
    });
  }
  await Promise.resolve();
  const first = ran.length;
  assert.ok(first >= 16 && first < 64, `a millisecond's worth first, not all 64 (${first})`);
  flushSoon(() => ran.push("later"));
  await Promise.resolve();
  assert.equal(ran.length, first, "a wake while the timer waits waits for it too");
  for (let turn = 0; turn < 100 && ran.length < 65; turn++) await nextTask();
  assert.deepEqual(
    ran.slice(first, 64),
    Array.from({ length: 64 - first }, (_, i) => `a${first + i}`),
  );
  assert.equal(ran[64], "later", "after the ones left over");
});
