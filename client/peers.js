// The other people on the board as awareness frames describe them (protocol-collab.md, "Awareness"), and
// this page's own awareness, sent at most once per tick and only when something changed. No DOM and no
// socket here (node tests drive both); cursors.js and peerview.js draw them, socket.js carries the frames.

/**
 * @typedef {object} Peer one other connection on the board, as the server last described it
 * @property {string} peer opaque id
 * @property {string} name
 * @property {string} color "#rrggbb", chosen by the server
 * @property {{x: number, y: number} | null} cursor board coordinates
 * @property {number | null} editing the id of the note being edited
 * @property {number[]} selected ids of the selected notes
 * @property {{x: number, y: number, w: number, h: number} | null} view the part of the board shown
 * @property {number} movedAt when the cursor last moved (the page's clock, ms)
 */

const COLOR_RE = /^#[0-9a-fA-F]{6}$/;

/** The peers of one connection: replaced by the full frame after each snapshot, then changed by deltas. */
export class Peers {
  /** @param {() => number} [now] the clock (ms) */
  constructor(now = () => Date.now()) {
    this.now = now;
    /** @type {Map<string, Peer>} */
    this.byId = new Map();
    /** @type {Set<(changed: Set<string>) => void>} */
    this._listeners = new Set();
  }

  /** @param {(changed: Set<string>) => void} fn told the ids of the peers that changed or left */
  subscribe(fn) {
    this._listeners.add(fn);
    return () => this._listeners.delete(fn);
  }

  /** A new connection (its snapshot arrived): forget everyone until its full awareness frame. */
  reset() {
    const changed = new Set(this.byId.keys());
    this.byId.clear();
    if (changed.size > 0) this._emit(changed);
  }

  /**
   * An awareness frame: each listed peer's newest full state, and the peers that left.
   * @param {{peers?: object[], gone?: string[]}} frame
   */
  apply(frame) {
    const changed = new Set();
    for (const raw of Array.isArray(frame.peers) ? frame.peers : []) {
      const peer = toPeer(raw);
      if (peer === null) continue;
      const before = this.byId.get(peer.peer);
      const moved = before === undefined || !sameCursor(before.cursor, peer.cursor);
      peer.movedAt = moved ? this.now() : before.movedAt;
      this.byId.set(peer.peer, peer);
      changed.add(peer.peer);
    }
    for (const id of Array.isArray(frame.gone) ? frame.gone : []) {
      if (this.byId.delete(String(id))) changed.add(String(id));
    }
    if (changed.size > 0) this._emit(changed);
  }

  /** The peers editing note `id` (several may). @param {number} id @returns {Peer[]} */
  editing(id) {
    return [...this.byId.values()].filter((p) => p.editing === id);
  }

  /** The first peer that has note `id` selected, or undefined. @param {number} id */
  selecting(id) {
    for (const p of this.byId.values()) if (p.selected.includes(id)) return p;
    return undefined;
  }

  /** @private */
  _emit(changed) {
    for (const fn of this._listeners) fn(changed);
  }
}

/** A server entry as a Peer, or null when it is not one (the page never trusts a frame's shape). */
function toPeer(raw) {
  if (raw === null || typeof raw !== "object" || typeof raw.peer !== "string") return null;
  const point = (p) => (p && Number.isFinite(p.x) && Number.isFinite(p.y) ? { x: p.x, y: p.y } : null);
  const box = (v) =>
    v && [v.x, v.y, v.w, v.h].every(Number.isFinite) && v.w > 0 && v.h > 0 ? { x: v.x, y: v.y, w: v.w, h: v.h } : null;
  return {
    peer: raw.peer,
    name: typeof raw.name === "string" && raw.name !== "" ? raw.name : "Someone",
    color: typeof raw.color === "string" && COLOR_RE.test(raw.color) ? raw.color : "#6b7280",
    cursor: point(raw.cursor),
    editing: Number.isSafeInteger(raw.editing) ? raw.editing : null,
    selected: Array.isArray(raw.selected) ? raw.selected.filter(Number.isSafeInteger) : [],
    view: box(raw.view),
    movedAt: 0,
  };
}

function sameCursor(a, b) {
  return a === b || (a !== null && b !== null && a.x === b.x && a.y === b.y);
}

/**
 * This page's awareness: `set()` records what changed; a frame with only the changed fields goes out at
 * most once per `intervalMs` (the contract's 50 ms), the newest values winning. After a reconnect,
 * `resend()` sends everything again (the server forgot this connection's state with the old one).
 */
export class AwarenessSender {
  /**
   * @param {(frame: object) => boolean} send false when it could not be sent (not connected)
   * @param {{intervalMs?: number, timers?: {setTimeout: Function, clearTimeout: Function}, now?: () => number}} [options]
   */
  constructor(send, { intervalMs = 50, timers = globalThis, now = () => Date.now() } = {}) {
    this.send = send;
    this.intervalMs = intervalMs;
    this.timers = timers;
    this.now = now;
    /** @type {{cursor: object | null, editing: number | null, selected: number[], view: object | null}} */
    this.state = { cursor: null, editing: null, selected: [], view: null };
    /** @type {Set<string>} fields changed since the last frame */
    this._dirty = new Set();
    this._last = -Infinity;
    this._timer = null;
    this.sent = 0;
  }

  /** @param {{cursor?: object | null, editing?: number | null, selected?: number[], view?: object | null}} fields */
  set(fields) {
    for (const [key, value] of Object.entries(fields)) {
      if (!(key in this.state) || same(this.state[key], value)) continue;
      this.state[key] = value;
      this._dirty.add(key);
    }
    if (this._dirty.size > 0) this._schedule();
  }

  /** Send the whole state with the next frame (a new connection knows nothing of it). */
  resend() {
    for (const key of Object.keys(this.state)) this._dirty.add(key);
    this._schedule();
  }

  /** @private */
  _schedule() {
    if (this._timer !== null) return;
    const wait = Math.max(0, this._last + this.intervalMs - this.now());
    this._timer = this.timers.setTimeout(() => this._flush(), wait);
  }

  /** @private */
  _flush() {
    this._timer = null;
    if (this._dirty.size === 0) return;
    const frame = { type: "awareness" };
    for (const key of this._dirty) frame[key] = this.state[key];
    if (!this.send(frame)) return; // not connected: resend() follows the next snapshot
    this._dirty.clear();
    this._last = this.now();
    this.sent += 1;
  }
}

function same(a, b) {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}
