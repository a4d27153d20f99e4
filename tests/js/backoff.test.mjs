import assert from "node:assert/strict";
import { test } from "node:test";

import { backoffDelay } from "../../client/backoff.js";

const opts = { baseMs: 100, factor: 2, maxMs: 5000 };

test("grows exponentially between half and all of the ceiling", () => {
  for (const [attempt, ceiling] of [[0, 100], [1, 200], [2, 400], [3, 800], [5, 3200]]) {
    assert.equal(backoffDelay(attempt, opts, () => 0), ceiling / 2);
    assert.equal(backoffDelay(attempt, opts, () => 0.999999), ceiling);
  }
});

test("is capped at maxMs, even for huge attempt counts", () => {
  assert.equal(backoffDelay(6, opts, () => 1), 5000);
  assert.equal(backoffDelay(10_000, opts, () => 1), 5000);
  assert.equal(backoffDelay(10_000, opts, () => 0), 2500);
});

test("jitter spreads clients out", () => {
  const delays = new Set(Array.from({ length: 50 }, () => backoffDelay(4, opts)));
  assert.ok(delays.size > 10, `only ${delays.size} distinct delays`);
  for (const d of delays) assert.ok(d >= 800 && d <= 1600, `${d} out of range`);
});

test("odd inputs fall back to the first attempt and a sane random", () => {
  assert.equal(backoffDelay(-3, opts, () => 0), 50);
  assert.equal(backoffDelay(Number.NaN, opts, () => 0), 50);
  assert.equal(backoffDelay(0, opts, () => 7), 100); // random clamped to [0, 1]
  assert.ok(Number.isInteger(backoffDelay(2.7, opts)));
});

test("defaults come from constants", () => {
  const d = backoffDelay(0, {}, () => 0);
  assert.ok(d > 0 && d <= 1000);
});
