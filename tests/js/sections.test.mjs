import assert from "node:assert/strict";
import { test } from "node:test";

import { membership, sectionOf, templateSections, tidy } from "../../client/sections.js";

const entry = (fields, seq = 1) => ({ view: () => ({ w: 208, h: 150, z: 0, kind: "note", ...fields }), server: { seq } });

test("a note belongs to the topmost section holding its centre; sections and unplaced notes to none", () => {
  const low = entry({ kind: "section", x: 0, y: 0, w: 600, h: 400, z: 0 }, 1);
  const high = entry({ kind: "section", x: 300, y: 0, w: 600, h: 400, z: 2 }, 2);
  const newer = entry({ kind: "section", x: 1000, y: 0, w: 300, h: 300, z: 0 }, 9);
  const older = entry({ kind: "section", x: 1000, y: 0, w: 300, h: 300, z: 0 }, 3);
  const sections = [low, high, newer, older];
  assert.equal(sectionOf({ x: 10, y: 10, w: 208, h: 150, kind: "note" }, sections), low);
  assert.equal(sectionOf({ x: 350, y: 10, w: 208, h: 150, kind: "note" }, sections), high, "the higher z wins");
  assert.equal(sectionOf({ x: 1010, y: 10, w: 100, h: 100, kind: "note" }, sections), newer, "same z: the newer");
  assert.equal(sectionOf({ x: 500, y: 340, w: 208, h: 150, kind: "note" }, sections), null, "centre below both");
  assert.equal(sectionOf({ x: null, y: null, w: 208, h: 150, kind: "note" }, sections), null);
  assert.equal(sectionOf({ x: 10, y: 10, w: 100, h: 100, kind: "section" }, sections), null);
  const a = entry({ x: 10, y: 10 });
  const members = membership([low, a, entry({ x: 2000, y: 2000 })]);
  assert.deepEqual([...members.entries()].map(([s, notes]) => [s, notes]), [[low, [a]]]);
  assert.equal(membership([a]).size, 0);
});

test("tidy lays a section's notes in rows in reading order, as many to a row as fit", () => {
  const section = { x: 100, y: 50, w: 560, h: 600, z: 0, kind: "section" };
  const notes = [
    { x: 400, y: 300, w: 208, h: 150 },
    { x: 120, y: 100, w: 208, h: 150 },
    { x: 300, y: 100, w: 208, h: 200 },
  ].map((n) => ({ ...n, z: 0, kind: "note" }));
  assert.deepEqual(tidy(section, notes), [
    { x: 116, y: 322 }, // third in reading order: a new row under the tallest of the first (200)
    { x: 116, y: 106 },
    { x: 340, y: 106 },
  ]);
});

test("a template is a row of titled, coloured sections", () => {
  const retro = templateSections("retro");
  assert.deepEqual(retro.map((s) => s.text), ["Went well", "To improve", "Actions"]);
  assert.ok(retro.every((s) => s.kind === "section" && s.w === 560 && /^#[0-9a-f]{6}$/.test(s.color)));
  assert.ok(retro[1].x > retro[0].x + retro[0].w, "side by side, not overlapping");
});
