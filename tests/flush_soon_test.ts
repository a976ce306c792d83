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

Deno.test("flushSoon: a big pass over budget leaves the rest to a timer, ahead of later wakes", async () => {
  const ran: string[] = [];
  const count = 400;
  for (let i = 0; i < count; i++) {
    flushSoon(() => {
      busy(0.02);
      ran.push(`a${i}`);
    });
  }
  await Promise.resolve();
  const first = ran.length;
  assert.ok(first >= 256 && first < count, `256 at least, then two milliseconds' worth (${first})`);
  flushSoon(() => ran.push("later"));
  await Promise.resolve();
  assert.equal(ran.length, first, "a wake while the timer waits waits for it too");
  for (let turn = 0; turn < 100 && ran.length <= count; turn++) await nextTask();
  assert.deepEqual(
    ran.slice(first, count),
    Array.from({ length: count - first }, (_, i) => `a${first + i}`),
  );
  assert.equal(ran[count], "later", "after the ones left over");
});

Deno.test("flushSoon: a room-sized pass runs whole however slow", async () => {
  const ran: number[] = [];
  for (let i = 0; i < 100; i++) {
    flushSoon(() => {
      busy(0.05);
      ran.push(i);
    });
  }
  await Promise.resolve();
  assert.equal(ran.length, 100, "5 ms of writes, but only 100 connections: no waiting");
});
