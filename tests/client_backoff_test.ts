// When the client reconnects and how long it waits (client/_reconnect_policy.ts).

import assert from "node:assert/strict";
import { backoffFor, delayFor, shouldReconnect } from "../client/_reconnect_policy.ts";

Deno.test("backoffFor() fills the documented defaults, and false turns reconnecting off", () => {
  assert.deepEqual(backoffFor(undefined), {
    initialDelayMs: 500,
    maxDelayMs: 30_000,
    maxAttempts: Infinity,
  });
  assert.deepEqual(backoffFor(true), backoffFor(undefined));
  assert.equal(backoffFor(false), undefined);
  assert.deepEqual(backoffFor({ initialDelayMs: 100, maxAttempts: 3 }), {
    initialDelayMs: 100,
    maxDelayMs: 30_000,
    maxAttempts: 3,
  });
  // Nonsense is made sensible: a ceiling below the start, no attempts at all.
  assert.deepEqual(backoffFor({ initialDelayMs: 1000, maxDelayMs: 10, maxAttempts: 0 }), {
    initialDelayMs: 1000,
    maxDelayMs: 1000,
    maxAttempts: 1,
  });
});

Deno.test("delayFor() waits a random time up to the doubled delay, capped (full jitter)", () => {
  const backoff = { initialDelayMs: 100, maxDelayMs: 1000, maxAttempts: Infinity };
  const most = () => 1;
  assert.deepEqual([1, 2, 3, 4, 5, 40].map((attempt) => delayFor(attempt, backoff, most)), [
    100,
    200,
    400,
    800,
    1000,
    1000,
  ]);
  assert.equal(delayFor(3, backoff, () => 0), 0);
  assert.equal(delayFor(3, backoff, () => 0.5), 200);
  for (let i = 0; i < 100; i++) {
    const delay = delayFor(4, backoff);
    assert.ok(delay >= 0 && delay <= 800, `delay ${delay}`);
  }
});

Deno.test("shouldReconnect() comes back after drops and passing closes, not after quit or violations", () => {
  for (const code of [1001, 1005, 1006, 1011, 1012, 1013, 4000, 4001, 4008, 4029]) {
    assert.equal(shouldReconnect(code, undefined), true, `code ${code}`);
  }
  for (const code of [1000, 1002, 1003, 1007, 1008, 1009, 1010, 4002]) {
    assert.equal(shouldReconnect(code, undefined), false, `code ${code}`);
  }
  // Over TCP the close says little; the error just before it says why.
  assert.equal(shouldReconnect(1005, "slow_consumer"), true);
  assert.equal(shouldReconnect(1005, "rate_limited"), true);
  assert.equal(shouldReconnect(1005, "idle_timeout"), true);
  assert.equal(shouldReconnect(1005, "line_too_long"), false);
  assert.equal(shouldReconnect(1005, "name_taken"), false);
});

Deno.test("shouldReconnect() stays away after a kick, a ban or a refused token; an expired one only when renewable", () => {
  for (const code of [4010, 4011]) {
    assert.equal(shouldReconnect(code, undefined), false, `code ${code}`);
    assert.equal(shouldReconnect(code, undefined, true), false, `code ${code}, renewable`);
  }
  for (const error of ["kicked", "banned", "auth_failed", "auth_required"]) {
    assert.equal(shouldReconnect(1005, error), false, error);
    assert.equal(shouldReconnect(1005, error, true), false, `${error}, renewable`);
  }
  // An expired token: a new login needs a new token, which only the app's function gives.
  assert.equal(shouldReconnect(4003, undefined), false);
  assert.equal(shouldReconnect(4003, "token_expired"), false);
  assert.equal(shouldReconnect(1005, "token_expired"), false);
  assert.equal(shouldReconnect(4003, "token_expired", true), true);
  assert.equal(shouldReconnect(1005, "token_expired", true), true);
});
