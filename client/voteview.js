// Dot-voting on the page (issue #23): the facilitator's Start vote / Close vote (with the budget, hidden
// tallies, several votes per note or not), every note's dots and vote buttons (D / Shift+D on a focused note), "N votes left", and, once the
// totals may be seen, "Sort by votes" (each section's notes tidied, most votes first: one undo step).
// The state is votes.js; votes go over the socket (`vote` frames, acked like changes), the session's vote
// settings over REST (session.js).

import { byId as $ } from "./ui.js";
import { VoteState, byVotes } from "./votes.js";

export class VoteControl {
  /**
   * @param {object} deps
   * @param {import("./board.js").BoardView} deps.view
   * @param {import("./socket.js").BoardSocket} deps.socket
   * @param {import("./session.js").BoardSession} deps.session
   * @param {() => boolean} deps.readOnly
   * @param {(text: string, level?: import("./ui.js").Level) => void} deps.toast
   */
  constructor({ view, socket, session, readOnly, toast }) {
    this.view = view;
    this.socket = socket;
    this.session = session;
    this.readOnly = readOnly;
    this.toast = toast;
    this.state = new VoteState();
    socket.on("snapshot", (snapshot) => this._changed(() => this.state.snapshot(snapshot.session, snapshot.votes)));
    socket.on("session", (frame) => this._changed(() => this.state.session(frame)));
    socket.on("vote", (frame) => this._changed(() => this.state.voted(frame)));
    view.store.subscribe((change) => {
      if (change.type === "remove" && change.entry.id !== null && this.state.mine.has(change.entry.id)) {
        this._changed(() => this.state.dropped(/** @type {number} */ (change.entry.id)));
      }
    });
    view.vote = (entry, delta) => this.vote(entry, delta);
    view.votes = () => this.drawing();
    $("vote-start").addEventListener("click", () => this.start());
    $("vote-close").addEventListener("click", () => this.close());
    $("vote-sort").addEventListener("click", () => this.sort());
    this._show();
  }

  /** What a note's drawing needs (noteview.js `renderVotes`). */
  drawing() {
    const s = this.state;
    const readOnly = this.readOnly();
    return { vote: s.vote, mine: s.mine, totals: s.totals, readOnly, canVote: (id) => !readOnly && s.canVote(id) };
  }

  /** Give a vote to a note (1) or take one back (-1), with a word when it is refused. */
  async vote(entry, delta) {
    const s = this.state;
    if (entry.id === null || entry.view().kind !== "note" || this.readOnly()) return;
    if (s.vote === null || !s.vote.open) {
      this.toast("There is no vote open on this board.", "info");
      return;
    }
    try {
      const ack = await this.socket.push({ type: "vote", id: entry.id, delta });
      this._changed(() => this.state.acked(ack.vote));
    } catch (err) {
      this.toast(err.code === "forbidden" || err.code === "not_found" ? `${sentence(err.message)}` : `The vote was not counted: ${err.message}`, "error");
    }
  }

  start() {
    const budget = Math.min(100, Math.max(1, Math.round(Number($("vote-budget", HTMLInputElement).value) || 3)));
    const hidden = $("vote-hidden", HTMLInputElement).checked;
    const multiple = $("vote-multiple", HTMLInputElement).checked;
    $("vote-menu", HTMLDetailsElement).open = false;
    return this._put(() => ({ vote: { open: true, budget, hidden, multiple } }));
  }

  close() {
    return this._put((current) => (current.vote === null ? {} : { vote: { ...current.vote, open: false } }));
  }

  /** Tidy every section with its notes in order of votes, most first (one undo step). */
  sort() {
    const totals = this.state.totals;
    if (totals === null) return;
    this.view.sections.tidyAll((notes) => byVotes(notes, (n) => (n.id === null ? 0 : (totals.get(n.id) ?? 0))));
  }

  /** @private */
  async _put(next) {
    try {
      await this.session.change(next);
    } catch (err) {
      this.toast(err.status === 403 ? "Only a facilitator can start or close a vote on this board." : `The vote could not be changed: ${err.message}`, "error");
    }
  }

  /** @private */
  _changed(fn) {
    fn();
    this.view.refresh();
    this._show();
  }

  /** The toolbar: Start vote or Close vote, votes left, Sort by votes. @private */
  _show() {
    const v = this.state.vote;
    const open = v !== null && v.open;
    const box = $("votes");
    box.dataset.state = v === null ? "off" : open ? "open" : "closed";
    $("vote-menu").hidden = open;
    $("vote-close").hidden = !open;
    $("vote-sort").hidden = open || this.state.totals === null || this.state.totals.size === 0;
    const left = $("vote-left");
    left.textContent = open ? `${this.state.left} vote${this.state.left === 1 ? "" : "s"} left` : v !== null ? "Vote closed" : "";
    left.title = open && v.hidden ? "Tallies are hidden until the vote closes" : "";
  }
}

function sentence(message) {
  const text = String(message ?? "");
  return text ? `${text[0].toUpperCase()}${text.slice(1)}.` : "Refused.";
}
