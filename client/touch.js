// Touch screens (issue #21): one finger on a note drags it (gestures.js; notes take no native panning),
// one finger on the empty board pans it (the browser's own scrolling), two fingers pinch-zoom around their
// centre, and a long press on a note opens its actions (edit, colour, to the front, delete).

import { h } from "./ui.js";

const LONG_PRESS_MS = 550;
const LONG_PRESS_SLOP = 8; // px a finger may wander and still be a long press

export class TouchControl {
  /** @param {import("./board.js").BoardView} view */
  constructor(view) {
    this.view = view;
    /** @type {{distance: number, zoom: number, anchor: {x: number, y: number}} | null} */
    this._pinch = null;
    this._press = null;
    this._opened = false; // a long press opened the menu and its finger is still down
    this.menu = null;
    const { scroller } = view;
    scroller.addEventListener("touchstart", (ev) => this._start(ev), { passive: false });
    scroller.addEventListener("touchmove", (ev) => this._move(ev), { passive: false });
    scroller.addEventListener("touchend", (ev) => this._end(ev), { passive: false });
    scroller.addEventListener("touchcancel", (ev) => this._end(ev));
    document.addEventListener("pointerdown", (ev) => {
      if (this.menu !== null && !this.menu.contains(/** @type {Node} */ (ev.target))) this.closeMenu();
    });
  }

  // -- pinch ---------------------------------------------------------------------------------------------

  /** @private @param {TouchEvent} ev */
  _start(ev) {
    if (ev.touches.length === 2) {
      this._cancelPress();
      const [a, b] = [ev.touches[0], ev.touches[1]];
      const mid = { clientX: (a.clientX + b.clientX) / 2, clientY: (a.clientY + b.clientY) / 2 };
      this._pinch = {
        distance: Math.hypot(a.clientX - b.clientX, a.clientY - b.clientY),
        zoom: this.view.viewport.zoom,
        anchor: this.view.viewport.point(mid),
      };
      ev.preventDefault(); // no browser zoom, no pan: this is ours
    } else if (ev.touches.length === 1) {
      this._startPress(ev);
    }
  }

  /** @private @param {TouchEvent} ev */
  _move(ev) {
    if (this._pinch !== null && ev.touches.length === 2) {
      ev.preventDefault();
      const [a, b] = [ev.touches[0], ev.touches[1]];
      const scale = Math.hypot(a.clientX - b.clientX, a.clientY - b.clientY) / Math.max(1, this._pinch.distance);
      this._zoomAround(this._pinch.zoom * scale, this._pinch.anchor, {
        clientX: (a.clientX + b.clientX) / 2,
        clientY: (a.clientY + b.clientY) / 2,
      });
      return;
    }
    const t = ev.touches[0];
    if (this._press !== null && Math.hypot(t.clientX - this._press.x, t.clientY - this._press.y) > LONG_PRESS_SLOP) {
      this._cancelPress();
    }
  }

  /** @private @param {TouchEvent} ev */
  _end(ev) {
    if (ev.touches.length < 2) this._pinch = null;
    if (ev.touches.length === 0) this._cancelPress();
    if (this._opened && ev.touches.length === 0) {
      this._opened = false;
      if (ev.cancelable) ev.preventDefault(); // the finger that opened the menu must not also tap in it
    }
  }

  /**
   * Zoom so that the board point `anchor` stays under the screen point `at` (the fingers' centre).
   * @private
   */
  _zoomAround(zoom, anchor, at) {
    const { viewport, scroller } = this.view;
    viewport.setZoom(zoom);
    const rect = scroller.getBoundingClientRect();
    scroller.scrollLeft = anchor.x * viewport.zoom - (at.clientX - rect.left);
    scroller.scrollTop = anchor.y * viewport.zoom - (at.clientY - rect.top);
  }

  // -- long press ----------------------------------------------------------------------------------------

  /** @private @param {TouchEvent} ev */
  _startPress(ev) {
    this._cancelPress();
    const target = /** @type {Element} */ (ev.target);
    const el = target.closest?.(".note");
    if (!el || target.closest("button, textarea") !== null) return;
    const entry = this.view.store.entries.get(/** @type {HTMLElement} */ (el).dataset.key);
    if (entry === undefined || this.view.readOnly) return;
    const t = ev.touches[0];
    this._press = {
      x: t.clientX,
      y: t.clientY,
      timer: setTimeout(() => {
        this._press = null;
        this.view.gestures.cancel(entry); // the finger stays down: no drag after the menu opens
        this._opened = true;
        this.openMenu(entry, /** @type {HTMLElement} */ (el));
      }, LONG_PRESS_MS),
    };
  }

  /** @private */
  _cancelPress() {
    if (this._press !== null) clearTimeout(this._press.timer);
    this._press = null;
  }

  /** A note's actions, next to it. @param {import("./notes.js").Entry} entry @param {HTMLElement} el */
  openMenu(entry, el) {
    this.closeMenu();
    const act = (name, label) =>
      h("button", { type: "button", class: "menu-item", role: "menuitem", "data-testid": `note-action-${name}` }, label);
    /** @type {[HTMLButtonElement, () => void][]} */
    const items = [
      [act("edit", "Edit text"), () => this.view.startEdit(entry)],
      [act("colour", "Colour…"), () => this.view.togglePalette(entry, el)],
      [act("front", "Bring to front"), () => this._toFront(entry)],
      [act("versions", "Versions…"), () => this.view.showVersions(entry)],
      [act("delete", "Delete…"), () => this.view.askDelete(entry)],
    ];
    const menu = h("div", { class: "menu-pop note-actions", role: "menu", "data-testid": "note-actions", "aria-label": "Note actions" });
    for (const [button, fn] of items) {
      button.addEventListener("click", () => {
        this.closeMenu();
        fn();
      });
      menu.append(button);
    }
    const r = el.getBoundingClientRect();
    menu.style.left = `${Math.max(8, Math.min(r.left, innerWidth - 220))}px`;
    menu.style.top = `${Math.max(8, Math.min(r.top + 24, innerHeight - 200))}px`;
    document.body.append(menu);
    this.menu = menu;
    /** @type {HTMLElement} */ (menu.firstElementChild).focus();
  }

  closeMenu() {
    this.menu?.remove();
    this.menu = null;
  }

  /** @private */
  _toFront(entry) {
    const z = this.view.frontZ(entry);
    if (z !== null) this.view.store.setFields(entry, { z });
  }
}
