import assert from "node:assert/strict";
import { test } from "node:test";

import { QueueFullError, RequestQueue } from "../../client/queue.js";

test("keeps changes in order until taken", () => {
  const q = new RequestQueue();
  q.add("a", { type: "create", text: "1" });
  q.add("b", { type: "create", text: "2" });
  q.add("c", { type: "create", text: "3" });
  assert.equal(q.size, 3);
  assert.deepEqual(q.unsent().map((e) => e.clientId), ["a", "b", "c"]);
  assert.equal(q.take("b").frame.text, "2");
  assert.equal(q.take("b"), undefined);
  assert.deepEqual(q.values().map((e) => e.clientId), ["a", "c"]);
});

test("sent entries are resent after the connection is lost", () => {
  const q = new RequestQueue();
  q.add("a", {});
  q.add("b", {});
  q.markSent("a");
  assert.deepEqual(q.unsent().map((e) => e.clientId), ["b"]);
  q.connectionLost();
  assert.deepEqual(q.unsent().map((e) => e.clientId), ["a", "b"]);
  assert.equal(q.get("a").everSent, true);
  assert.equal(q.get("b").everSent, false);
});

test("amends only frames that never went out", () => {
  const q = new RequestQueue();
  q.add("a", { type: "create", text: "" });
  assert.equal(q.amend("a", { text: "typed offline" }), true);
  assert.equal(q.get("a").frame.text, "typed offline");
  q.markSent("a");
  q.connectionLost();
  assert.equal(q.amend("a", { text: "too late" }), false);
  assert.equal(q.get("a").frame.text, "typed offline");
  assert.equal(q.amend("missing", {}), false);
});

test("refuses more than max and duplicate client ids", () => {
  const q = new RequestQueue({ max: 2 });
  q.add("a", {});
  assert.throws(() => q.add("a", {}), /already queued/);
  q.add("b", {});
  assert.throws(() => q.add("c", {}), (err) => err instanceof QueueFullError && err.code === "queue_full");
  q.take("a");
  q.add("c", {});
  assert.equal(q.size, 2);
});

test("extra fields ride along with the entry", () => {
  const q = new RequestQueue();
  const handle = {};
  const entry = q.add("a", { x: 1 }, { push: handle });
  assert.equal(entry.push, handle);
  assert.equal(q.get("a").push, handle);
});
