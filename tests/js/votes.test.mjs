import assert from "node:assert/strict";
import { test } from "node:test";

import { VoteState, byVotes } from "../../client/votes.js";

const vote = (fields = {}) => ({ open: true, budget: 3, hidden: false, multiple: false, ...fields });

test("the snapshot's votes: mine, left, and totals only when they may be seen", () => {
  const s = new VoteState();
  s.snapshot({ vote: vote({ hidden: true }) }, { mine: { 4: 1 }, left: 2 });
  assert.deepEqual([...s.mine], [[4, 1]]);
  assert.equal(s.left, 2);
  assert.equal(s.totals, null);
  assert.ok(!s.canVote(4) && s.canVote(5));
  s.snapshot({ vote: vote() }, { mine: {}, left: 3, totals: { 4: 2 } });
  assert.deepEqual([...s.totals], [[4, 2]]);
  s.snapshot(undefined, undefined);
  assert.equal(s.vote, null);
  assert.ok(!s.canVote(4));
});

test("vote frames: our own set mine and left, others' totals; a hidden one changes nothing", () => {
  const s = new VoteState();
  s.snapshot({ vote: vote() }, { mine: {}, left: 3, totals: {} });
  s.voted({ type: "vote", seq: 5, id: 7, delta: 1, mine: 1, left: 2, votes: 1 });
  s.voted({ type: "vote", seq: 6, id: 7, delta: 1, votes: 2 });
  s.voted({ type: "vote", seq: 7, hidden: true });
  assert.deepEqual([...s.mine], [[7, 1]]);
  assert.equal(s.left, 2);
  assert.deepEqual([...s.totals], [[7, 2]]);
  s.acked({ id: 7, delta: -1, mine: 0, left: 3, votes: 1 });
  assert.equal(s.mine.size, 0);
  assert.equal(s.left, 3);
  s.dropped(7);
  assert.equal(s.totals.size, 0);
});

test("session frames: a new vote starts empty, the close brings the totals, no vote drops it all", () => {
  const s = new VoteState();
  s.snapshot({ vote: vote({ open: false }) }, { mine: { 1: 1 }, left: 2, totals: { 1: 4 } });
  s.session({ type: "session", seq: 9, session: { vote: vote({ hidden: true, budget: 2 }) } });
  assert.equal(s.mine.size, 0);
  assert.equal(s.left, 2);
  assert.equal(s.totals, null);
  s.voted({ id: 3, mine: 1, left: 1 });
  s.session({ type: "session", seq: 11, session: { vote: vote({ hidden: true, budget: 2, open: false }) }, votes: { 3: 5 } });
  assert.deepEqual([...s.totals], [[3, 5]]);
  assert.deepEqual([...s.mine], [[3, 1]]);
  assert.ok(!s.canVote(2));
  s.session({ type: "session", seq: 12, session: { vote: null } });
  assert.equal(s.vote, null);
  assert.equal(s.totals, null);
  assert.equal(s.mine.size, 0);
});

test("byVotes orders most votes first and keeps ties in their order", () => {
  const counts = { a: 1, b: 3, c: 1, d: 0 };
  assert.deepEqual(byVotes(["a", "b", "c", "d"], (n) => counts[n]), ["b", "a", "c", "d"]);
});
