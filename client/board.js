// BoardView: draws a NoteStore on the canvas and turns pointer and keyboard input into store calls.
//
// Rendering is batched per animation frame: the ack and the event of one change (or a burst of events)
// touch the DOM once. Note text is always set with textContent; colors are checked against #rrggbb
// before they reach a style. setReadOnly(true) (a read-only access token) turns every way to change a
// note off: create, edit, drag, arrow keys, color and delete.

import { COLOR_RE, MAX_TEXT, PALETTE } from "./constants.js";
import { h, inkFor } from "./ui.js";

// Fallbacks; the real sizes come from the CSS variables --note-w and --note-gap (smaller on phones).
const NOTE_W = 208;
const NOTE_H = 168;
const GAP = 24;
const DRAG_THRESHOLD = 4; // px before a press becomes a drag
const KEY_STEP = 10; // arrow keys move a note this far (Shift: x5)
const KEY_SETTLE_MS = 500; // arrow-key moves are sent once the keys rest this long
const CANVAS_MARGIN = 600; // room beyond the farthest note, so there is always space to drag to
const MAX_COORD = 1_000_000;

export class BoardView {
  /**
   * @param {object} parts
   * @param {HTMLElement} parts.scroller the scrolling viewport (#board)
   * @param {HTMLElement} parts.canvas the positioned area the notes live in (#canvas)
   * @param {HTMLElement} parts.empty the "no notes yet" hint
   * @param {import("./notes.js").NoteStore} parts.store
   * @param {(message: string) => Promise<boolean>} parts.confirm
   * @param {() => string} parts.newColor the color for new notes
   * @param {(color: string) => void} parts.colorPicked remembers the last color picked
   */
  constructor({ scroller, canvas, empty, store, confirm, newColor, colorPicked }) {
    this.scroller = scroller;
    this.canvas = canvas;
    this.empty = empty;
    this.store = store;
    this.confirm = confirm;
    this.newColor = newColor;
    this.colorPicked = colorPicked;
    /** @type {Map<string, HTMLElement>} entry key -> note element */
    this.elements = new Map();
    this._dirty = new Set();
    this._frame = null;
    this._drag = null; // {entry, el, ...} while a note is being dragged
    this._nudge = new Map(); // entry key -> {x, y, timer} while arrow keys move a note
    this._openPalette = null;
    this._synced = false; // a first snapshot arrived
    this.readOnly = false;
    this._editors = new Set(); // cancel functions of the open text editors

    store.subscribe((change) => {
      if (change.type === "upsert") this._schedule(change.entry);
      else if (change.type === "remove") this._removeElement(change.entry);
      else if (change.type === "synced") this._synced = true;
      this._updateEmpty();
    });
    canvas.addEventListener("dblclick", (ev) => {
      if (ev.target !== canvas) return;
      const { x, y } = this._canvasPoint(ev);
      this.createAt(x - this._metrics().width / 2, y - 24);
    });
    document.addEventListener("pointerdown", (ev) => {
      if (this._openPalette !== null && !this._openPalette.contains(ev.target)) this._closePalette();
    });
    window.addEventListener("resize", () => this._scheduleAll());
  }

  /**
   * Allow or forbid changes. Turning it on closes the palette and cancels open editors (a draft is dropped).
   * @param {boolean} on
   */
  setReadOnly(on) {
    this.readOnly = on;
    this.canvas.classList.toggle("read-only", on);
    if (!on) return;
    this._closePalette();
    for (const cancel of [...this._editors]) cancel();
  }

  /** A new note in the visible part of the board: the first free spot, else cascaded near the top. */
  createInView() {
    if (this.readOnly) return;
    const left = this.scroller.scrollLeft;
    const top = this.scroller.scrollTop;
    const viewW = this.scroller.clientWidth;
    const viewH = this.scroller.clientHeight;
    const { width, gap } = this._metrics();
    const height = NOTE_H * (width / NOTE_W);
    // Every note's box, grown by half a gap so a new note keeps some air around it.
    const rects = [...this.elements.values()].filter((el) => !el.hidden).map((el) => noteRect(el, gap / 2));
    const free = (x, y) =>
      rects.every((r) => x + width <= r.left || r.right <= x || y + height <= r.top || r.bottom <= y);
    const step = gap * 2;
    for (let y = top + gap; y + height <= top + viewH - gap; y += step) {
      for (let x = left + gap; x + width <= left + viewW - gap / 2; x += step) {
        if (free(x, y)) {
          this.createAt(x, y);
          return;
        }
      }
    }
    // No free spot in view: cascade from the top, so repeated clicks do not stack notes exactly.
    let x = left + Math.max(gap / 2, Math.min(viewW - width - gap, viewW / 2 - width / 2));
    let y = top + gap * 2;
    const near = (a, b) => Math.abs(a - b) < 12;
    const taken = (px, py) => rects.some((r) => near(r.left + gap / 2, px) && near(r.top + gap / 2, py));
    for (let i = 0; i < 50 && taken(x, y); i++) {
      x += gap;
      y += gap;
    }
    this.createAt(x, y);
  }

  /**
   * A draft note at a canvas position, open for typing.
   * @param {number} x
   * @param {number} y
   */
  createAt(x, y) {
    if (this.readOnly) return;
    const entry = this.store.createDraft({ x: clampCoord(x), y: clampCoord(y), color: this.newColor() });
    this._flush();
    this.startEdit(entry);
  }

  /**
   * Open the text editor of a note.
   * @param {import("./notes.js").Entry} entry
   */
  startEdit(entry) {
    const el = this.elements.get(entry.key);
    if (this.readOnly || el === undefined || el.querySelector(".note-editor") !== null || entry.deleting) return;
    this.store.beginEdit(entry);
    const text = el.querySelector(".note-text");
    const editor = h("textarea", {
      class: "note-editor",
      "data-testid": "note-editor",
      "aria-label": "Note text (Enter saves, Shift+Enter adds a line, Escape cancels)",
      maxlength: MAX_TEXT,
      rows: 4,
    });
    editor.value = entry.view().text;
    text.hidden = true;
    text.after(editor);
    el.classList.add("editing");
    let done = false;
    const finish = (value) => {
      if (done) return;
      done = true;
      this._editors.delete(cancel);
      const hadFocus = document.activeElement === editor;
      editor.remove();
      text.hidden = false;
      el.classList.remove("editing");
      this.store.finishEdit(entry, value);
      this._schedule(entry);
      if (hadFocus && el.isConnected) el.focus({ preventScroll: true });
    };
    const cancel = () => finish(null);
    this._editors.add(cancel);
    editor.addEventListener("keydown", (ev) => {
      ev.stopPropagation(); // keys typed here are text, not note shortcuts
      if (ev.isComposing) return;
      if (ev.key === "Enter" && !ev.shiftKey) {
        ev.preventDefault();
        finish(editor.value);
      } else if (ev.key === "Escape") {
        ev.preventDefault();
        finish(null);
      }
    });
    editor.addEventListener("blur", () => finish(editor.value));
    editor.addEventListener("input", () => fitHeight(editor));
    editor.focus({ preventScroll: true });
    editor.setSelectionRange(editor.value.length, editor.value.length);
    fitHeight(editor);
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
    for (const entry of this.store.list()) this._schedule(entry);
  }

  /** Draw every changed note now. @private */
  _flush() {
    if (this._frame !== null) {
      cancelAnimationFrame(this._frame.raf);
      clearTimeout(this._frame.timer);
      this._frame = null;
    }
    const dirty = [...this._dirty];
    this._dirty.clear();
    // Notes without a position are laid out in a grid, in the order they appeared.
    const auto = new Map();
    const { width, gap } = this._metrics();
    const height = NOTE_H * (width / NOTE_W);
    const columns = Math.max(1, Math.floor((this.scroller.clientWidth - gap) / (width + gap)));
    for (const entry of this.store.list()) {
      const v = entry.view();
      if (v.x === null || v.y === null) {
        const i = auto.size;
        const x = gap + (i % columns) * (width + gap);
        const y = gap + Math.floor(i / columns) * (height + gap);
        auto.set(entry.key, { x, y });
      }
    }
    for (const entry of dirty) {
      if (!entry.removed) this._render(entry, auto.get(entry.key));
    }
    // Auto-placed notes shift when one before them moves away: reposition them all.
    for (const [key, pos] of auto) {
      const el = this.elements.get(key);
      if (el !== undefined && this._drag?.el !== el) placeAt(el, pos.x, pos.y);
    }
    this._fitCanvas();
    this._updateEmpty();
  }

  /** Note width and grid gap as the stylesheet sets them for this screen. @private */
  _metrics() {
    const style = getComputedStyle(this.canvas);
    const width = parseFloat(style.getPropertyValue("--note-w")) || NOTE_W;
    const gap = parseFloat(style.getPropertyValue("--note-gap")) || GAP;
    return { width, gap };
  }

  /** The "empty board" hint, once we know the board's content. @private */
  _updateEmpty() {
    this.empty.hidden = !this._synced || this.store.entries.size > 0;
  }

  /** @private */
  _render(entry, autoPos) {
    const view = entry.view();
    let el = this.elements.get(entry.key);
    if (el === undefined) {
      el = this._build(entry);
      this.elements.set(entry.key, el);
      this.canvas.append(el);
    }
    if (view.id !== null && el.dataset.id !== String(view.id)) {
      el.dataset.id = String(view.id);
      // A slight tilt, the same for a note on every screen: it looks like paper, not like a table.
      const noise = Math.abs(Math.sin(view.id * 12.9898) * 43758.5453) % 1;
      el.style.setProperty("--tilt", `${(noise * 2.4 - 1.2).toFixed(2)}deg`);
    }
    el.dataset.pending = String(view.pending);
    el.dataset.version = view.version === null ? "" : String(view.version);
    el.hidden = view.hidden;

    const color = view.color !== null && COLOR_RE.test(view.color) ? view.color : PALETTE[0].color;
    el.style.setProperty("--note-bg", color);
    el.style.setProperty("--note-ink", inkFor(color));
    el.dataset.color = color.toLowerCase();

    const nudge = this._nudge.get(entry.key);
    if (this._drag?.entry !== entry) {
      const pos = nudge ?? (view.x !== null && view.y !== null ? view : autoPos ?? { x: GAP, y: GAP });
      placeAt(el, Math.max(0, pos.x), Math.max(0, pos.y)); // the canvas starts at 0: keep notes reachable
    }

    const text = el.querySelector(".note-text");
    text.textContent = view.text;
    text.classList.toggle("is-empty", view.text === "");
    const author = view.author ?? "";
    el.querySelector(".note-author").textContent = author;
    const label = view.text.trim() ? view.text.trim().slice(0, 60) : "empty note";
    el.setAttribute("aria-label", author ? `Note by ${author}: ${label}` : `Note: ${label}`);

    el.querySelector(".note-state").hidden = !view.pending;

    el.querySelector(".note-changed").hidden = !entry.changedWhileEditing();

    const conflict = el.querySelector(".note-conflict");
    conflict.hidden = entry.conflict === null;
    if (entry.conflict !== null) {
      const mine = entry.conflict.mine;
      conflict.querySelector(".note-conflict-message").textContent = entry.conflict.message;
      conflict.querySelector(".conflict-mine").hidden = mine === null;
      const yours = conflict.querySelector(".note-conflict-mine");
      yours.hidden = mine === null;
      yours.textContent = mine === null ? "" : `Yours: “${mine.length > 80 ? `${mine.slice(0, 80)}…` : mine}”`;
    }
    for (const swatch of el.querySelectorAll(".swatch")) {
      swatch.setAttribute("aria-pressed", String(swatch.dataset.color === color.toLowerCase()));
    }
  }

  /** The DOM of one note (filled in by _render). @private */
  _build(entry) {
    const swatches = PALETTE.map(({ name, color }) =>
      h("button", {
        type: "button",
        class: "swatch",
        title: name,
        "aria-label": name,
        "data-testid": "swatch",
        dataset: { color: color.toLowerCase() },
        style: `--swatch:${color}`,
        on: {
          click: () => {
            this._closePalette();
            if (this.readOnly) return;
            this.colorPicked(color);
            this.store.setColor(entry, color);
            this.elements.get(entry.key)?.focus({ preventScroll: true });
          },
        },
      }),
    );
    const palette = h(
      "div",
      { class: "note-palette", role: "group", "aria-label": "Note color", hidden: true },
      ...swatches,
    );
    palette.addEventListener("keydown", (ev) => {
      if (ev.key !== "Escape") return;
      ev.stopPropagation();
      this._closePalette();
      colorButton.focus();
    });
    const colorButton = h("button", {
      type: "button",
      class: "note-btn note-color-btn",
      title: "Color",
      "aria-label": "Change color",
      "aria-expanded": "false",
      "data-testid": "note-color-button",
      on: { click: () => this._togglePalette(palette, colorButton) },
    });
    const deleteButton = h(
      "button",
      {
        type: "button",
        class: "note-btn note-delete",
        title: "Delete",
        "aria-label": "Delete note",
        "data-testid": "note-delete",
        on: { click: () => this._askDelete(entry) },
      },
      "×",
    );
    const conflict = h(
      "div",
      { class: "note-conflict", role: "alert", "data-testid": "note-conflict", hidden: true },
      h("p", { class: "note-conflict-message" }),
      h("p", { class: "note-conflict-mine", "data-testid": "conflict-mine-text" }),
      h(
        "div",
        { class: "note-conflict-actions" },
        h("button", {
          type: "button",
          class: "conflict-mine",
          "data-testid": "conflict-use-mine",
          text: "Use my text",
          on: { click: () => this.store.resolveConflict(entry, true) },
        }),
        h("button", {
          type: "button",
          class: "conflict-dismiss",
          "data-testid": "conflict-dismiss",
          text: "Keep theirs",
          on: { click: () => this.store.resolveConflict(entry, false) },
        }),
      ),
    );
    const el = h(
      "article",
      { class: "note", tabindex: "0", "data-testid": "note", "data-key": entry.key, "aria-roledescription": "note" },
      h(
        "div",
        { class: "note-top" },
        h("span", { class: "note-author", "data-testid": "note-author" }),
        h(
          "span",
          { class: "note-state", "data-testid": "note-pending", hidden: true },
          // Which label shows depends on the connection (body[data-connection], see style.css).
          h("span", { class: "note-state-saving", text: "saving…" }),
          h("span", { class: "note-state-waiting", text: "not sent yet" }),
        ),
        colorButton,
        deleteButton,
      ),
      h("p", { class: "note-text", "data-testid": "note-text" }),
      h(
        "p",
        { class: "note-changed", "data-testid": "note-changed", hidden: true },
        "Someone else changed this note meanwhile.",
      ),
      conflict,
      palette,
    );
    el.addEventListener("dblclick", (ev) => {
      if (ev.target.closest("button, textarea, .note-palette, .note-conflict") === null) this.startEdit(entry);
    });
    el.addEventListener("keydown", (ev) => this._onKey(ev, entry, el));
    el.addEventListener("pointerdown", (ev) => this._onPointerDown(ev, entry, el));
    return el;
  }

  /** @private */
  _removeElement(entry) {
    this._dirty.delete(entry);
    const el = this.elements.get(entry.key);
    if (el === undefined) return;
    this.elements.delete(entry.key);
    const hadFocus = el.contains(document.activeElement);
    if (this._openPalette !== null && el.contains(this._openPalette)) this._openPalette = null;
    if (this._drag?.el === el) this._drag = null;
    el.remove();
    if (hadFocus) this.scroller.focus({ preventScroll: true });
  }

  /** Grow the canvas to hold every note plus room to drag further. @private */
  _fitCanvas() {
    let right = 0;
    let bottom = 0;
    for (const el of this.elements.values()) {
      right = Math.max(right, parseFloat(el.style.left) + el.offsetWidth);
      bottom = Math.max(bottom, parseFloat(el.style.top) + el.offsetHeight);
    }
    this.canvas.style.width = `${Math.max(this.scroller.clientWidth, right + CANVAS_MARGIN)}px`;
    this.canvas.style.height = `${Math.max(this.scroller.clientHeight, bottom + CANVAS_MARGIN)}px`;
  }

  // -- input ------------------------------------------------------------------------------------------------

  /** @private */
  _onKey(ev, entry, el) {
    if (ev.target !== el) return; // keys on the note's buttons do what the buttons do
    if (this.readOnly) {
      if (ev.key === "Escape") this._closePalette();
      return;
    }
    const step = ev.shiftKey ? KEY_STEP * 5 : KEY_STEP;
    const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
    if (ev.key === "Enter" || ev.key === "F2") {
      ev.preventDefault();
      this.startEdit(entry);
    } else if (ev.key === "Delete" || ev.key === "Backspace") {
      ev.preventDefault();
      this._askDelete(entry);
    } else if (ev.key in moves) {
      ev.preventDefault();
      const [dx, dy] = moves[ev.key];
      this._nudgeBy(entry, el, dx, dy);
    } else if (ev.key === "Escape") {
      this._closePalette();
    }
  }

  /** Arrow keys: move at once on screen, send one update when the keys rest. @private */
  _nudgeBy(entry, el, dx, dy) {
    let nudge = this._nudge.get(entry.key);
    if (nudge === undefined) {
      nudge = { x: parseFloat(el.style.left), y: parseFloat(el.style.top), timer: 0 };
      this._nudge.set(entry.key, nudge);
    }
    nudge.x = clampCoord(nudge.x + dx);
    nudge.y = clampCoord(nudge.y + dy);
    placeAt(el, nudge.x, nudge.y);
    el.scrollIntoView({ block: "nearest", inline: "nearest" });
    clearTimeout(nudge.timer);
    nudge.timer = setTimeout(() => {
      this._nudge.delete(entry.key);
      if (this.readOnly) this._schedule(entry); // back to where it is
      else this.store.move(entry, nudge.x, nudge.y);
    }, KEY_SETTLE_MS);
  }

  /** Dragging: the note follows the pointer; its position is sent once, on drop. @private */
  _onPointerDown(ev, entry, el) {
    if (ev.button !== 0 || entry.deleting || this.readOnly) return;
    if (ev.target.closest("button, textarea, .note-palette, .note-conflict") !== null) return;
    // On touch screens only the top bar drags, so a swipe over a note still scrolls the board.
    if (ev.pointerType === "touch" && ev.target.closest(".note-top") === null) return;
    const startX = parseFloat(el.style.left);
    const startY = parseFloat(el.style.top);
    const drag = { entry, el, id: ev.pointerId, px: ev.clientX, py: ev.clientY, startX, startY, moved: false };
    drag.x = startX;
    drag.y = startY;
    // Capture now, so a quick flick that leaves the note before the threshold still drags it.
    el.setPointerCapture(drag.id);
    const move = (e) => {
      if (e.pointerId !== drag.id) return;
      const dx = e.clientX - drag.px;
      const dy = e.clientY - drag.py;
      if (!drag.moved && Math.hypot(dx, dy) < DRAG_THRESHOLD) return;
      if (!drag.moved) {
        drag.moved = true;
        this._drag = drag;
        el.classList.add("dragging");
      }
      drag.x = clampCoord(Math.max(0, drag.startX + dx));
      drag.y = clampCoord(Math.max(0, drag.startY + dy));
      placeAt(el, drag.x, drag.y);
    };
    const end = (e) => {
      if (e.pointerId !== drag.id) return;
      el.removeEventListener("pointermove", move);
      el.removeEventListener("pointerup", end);
      el.removeEventListener("pointercancel", end);
      if (!drag.moved) return;
      el.classList.remove("dragging");
      this._drag = null;
      if (e.type === "pointercancel" || this.readOnly) {
        this._schedule(entry); // back to where it was
        return;
      }
      this.store.move(entry, Math.round(drag.x), Math.round(drag.y));
    };
    el.addEventListener("pointermove", move);
    el.addEventListener("pointerup", end);
    el.addEventListener("pointercancel", end);
  }

  /** @private */
  async _askDelete(entry) {
    if (this.readOnly) return;
    const text = entry.view().text.trim();
    const what = text ? `“${text.length > 40 ? `${text.slice(0, 40)}…` : text}”` : "this empty note";
    const yes = await this.confirm(`Delete ${what}? Everyone on this board will lose it.`);
    if (yes && !this.readOnly) this.store.remove(entry);
  }

  /** @private */
  _togglePalette(palette, button) {
    if (this.readOnly) return;
    if (this._openPalette === palette) {
      this._closePalette();
      return;
    }
    this._closePalette();
    palette.hidden = false;
    button.setAttribute("aria-expanded", "true");
    this._openPalette = palette;
    (palette.querySelector('[aria-pressed="true"]') ?? palette.firstElementChild).focus();
  }

  /** @private */
  _closePalette() {
    if (this._openPalette === null) return;
    this._openPalette.hidden = true;
    this._openPalette.parentElement?.querySelector(".note-color-btn")?.setAttribute("aria-expanded", "false");
    this._openPalette = null;
  }

  /** @private */
  _canvasPoint(ev) {
    const rect = this.canvas.getBoundingClientRect();
    return { x: ev.clientX - rect.left, y: ev.clientY - rect.top };
  }
}

/** A note element's box on the canvas, grown by `pad` on every side. */
function noteRect(el, pad) {
  const x = parseFloat(el.style.left);
  const y = parseFloat(el.style.top);
  return { left: x - pad, top: y - pad, right: x + el.offsetWidth + pad, bottom: y + el.offsetHeight + pad };
}

function placeAt(el, x, y) {
  el.style.left = `${x}px`;
  el.style.top = `${y}px`;
}

function clampCoord(v) {
  return Math.max(-MAX_COORD, Math.min(MAX_COORD, Math.round(v)));
}

function fitHeight(textarea) {
  textarea.style.height = "auto";
  textarea.style.height = `${Math.min(textarea.scrollHeight + 2, 320)}px`;
}
