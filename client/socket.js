// BoardSocket: the one module that owns a board's WebSocket connection.
//
// It connects with batch=1 (a message may hold several newline-separated frames), reconnects with
// jittered exponential backoff, pings to find dead connections, resumes with since+epoch after every
// reconnect, checks that events arrive without seq gaps (a gap means a resume), and keeps every change
// in a queue until its ack: changes made offline wait there and go out, in order and with their
// client_id, once the next connection has its snapshot.
//
// It knows nothing about the DOM; the board view listens to its events:
//   "snapshot" (frame + `full`: true when the notes replace everything the view has)
//   "event", "presence" ({count, names|null}), "awareness" (the frame: peers and gone; see peers.js),
//   "error" (an error frame that matches no pending change), "status" ({state, attempt, retryAt, pending,
//   reason, refused}). sendAwareness() sends this page's awareness, unqueued (newer state replaces it).
//
// On a server that needs tokens it sends its `token` option as `token=`; setToken() changes it (and
// reconnects). It does not find out why a handshake failed (a browser only sees close 1006): TokenGate in
// auth.js asks REST when the status keeps showing failed attempts.

import { backoffDelay } from "./backoff.js";
import { Close, DEFAULTS, State } from "./constants.js";
import { Push, PushError, newClientId } from "./push.js";
import { RequestQueue } from "./queue.js";
import { SeqTracker } from "./seq.js";

// Resuming at once (seq gap, name change) is fine now and then; more often than this, back off instead so
// a misbehaving server cannot make us reconnect in a tight loop.
const QUICK_RESUME_SPACING_MS = 5000;

export class BoardSocket {
  /**
   * @param {string} board the board name
   * @param {object} options
   * @param {string} options.url the server's WebSocket origin, e.g. "ws://127.0.0.1:8000"
   * @param {string} [options.name] display name, sent as `name=` (empty: none)
   * @param {string} [options.token] access token, sent as `token=` (empty: none)
   * @param {string} [options.key] this browser's voter key, sent as `key=` (empty: none)
   * @param {number} [options.limit] most live notes in a fresh snapshot, sent as `limit=` (0: the server's default)
   * @param {number} [options.pingIntervalMs]
   * @param {number} [options.pingTimeoutMs]
   * @param {number} [options.connectTimeoutMs]
   * @param {number} [options.ackTimeoutMs]
   * @param {number} [options.maxQueue]
   * @param {number} [options.offlineAfterAttempts]
   * @param {{baseMs?: number, factor?: number, maxMs?: number}} [options.backoff]
   * @param {typeof WebSocket} [options.WebSocket] injected by tests
   * @param {object} [options.timers] setTimeout/clearTimeout/setInterval/clearInterval (injected by tests)
   * @param {() => number} [options.random]
   * @param {() => number} [options.now]
   * @param {() => boolean} [options.isOnline]
   */
  constructor(board, options) {
    this.board = board;
    this.url = options.url.replace(/\/+$/, "");
    this.name = options.name ?? "";
    this.token = options.token ?? "";
    this.options = { ...DEFAULTS, ...options, backoff: { ...DEFAULTS.backoff, ...(options.backoff ?? {}) } };
    this._WebSocket = options.WebSocket ?? globalThis.WebSocket;
    this._timers = options.timers ?? globalThis;
    this._random = options.random ?? Math.random;
    this._now = options.now ?? Date.now;
    this._isOnline = options.isOnline ?? (() => globalThis.navigator?.onLine ?? true);

    this.seq = new SeqTracker();
    this.queue = new RequestQueue({ max: this.options.maxQueue });
    /** @type {string} one of State */
    this.state = State.CONNECTING;
    /** @type {string | null} why the last connection ended, or why we stopped */
    this.reason = null;
    /** @type {number | null} when the next attempt starts (ms since epoch), while one is scheduled */
    this.retryAt = null;

    this._ws = null;
    this._gen = 0; // bumped for every connection: callbacks of an older socket are ignored
    this._synced = false; // the current connection delivered its snapshot
    this._resuming = false; // the current connection was opened with `since`
    this._attempt = 0; // failed attempts since the last snapshot
    this._lastQuickResume = -Infinity;
    this._stopped = true;
    this._refused = false; // closed with 1008: no retries until retryNow() or setToken()
    this._retryTimer = null;
    this._connectTimer = null;
    this._pingTimer = null;
    this._pongTimer = null;
    this._listeners = new Map();
  }

  // -- public API ----------------------------------------------------------------------------------------

  /**
   * Listen to "snapshot", "event", "presence", "error" or "status".
   * @param {string} type
   * @param {(payload: any) => void} fn
   * @returns {() => void} unsubscribe
   */
  on(type, fn) {
    if (!this._listeners.has(type)) this._listeners.set(type, new Set());
    this._listeners.get(type).add(fn);
    return () => this._listeners.get(type)?.delete(fn);
  }

  /** Start connecting (and keep reconnecting until close()). */
  connect() {
    if (!this._stopped) return;
    this._stopped = false;
    this.reason = null;
    this._open();
  }

  /** Close for good (page leaving). Waiting changes are rejected with code "closed". */
  close() {
    this._stopped = true;
    this._refused = false;
    this._clearRetry();
    const ws = this._ws;
    this._detach();
    if (ws !== null) safeClose(ws, Close.NORMAL, "client closed");
    for (const entry of this.queue.values()) {
      this.queue.take(entry.clientId);
      entry.push.reject(new PushError("closed", "the connection was closed", entry.clientId));
    }
    this._setState(State.CLOSED);
  }

  /**
   * Send a change (create, update or delete). It is queued, sent now when connected or after the next
   * snapshot otherwise, and resent with the same client_id after a reconnect until answered.
   * @param {object} frame a client frame; a `client_id` is added when missing
   * @returns {Promise<object>} the ack frame; rejects with a PushError (server error code, "timeout",
   *   "queue_full" or "closed")
   */
  push(frame) {
    const clientId = frame.client_id ?? newClientId();
    if (this._stopped && this.state === State.CLOSED) {
      return Promise.reject(new PushError("closed", "the connection is closed", clientId));
    }
    const push = new Push(clientId, {
      timeoutMs: this.options.ackTimeoutMs,
      onTimeout: (p) => this._timedOut(p),
      timers: this._timers,
    });
    let entry;
    try {
      entry = this.queue.add(clientId, { ...frame, client_id: clientId }, { push });
    } catch (err) {
      return Promise.reject(new PushError(err.code ?? "bad_request", err.message, clientId));
    }
    if (this._synced) this._send(entry);
    this._emitStatus();
    return push.promise;
  }

  /**
   * Change fields of a queued frame that never went out (see RequestQueue.amend).
   * @param {string} clientId
   * @param {object} fields
   * @returns {boolean} whether it was amended
   */
  amend(clientId, fields) {
    return this.queue.amend(clientId, fields);
  }

  /**
   * Drop a queued change that never went out; its promise rejects with code "cancelled".
   * @param {string} clientId
   * @returns {boolean} whether it was cancelled (false if it may already be on the server)
   */
  cancel(clientId) {
    const entry = this.queue.get(clientId);
    if (entry === undefined || entry.everSent) return false;
    this.queue.take(clientId);
    entry.push.reject(new PushError("cancelled", "cancelled before it was sent", clientId));
    this._emitStatus();
    return true;
  }

  /**
   * Use another display name: the current connection is replaced by one with the new `name=`.
   * @param {string} name
   */
  setName(name) {
    if (name === this.name) return;
    this.name = name;
    if (this._ws !== null) this._drop("name changed", true);
  }

  /**
   * Use another access token. A connection open (or opening) with the old one is replaced at once; after a
   * refusal (1008) or while waiting to retry, the next attempt starts now. Before connect(): only kept.
   * @param {string} token "" for none
   */
  setToken(token) {
    const next = token ?? "";
    const changed = next !== this.token;
    this.token = next;
    if (this._ws !== null) {
      if (changed) this._drop("token changed", true);
      return;
    }
    if (this._refused || (!this._stopped && this.state !== State.CLOSED)) this.retryNow();
  }

  /** Skip the backoff wait and try now (a "Retry now" button, the browser coming back online). */
  retryNow() {
    if (this.state === State.CLOSED || this._ws !== null) return;
    this._stopped = false; // also after a refusal (1008): the user asked for it
    this._attempt = Math.min(this._attempt, 1);
    this._open();
  }

  /** Changes waiting for their ack (queued offline or in flight). */
  get pending() {
    return this.queue.size;
  }

  /**
   * `refused`: the server closed with 1008 (bad board, token expired, abuse); there are no retries until
   * retryNow() or setToken().
   * @returns {{state: string, attempt: number, retryAt: number | null, pending: number, reason: string | null,
   *   refused: boolean}}
   */
  status() {
    return {
      state: this.state,
      attempt: this._attempt,
      retryAt: this.retryAt,
      pending: this.queue.size,
      reason: this.reason,
      refused: this._refused,
    };
  }

  /**
   * Follow the browser: reconnect at once when it comes back online or the tab is shown again.
   * @param {Window} win
   * @returns {() => void} detach
   */
  watchBrowser(win) {
    const online = () => this.retryNow();
    const offline = () => {
      if (!this._stopped && this.state !== State.CONNECTED) this._setState(State.OFFLINE);
      // An open socket may survive a short outage; the ping decides.
      if (this.state === State.CONNECTED) this._ping();
    };
    const visible = () => {
      if (win.document.visibilityState === "visible") this.retryNow();
    };
    win.addEventListener("online", online);
    win.addEventListener("offline", offline);
    win.document.addEventListener("visibilitychange", visible);
    return () => {
      win.removeEventListener("online", online);
      win.removeEventListener("offline", offline);
      win.document.removeEventListener("visibilitychange", visible);
    };
  }

  // -- connection lifecycle -------------------------------------------------------------------------------

  /** @private */
  _open() {
    this._clearRetry();
    this._refused = false;
    const gen = ++this._gen;
    const query = new URLSearchParams({ batch: "1" });
    if (this.name) query.set("name", this.name);
    if (this.token) query.set("token", this.token);
    if (this.options.key) query.set("key", this.options.key);
    if (this.options.limit > 0) query.set("limit", String(this.options.limit));
    const resume = this.seq.resumeQuery();
    for (const [key, value] of Object.entries(resume)) query.set(key, value);
    this._resuming = "since" in resume;
    this._synced = false;
    if (this.state !== State.CONNECTED && this.state !== State.CONNECTING) this._setState(this._waitingState());
    let ws;
    try {
      ws = new this._WebSocket(`${this.url}/ws/${encodeURIComponent(this.board)}?${query}`);
    } catch (err) {
      this._lost(`cannot connect: ${err.message}`, false);
      return;
    }
    this._ws = ws;
    ws.onmessage = (ev) => {
      if (gen === this._gen) this._receive(ev.data, gen);
    };
    ws.onclose = (ev) => {
      if (gen === this._gen) this._closed(ev.code, ev.reason);
    };
    ws.onerror = () => {}; // a close event always follows
    this._connectTimer = this._timers.setTimeout(() => {
      this._connectTimer = null;
      if (gen === this._gen && !this._synced) this._drop("connect timeout", false);
    }, this.options.connectTimeoutMs);
  }

  /** The server (or the network) closed the current connection. @private */
  _closed(code, reason) {
    this._detach();
    if (code === Close.POLICY) {
      // Refused on purpose (bad board, bad token, abuse): retrying would only repeat it.
      this._stopTimers();
      this.queue.connectionLost();
      for (const entry of this.queue.values()) entry.push.stopTimer();
      this._stopped = true;
      this._refused = true;
      this.reason = reason || "the server refused the connection";
      this._setState(State.OFFLINE);
      return;
    }
    if (code === Close.TOO_BIG) this._refuseLargest();
    const why = code === Close.GOING_AWAY ? "server restarting" : code === Close.TRY_AGAIN ? "fell behind" : null;
    this._lost(reason || why || `connection closed (${code})`, false);
  }

  /**
   * Closed with 1009 (a frame over the server's transport limit): the largest change sent on that connection
   * is the one; it fails with "too_large" instead of being resent, which would only repeat the close. @private
   */
  _refuseLargest() {
    let largest = null;
    let size = -1;
    for (const entry of this.queue.values()) {
      const length = entry.sent ? JSON.stringify(entry.frame).length : -1;
      if (length > size) [largest, size] = [entry, length];
    }
    if (largest === null) return;
    this.queue.take(largest.clientId);
    largest.push.reject(new PushError("too_large", "the change is larger than the server accepts", largest.clientId));
  }

  /** Drop the current connection from our side and reconnect. @private */
  _drop(reason, quick) {
    const ws = this._ws;
    this._detach();
    if (ws !== null) safeClose(ws, Close.CLIENT_RESUME, reason);
    this._lost(reason, quick);
  }

  /** After any connection loss: requeue in-flight changes and schedule the next attempt. @private */
  _lost(reason, quick) {
    this._stopTimers();
    this.queue.connectionLost();
    for (const entry of this.queue.values()) entry.push.stopTimer();
    this.reason = reason;
    if (this._stopped) {
      this._setState(State.CLOSED);
      return;
    }
    const now = this._now();
    let delay;
    if (quick && now - this._lastQuickResume > QUICK_RESUME_SPACING_MS) {
      this._lastQuickResume = now;
      delay = 0;
    } else {
      delay = backoffDelay(this._attempt, this.options.backoff, this._random);
      this._attempt += 1;
    }
    this.retryAt = now + delay;
    this._retryTimer = this._timers.setTimeout(() => {
      this._retryTimer = null;
      this.retryAt = null;
      this._open();
    }, delay);
    this._setState(this._waitingState());
  }

  /** Between connections: "reconnecting", or "offline" when the browser is or retries keep failing. @private */
  _waitingState() {
    const offline = !this._isOnline() || this._attempt > this.options.offlineAfterAttempts;
    return offline ? State.OFFLINE : State.RECONNECTING;
  }

  /** Forget the current socket: its late callbacks are ignored. @private */
  _detach() {
    if (this._ws !== null) {
      this._ws.onmessage = null;
      this._ws.onclose = null;
      this._ws.onerror = null;
    }
    this._ws = null;
    this._synced = false;
    this._gen += 1;
    this._stopTimers();
  }

  // -- frames ---------------------------------------------------------------------------------------------

  /** One WebSocket message: one or more frames separated by "\n" (batch=1). @private */
  _receive(data, gen) {
    if (typeof data !== "string") return; // the server only sends text
    for (const line of data.split("\n")) {
      if (line === "") continue;
      let frame;
      try {
        frame = JSON.parse(line);
      } catch {
        console.warn("notesboard: ignoring a frame that is not JSON", line.slice(0, 200));
        continue;
      }
      if (frame === null || typeof frame !== "object") continue;
      this._dispatch(frame);
      if (gen !== this._gen) return; // the connection was dropped (seq gap): the rest is stale
    }
  }

  /** @private */
  _dispatch(frame) {
    switch (frame.type) {
      case "snapshot":
        return this._onSnapshot(frame);
      case "event":
      case "session": // a board session change and a vote take the board's next seq like a note event
      case "vote":
        if (!this._synced) return;
        switch (this.seq.check(frame.seq)) {
          case "next":
            return this._emit(frame.type, frame);
          case "stale":
            return; // already applied (the contract says this does not happen; be safe)
          default:
            return this._drop(`missed events before seq ${frame.seq}`, true);
        }
      case "ack": {
        const entry = typeof frame.client_id === "string" ? this.queue.take(frame.client_id) : undefined;
        if (entry !== undefined) {
          entry.push.resolve(frame);
          this._emitStatus();
        }
        return;
      }
      case "error": {
        const entry = typeof frame.client_id === "string" ? this.queue.take(frame.client_id) : undefined;
        if (entry !== undefined) {
          entry.push.reject(new PushError(frame.code, frame.message, frame.client_id));
          this._emitStatus();
        } else {
          this._emit("error", frame);
        }
        return;
      }
      case "presence":
        return this._emit("presence", { count: frame.count, names: frame.names ?? [] });
      case "awareness":
        return this._emit("awareness", frame);
      case "pong":
        if (this._pongTimer !== null) {
          this._timers.clearTimeout(this._pongTimer);
          this._pongTimer = null;
        }
        return;
      default:
        return; // unknown frame types are ignored (forward compatibility)
    }
  }

  /** @private */
  _onSnapshot(frame) {
    if (this._connectTimer !== null) {
      this._timers.clearTimeout(this._connectTimer);
      this._connectTimer = null;
    }
    this.seq.snapshot(frame);
    this._synced = true;
    this._attempt = 0;
    this.reason = null;
    const full = !this._resuming || frame.reset === true;
    this._emit("snapshot", { ...frame, full });
    this._emit("presence", { count: frame.presence, names: null });
    this._setState(State.CONNECTED);
    this._pingTimer = this._timers.setInterval(() => this._ping(), this.options.pingIntervalMs);
    // Only now send what waited: its acks and events apply on top of the snapshot.
    for (const entry of this.queue.unsent()) {
      if (!this._synced) break;
      this._send(entry);
    }
  }

  /** @private */
  _send(entry) {
    try {
      this._ws.send(JSON.stringify(entry.frame));
    } catch {
      return; // the socket is closing; the close handler requeues it
    }
    this.queue.markSent(entry.clientId);
    entry.push.startTimer();
  }

  /**
   * Send this page's awareness (peers.js builds the frame). Never queued and never acknowledged: newer
   * state replaces it, so while not connected it is dropped and false is returned.
   * @param {object} frame
   * @returns {boolean}
   */
  sendAwareness(frame) {
    if (!this._synced) return false;
    try {
      this._ws.send(JSON.stringify(frame));
    } catch {
      return false;
    }
    return true;
  }

  /** @private */
  _timedOut(push) {
    if (this.queue.take(push.clientId) === undefined) return;
    const seconds = Math.round(this.options.ackTimeoutMs / 1000);
    push.reject(new PushError("timeout", `no answer from the server within ${seconds} s`, push.clientId));
    this._emitStatus();
    this._ping(); // a missing ack may mean a dead connection: check now
  }

  /** Application ping: no pong in time means the connection is dead. @private */
  _ping() {
    if (!this._synced || this._pongTimer !== null) return;
    try {
      this._ws.send('{"type":"ping"}');
    } catch {
      return;
    }
    this._pongTimer = this._timers.setTimeout(() => {
      this._pongTimer = null;
      this._drop("no answer to ping", false);
    }, this.options.pingTimeoutMs);
  }

  // -- helpers --------------------------------------------------------------------------------------------

  /** @private */
  _stopTimers() {
    if (this._connectTimer !== null) this._timers.clearTimeout(this._connectTimer);
    if (this._pongTimer !== null) this._timers.clearTimeout(this._pongTimer);
    if (this._pingTimer !== null) this._timers.clearInterval(this._pingTimer);
    this._connectTimer = this._pongTimer = this._pingTimer = null;
  }

  /** @private */
  _clearRetry() {
    if (this._retryTimer !== null) this._timers.clearTimeout(this._retryTimer);
    this._retryTimer = null;
    this.retryAt = null;
  }

  /** @private */
  _setState(state) {
    this.state = state;
    this._emitStatus();
  }

  /** @private */
  _emitStatus() {
    this._emit("status", this.status());
  }

  /** @private */
  _emit(type, payload) {
    for (const fn of this._listeners.get(type) ?? []) {
      try {
        fn(payload);
      } catch (err) {
        console.error(`notesboard: a "${type}" listener failed`, err);
      }
    }
  }
}

function safeClose(ws, code, reason) {
  try {
    ws.close(code, reason.slice(0, 120));
  } catch {
    // already closed
  }
}
