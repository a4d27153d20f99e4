// Sequence tracking for one board: where to resume from, and whether an event is the next one (pure).

/**
 * @typedef {"next" | "stale" | "gap"} SeqVerdict
 *   next: the expected event (seq == last + 1), now applied;
 *   stale: already seen (seq <= last), ignore it;
 *   gap: events were missed, resume with `since`.
 */

export class SeqTracker {
  constructor() {
    /** @type {string | null} the board's epoch from the last snapshot */
    this.epoch = null;
    /** @type {number | null} the last seq applied; null before the first snapshot */
    this.seq = null;
  }

  /**
   * Query parameters to resume with: `since` and `epoch` once a snapshot was seen, else none.
   * @returns {{since?: string, epoch?: string}}
   */
  resumeQuery() {
    if (this.seq === null) return {};
    const query = { since: String(this.seq) };
    if (this.epoch !== null) query.epoch = this.epoch;
    return query;
  }

  /**
   * Take the position of a snapshot frame: everything up to `snapshot.seq` is now known.
   * @param {{seq: number, epoch: string}} snapshot
   */
  snapshot(snapshot) {
    this.seq = snapshot.seq;
    this.epoch = snapshot.epoch;
  }

  /**
   * Check an event's seq against the last one; advances on "next".
   * @param {number} seq
   * @returns {SeqVerdict}
   */
  check(seq) {
    if (this.seq === null) return "gap"; // an event before any snapshot: we cannot place it
    if (seq <= this.seq) return "stale";
    if (seq !== this.seq + 1) return "gap";
    this.seq = seq;
    return "next";
  }

  /** Forget the position (the next connection asks for a full snapshot). */
  reset() {
    this.seq = null;
    this.epoch = null;
  }
}
