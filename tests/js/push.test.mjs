import assert from "node:assert/strict";
import { test } from "node:test";

import { Push, PushError, newClientId } from "../../client/push.js";
import { FakeClock, settle } from "./fakes.mjs";

test("client ids are unique and valid for the contract", () => {
  const ids = new Set(Array.from({ length: 1000 }, () => newClientId()));
  assert.equal(ids.size, 1000);
  for (const id of ids) assert.match(id, /^[A-Za-z0-9_.:-]{1,64}$/);
  assert.match(newClientId("c"), /^c\./);
});

test("resolves once, with the ack", async () => {
  const clock = new FakeClock();
  const p = new Push("a", { timeoutMs: 100, onTimeout: () => assert.fail("no timeout"), timers: clock });
  p.startTimer();
  p.resolve({ type: "ack", seq: 1 });
  p.reject(new PushError("conflict", "late"));
  clock.advance(1000);
  assert.deepEqual(await p.promise, { type: "ack", seq: 1 });
  assert.equal(clock.pending, 0);
});

test("the timer runs only while started", async () => {
  const clock = new FakeClock();
  const timedOut = [];
  const p = new Push("a", { timeoutMs: 100, onTimeout: (x) => timedOut.push(x), timers: clock });
  clock.advance(500); // queued offline: no timer
  p.startTimer();
  clock.advance(60);
  p.stopTimer(); // connection lost
  clock.advance(500);
  assert.equal(timedOut.length, 0);
  p.startTimer(); // resent: a full timeout again
  clock.advance(99);
  assert.equal(timedOut.length, 0);
  clock.advance(1);
  assert.deepEqual(timedOut, [p]);
  p.reject(new PushError("timeout", "t", "a"));
  await assert.rejects(p.promise, (err) => err.code === "timeout" && err.clientId === "a");
  await settle();
});
