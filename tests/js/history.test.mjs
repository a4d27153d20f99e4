import assert from "node:assert/strict";
import { test } from "node:test";

import { UndoStack } from "../../client/history.js";

test("undo and redo walk the steps in order", () => {
  const h = new UndoStack();
  assert.equal(h.undo(), null);
  assert.equal(h.redo(), null);
  h.record("a");
  h.record("b");
  assert.ok(h.canUndo && !h.canRedo);
  assert.equal(h.undo(), "b");
  assert.equal(h.undo(), "a");
  assert.equal(h.undo(), null);
  assert.ok(!h.canUndo && h.canRedo);
  assert.equal(h.redo(), "a");
  assert.equal(h.peekUndo(), "a");
  assert.equal(h.peekRedo(), "b");
  assert.equal(h.redo(), "b");
  assert.equal(h.redo(), null);
});

test("a new step after an undo drops what could be redone", () => {
  const h = new UndoStack();
  h.record("a");
  h.record("b");
  h.undo();
  h.record("c");
  assert.ok(!h.canRedo);
  assert.deepEqual(h.done, ["a", "c"]);
});

test("keeps at least 50 steps, and at most the limit", () => {
  const h = new UndoStack();
  for (let i = 0; i < 60; i++) h.record(i);
  const back = [];
  while (h.canUndo) back.push(h.undo());
  assert.equal(back.length, 60);
  assert.equal(back[0], 59);
  const small = new UndoStack({ limit: 3 });
  for (let i = 0; i < 5; i++) small.record(i);
  assert.deepEqual(small.done, [2, 3, 4]);
});

test("discard forgets a step on either side and tells subscribers", () => {
  const h = new UndoStack();
  let calls = 0;
  h.subscribe(() => calls++);
  const a = { n: 1 };
  const b = { n: 2 };
  h.record(a);
  h.record(b);
  h.undo();
  h.discard(b);
  assert.ok(!h.canRedo);
  h.discardWhere((s) => s.n === 1);
  assert.ok(!h.canUndo);
  assert.equal(calls, 5);
  h.discardWhere(() => true); // nothing left: no call
  assert.equal(calls, 5);
});
