// The workshop timer (issue #23): part of the board session (GET/PUT /api/boards/{board}/session). Every page
// counts down to the session's `ends_at` on the server's clock (estimated from the HTTP Date header, so pages
// on clocks that disagree still show the same time left), so a reload or a reconnect shows the same time.
// Start, pause/resume, +1 minute and reset are PUTs of the whole session with its version; a 409 (someone
// else changed it meanwhile) reads it again and tries once more. At zero the timer says so, gently.

import { boardPath, requestJSON } from "./rest.js";
import { byId as $ } from "./ui.js";

const TICK_MS = 250;

/**
 * The time left, as shown: "4:05", "12:00", "0:00".
 * @param {number} ms
 */
export function clock(ms) {
  const s = Math.max(0, Math.ceil(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

export class WorkshopTimer {
  /**
   * @param {object} deps
   * @param {string} deps.board
   * @param {() => string} deps.token
   * @param {(text: string, level?: import("./ui.js").Level) => void} deps.toast
   */
  constructor({ board, token, toast }) {
    this.path = `${boardPath(board)}/session`;
    this.token = token;
    this.toast = toast;
    /** @type {any} the board's session as last heard (snapshot, frame or answer) */
    this.session = null;
    this.offset = 0; // server clock minus this page's clock, ms
    this._ticker = null;
    this._rang = false;
    $("timer-start").addEventListener("click", () => this.start());
    $("timer-pause").addEventListener("click", () => this.pauseOrResume());
    $("timer-more").addEventListener("click", () => this.addMinute());
    $("timer-reset").addEventListener("click", () => this.reset());
  }

  /** The session from a snapshot (absent: the board has none) or a `session` frame. */
  heard(session) {
    if (session === undefined || session === null) return;
    if (this.session !== null && session.version < this.session.version) return;
    this.session = session;
    this._show();
  }

  now() {
    return Date.now() + this.offset;
  }

  start() {
    const minutes = Number($("timer-minutes", HTMLInputElement).value) || 5;
    return this._change(() => ({ ends_at: new Date(this.now() + minutes * 60_000).toISOString(), paused_left: null }));
  }

  pauseOrResume() {
    return this._change((timer) => {
      if (timer === null) return null;
      if (timer.ends_at !== null) return { ends_at: null, paused_left: Math.max(0, (Date.parse(timer.ends_at) - this.now()) / 1000) };
      return { ends_at: new Date(this.now() + timer.paused_left * 1000).toISOString(), paused_left: null };
    });
  }

  addMinute() {
    return this._change((timer) => {
      if (timer === null) return null;
      if (timer.ends_at !== null) {
        const base = Math.max(Date.parse(timer.ends_at), this.now()); // after zero: a minute from now
        return { ends_at: new Date(base + 60_000).toISOString(), paused_left: null };
      }
      return { ends_at: null, paused_left: timer.paused_left + 60 };
    });
  }

  reset() {
    return this._change(() => null);
  }

  /** PUT the session with a new timer; on 409 read it again and try once more. @private */
  async _change(next) {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        if (this.session === null || attempt > 0) this.heard(await this._request("GET"));
        const current = this.session;
        const body = { vote: current.vote, writing: current.writing, timer: next(current.timer), version: current.version };
        this.heard(await this._request("PUT", body));
        return;
      } catch (err) {
        if (err.status === 409 && attempt === 0) continue;
        this.toast(err.status === 403 ? "Only a facilitator can run the timer on this board." : `The timer could not be changed: ${err.message}`, "error");
        return;
      }
    }
  }

  /** @private */
  async _request(method, body) {
    const sent = Date.now();
    const { data, res } = await requestJSON(method, this.path, this.token(), { body });
    const date = Date.parse(res.headers.get("date") ?? "");
    if (Number.isFinite(date)) this.offset = date + 500 - (sent + Date.now()) / 2; // Date has whole seconds
    return data;
  }

  /** @private */
  _show() {
    const timer = this.session?.timer ?? null;
    const box = $("timer");
    box.dataset.state = timer === null ? "off" : timer.ends_at !== null ? "running" : "paused";
    $("timer-pause").textContent = timer?.ends_at === null ? "Resume" : "Pause";
    $("timer-pause", HTMLButtonElement).disabled = timer === null;
    $("timer-more", HTMLButtonElement).disabled = timer === null;
    $("timer-reset", HTMLButtonElement).disabled = timer === null;
    clearInterval(this._ticker ?? undefined);
    this._ticker = null;
    if (timer !== null && timer.ends_at !== null) this._ticker = setInterval(() => this._draw(), TICK_MS);
    this._draw();
  }

  /** @private */
  _draw() {
    const timer = this.session?.timer ?? null;
    const left = timer === null ? null : timer.ends_at !== null ? Date.parse(timer.ends_at) - this.now() : timer.paused_left * 1000;
    const box = $("timer");
    $("timer-left").textContent = left === null ? "" : clock(left);
    const done = left !== null && left <= 0 && timer?.ends_at !== null;
    box.classList.toggle("timer-done", done);
    if (done && !this._rang) {
      this._rang = true;
      $("timer-said").textContent = "Time's up.";
      clearInterval(this._ticker ?? undefined);
      this._ticker = null;
    } else if (!done) {
      this._rang = false;
      $("timer-said").textContent = "";
    }
  }
}
