import assert from "node:assert/strict";
import { test } from "node:test";

import { movePosition, smallestEdit } from "../../client/textdiff.js";

test("smallest edit: the common prefix and suffix are kept", () => {
  assert.deepEqual(smallestEdit("tab to me", "tab to you"), { at: 7, remove: 2, insert: "you" });
  assert.deepEqual(smallestEdit("abc", "abc"), { at: 3, remove: 0, insert: "" });
  assert.deepEqual(smallestEdit("tab to me", "l"), { at: 0, remove: 9, insert: "l" });
  assert.deepEqual(smallestEdit("aaa", "aaaa"), { at: 3, remove: 0, insert: "a" }, "a repeated letter: at the end");
  assert.deepEqual(smallestEdit("", "new"), { at: 0, remove: 0, insert: "new" });
  assert.deepEqual(smallestEdit("keep this", ""), { at: 0, remove: 9, insert: "" });
});

test("a caret moves with text inserted or deleted before it, not after it", () => {
  assert.equal(movePosition(5, [{ insert: "abc" }]), 8); // typed at the start
  assert.equal(movePosition(5, [{ retain: 5 }, { insert: "abc" }]), 5); // typed at the caret: it stays before
  assert.equal(movePosition(5, [{ retain: 6 }, { insert: "x" }]), 5); // after it
  assert.equal(movePosition(5, [{ retain: 1 }, { delete: 2 }]), 3);
  assert.equal(movePosition(5, [{ retain: 3 }, { delete: 10 }]), 3, "a deletion over the caret leaves it there");
});
