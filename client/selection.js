// Multi-select (issue #21): which notes this page has selected, how a selection is made (a rectangle
// dragged on the empty board, Shift-drag anywhere, Shift/Ctrl-click, Ctrl+A; Escape clears), and what is
// done to all of it at once: move (gestures.js drags the group), recolour, delete, bring to front. Each of
// those is ONE undo step (NoteStore.group) and goes out as one burst, so other pages see one change.

import { boxOf } from "./layout.js";
import { h } from "./ui.js";

const RECT_THRESHOLD = 4; // px before a press on the empty board becomes a rectangle

/** The selected notes, by entry key. */
export class Selection {
  constructor() {
    /** @type {Set<string>} */
    this.keys = new Set();
    /** @type {Set<(before: Set<string>) => void>} */
    this._listeners = new Set();
  }

  /** @param {(before: Set<string>) => void} fn told the keys selected before each change */
  subscribe(fn) {
    this._listeners.add(fn);
    return () => this._listeners.delete(fn);
  }

  has(key) {
    return this.keys.has(key);
  }

  get size() {
    return this.keys.size;
  }

  /** @param {Iterable<string>} keys */
  set(keys) {
    const before = this.keys;
    this.keys = new Set(keys);
    if (before.size !== this.keys.size || [...before].some((k) => !this.keys.has(k))) this._emit(before);
  }

  /** @param {string} key */
  toggle(key) {
    const next = new Set(this.keys);
    if (!next.delete(key)) next.add(key);
    this.set(next);
  }

  clear() {
    this.set([]);
  }

  /** @private */
  _emit(before) {
    for (const fn of this._listeners) fn(before);
  }
}

/** The selection's input and its group actions on a BoardView. */
export class SelectionControl {
  /** @param {import("./board.js").BoardView} view */
  constructor(view) {
    this.view = view;
    this.selection = view.selection;
    this.selection.subscribe((before) => this._mark(before));
    view.store.subscribe((change) => {
      if (change.type === "remove" && this.selection.has(change.entry.key)) {
        this.selection.set([...this.selection.keys].filter((k) => k !== change.entry.key));
      }
    });
    view.canvas.addEventListener("pointerdown", (ev) => this._pointerDown(ev), { capture: true });
    document.addEventListener("keydown", (ev) => this._key(ev), { capture: true }); // before a note's own keys
  }

  /** The selected entries that are on the board, in stacking order. */
  entries() {
    const out = [];
    for (const key of this.selection.keys) {
      const entry = this.view.store.entries.get(key);
      if (entry !== undefined && !entry.removed && !entry.draft) out.push(entry);
    }
    return out.sort((a, b) => a.view().z - b.view().z);
  }

  /** Select every note on the board. */
  selectAll() {
    this.selection.set([...this.view.store.entries.values()].filter((e) => !e.draft && !e.view().hidden).map((e) => e.key));
  }

  /** Recolour the whole selection (one undo step, one burst). @param {string} color */
  recolour(color) {
    const entries = this.entries();
    this.view.store.group(() => {
      for (const entry of entries) if (entry.view().color !== color) this.view.store.setColor(entry, color);
    });
  }

  /** Ask, then delete the whole selection (one undo step brings them all back). */
  async deleteAll() {
    const entries = this.entries();
    if (this.view.readOnly || entries.length === 0) return;
    if (entries.length === 1) return this.view.askDelete(entries[0]);
    const yes = await this.view.confirm(
      `Delete ${entries.length} notes? Everyone on this board will lose them (Ctrl+Z brings them back).`,
    );
    if (!yes || this.view.readOnly) return;
    this.view.store.group(() => {
      for (const entry of entries) if (!entry.removed) this.view.store.remove(entry);
    });
  }

  /** Bring the selection to the front, keeping its own stacking order. */
  toFront() {
    const entries = this.entries();
    if (this.view.readOnly || entries.length === 0) return;
    let top = -Infinity;
    for (const other of this.view.store.entries.values()) if (!this.selection.has(other.key)) top = Math.max(top, other.view().z);
    if (!Number.isFinite(top)) top = 0;
    this.view.store.group(() => {
      entries.forEach((entry, i) => this.view.store.setFields(entry, { z: top + 1 + i }));
    });
  }

  // -- input ---------------------------------------------------------------------------------------------

  /** @private @param {PointerEvent} ev */
  _pointerDown(ev) {
    if (ev.button !== 0 || ev.pointerType === "touch") return;
    const target = /** @type {Element} */ (ev.target);
    const note = target.closest(".note");
    const additive = ev.shiftKey || ev.ctrlKey || ev.metaKey;
    if (note !== null && !ev.shiftKey && target.closest("button, textarea, .note-resize, .note-conflict") === null) {
      const key = /** @type {HTMLElement} */ (note).dataset.key;
      if (additive) {
        ev.preventDefault();
        ev.stopPropagation(); // no drag: this click only adds or removes the note
        this.selection.toggle(key);
      } else if (!this.selection.has(key)) {
        this.selection.set([key]);
      }
      return;
    }
    if (note === null ? target !== this.view.canvas : !ev.shiftKey) return;
    ev.preventDefault();
    ev.stopPropagation();
    this._rectangle(ev, additive, note === null ? null : /** @type {HTMLElement} */ (note).dataset.key);
  }

  /**
   * A rectangle dragged from `ev`: the notes it touches become the selection (added to it with Shift). A
   * Shift-press on a note that does not move toggles that note instead. @private
   */
  _rectangle(ev, additive, pressedKey) {
    const { viewport, canvas } = this.view;
    const start = viewport.point(ev);
    const base = additive ? [...this.selection.keys] : [];
    let rect = null;
    canvas.setPointerCapture(ev.pointerId);
    const move = (e) => {
      const at = viewport.point(e);
      const box = { left: Math.min(start.x, at.x), top: Math.min(start.y, at.y), right: Math.max(start.x, at.x), bottom: Math.max(start.y, at.y) };
      if (rect === null) {
        if (Math.hypot(at.x - start.x, at.y - start.y) * viewport.zoom < RECT_THRESHOLD) return;
        rect = h("div", { class: "select-rect", "data-testid": "select-rect" });
        canvas.append(rect);
      }
      Object.assign(rect.style, {
        left: `${box.left}px`,
        top: `${box.top}px`,
        width: `${box.right - box.left}px`,
        height: `${box.bottom - box.top}px`,
      });
      this.selection.set([...base, ...this._inside(box)]);
    };
    const end = () => {
      canvas.removeEventListener("pointermove", move);
      canvas.removeEventListener("pointerup", end);
      canvas.removeEventListener("pointercancel", end);
      if (rect === null && pressedKey !== null) this.selection.toggle(pressedKey); // a Shift-click on a note
      else if (rect === null && !additive) this.selection.clear(); // a click on the empty board
      rect?.remove();
    };
    canvas.addEventListener("pointermove", move);
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
  }

  /** The keys of the notes a box touches. @private */
  _inside(box) {
    const keys = [];
    for (const [key, el] of this.view.elements) {
      const entry = this.view.store.entries.get(key);
      if (entry === undefined || el.hidden) continue;
      const v = entry.view();
      const b = boxOf({ x: parseFloat(el.style.left) || 0, y: parseFloat(el.style.top) || 0, w: v.w, h: v.h });
      if (b.left < box.right && box.left < b.right && b.top < box.bottom && box.top < b.bottom) keys.push(key);
    }
    return keys;
  }

  /** @private @param {KeyboardEvent} ev */
  _key(ev) {
    const target = /** @type {HTMLElement} */ (ev.target);
    if (ev.defaultPrevented || document.querySelector("dialog[open]")) return;
    if (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName)) return;
    if ((ev.ctrlKey || ev.metaKey) && !ev.altKey && ev.key.toLowerCase() === "a") {
      ev.preventDefault();
      this.selectAll();
    } else if (ev.key === "Escape" && this.selection.size > 0) {
      this.selection.clear();
    } else if (this.selection.size > 1 && !ev.ctrlKey && !ev.metaKey && !ev.altKey) {
      if (ev.key === "Delete" || ev.key === "Backspace") {
        ev.preventDefault();
        ev.stopPropagation();
        this.deleteAll();
      } else if (ev.key === "PageUp") {
        ev.preventDefault();
        ev.stopPropagation();
        this.toFront();
      }
    }
  }

  /** Outline the selected notes (and tell screen readers). @private */
  _mark(before) {
    for (const key of before) {
      if (this.selection.has(key)) continue;
      const el = this.view.elements.get(key);
      if (el === undefined) continue;
      el.classList.remove("selected");
      el.removeAttribute("aria-selected");
    }
    for (const key of this.selection.keys) {
      const el = this.view.elements.get(key);
      if (el === undefined) continue;
      el.classList.add("selected");
      el.setAttribute("aria-selected", "true");
    }
    this.view.onSelection(this.entries());
  }
}
