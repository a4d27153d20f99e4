import assert from "node:assert/strict";
import { test } from "node:test";

import { describeChange, restoreFields } from "../../client/changes.js";
import { movePosition, onDocument, smallestEdit } from "../../client/textdiff.js";

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


test("a logged change in words: text diff with context, moved, resized, recoloured, front, created/restored", () => {
  const v1 = { text: "buy milk and bread", x: 1, y: 2, w: 208, h: 150, z: 0, color: null, version: 1 };
  assert.deepEqual(describeChange(null, { op: "created", note: v1 }), [{ kind: "created" }]);
  assert.deepEqual(describeChange(v1, { op: "created", note: { ...v1, version: 4 } }), [{ kind: "restored" }]);
  assert.deepEqual(describeChange(v1, { op: "deleted", note: v1 }), [{ kind: "deleted" }]);
  const v2 = { ...v1, text: "buy oat milk and bread", x: 5, h: 200, color: "#bfdbfe", z: 3, version: 2 };
  assert.deepEqual(describeChange(v1, { op: "updated", note: v2 }), [
    { kind: "text", before: "buy ", removed: "", inserted: "oat ", after: "milk and bread" },
    { kind: "moved" },
    { kind: "resized" },
    { kind: "recoloured", from: null, to: "#bfdbfe" },
    { kind: "front" },
  ]);
  const long = "x".repeat(60);
  const [part] = describeChange({ ...v1, text: `${long}A${long}` }, { op: "updated", note: { ...v1, text: `${long}B${long}` } });
  assert.equal(part.before, `…${"x".repeat(24)}`, "unchanged text is cut to a little context");
  assert.equal(part.after, `${"x".repeat(24)}…`);
  assert.deepEqual([part.removed, part.inserted], ["A", "B"]);
  assert.deepEqual(describeChange(null, { op: "updated", note: v2 }), [], "no earlier state kept: nothing to compare");
});

test("restoring a version sends only what differs, null included (no colour, no place), never z", () => {
  const version = { text: "old", color: null, x: 10, y: null, w: 208, h: 150, z: 1 };
  const now = { text: "new", color: "#bfdbfe", x: 10, y: 40, w: 208, h: 150, z: 9 };
  assert.deepEqual(restoreFields(version, now), { text: "old", color: null, y: null });
  assert.deepEqual(restoreFields(now, now), {});
  assert.deepEqual(restoreFields({ ...version, color: null }, { ...version, color: undefined }), {}, "absent is null");
});

test("typing made on an older text lands on the shared document without eating its ends", () => {
  const apply = (doc, e) => doc.slice(0, e.at) + e.insert + doc.slice(e.at + e.remove);
  // Opened on "tab to mediscarde", the document says "tab to me": all selected and retyped.
  const start = "tab to mediscarde";
  const value = "written before it came";
  const edit = onDocument(smallestEdit(start, value), start, "tab to me", value);
  assert.equal(apply("tab to me", edit), value);
  // The same text: the edit as typed.
  assert.deepEqual(onDocument(smallestEdit("tab to me", "tab to medi"), "tab to me", "tab to me", "tab to medi"), {
    at: 9,
    remove: 0,
    insert: "di",
  });
  // Only typed in: someone else's words in the document stay beside the insertion.
  const typedIn = onDocument(smallestEdit("hello world", "hello big world"), "hello world", "hello there world", "hello big world");
  assert.equal(apply("hello there world", typedIn), "hello big there world");
  // A document that no longer starts or ends as the editor's text did: the editor's text replaces it.
  assert.equal(apply("zzz", onDocument(smallestEdit("abc", "abXc"), "abc", "zzz", "abXc")), "abXc");
});
