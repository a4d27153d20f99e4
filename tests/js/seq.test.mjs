import assert from "node:assert/strict";
import { test } from "node:test";

import { SeqTracker } from "../../client/seq.js";

test("no resume position before the first snapshot", () => {
  const t = new SeqTracker();
  assert.deepEqual(t.resumeQuery(), {});
  assert.equal(t.check(1), "gap");
});

test("accepts the next seq, ignores old ones, reports gaps", () => {
  const t = new SeqTracker();
  t.snapshot({ seq: 5, epoch: "e" });
  assert.equal(t.check(6), "next");
  assert.equal(t.check(7), "next");
  assert.equal(t.check(7), "stale");
  assert.equal(t.check(3), "stale");
  assert.equal(t.check(9), "gap");
  assert.equal(t.seq, 7, "a gap does not advance");
  assert.deepEqual(t.resumeQuery(), { since: "7", epoch: "e" });
});

test("a snapshot moves the position (also backwards, after a reset)", () => {
  const t = new SeqTracker();
  t.snapshot({ seq: 40, epoch: "old" });
  t.snapshot({ seq: 2, epoch: "new" });
  assert.deepEqual(t.resumeQuery(), { since: "2", epoch: "new" });
  assert.equal(t.check(3), "next");
});

test("empty board: since=0", () => {
  const t = new SeqTracker();
  t.snapshot({ seq: 0, epoch: "e" });
  assert.deepEqual(t.resumeQuery(), { since: "0", epoch: "e" });
  assert.equal(t.check(1), "next");
  t.reset();
  assert.deepEqual(t.resumeQuery(), {});
});
