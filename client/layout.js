// Where notes go on the canvas and how much of it is seen: the grid for notes without a position, the
// canvas size, a free spot for a new note, zoom and fit-to-screen. Geometry comes from the notes' data
// (x, y, w, h), never from measuring the DOM, so laying out 5,000 notes forces no layout.

import { NOTE_DEFAULTS } from "./notes.js";

const GAP = 24;
const CANVAS_MARGIN = 600; // room beyond the farthest note, so there is always space to drag to
export const ZOOM_STEPS = [0.02, 0.05, 0.1, 0.15, 0.25, 0.33, 0.5, 0.67, 0.8, 1, 1.25, 1.5, 2];

/**
 * Positions for notes without x/y: a grid, in the order they appeared.
 * @param {Iterable<import("./notes.js").Entry>} entries
 * @param {number} viewWidth the board's width in canvas pixels
 * @returns {Map<string, {x: number, y: number}>} entry key -> position
 */
export function autoPlaces(entries, viewWidth) {
  const places = new Map();
  const { w, h } = NOTE_DEFAULTS;
  const columns = Math.max(1, Math.floor((viewWidth - GAP) / (w + GAP)));
  for (const entry of entries) {
    const v = entry.view();
    if (v.x !== null && v.y !== null) continue;
    const i = places.size;
    places.set(entry.key, { x: GAP + (i % columns) * (w + GAP), y: GAP + Math.floor(i / columns) * (h + GAP) });
  }
  return places;
}

/** Boxes {left, top, right, bottom} of the given placed views. */
export function boxOf({ x, y, w, h }, pad = 0) {
  return { left: x - pad, top: y - pad, right: x + w + pad, bottom: y + h + pad };
}

/**
 * A free spot of `w`x`h` inside `view` ({left, top, width, height}), away from `boxes`; else a cascade
 * near the top that does not sit exactly on another note.
 */
export function freeSpot(boxes, view, w, h) {
  const padded = boxes.map((b) => ({ left: b.left - GAP / 2, top: b.top - GAP / 2, right: b.right + GAP / 2, bottom: b.bottom + GAP / 2 }));
  const free = (x, y) => padded.every((r) => x + w <= r.left || r.right <= x || y + h <= r.top || r.bottom <= y);
  const step = GAP * 2;
  for (let y = view.top + GAP; y + h <= view.top + view.height - GAP; y += step) {
    for (let x = view.left + GAP; x + w <= view.left + view.width - GAP / 2; x += step) {
      if (free(x, y)) return { x, y };
    }
  }
  let x = view.left + Math.max(GAP / 2, Math.min(view.width - w - GAP, view.width / 2 - w / 2));
  let y = view.top + GAP * 2;
  const near = (a, b) => Math.abs(a - b) < 12;
  const taken = (px, py) => boxes.some((r) => near(r.left, px) && near(r.top, py));
  for (let i = 0; i < 50 && taken(x, y); i++) {
    x += GAP;
    y += GAP;
  }
  return { x, y };
}

/** The smallest box holding every box, or null for none. */
export function bounds(boxes) {
  let b = null;
  for (const r of boxes) {
    if (b === null) b = { ...r };
    else {
      b.left = Math.min(b.left, r.left);
      b.top = Math.min(b.top, r.top);
      b.right = Math.max(b.right, r.right);
      b.bottom = Math.max(b.bottom, r.bottom);
    }
  }
  return b;
}

/** The next zoom step up (dir 1) or down (dir -1) from `zoom`. */
export function stepZoom(zoom, dir) {
  if (dir > 0) return ZOOM_STEPS.find((z) => z > zoom + 1e-6) ?? ZOOM_STEPS.at(-1);
  return [...ZOOM_STEPS].reverse().find((z) => z < zoom - 1e-6) ?? ZOOM_STEPS[0];
}

/** The zoom that shows all of `box` in a viewport of `width`x`height` (never above 100 %). */
export function fitZoom(box, width, height) {
  if (box === null) return 1;
  const z = Math.min((width - GAP * 2) / (box.right - box.left), (height - GAP * 2) / (box.bottom - box.top), 1);
  return Math.max(ZOOM_STEPS[0], Math.min(1, z));
}

/**
 * The viewport's zoom and the canvas size. The canvas uses CSS `zoom`, so its scroll area follows.
 */
export class Viewport {
  /** @param {HTMLElement} scroller @param {HTMLElement} canvas */
  constructor(scroller, canvas) {
    this.scroller = scroller;
    this.canvas = canvas;
    this.zoom = 1;
    this._listeners = new Set();
  }

  /** @param {(zoom: number) => void} fn */
  subscribe(fn) {
    this._listeners.add(fn);
    return () => this._listeners.delete(fn);
  }

  /** The visible part of the board in canvas pixels. */
  visible() {
    const z = this.zoom;
    const s = this.scroller;
    return { left: s.scrollLeft / z, top: s.scrollTop / z, width: s.clientWidth / z, height: s.clientHeight / z };
  }

  /** A pointer event's position on the canvas, in canvas pixels. */
  point(ev) {
    const rect = this.canvas.getBoundingClientRect();
    return { x: (ev.clientX - rect.left) / this.zoom, y: (ev.clientY - rect.top) / this.zoom };
  }

  /**
   * Set the zoom, keeping the canvas point at the viewport's centre (or `anchor`) where it was.
   * @param {number} zoom
   * @param {{x: number, y: number}} [anchor] canvas point to keep in the middle
   */
  setZoom(zoom, anchor) {
    const v = this.visible();
    const centre = anchor ?? { x: v.left + v.width / 2, y: v.top + v.height / 2 };
    this.zoom = Math.max(ZOOM_STEPS[0], Math.min(ZOOM_STEPS.at(-1), zoom));
    this.canvas.style.zoom = String(this.zoom);
    this.scroller.scrollLeft = centre.x * this.zoom - this.scroller.clientWidth / 2;
    this.scroller.scrollTop = centre.y * this.zoom - this.scroller.clientHeight / 2;
    for (const fn of this._listeners) fn(this.zoom);
  }

  /** Zoom so that `box` (canvas pixels) is all in view. @param {{left, top, right, bottom} | null} box */
  fit(box) {
    const z = fitZoom(box, this.scroller.clientWidth, this.scroller.clientHeight);
    if (box === null) {
      this.setZoom(1, { x: this.scroller.clientWidth / 2, y: this.scroller.clientHeight / 2 });
      return;
    }
    this.setZoom(z, { x: (box.left + box.right) / 2, y: (box.top + box.bottom) / 2 });
  }

  /** Grow the canvas to hold `box` plus room to drag further (`visible`: the view, read beforehand). */
  fitCanvas(box, visible) {
    const right = box === null ? 0 : box.right;
    const bottom = box === null ? 0 : box.bottom;
    const minW = visible.width;
    const minH = visible.height;
    this.canvas.style.width = `${Math.max(minW, right + CANVAS_MARGIN)}px`;
    this.canvas.style.height = `${Math.max(minH, bottom + CANVAS_MARGIN)}px`;
  }
}
