// WCAG 2.x contrast: which ink (text colour) reads on a note's background (pure; node tests drive it).
//
// A luma cut (the old way) picks the wrong ink for saturated colours: #00eb14 with light ink is 1.5:1.
// Here both candidate inks are measured with the WCAG relative-luminance formula and the one with the
// higher ratio wins. The page's soft dark ink (#1c1917) is used where it reaches 4.5:1; where neither it
// nor white does (mid tones around #767676), pure black does: black or white always reaches 4.58:1, so
// all note text passes WCAG AA on every colour a note can have.

export const SOFT_INK = "#1c1917";
export const DARK_INK = "#000000";
export const LIGHT_INK = "#ffffff";
export const AA = 4.5;

/**
 * Relative luminance of "#rrggbb" (WCAG 2.x definition).
 * @param {string} hex
 * @returns {number} 0 (black) .. 1 (white)
 */
export function luminance(hex) {
  const n = Number.parseInt(hex.slice(1, 7), 16);
  const channel = (c) => {
    const s = c / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  const [r, g, b] = [(n >> 16) & 255, (n >> 8) & 255, n & 255].map(channel);
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/**
 * Contrast ratio between two "#rrggbb" colours, 1 .. 21.
 * @param {string} a
 * @param {string} b
 */
export function contrastRatio(a, b) {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

/**
 * The ink for text on `background`: the soft dark ink or white, whichever contrasts more, if it reaches
 * AA; else black or white, whichever contrasts more.
 * @param {string} background "#rrggbb"
 * @returns {string} SOFT_INK, DARK_INK or LIGHT_INK
 */
export function inkFor(background) {
  const soft = contrastRatio(background, SOFT_INK);
  const light = contrastRatio(background, LIGHT_INK);
  if (Math.max(soft, light) >= AA) return soft >= light ? SOFT_INK : LIGHT_INK;
  return contrastRatio(background, DARK_INK) >= light ? DARK_INK : LIGHT_INK;
}
