// Replay (issue #24): the board as it was at any point of its history, read-only, scrubbed like a video.
//
// Design, chosen by measurement (bench/replay_page.py): a jump reads the board at that seq from the server
// (`GET .../notes?at=S`, one request whose cost follows the number of notes, not the history's length), and
// small steps forward (playing, nudging the scrubber) apply the logged changes in between (`GET
// .../history?since=`), so no snapshot of the board is ever built in the page from the start of its history.
// The replayed board is a second, read-only NoteStore and BoardView over #replay-board; the live board keeps
// its socket and store, so live changes keep arriving and show when the user goes back to live.

import { BoardView } from "./board.js";
import { NoteStore } from "./notes.js";
import { boardPath, getJSON } from "./rest.js";
import { byId as $ } from "./ui.js";

const AT_LIMIT = 10000; // the server's largest page: a larger board shows its newest 10,000 notes
const STEP_LIMIT = 2000; // a move forward by at most this many changes applies them; further is a jump
const TICK_MS = 100;
const BUFFER = 1000; // changes read ahead while playing

/** A store that refuses every write: the replayed board is read-only. */
const READ_ONLY = {
  push: () => Promise.reject(Object.assign(new Error("viewing history"), { code: "forbidden" })),
  amend: () => false,
  cancel: () => false,
};

export class Replay {
  /**
   * @param {object} deps
   * @param {string} deps.board
   * @param {() => string} deps.token the access token ("" for none)
   * @param {import("./notes.js").NoteStore} deps.live the live board's store (its changes are counted)
   * @param {import("./layout.js").Viewport} deps.liveViewport the replay opens on the same place and zoom
   * @param {(active: boolean) => void} deps.onToggle told when replay opens and closes
   * @param {(text: string, level?: import("./ui.js").Level) => void} deps.toast
   */
  constructor({ board, token, live, liveViewport, onToggle, toast }) {
    this.liveViewport = liveViewport;
    this.path = boardPath(board);
    this.token = token;
    this.onToggle = onToggle;
    this.toast = toast;
    this.active = false;
    this.seq = 0; // the board shown is the board right after this seq
    this.min = 0; // the oldest seq the history can show
    this.max = 0; // the board's seq when last asked
    this.playing = false;
    this._want = null; // where the scrubber wants to go next
    this._busy = false;
    this._buffer = []; // changes after `seq`, read ahead while playing
    this._credit = 0; // changes owed to the play clock
    this._timer = null;
    this._liveChanges = 0;
    /** @type {BoardView | null} */
    this.view = null;
    this.store = new NoteStore(READ_ONLY);
    this.scrubber = $("replay-scrubber", HTMLInputElement);
    this.speed = $("replay-speed", HTMLSelectElement);
    this.scrubber.addEventListener("input", () => this.moveTo(Number(this.scrubber.value)));
    $("replay-play").addEventListener("click", () => (this.playing ? this.pause() : this.play()));
    $("replay-live").addEventListener("click", () => this.close());
    $("replay-time").addEventListener("change", () => this._jumpToTime());
    live.subscribe((change) => {
      if (!this.active || (change.type !== "upsert" && change.type !== "remove")) return;
      this._liveChanges += 1;
      this._showLive();
    });
  }

  /** Show the board's history, starting at its present. */
  async open() {
    if (this.active) return;
    this.active = true;
    const where = this.liveViewport.visible(); // read before the live board steps aside
    const zoom = this.liveViewport.zoom;
    this._liveChanges = 0;
    this._showLive();
    if (this.view === null) {
      this.view = new BoardView({
        scroller: $("replay-board"),
        canvas: $("replay-canvas"),
        empty: $("replay-empty"),
        store: this.store,
        confirm: async () => false,
        newColor: () => "",
        colorPicked: () => {},
      });
      this.view.setReadOnly(true);
    }
    $("replay-bar").hidden = false;
    $("replay-board").hidden = false;
    this.onToggle(true);
    $("replay-play").focus();
    this._label("Loading the board's history…");
    this._controls(false); // until the range is known and the present shows
    try {
      const [first, head] = await Promise.all([
        getJSON(`${this.path}/history`, { limit: 1 }, this.token()),
        getJSON(`${this.path}/notes`, { limit: 1 }, this.token()),
      ]);
      this.min = first.oldest_at;
      this._setMax(head.seq);
      this.seq = -1; // nothing shown yet
      this._want = head.seq;
      await this._pump();
      // The same place and zoom as the live board (a whole large board zoomed out costs seconds to paint).
      this.view.drawNow();
      this.view.viewport.setZoom(zoom, { x: where.left + where.width / 2, y: where.top + where.height / 2 });
      if (this.active) this._controls(true);
    } catch (err) {
      this._label(`The history could not be read: ${err.message}.`);
    }
  }

  /** @private @param {boolean} on */
  _controls(on) {
    for (const id of ["replay-play", "replay-scrubber", "replay-speed", "replay-time"]) {
      /** @type {HTMLButtonElement | HTMLInputElement | HTMLSelectElement} */ ($(id)).disabled = !on;
    }
  }

  /** Back to the live board (what changed meanwhile is already on it). */
  close() {
    if (!this.active) return;
    this.pause();
    this.active = false;
    this._want = null;
    this.store.applySnapshot({ notes: [], full: true });
    $("replay-bar").hidden = true;
    $("replay-board").hidden = true;
    this.onToggle(false);
  }

  /** Go to seq `seq` (the scrubber, the time field); several moves while one loads end at the last. */
  moveTo(seq) {
    this.pause();
    this._want = Math.max(this.min, Math.min(this.max, seq));
    this._pump();
  }

  play() {
    if (!this.active || this.playing) return;
    if (this.seq >= this.max) this.moveTo(this.min); // at the end: play from the start
    this.playing = true;
    this._credit = 0;
    $("replay-play").textContent = "Pause";
    this._timer = setInterval(() => this._tick(), TICK_MS);
  }

  pause() {
    if (!this.playing) return;
    this.playing = false;
    clearInterval(this._timer ?? undefined);
    $("replay-play").textContent = "Play";
  }

  // -- moving -----------------------------------------------------------------------------------------

  /** @private */
  async _pump() {
    if (this._busy) return;
    this._busy = true;
    try {
      while (this.active && this._want !== null && this._want !== this.seq) {
        const target = this._want;
        if (this.seq >= this.min && target > this.seq && target - this.seq <= STEP_LIMIT) await this._forward(target);
        else await this._jump(target);
      }
    } catch (err) {
      this._label(`The history could not be read: ${err.message}.`);
    } finally {
      this._busy = false;
      this._want = null;
    }
  }

  /** The whole board at `seq`, from the server. @private */
  async _jump(seq) {
    const [state, change] = await Promise.all([
      getJSON(`${this.path}/notes`, { at: seq, limit: AT_LIMIT }, this.token()),
      seq > this.min ? getJSON(`${this.path}/history`, { since: seq - 1, limit: 1 }, this.token()) : null,
    ]);
    if (!this.active) return;
    this._buffer = [];
    this.store.applySnapshot({ notes: state.notes, full: true });
    this._at(seq, change?.changes[0]?.seq === seq ? change.changes[0].at : null, state.more);
  }

  /** Apply the changes up to `target` (ahead of `seq`). @private */
  async _forward(target) {
    const page = await getJSON(`${this.path}/history`, { since: this.seq, limit: target - this.seq }, this.token());
    if (!this.active) return;
    this._apply(page.changes);
    this._at(target, page.changes.at(-1)?.at ?? null, false);
  }

  /** @private */
  _apply(changes) {
    for (const change of changes) this.store.applyEvent({ note: change.note });
  }

  /** One step of the play clock: `speed` changes a second, read ahead a page at a time. @private */
  async _tick() {
    if (this._busy) return;
    this._credit += (Number(this.speed.value) * TICK_MS) / 1000;
    const n = Math.floor(this._credit);
    if (n === 0) return;
    if (this._buffer.length < n && this.seq + this._buffer.length < this.max) {
      this._busy = true;
      try {
        const since = this._buffer.at(-1)?.seq ?? this.seq;
        const page = await getJSON(`${this.path}/history`, { since, limit: BUFFER }, this.token());
        this._buffer.push(...page.changes);
      } catch (err) {
        this.pause();
        this._label(`The history could not be read: ${err.message}.`);
        return;
      } finally {
        this._busy = false;
      }
      if (this._want !== null) {
        this._pump(); // the scrubber moved while this page was read: that move wins
        return;
      }
    }
    this._credit -= n;
    const step = this._buffer.splice(0, n);
    if (step.length > 0) {
      this._apply(step);
      const last = step[step.length - 1];
      this._at(last.seq, last.at, false);
    }
    if (this._buffer.length === 0 && this.seq >= this.max) {
      this._busy = true;
      const head = await getJSON(`${this.path}/notes`, { limit: 1 }, this.token()).catch(() => null);
      this._busy = false;
      if (this._want !== null) {
        this._pump();
        return;
      }
      if (head !== null && head.seq > this.max) this._setMax(head.seq); // live changes: they play on
      else this.pause();
    }
  }

  /** The first seq whose change happened after the time in the field, by bisection over the history. @private */
  async _jumpToTime() {
    const t = Date.parse($("replay-time", HTMLInputElement).value); // local time, as typed
    if (!Number.isFinite(t) || !this.active) return;
    this.pause();
    let lo = this.min;
    let hi = this.max;
    try {
      while (lo < hi) {
        const mid = Math.ceil((lo + hi) / 2);
        const page = await getJSON(`${this.path}/history`, { since: mid - 1, limit: 1 }, this.token());
        const first = page.changes[0];
        if (first !== undefined && Date.parse(first.at) <= t) lo = Math.max(mid, first.seq);
        else hi = mid - 1;
      }
    } catch (err) {
      this._label(`The history could not be read: ${err.message}.`);
      return;
    }
    this.moveTo(lo);
  }

  // -- showing ----------------------------------------------------------------------------------------

  /** @private */
  _setMax(seq) {
    this.max = seq;
    this.scrubber.min = String(this.min);
    this.scrubber.max = String(seq);
  }

  /** The board now shows seq `seq`, whose change happened at `at` (null: not known here). @private */
  _at(seq, at, more) {
    this.seq = seq;
    this.scrubber.value = String(seq);
    const where = seq <= this.min ? "the start of the kept history" : `change ${seq.toLocaleString()} of ${this.max.toLocaleString()}`;
    const when = at === null ? "" : ` · ${new Date(at).toLocaleString()}`;
    const cut = more ? ` · showing the newest ${AT_LIMIT.toLocaleString()} notes` : "";
    this._label(`${where}${when}${cut}`);
    this.scrubber.setAttribute("aria-valuetext", `${where}${when}`);
    $("replay-position").dataset.seq = String(seq);
  }

  /** @private */
  _label(text) {
    $("replay-position").textContent = text;
  }

  /** @private */
  _showLive() {
    const n = this._liveChanges;
    $("replay-live-count").textContent = n === 0 ? "" : `${n.toLocaleString()} live change${n === 1 ? "" : "s"} since you opened the history`;
  }
}
