// Test doubles for the client modules: a manual clock, a scriptable WebSocket, a hand-answered transport.

import { PushError } from "../../client/push.js";

/** Timers that only run when the test advances the clock. */
export class FakeClock {
  constructor() {
    this.time = 1_000_000;
    this._timers = new Map();
    this._next = 1;
    this.setTimeout = (fn, ms = 0) => this._add(fn, ms, false);
    this.setInterval = (fn, ms = 0) => this._add(fn, ms, true);
    this.clearTimeout = (id) => this._timers.delete(id);
    this.clearInterval = (id) => this._timers.delete(id);
    this.now = () => this.time;
  }

  _add(fn, ms, repeat) {
    const id = this._next++;
    this._timers.set(id, { at: this.time + Math.max(0, ms), ms: Math.max(1, ms), fn, repeat });
    return id;
  }

  /** Run every timer due within `ms`, in time order. */
  advance(ms) {
    const end = this.time + ms;
    for (;;) {
      let due = null;
      for (const [id, t] of this._timers) {
        if (t.at <= end && (due === null || t.at < due[1].at)) due = [id, t];
      }
      if (due === null) break;
      const [id, t] = due;
      this.time = t.at;
      if (t.repeat) t.at += t.ms;
      else this._timers.delete(id);
      t.fn();
    }
    this.time = end;
  }

  /** Number of pending timers. */
  get pending() {
    return this._timers.size;
  }
}

/** A WebSocket class whose instances the test drives: open(), receive(), serverClose(). */
export function fakeWebSocketClass() {
  class FakeWebSocket {
    constructor(url) {
      this.url = new URL(url);
      this.sent = [];
      this.readyState = 0;
      this.closedWith = null;
      FakeWebSocket.instances.push(this);
    }

    send(data) {
      if (this.readyState !== 1) throw new Error("InvalidStateError: not open");
      this.sent.push(data);
    }

    close(code, reason) {
      this.closedWith = { code, reason };
      this.readyState = 3;
    }

    /** Frames the client sent, parsed. */
    frames(type) {
      const all = this.sent.map((s) => JSON.parse(s));
      return type === undefined ? all : all.filter((f) => f.type === type);
    }

    query(key) {
      return this.url.searchParams.get(key);
    }

    open() {
      this.readyState = 1;
      this.onopen?.({});
    }

    /** One WebSocket message holding these frames, newline-separated (batch=1). */
    receive(...frames) {
      const data = frames.map((f) => (typeof f === "string" ? f : JSON.stringify(f))).join("\n");
      this.onmessage?.({ data });
    }

    serverClose(code, reason = "") {
      this.readyState = 3;
      this.onclose?.({ code, reason });
    }
  }
  FakeWebSocket.instances = [];
  return FakeWebSocket;
}

let nextId = 100;

/** A server note with defaults. */
export function note(fields = {}) {
  const id = fields.id ?? nextId++;
  return {
    id,
    board: "b",
    text: "",
    author: null,
    color: null,
    x: null,
    y: null,
    version: 1,
    seq: 1,
    created_at: "2024-01-01T00:00:00Z",
    updated_at: "2024-01-01T00:00:00Z",
    deleted: false,
    ...fields,
  };
}

export function snapshot(fields = {}) {
  return { type: "snapshot", board: "b", epoch: "E1", seq: 0, notes: [], presence: 1, reset: false, ...fields };
}

/** Let promise callbacks run. */
export function settle() {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A transport whose pushes the test answers by hand. */
export class FakeTransport {
  constructor() {
    this.sent = []; // {frame, resolve, reject}
    this.queued = new Map(); // client_id -> frame, for amend/cancel while "offline"
    this.offline = false;
  }

  push(frame) {
    return new Promise((resolve, reject) => {
      this.sent.push({ frame, resolve, reject });
      if (this.offline) this.queued.set(frame.client_id, frame);
    });
  }

  amend(cid, fields) {
    const frame = this.queued.get(cid);
    if (frame === undefined) return false;
    Object.assign(frame, fields);
    return true;
  }

  cancel(cid) {
    const i = this.sent.findIndex((s) => s.frame.client_id === cid);
    if (!this.queued.has(cid) || i < 0) return false;
    this.queued.delete(cid);
    this.sent[i].reject(new PushError("cancelled", "cancelled", cid));
    return true;
  }

  last() {
    return this.sent.at(-1);
  }

  /** Answer the newest push with an ack for `n`. */
  async ack(n, which = this.last()) {
    which.resolve({ type: "ack", client_id: which.frame.client_id, seq: n.seq, note: n });
    await settle();
  }

  async fail(code, which = this.last()) {
    which.reject(new PushError(code, `server says ${code}`, which.frame.client_id));
    await settle();
  }
}
