// BoardView: draws a NoteStore on the canvas and turns input on notes into store calls.
//
// Rendering is batched per animation frame: the ack and the event of one change (or a snapshot of
// thousands of notes) touch the DOM once; new notes go in through one DocumentFragment. Each note's DOM
// is in noteview.js, gestures in gestures.js, geometry and zoom in layout.js. setReadOnly(true) (a
// read-only access token) turns every way to change a note off.

import { openEditor } from "./editor.js";
import { Gestures, clampCoord } from "./gestures.js";
import { Viewport, autoPlaces, boxOf, bounds, freeSpot } from "./layout.js";
import { buildNote, renderNote } from "./noteview.js";
import { NOTE_DEFAULTS } from "./notes.js";
import { Palette } from "./palette.js";
import { Selection, SelectionControl } from "./selection.js";
import { SectionControl } from "./sectionview.js";

export class BoardView {
  /**
   * @param {object} parts
   * @param {HTMLElement} parts.scroller the scrolling viewport (#board)
   * @param {HTMLElement} parts.canvas the positioned area the notes live in (#canvas)
   * @param {HTMLElement} parts.empty the "no notes yet" hint
   * @param {import("./notes.js").NoteStore} parts.store
   * @param {(message: string, ok?: string) => Promise<boolean>} parts.confirm
   * @param {() => string} parts.newColor the colour for new notes
   * @param {(color: string) => void} parts.colorPicked remembers the last colour picked
   */
  constructor({ scroller, canvas, empty, store, confirm, newColor, colorPicked }) {
    this.scroller = scroller;
    this.canvas = canvas;
    this.empty = empty;
    this.store = store;
    this.confirm = confirm;
    this.newColor = newColor;
    this.colorPicked = colorPicked;
    this.viewport = new Viewport(scroller, canvas);
    /** @type {Map<string, import("./noteview.js").NoteElement>} entry key -> note element */
    this.elements = new Map();
    this.readOnly = false;
    this.match = null; // the search's predicate, null: no search
    this._dirty = new Set();
    this._frame = null;
    this._synced = false; // a first snapshot arrived
    this._editors = new Set(); // cancel functions of the open text editors
    /** @type {(entry: import("./notes.js").Entry) => string | null} a warning before editing (peerview.js) */
    this.editWarning = () => null;
    /** @type {(entry: import("./notes.js").Entry | null) => void} told when this page starts or stops editing */
    this.onEditing = () => {};
    /** @type {((noteId: number, editor: HTMLTextAreaElement) => import("./textsync.js").SharedText) | null} */
    this.shareText = null; // a saved note's text typed together (app.js sets it)
    /** @type {(entry: import("./notes.js").Entry) => void} show a note's versions (versions.js; app.js sets it) */
    this.showVersions = () => {};
    /** @type {(entry: import("./notes.js").Entry, delta: number) => void} vote for a note (voteview.js sets it) */
    this.vote = () => {};
    /** @type {() => object} what drawing needs of the board's vote (voteview.js sets it) */
    this.votes = () => ({});
    this.selection = new Selection();
    /** @type {(entries: import("./notes.js").Entry[]) => void} told the selected notes after each change */
    this.onSelection = () => {};
    this.palette = new Palette((entry, color) => {
      if (this.readOnly || entry.removed) return;
      colorPicked(color);
      if (this.selection.size > 1 && this.selection.has(entry.key)) this.selecting.recolour(color);
      else store.setColor(entry, color);
    });
    this._conflict = {
      useMine: (entry) => this.store.resolveConflict(entry, true),
      keepTheirs: (entry) => this.store.resolveConflict(entry, false),
    };
    this.gestures = new Gestures({
      store,
      viewport: this.viewport,
      readOnly: () => this.readOnly,
      redraw: (entry) => this._schedule(entry),
      frontZ: (entry) => this.frontZ(entry),
      group: (entry) =>
        this.selection.size > 1 && this.selection.has(entry.key) ? this.selecting.entries() : this.sections.group(entry),
      elementOf: (entry) => this.elements.get(entry.key),
    });
    this.selecting = new SelectionControl(this);
    this.sections = new SectionControl(this);

    store.subscribe((change) => {
      if (change.type === "upsert") this._schedule(change.entry);
      else if (change.type === "remove") this._removeElement(change.entry);
      else if (change.type === "synced") this._synced = true;
      this._updateEmpty();
    });
    canvas.addEventListener("dblclick", (ev) => {
      if (ev.target !== canvas) return;
      const { x, y } = this.viewport.point(ev);
      this.createAt(x - NOTE_DEFAULTS.w / 2, y - 24);
    });
    // One listener per kind for all notes (cheaper than three per note on a large board).
    canvas.addEventListener("pointerdown", (ev) => this._onNote(ev, (entry, el) => this.gestures.pointerDown(ev, entry, el)));
    canvas.addEventListener("keydown", (ev) => this._onNote(ev, (entry, el) => this._onKey(ev, entry, el)));
    canvas.addEventListener("dblclick", (ev) =>
      this._onNote(ev, (entry) => {
        const target = /** @type {Element} */ (ev.target);
        if (target.closest("button, textarea, .note-palette, .note-conflict, .note-resize") === null) this.startEdit(entry);
      }),
    );
    canvas.addEventListener("click", (ev) =>
      this._onNote(ev, (entry, el) => {
        const action = /** @type {HTMLElement | null} */ (/** @type {Element} */ (ev.target).closest("[data-action]"))
          ?.dataset.action;
        if (action === "versions") this.showVersions(entry);
        else if (action === "tidy") this.sections.tidy(entry);
        else if (action === "collapse") this.sections.toggle(entry);
        else if (action === "delete") this.askDelete(entry);
        else if (action === "palette") this.togglePalette(entry, el);
        else if (action === "vote") this.vote(entry, 1);
        else if (action === "unvote") this.vote(entry, -1);
      }),
    );
    document.addEventListener("pointerdown", (ev) => this.palette.closeUnless(ev.target));
    window.addEventListener("resize", () => this._scheduleAll());
    this.viewport.subscribe(() => this._fitCanvas());
    setInterval(() => this._scheduleAll(), 60_000); // "5 min ago" stays true
  }

  /** Allow or forbid changes. Turning it on closes the palette and cancels open editors (a draft is dropped). */
  setReadOnly(on) {
    this.readOnly = on;
    this.canvas.classList.toggle("read-only", on);
    if (!on) return;
    this.closePalette();
    for (const cancel of [...this._editors]) cancel();
  }

  /** Draw every note again (the board was hidden, e.g. while the history showed). */
  refresh() {
    this._scheduleAll();
  }

  /** Draw what changed now rather than at the next frame (before scrolling to a place on the canvas). */
  drawNow() {
    this._flush();
  }

  /** Highlight notes matching `match` and dim the others (null: no search). */
  setMatch(match) {
    this.match = match;
    this._scheduleAll();
  }

  /**
   * The z that brings a note to the front, or null when nothing covers it: a note no other note overlaps
   * from above is not changed (no version bump, no write) by picking it.
   */
  frontZ(entry) {
    const own = this._placedBox(entry);
    const { z, kind } = entry.view();
    let top = -Infinity;
    let covered = false;
    for (const other of this.store.entries.values()) {
      if (other === entry || other.view().kind !== kind) continue; // sections lie under every note
      const oz = other.view().z;
      top = Math.max(top, oz);
      if (covered || oz < z || own === null) continue;
      const box = this._placedBox(other);
      covered = box !== null && box.left < own.right && own.left < box.right && box.top < own.bottom && own.top < box.bottom;
    }
    return covered ? top + 1 : null;
  }

  /** A note's box as drawn (its element's place), or null when it has none. @private */
  _placedBox(entry) {
    const el = this.elements.get(entry.key);
    if (el === undefined || el.hidden) return null;
    const v = entry.view();
    return boxOf({ x: parseFloat(el.style.left) || 0, y: parseFloat(el.style.top) || 0, w: v.w, h: v.h });
  }

  /** Every note's box, for fit-to-screen and free spots. */
  boxes(auto = autoPlaces(this.store.entries.values(), this.viewport.visible().width)) {
    const out = [];
    for (const entry of this.store.entries.values()) {
      const v = entry.view();
      if (v.hidden) continue;
      const at = v.x !== null && v.y !== null ? v : auto.get(entry.key);
      out.push(boxOf({ x: Math.max(0, at.x), y: Math.max(0, at.y), w: v.w, h: v.h }));
    }
    return out;
  }

  /** Zoom out (or in) so that every note is in view. */
  fitToScreen() {
    this.viewport.fit(bounds(this.boxes()));
  }

  /** A new note in the visible part of the board: the first free spot, else cascaded near the top. */
  createInView() {
    if (this.readOnly) return;
    const { w, h } = NOTE_DEFAULTS;
    const { x, y } = freeSpot(this.boxes(), this.viewport.visible(), w, h);
    this.createAt(x, y);
  }

  /** A draft note at a canvas position, open for typing. */
  createAt(x, y) {
    if (this.readOnly) return;
    let z = 0;
    for (const e of this.store.entries.values()) z = Math.max(z, e.view().z + 1);
    const entry = this.store.createDraft({ x: clampCoord(x), y: clampCoord(y), color: this.newColor() });
    entry.createFields.z = z; // new notes start on top
    this._flush();
    this.startEdit(entry);
  }

  /** Open the text editor of a note; when someone else is editing it (`editWarning`), ask first. */
  async startEdit(entry) {
    if (!this._canEdit(entry)) return;
    const warning = this.editWarning(entry);
    if (warning !== null && !(await this.confirm(warning, "Edit anyway"))) return;
    const el = this.elements.get(entry.key);
    if (!this._canEdit(entry)) return; // the note changed while the question was open
    const shareText = this.shareText;
    const cancel = openEditor(el, entry, this.store, {
      share: shareText !== null && entry.id !== null ? (editor) => shareText(entry.id, editor) : undefined,
      closed: () => {
        this._editors.delete(cancel);
        this._schedule(entry);
        this.onEditing(null);
      },
    });
    this._editors.add(cancel);
    this.onEditing(entry);
  }

  /** @private */
  _canEdit(entry) {
    const el = this.elements.get(entry.key);
    if (entry.view().privacy === "hidden") return false; // someone else's, written privately: theirs until the reveal
    return !(this.readOnly || el === undefined || el.querySelector(".note-editor") !== null || entry.deleting);
  }

  /** Ask, then delete. */
  async askDelete(entry) {
    if (this.readOnly) return;
    const text = entry.view().text.trim();
    const what = text ? `“${text.length > 40 ? `${text.slice(0, 40)}…` : text}”` : "this empty note";
    const yes = await this.confirm(`Delete ${what}? Everyone on this board will lose it (Ctrl+Z brings it back).`);
    if (yes && !this.readOnly) this.store.remove(entry);
  }

  /** The focused note's entry, if a note has the focus. */
  focusedEntry() {
    const el = document.activeElement?.closest?.(".note");
    return el ? this._entryOf(el) : null;
  }

  togglePalette(entry, el) {
    if (!this.readOnly) this.palette.toggle(entry, el);
  }

  closePalette() {
    this.palette.close();
  }

  // -- rendering ----------------------------------------------------------------------------------------

  /** @private */
  _schedule(entry) {
    this._dirty.add(entry);
    if (this._frame !== null) return;
    // requestAnimationFrame pauses in background tabs; the timeout keeps them current anyway.
    const run = () => this._flush();
    this._frame = { raf: requestAnimationFrame(run), timer: setTimeout(run, 100) };
  }

  /** @private */
  _scheduleAll() {
    for (const entry of this.store.entries.values()) this._schedule(entry);
  }

  /** Draw every changed note now; new ones are added in one fragment. @private */
  _flush() {
    if (this._frame !== null) {
      cancelAnimationFrame(this._frame.raf);
      clearTimeout(this._frame.timer);
      this._frame = null;
    }
    const dirty = [...this._dirty];
    this._dirty.clear();
    // Read the viewport before writing anything, so the flush forces no layout.
    const visible = this.viewport.visible();
    const auto = autoPlaces(this.store.entries.values(), visible.width);
    const ctx = {
      match: this.match,
      now: Date.now(),
      onConflict: this._conflict,
      ...this.sections.drawing(), // collapsed sections, and the notes they hide
      votes: this.votes(),
    };
    const fresh = document.createDocumentFragment();
    for (const entry of dirty) {
      if (entry.removed) continue;
      let el = this.elements.get(entry.key);
      if (el === undefined) {
        el = buildNote(entry.key);
        if (this.selection.has(entry.key)) el.classList.add("selected");
        this.elements.set(entry.key, el);
        fresh.append(el);
      }
      const v = entry.view();
      const place = this.gestures.holding(entry) ? null : v.x !== null && v.y !== null ? v : auto.get(entry.key);
      renderNote(el, entry, place ?? null, ctx);
    }
    this.canvas.append(fresh);
    // Auto-placed notes shift when one before them moves away: reposition them all.
    for (const [key, pos] of auto) {
      const el = this.elements.get(key);
      if (el !== undefined && this.gestures.active?.el !== el) {
        el.style.left = `${pos.x}px`;
        el.style.top = `${pos.y}px`;
      }
    }
    this.viewport.fitCanvas(bounds(this.boxes(auto)), visible);
    this._updateEmpty();
  }

  /** @private */
  _fitCanvas() {
    this.viewport.fitCanvas(bounds(this.boxes()), this.viewport.visible());
  }

  /** The "empty board" hint, once we know the board's content. @private */
  _updateEmpty() {
    this.empty.hidden = !this._synced || this.store.entries.size > 0;
  }

  /** @private */
  _removeElement(entry) {
    this._dirty.delete(entry);
    this.gestures.forget(entry);
    const el = this.elements.get(entry.key);
    if (el === undefined) return;
    this.elements.delete(entry.key);
    const hadFocus = el.contains(document.activeElement);
    if (this.palette.entry === entry) this.closePalette();
    el.remove();
    if (hadFocus) this.scroller.focus({ preventScroll: true });
  }

  /** @private */
  _entryOf(el) {
    const entry = this.store.entries.get(el.dataset.key);
    return entry !== undefined && this.elements.get(entry.key) === el ? entry : null;
  }

  /** Run `fn(entry, el)` when an event happened on a note. @private */
  _onNote(ev, fn) {
    const el = ev.target.closest?.(".note");
    if (!el || !this.canvas.contains(el)) return;
    const entry = this._entryOf(el);
    if (entry !== null) fn(entry, el);
  }

  /** Keys on a focused note. @private */
  _onKey(ev, entry, el) {
    if (ev.target !== el) return; // keys on the note's buttons do what the buttons do
    if (ev.key === "Escape") {
      this.closePalette();
      return;
    }
    if (ev.ctrlKey || ev.metaKey) return;
    if ((ev.key === "v" || ev.key === "V") && !ev.altKey) {
      ev.preventDefault();
      this.showVersions(entry); // reading them needs no write access
      return;
    }
    if (this.readOnly) return;
    if ((ev.key === "d" || ev.key === "D") && !ev.altKey) {
      ev.preventDefault();
      this.vote(entry, ev.shiftKey ? -1 : 1);
      return;
    }
    if (ev.key === "Enter" || ev.key === "F2") {
      ev.preventDefault();
      this.startEdit(entry);
    } else if (ev.key === "Delete" || ev.key === "Backspace") {
      ev.preventDefault();
      this.askDelete(entry);
    } else if (ev.key === "c" || ev.key === "C") {
      ev.preventDefault();
      this.togglePalette(entry, el);
    } else if (ev.key === "PageUp") {
      ev.preventDefault();
      const z = this.frontZ(entry);
      if (z !== null) this.store.setFields(entry, { z });
    } else {
      this.gestures.arrowKey(ev, entry, el);
    }
  }
}
