// The workshop timer (issue #23): part of the board session (session.js). Every page counts down to the
// session's `ends_at` on the server's clock (estimated from the HTTP Date header, so pages on clocks that
// disagree still show the same time left), so a reload or a reconnect shows the same time. Start,
// pause/resume, +1 minute and reset are changes of the session. At zero the timer says so, gently.

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
   * @param {import("./session.js").BoardSession} deps.session
   * @param {(text: string, level?: import("./ui.js").Level) => void} deps.toast
   */
  constructor({ session, toast }) {
    this.board = session;
    this.toast = toast;
    this._ticker = null;
    this._rang = false;
    $("timer-start").addEventListener("click", () => this.start());
    $("timer-pause").addEventListener("click", () => this.pauseOrResume());
    $("timer-more").addEventListener("click", () => this.addMinute());
    $("timer-reset").addEventListener("click", () => this.reset());
    session.subscribe(() => this._show());
  }

  /** The board's session as last heard. */
  get session() {
    return this.board.session;
  }

  now() {
    return this.board.now();
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

  /** Change the session's timer to what `next` makes of it. @private */
  async _change(next) {
    try {
      await this.board.change((current) => ({ timer: next(current.timer) }));
    } catch (err) {
      this.toast(err.status === 403 ? "Only a facilitator can run the timer on this board." : `The timer could not be changed: ${err.message}`, "error");
    }
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
