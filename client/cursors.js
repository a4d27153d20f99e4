// Other people's cursors on the canvas, each with its name in the person's colour. One element per peer,
// made once and moved with a transform only (no layout), glided toward the newest position on animation
// frames so that a 20 Hz stream of positions looks like a pointer moving, and faded out after a few idle
// seconds. The canvas is zoomed with CSS `zoom`: the cursor is scaled back so it keeps its size on screen.

import { h } from "./ui.js";

const SVG = "http://www.w3.org/2000/svg";
const GLIDE = 0.35; // the share of the remaining distance covered per frame (about 60 ms to arrive)

/** @typedef {{el: HTMLElement, label: HTMLElement, x: number, y: number, tx: number, ty: number, shown: boolean}} Item */

export class CursorLayer {
  /**
   * @param {HTMLElement} canvas the board's canvas (board coordinates are its pixels at zoom 1)
   * @param {import("./peers.js").Peers} peers
   * @param {import("./layout.js").Viewport} viewport
   * @param {{idleMs?: number}} [options]
   */
  constructor(canvas, peers, viewport, { idleMs = 5000 } = {}) {
    this.peers = peers;
    this.viewport = viewport;
    this.idleMs = idleMs;
    this.layer = h("div", { class: "cursor-layer", "aria-hidden": "true" });
    canvas.append(this.layer);
    /** @type {Map<string, Item>} */
    this.items = new Map();
    this._frame = null;
    peers.subscribe((changed) => this._changed(changed));
    viewport.subscribe(() => this._placeAll());
    setInterval(() => this._hideIdle(), 1000);
  }

  /** @private @param {Set<string>} changed */
  _changed(changed) {
    for (const id of changed) {
      const peer = this.peers.byId.get(id);
      const item = this.items.get(id);
      if (peer === undefined || peer.cursor === null) {
        if (item !== undefined) this._show(item, false);
        if (peer === undefined && item !== undefined) {
          item.el.remove();
          this.items.delete(id);
        }
        continue;
      }
      const { x, y } = peer.cursor;
      if (item === undefined) {
        const made = this._make(peer);
        made.x = made.tx = x;
        made.y = made.ty = y;
        this.items.set(id, made);
        this._place(made);
      } else {
        item.tx = x;
        item.ty = y;
        if (item.label.textContent !== peer.name) item.label.textContent = peer.name;
        item.el.style.setProperty("--peer", peer.color);
        if (!item.shown) {
          item.x = x; // appearing again: no glide from where it vanished
          item.y = y;
          this._place(item);
        }
      }
      this._show(this.items.get(id), Date.now() - peer.movedAt < this.idleMs);
    }
    this._animate();
  }

  /** @private @param {import("./peers.js").Peer} peer @returns {Item} */
  _make(peer) {
    const arrow = document.createElementNS(SVG, "svg");
    arrow.setAttribute("viewBox", "0 0 16 20");
    arrow.setAttribute("class", "peer-cursor-arrow");
    const path = document.createElementNS(SVG, "path");
    path.setAttribute("d", "M1 1 L1 17 L5.5 12.5 L8.5 19 L11 18 L8 11.5 L14 11.5 Z");
    arrow.append(path);
    const label = h("span", { class: "peer-cursor-name", text: peer.name });
    const el = h("div", { class: "peer-cursor", "data-testid": "peer-cursor", "data-peer": peer.peer }, label);
    el.prepend(arrow);
    el.style.setProperty("--peer", peer.color);
    this.layer.append(el);
    return { el, label, x: 0, y: 0, tx: 0, ty: 0, shown: true };
  }

  /** @private */
  _show(item, on) {
    if (item === undefined || item.shown === on) return;
    item.shown = on;
    item.el.classList.toggle("idle", !on);
  }

  /** Glide every cursor toward its newest position, one step per animation frame. @private */
  _animate() {
    if (this._frame !== null) return;
    this._frame = requestAnimationFrame(() => {
      this._frame = null;
      let moving = false;
      for (const item of this.items.values()) {
        const dx = item.tx - item.x;
        const dy = item.ty - item.y;
        if (dx === 0 && dy === 0) continue;
        const arrived = Math.abs(dx) < 0.5 && Math.abs(dy) < 0.5;
        item.x = arrived ? item.tx : item.x + dx * GLIDE;
        item.y = arrived ? item.ty : item.y + dy * GLIDE;
        moving ||= !arrived;
        this._place(item);
      }
      if (moving) this._animate();
    });
  }

  /** @private */
  _place(item) {
    const z = this.viewport.zoom;
    item.el.style.transform = `translate(${item.x}px, ${item.y}px) scale(${1 / z})`;
  }

  /** @private */
  _placeAll() {
    for (const item of this.items.values()) this._place(item);
  }

  /** @private */
  _hideIdle() {
    const now = Date.now();
    for (const [id, item] of this.items) {
      const peer = this.peers.byId.get(id);
      if (peer !== undefined && item.shown && now - peer.movedAt >= this.idleMs) this._show(item, false);
    }
  }
}
