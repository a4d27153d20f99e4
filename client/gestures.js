// Pointer and arrow-key gestures on notes: drag to move, the corner handle to resize, arrow keys to move
// (Alt+arrows to resize). Each gesture shows at once and sends one update when it ends; picking a note
// (pressing on it) brings it to the front, sent with the same update (z = the board's highest + 1).

import { COORD_LIMIT, SIZE_MAX, SIZE_MIN } from "./contract.js";

const DRAG_THRESHOLD = 4; // px before a press becomes a drag
const KEY_STEP = 10; // arrow keys move a note this far (Shift: x5)
const KEY_SETTLE_MS = 500; // arrow-key moves are sent once the keys rest this long
const MAX_COORD = COORD_LIMIT;
export const MIN_SIZE = SIZE_MIN;
export const MAX_SIZE = SIZE_MAX;

export function clampCoord(v) {
  return Math.max(-MAX_COORD, Math.min(MAX_COORD, Math.round(v)));
}

export function clampSize(v) {
  return Math.max(MIN_SIZE, Math.min(MAX_SIZE, Math.round(v)));
}

export class Gestures {
  /**
   * @param {object} host what the gestures need from the board view
   * @param {import("./notes.js").NoteStore} host.store
   * @param {import("./layout.js").Viewport} host.viewport
   * @param {() => boolean} host.readOnly
   * @param {(entry: object) => void} host.redraw draw a note as the store has it (after a cancelled gesture)
   * @param {(entry: object) => number | null} host.frontZ z that brings a note to the front, null if it is there
   * @param {(entry: object) => object[]} host.group the notes that move with this one (the selection holding it)
   * @param {(entry: object) => HTMLElement | undefined} host.elementOf a note's element
   */
  constructor(host) {
    this.host = host;
    this.active = null; // {entry, el} while a pointer gesture runs
    this._nudge = new Map(); // entry key -> {x, y, w, h, timer}
  }

  /** Where a note is being held by a gesture (the renderer leaves it alone). */
  holding(entry) {
    return this.active?.entry === entry || this._nudge.has(entry.key) || (this.active?.others ?? []).some((o) => o.entry === entry);
  }

  /** @param {PointerEvent} ev @param {object} entry @param {HTMLElement} el */
  pointerDown(ev, entry, el) {
    const { store, readOnly } = this.host;
    if (ev.button !== 0 || entry.deleting || readOnly()) return;
    const target = /** @type {Element} */ (ev.target);
    if (target.closest("button, textarea, .note-conflict") !== null) return;
    const resizing = target.closest(".note-resize") !== null;
    if (resizing) ev.preventDefault();
    const view = entry.view();
    const g = {
      entry,
      el,
      id: ev.pointerId,
      px: ev.clientX,
      py: ev.clientY,
      startX: parseFloat(el.style.left),
      startY: parseFloat(el.style.top),
      startW: view.w,
      startH: view.h,
      moved: false,
      resizing,
      z: this.host.frontZ(entry),
    };
    g.x = g.startX;
    g.y = g.startY;
    g.w = g.startW;
    g.h = g.startH;
    if (g.z !== null) {
      el.dataset.lifted = "true";
      el.style.zIndex = String(g.z);
    }
    // The other notes of the selection move along (a drag, not a resize), and land in one undo step.
    g.others = resizing
      ? []
      : this.host
          .group(entry)
          .filter((other) => other !== entry && !other.removed)
          .map((other) => ({ entry: other, el: this.host.elementOf(other) }))
          .filter((o) => o.el !== undefined)
          .map((o) => ({ ...o, startX: parseFloat(o.el.style.left) || 0, startY: parseFloat(o.el.style.top) || 0, x: 0, y: 0 }));
    this.active = g;
    // Capture now, so a quick flick that leaves the note before the threshold still drags it.
    el.setPointerCapture(g.id);
    const move = (e) => {
      if (e.pointerId !== g.id) return;
      const zoom = this.host.viewport.zoom;
      const dx = (e.clientX - g.px) / zoom;
      const dy = (e.clientY - g.py) / zoom;
      if (!g.moved && Math.hypot(dx * zoom, dy * zoom) < DRAG_THRESHOLD) return;
      if (!g.moved) {
        g.moved = true;
        el.classList.add(resizing ? "resizing" : "dragging");
        if (resizing) el.dataset.resizing = "true";
      }
      if (resizing) {
        g.w = clampSize(g.startW + dx);
        g.h = clampSize(g.startH + dy);
        el.style.width = `${g.w}px`;
        el.style.height = `${g.h}px`;
      } else {
        g.x = clampCoord(Math.max(0, g.startX + dx));
        g.y = clampCoord(Math.max(0, g.startY + dy));
        el.style.left = `${g.x}px`;
        el.style.top = `${g.y}px`;
        for (const o of g.others) {
          o.x = clampCoord(Math.max(0, o.startX + dx));
          o.y = clampCoord(Math.max(0, o.startY + dy));
          o.el.style.left = `${o.x}px`;
          o.el.style.top = `${o.y}px`;
        }
      }
    };
    const end = (e) => {
      if (e.pointerId !== g.id) return;
      el.removeEventListener("pointermove", move);
      el.removeEventListener("pointerup", end);
      el.removeEventListener("pointercancel", end);
      el.classList.remove("dragging", "resizing");
      delete el.dataset.resizing;
      delete el.dataset.lifted;
      this.active = null;
      if (e.type === "pointercancel" || readOnly() || entry.removed) {
        this.host.redraw(entry); // back to where it was
        for (const o of g.others) this.host.redraw(o.entry);
        return;
      }
      const fields = {};
      if (g.moved && resizing) Object.assign(fields, { w: g.w, h: g.h });
      if (g.moved && !resizing) Object.assign(fields, { x: Math.round(g.x), y: Math.round(g.y) });
      if (g.z !== null) fields.z = g.z;
      store.group(() => {
        if (Object.keys(fields).length > 0) store.setFields(entry, fields);
        else this.host.redraw(entry);
        for (const o of g.moved ? g.others : []) if (!o.entry.removed) store.setFields(o.entry, { x: o.x, y: o.y });
      });
    };
    el.addEventListener("pointermove", move);
    el.addEventListener("pointerup", end);
    el.addEventListener("pointercancel", end);
    g.cancel = () => end({ pointerId: g.id, type: "pointercancel" }); // a long press opened the note's actions
  }

  /** Stop a note's pointer gesture where it is, as if the pointer had been cancelled. */
  cancel(entry) {
    if (this.active?.entry === entry) this.active.cancel();
  }

  /**
   * Arrow keys on a focused note: move (Alt: resize) at once on screen, one update when the keys rest.
   * @returns {boolean} whether the key was an arrow
   */
  arrowKey(ev, entry, el) {
    const step = ev.shiftKey ? KEY_STEP * 5 : KEY_STEP;
    const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
    if (!(ev.key in moves)) return false;
    ev.preventDefault();
    const [dx, dy] = moves[ev.key];
    let n = this._nudge.get(entry.key);
    if (n === undefined) {
      const v = entry.view();
      n = { x: parseFloat(el.style.left), y: parseFloat(el.style.top), w: v.w, h: v.h, timer: 0, moved: false, sized: false };
      this._nudge.set(entry.key, n);
    }
    if (ev.altKey) {
      n.w = clampSize(n.w + dx);
      n.h = clampSize(n.h + dy);
      n.sized = true;
      el.style.width = `${n.w}px`;
      el.style.height = `${n.h}px`;
      el.dataset.resizing = "true";
    } else {
      n.x = clampCoord(n.x + dx);
      n.y = clampCoord(n.y + dy);
      n.moved = true;
      el.style.left = `${n.x}px`;
      el.style.top = `${n.y}px`;
    }
    el.scrollIntoView({ block: "nearest", inline: "nearest" });
    clearTimeout(n.timer);
    n.timer = setTimeout(() => {
      this._nudge.delete(entry.key);
      delete el.dataset.resizing;
      if (this.host.readOnly() || entry.removed) {
        this.host.redraw(entry); // back to where it is
        return;
      }
      const fields = {};
      if (n.moved) Object.assign(fields, { x: n.x, y: n.y });
      if (n.sized) Object.assign(fields, { w: n.w, h: n.h });
      this.host.store.setFields(entry, fields);
    }, KEY_SETTLE_MS);
    return true;
  }

  /** Forget a note's gestures (it was removed). */
  forget(entry) {
    if (this.active?.entry === entry) this.active = null;
    const n = this._nudge.get(entry.key);
    if (n !== undefined) clearTimeout(n.timer);
    this._nudge.delete(entry.key);
  }
}
