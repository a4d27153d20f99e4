import assert from "node:assert/strict";
import { test } from "node:test";

import { clock } from "../../client/timer.js";

test("the time left as m:ss, rounded up to the second, never below zero", () => {
  assert.equal(clock(300_000), "5:00");
  assert.equal(clock(299_001), "5:00");
  assert.equal(clock(245_000), "4:05");
  assert.equal(clock(720_000), "12:00");
  assert.equal(clock(1), "0:01");
  assert.equal(clock(0), "0:00");
  assert.equal(clock(-5000), "0:00");
});
