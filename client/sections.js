// Sections (issue #23): notes of kind "section" are titled areas; a note belongs to the topmost section that
// holds its centre (the same rule as the server's Markdown export, core/exchange.py). Pure, for node tests:
// membership, "tidy" (a section's notes in a grid), and the templates that start a board.

export const SECTION_SIZE = Object.freeze({ w: 560, h: 420 });
const PAD = 16; // between a section's edge and its notes, and between notes, when tidied
const TITLE = 56; // the section's title bar

/**
 * @typedef {{x: number|null, y: number|null, w: number, h: number, z: number, kind: string}} Box
 * A note's view (Entry.view()) as far as geometry goes; `seq` orders sections of equal z (newest on top).
 */

/**
 * The section (of `sections`) a note belongs to, or null.
 * @template {{view: () => Box, server?: {seq: number} | null}} E
 * @param {Box} note
 * @param {E[]} sections
 * @returns {E | null}
 */
export function sectionOf(note, sections) {
  if (note.kind === "section" || note.x === null || note.y === null) return null;
  const cx = note.x + note.w / 2;
  const cy = note.y + note.h / 2;
  let best = null;
  let bestRank = null;
  for (const s of sections) {
    const v = s.view();
    if (v.x === null || v.y === null || cx < v.x || cx > v.x + v.w || cy < v.y || cy > v.y + v.h) continue;
    const rank = [v.z, s.server?.seq ?? Infinity];
    if (bestRank === null || rank[0] > bestRank[0] || (rank[0] === bestRank[0] && rank[1] > bestRank[1])) {
      best = s;
      bestRank = rank;
    }
  }
  return best;
}

/**
 * Every note of each section: section -> its notes.
 * @template {{view: () => Box, server?: {seq: number} | null}} E
 * @param {Iterable<E>} entries
 * @returns {Map<E, E[]>}
 */
export function membership(entries) {
  const all = [...entries];
  const sections = all.filter((e) => e.view().kind === "section");
  /** @type {Map<E, E[]>} */
  const members = new Map(sections.map((s) => [s, []]));
  if (sections.length === 0) return members;
  for (const e of all) {
    const home = sectionOf(e.view(), sections);
    if (home !== null) members.get(home)?.push(e);
  }
  return members;
}

/**
 * "Tidy": the notes of a section in rows inside it, in reading order (top to bottom, then left to right), as
 * many to a row as its width holds.
 * @param {Box} section
 * @param {Box[]} notes
 * @returns {{x: number, y: number}[]} one place per note, in the order given
 */
export function tidy(section, notes) {
  const x0 = (section.x ?? 0) + PAD;
  const y0 = (section.y ?? 0) + TITLE;
  const order = notes.map((n, i) => ({ n, i })).sort((a, b) => (a.n.y ?? 0) - (b.n.y ?? 0) || (a.n.x ?? 0) - (b.n.x ?? 0));
  /** @type {{x: number, y: number}[]} */
  const places = new Array(notes.length);
  let x = x0;
  let y = y0;
  let rowH = 0;
  for (const { n, i } of order) {
    if (x > x0 && x + n.w > (section.x ?? 0) + section.w - PAD) {
      x = x0;
      y += rowH + PAD;
      rowH = 0;
    }
    places[i] = { x, y };
    x += n.w + PAD;
    rowH = Math.max(rowH, n.h);
  }
  return places;
}

/** The templates a new or empty board offers: each a row of sections (title, colour). */
export const TEMPLATES = Object.freeze({
  retro: { label: "Retro", sections: [["Went well", "#86efac"], ["To improve", "#fdba74"], ["Actions", "#93c5fd"]] },
  ssc: { label: "Start, Stop, Continue", sections: [["Start", "#86efac"], ["Stop", "#f9a8d4"], ["Continue", "#93c5fd"]] },
  lean: { label: "Lean Coffee", sections: [["To discuss", "#fde68a"], ["Discussing", "#fdba74"], ["Done", "#86efac"]] },
});

/**
 * A template's sections laid out in a row from (x, y).
 * @param {keyof typeof TEMPLATES} name
 * @returns {{text: string, kind: "section", color: string, x: number, y: number, w: number, h: number, z: number}[]}
 */
export function templateSections(name, x = 40, y = 40) {
  return TEMPLATES[name].sections.map(([text, color], i) => ({
    text,
    kind: "section",
    color,
    x: x + i * (SECTION_SIZE.w + 40),
    y,
    w: SECTION_SIZE.w,
    h: SECTION_SIZE.h + 120,
    z: 0,
  }));
}
