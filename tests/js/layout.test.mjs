import assert from "node:assert/strict";
import { test } from "node:test";

import { SHORTCUTS, actionFor } from "../../client/keys.js";
import { ZOOM_STEPS, bounds, fitZoom, freeSpot, stepZoom } from "../../client/layout.js";
import { ago } from "../../client/noteview.js";

const key = (k, mods = {}) => ({ key: k, ctrlKey: false, metaKey: false, altKey: false, shiftKey: false, ...mods });

test("shortcuts: undo/redo with Ctrl or Cmd, letters only outside text fields", () => {
  assert.equal(actionFor(key("z", { ctrlKey: true }), false), "undo");
  assert.equal(actionFor(key("z", { metaKey: true }), false), "undo");
  assert.equal(actionFor(key("Z", { ctrlKey: true, shiftKey: true }), false), "redo");
  assert.equal(actionFor(key("y", { ctrlKey: true }), false), "redo");
  assert.equal(actionFor(key("z", { ctrlKey: true }), true), null, "a text field keeps its own undo");
  assert.equal(actionFor(key("/"), false), "search");
  assert.equal(actionFor(key("?", { shiftKey: true }), false), "help");
  assert.equal(actionFor(key("n"), true), null);
  assert.equal(actionFor(key("n", { altKey: true }), false), null);
  for (const [k, name] of [["n", "new"], ["+", "zoom-in"], ["-", "zoom-out"], ["0", "zoom-reset"], ["f", "fit"]]) {
    assert.equal(actionFor(key(k), false), name);
  }
  assert.ok(SHORTCUTS.length >= 15 && SHORTCUTS.every((s) => s.length === 3));
});

test("zoom steps up and down, and stops at the ends", () => {
  assert.equal(stepZoom(1, 1), 1.25);
  assert.equal(stepZoom(1, -1), 0.8);
  assert.equal(stepZoom(ZOOM_STEPS[0], -1), ZOOM_STEPS[0]);
  assert.equal(stepZoom(2, 1), 2);
  assert.equal(stepZoom(0.9, -1), 0.8);
});

test("fit zoom shows the whole box, never above 100 %", () => {
  assert.equal(fitZoom(null, 1000, 800), 1);
  assert.equal(fitZoom({ left: 0, top: 0, right: 100, bottom: 100 }, 1000, 800), 1);
  const z = fitZoom({ left: 0, top: 0, right: 11600, bottom: 17400 }, 1280, 700);
  assert.ok(z * 17400 <= 700 && z > 0.03, String(z));
  assert.deepEqual(bounds([{ left: 5, top: 1, right: 9, bottom: 3 }, { left: 0, top: 2, right: 4, bottom: 8 }]), {
    left: 0,
    top: 1,
    right: 9,
    bottom: 8,
  });
  assert.equal(bounds([]), null);
});

test("a free spot avoids existing notes; a full view cascades", () => {
  const view = { left: 0, top: 0, width: 800, height: 600 };
  const spot = freeSpot([{ left: 24, top: 24, right: 232, bottom: 174 }], view, 208, 150);
  assert.ok(spot.x >= 232 || spot.y >= 174, JSON.stringify(spot));
  const full = [{ left: -10, top: -10, right: 900, bottom: 700 }];
  const cascade = freeSpot(full, view, 208, 150);
  assert.ok(cascade.y >= 0 && cascade.x >= 0);
});

test("relative times", () => {
  const now = Date.parse("2026-12-01T12:00:00Z");
  assert.equal(ago("2026-12-01T11:59:50Z", now), "just now");
  assert.equal(ago("2026-12-01T11:55:00Z", now), "5 min ago");
  assert.equal(ago("2026-12-01T09:00:00Z", now), "3 h ago");
  assert.equal(ago("2026-11-29T12:00:00Z", now), "2 d ago");
  assert.equal(ago(null, now), "");
});
