import assert from "node:assert/strict";
import { test } from "node:test";

import { fold, matcher } from "../../client/search.js";

test("an empty query is no filter", () => {
  assert.equal(matcher(""), null);
  assert.equal(matcher("   "), null);
});

test("every word must appear, in text or names, any case and accents", () => {
  const m = matcher("Creme  ADA");
  assert.ok(m({ text: "Crème brûlée", author: "ada" }));
  assert.ok(m({ text: "crème", author: null, updated_by: "Ada L." }));
  assert.ok(!m({ text: "crème", author: "bob" }));
  assert.ok(!m({ text: "", author: null }));
  assert.ok(matcher("ship")({ text: "Ship it" }));
  assert.ok(!matcher("<b>")({ text: "bold" }));
  assert.ok(matcher("<b>")({ text: "a <b> tag" }));
});

test("fold lowercases and strips accents", () => {
  assert.equal(fold("ÉCOLE Ünïcode"), "ecole unicode");
  assert.equal(fold(null), "");
});
