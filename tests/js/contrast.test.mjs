import assert from "node:assert/strict";
import { test } from "node:test";

import { PALETTE } from "../../client/constants.js";
import { AA, contrastRatio, inkFor, luminance } from "../../client/contrast.js";

const hex = (n) => `#${n.toString(16).padStart(6, "0")}`;

test("luminance and ratio follow WCAG: black on white is 21:1", () => {
  assert.equal(luminance("#000000"), 0);
  assert.equal(luminance("#ffffff"), 1);
  assert.equal(contrastRatio("#000000", "#ffffff"), 21);
  assert.equal(contrastRatio("#ffffff", "#000000"), 21);
  assert.ok(Math.abs(contrastRatio("#777777", "#ffffff") - 4.48) < 0.01);
});

test("the API colour #00eb14 gets dark ink, far above AA (a luma cut gave 1.5:1)", () => {
  const ink = inkFor("#00eb14");
  assert.notEqual(ink, "#ffffff");
  assert.ok(contrastRatio("#00eb14", ink) >= 10, String(contrastRatio("#00eb14", ink)));
});

test("every palette colour reaches AA with its ink", () => {
  for (const { color } of PALETTE) assert.ok(contrastRatio(color, inkFor(color)) >= AA, color);
});

test("every #rrggbb on a fine grid (and the worst mid greys) reaches AA", () => {
  let worst = 21;
  for (let r = 0; r < 256; r += 5) {
    for (let g = 0; g < 256; g += 5) {
      for (let b = 0; b < 256; b += 5) {
        const c = hex((r << 16) | (g << 8) | b);
        worst = Math.min(worst, contrastRatio(c, inkFor(c)));
      }
    }
  }
  for (let v = 0x60; v <= 0x90; v++) {
    const c = hex((v << 16) | (v << 8) | v);
    worst = Math.min(worst, contrastRatio(c, inkFor(c)));
  }
  assert.ok(worst >= AA, `worst ratio ${worst}`);
});
