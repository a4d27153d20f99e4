// The board's vote as this page may see it (issue #23, docs/protocol.md "Votes"), kept from the snapshot's
// `votes`, `vote` frames, `session` frames and acks: the vote's settings, this browser's votes per note id,
// its votes left, and every note's total when the tallies may be seen (a closed vote, or open tallies).
// Pure: no DOM, no socket (voteview.js wires it).

export class VoteState {
  constructor() {
    /** @type {{open: boolean, budget: number, hidden: boolean, multiple: boolean} | null} */
    this.vote = null;
    /** @type {Map<number, number>} note id -> this browser's votes on it */
    this.mine = new Map();
    this.left = 0;
    /** @type {Map<number, number> | null} note id -> everyone's votes; null while hidden (or no vote) */
    this.totals = null;
  }

  /** The snapshot's `session` and `votes` (both absent on a board without a vote). */
  snapshot(session, votes) {
    this.vote = session?.vote ?? null;
    this.mine = toMap(votes?.mine);
    this.left = votes?.left ?? 0;
    this.totals = votes?.totals === undefined ? null : toMap(votes.totals);
  }

  /** A `session` frame: a new vote starts empty, no vote drops them, `votes` brings the totals. */
  session(frame) {
    const vote = frame.session?.vote ?? null;
    const fresh = vote !== null && vote.open && (this.vote === null || !this.vote.open);
    this.vote = vote;
    if (vote === null) {
      this.mine = new Map();
      this.totals = null;
      this.left = 0;
      return;
    }
    if (fresh) this.mine = new Map();
    this.totals = frame.votes === undefined ? (vote.hidden && vote.open ? null : this.totals) : toMap(frame.votes);
    this.left = Math.max(0, vote.budget - sum(this.mine));
  }

  /** A `vote` frame (this browser's carry `mine` and `left`; a hidden one of someone else's only a seq). */
  voted(frame) {
    if (typeof frame.id !== "number") return;
    if (typeof frame.mine === "number") this._mine(frame.id, frame.mine, frame.left);
    if (typeof frame.votes === "number") {
      this.totals ??= new Map();
      if (frame.votes > 0) this.totals.set(frame.id, frame.votes);
      else this.totals.delete(frame.id);
    }
  }

  /** A vote's ack (`ack.vote`): the same as this browser's own frame. */
  acked(reply) {
    this.voted(reply);
  }

  /** A note was deleted: its votes went back to their voters. @param {number} id */
  dropped(id) {
    const mine = this.mine.get(id) ?? 0;
    this.mine.delete(id);
    this.totals?.delete(id);
    if (mine > 0) this.left += mine;
  }

  /** May this browser vote for note `id` now? */
  canVote(id) {
    const v = this.vote;
    return v !== null && v.open && this.left > 0 && (v.multiple || !this.mine.has(id));
  }

  /** @private */
  _mine(id, mine, left) {
    if (mine > 0) this.mine.set(id, mine);
    else this.mine.delete(id);
    if (typeof left === "number") this.left = left;
  }
}

/** Notes ordered by their votes, most first; ties keep the order given. @template T */
export function byVotes(/** @type {T[]} */ notes, /** @type {(note: T) => number} */ votesOf) {
  return notes
    .map((note, i) => ({ note, i, n: votesOf(note) }))
    .sort((a, b) => b.n - a.n || a.i - b.i)
    .map((x) => x.note);
}

function toMap(obj) {
  return new Map(Object.entries(obj ?? {}).map(([k, v]) => [Number(k), Number(v)]));
}

function sum(map) {
  let n = 0;
  for (const v of map.values()) n += v;
  return n;
}
