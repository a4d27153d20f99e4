import assert from "node:assert/strict";
import { test } from "node:test";

import { AwarenessSender, Peers } from "../../client/peers.js";

test("peers: a frame upserts each listed peer with its full state and removes the gone ones", () => {
  let now = 1000;
  const peers = new Peers(() => now);
  const told = [];
  peers.subscribe((changed) => told.push([...changed]));
  peers.apply({
    peers: [
      { peer: "a", name: "Ann", color: "#e6194b", cursor: { x: 1, y: 2 }, editing: 7, selected: [7, 8], view: null },
      { peer: "b", name: "", color: "red", cursor: null, editing: "x", selected: "no", view: { x: 0, y: 0, w: 0, h: 1 } },
      { name: "no id" },
    ],
    gone: [],
  });
  assert.deepEqual(told, [["a", "b"]]);
  const b = peers.byId.get("b");
  assert.equal(b.name, "Someone", "an empty name is shown as someone");
  assert.equal(b.color, "#6b7280", "a colour that is not #rrggbb is not used");
  assert.deepEqual([b.editing, b.selected, b.view], [null, [], null], "malformed fields are dropped");
  assert.deepEqual(peers.editing(7).map((p) => p.name), ["Ann"]);
  assert.equal(peers.selecting(8).peer, "a");
  now = 2000;
  peers.apply({ peers: [{ peer: "a", name: "Ann", color: "#e6194b", cursor: { x: 1, y: 2 }, editing: null, selected: [] }] });
  assert.equal(peers.byId.get("a").movedAt, 1000, "the cursor did not move");
  peers.apply({ peers: [{ peer: "a", name: "Ann", color: "#e6194b", cursor: { x: 5, y: 2 }, selected: [] }], gone: ["b"] });
  assert.equal(peers.byId.get("a").movedAt, 2000);
  assert.equal(peers.byId.has("b"), false);
  peers.reset();
  assert.equal(peers.byId.size, 0);
  assert.deepEqual(told.at(-1), ["a"]);
});

test("sender: at most one frame per interval, only the changed fields, the newest values", () => {
  let now = 0;
  const pending = [];
  const timers = { setTimeout: (fn, ms) => pending.push({ fn, at: now + ms }), clearTimeout: () => {} };
  const sent = [];
  const sender = new AwarenessSender((f) => (sent.push(f), true), { intervalMs: 50, timers, now: () => now });
  const run = () => {
    while (pending.length > 0 && pending[0].at <= now) pending.shift().fn();
  };
  sender.set({ cursor: { x: 1, y: 1 } });
  sender.set({ cursor: { x: 2, y: 2 }, editing: 4 });
  run();
  assert.deepEqual(sent, [{ type: "awareness", cursor: { x: 2, y: 2 }, editing: 4 }]);
  now = 10;
  sender.set({ cursor: { x: 3, y: 3 } });
  sender.set({ editing: 4 }); // unchanged: not sent again
  run();
  assert.equal(sent.length, 1, "not before 50 ms after the last frame");
  now = 50;
  run();
  assert.deepEqual(sent.at(-1), { type: "awareness", cursor: { x: 3, y: 3 } });
  sender.resend();
  now = 100;
  run();
  assert.deepEqual(Object.keys(sent.at(-1)).sort(), ["cursor", "editing", "selected", "type", "view"]);
});

test("sender: a frame that could not be sent is sent with the next one", () => {
  let connected = false;
  const pending = [];
  const timers = { setTimeout: (fn) => pending.push(fn), clearTimeout: () => {} };
  const sent = [];
  const sender = new AwarenessSender((f) => connected && (sent.push(f), true), { timers, now: () => 0 });
  sender.set({ selected: [1, 2] });
  pending.shift()();
  assert.equal(sent.length, 0);
  connected = true;
  sender.set({ cursor: { x: 1, y: 1 } });
  pending.shift()();
  assert.deepEqual(sent, [{ type: "awareness", selected: [1, 2], cursor: { x: 1, y: 1 } }]);
});
