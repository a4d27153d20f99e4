// Sections on the board (issue #23): a section's notes move with it, "Tidy" lays them out in a grid (one undo
// step), and a section can be collapsed to its title on this page (its notes hidden until it opens again; a
// view of this page only, as zoom is). Membership is by the note's centre (sections.js).

import { freeSpot } from "./layout.js";
import { SECTION_SIZE, membership, templateSections, tidy } from "./sections.js";

const COLLAPSED_H = 48; // a collapsed section shows its title bar only

export class SectionControl {
  /** @param {import("./board.js").BoardView} view */
  constructor(view) {
    this.view = view;
    /** @type {Set<number>} ids of the sections collapsed on this page */
    this.collapsed = new Set();
  }

  /** The notes that move with `entry` when it is dragged: a section takes its notes along. */
  group(entry) {
    if (entry.view().kind !== "section") return [entry];
    return [entry, ...(membership(this.view.store.entries.values()).get(entry) ?? [])];
  }

  /**
   * Lay out a section's notes in rows inside it: one update each, one undo step.
   * @param {import("./notes.js").Entry} section
   * @param {(notes: import("./notes.js").Entry[]) => import("./notes.js").Entry[]} [order] the notes' order
   */
  tidy(section, order = (notes) => notes) {
    this.view.store.group(() => this._tidy(section, order));
  }

  /**
   * Tidy every section, its notes in `order` (sort by votes): one undo step for all.
   * @param {(notes: import("./notes.js").Entry[]) => import("./notes.js").Entry[]} order
   */
  tidyAll(order) {
    const sections = [...membership(this.view.store.entries.values()).keys()];
    this.view.store.group(() => sections.forEach((section) => this._tidy(section, order)));
  }

  /** @private */
  _tidy(section, order) {
    if (this.view.readOnly || section.removed) return;
    const notes = order(membership(this.view.store.entries.values()).get(section) ?? []);
    const places = tidy(section.view(), notes.map((n) => n.view()));
    notes.forEach((note, i) => {
      const { x, y } = places[i];
      const v = note.view();
      if (v.x !== x || v.y !== y) this.view.store.setFields(note, { x, y });
    });
  }

  /** Collapse a section to its title, or open it again (this page only). */
  toggle(section) {
    if (section.id === null) return;
    if (!this.collapsed.delete(section.id)) this.collapsed.add(section.id);
    this.view.refresh();
  }

  /** What drawing needs: the collapsed sections' keys, and the keys of the notes they hide. */
  drawing() {
    /** @type {Set<string>} */
    const folded = new Set();
    /** @type {Set<string>} */
    const hidden = new Set();
    if (this.collapsed.size === 0) return { folded, hidden, foldedHeight: COLLAPSED_H };
    for (const [section, notes] of membership(this.view.store.entries.values())) {
      if (section.id === null || !this.collapsed.has(section.id)) continue;
      folded.add(section.key);
      for (const n of notes) hidden.add(n.key);
    }
    return { folded, hidden, foldedHeight: COLLAPSED_H };
  }

  /** A new section in view, its title open for typing. */
  createInView() {
    const view = this.view;
    if (view.readOnly) return;
    const { w, h } = SECTION_SIZE;
    const { x, y } = freeSpot(view.boxes(), view.viewport.visible(), w, h);
    let z = 0;
    for (const e of view.store.entries.values()) if (e.view().kind === "section") z = Math.max(z, e.view().z + 1);
    const entry = view.store.createDraft({ x, y, color: "#e5e7eb", kind: "section", w, h });
    entry.createFields.z = z;
    view.drawNow();
    view.startEdit(entry);
  }

  /** Start a board from a template: its sections in a row, one undo step ("blank": a first note). @param {string} name */
  applyTemplate(name) {
    if (this.view.readOnly) return;
    if (name === "blank") {
      this.view.createInView();
      return;
    }
    const store = this.view.store;
    store.group(() => {
      for (const fields of templateSections(/** @type {any} */ (name))) store.createNote(fields);
    });
    this.view.drawNow();
    this.view.fitToScreen();
  }
}
