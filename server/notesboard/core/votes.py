"""The vote rules, pure (domain.decide calls them inside the write transaction, where the board's tallies,
its session and the note are loaded and locked).

A board's tallies are `(note id, voter) -> votes`, for the current vote only: opening a vote (from none, or
from a closed one) starts a new one with no votes; setting the vote to null drops them; closing keeps them, so
the totals can be shown and exported. A deleted note's votes go with it (given back to their voters), so a
restore never brings back votes past anyone's budget.

- no vote open on the board (none, or closed): `not_found`;
- the note unknown, on another board or deleted: `not_found`; a section: `bad_request`;
- +1 past the voter's budget, or a second vote on one note when `multiple` is off: `forbidden`;
- -1 on a note where the voter has no vote: `not_found`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from notesboard.contract.errors import BadRequest, Forbidden, NotesError, NotFound
from notesboard.contract.model import Note, Outcome, Session, Vote, VoteCommand, VoteResult
from notesboard.core.batch import Loaded, Plan, Tallies

__all__ = ["Tallies", "apply_vote", "cast_vote", "drop_votes", "new_round", "totals", "view", "visible"]


def totals(tallies: Tallies) -> dict[int, int]:
    """Every note's votes, everyone's (notes without votes left out)."""
    out: dict[int, int] = {}
    for (note_id, _), n in tallies.items():
        if n:
            out[note_id] = out.get(note_id, 0) + n
    return out


def visible(vote: Vote | None) -> bool:
    """May everyone see the tallies? A vote that is closed, or open with open tallies."""
    return vote is not None and (not vote["open"] or not vote["hidden"])


def view(session: Session | None, tallies: Tallies, voter: str | None) -> dict[str, Any] | None:
    """The board's vote as `voter` may see it (the snapshot's and REST's `votes`): their own votes and votes
    left, and every note's total when the tallies may be seen. None: the board has no vote."""
    vote = session["vote"] if session is not None else None
    if vote is None:
        return None
    mine = {str(i): n for (i, v), n in sorted(tallies.items()) if v == voter}
    shown: dict[str, Any] = {"mine": mine, "left": max(0, vote["budget"] - sum(mine.values()))}
    if visible(vote):
        shown["totals"] = {str(i): n for i, n in sorted(totals(tallies).items())}
    return shown


def new_round(before: Vote | None, after: Vote | None) -> bool:
    """Does this session change drop the board's votes? Opening a vote anew, or removing it."""
    if after is None:
        return before is not None
    return after["open"] and (before is None or not before["open"])


def apply_vote(
    board: str, cmd: VoteCommand, session: Session | None, note: Note | None, tallies: Tallies, seq: int
) -> VoteResult | NotesError:
    """The vote's result with seq `seq` (tallies updated), or the error that refuses it (tallies untouched)."""
    vote = session["vote"] if session is not None else None
    if vote is None or not vote["open"]:
        return NotFound(f"no vote is open on board {board}", cmd.client_id)
    if note is None or note["board"] != board or note["deleted"]:
        return NotFound(f"note {cmd.id} not found on board {board}", cmd.client_id)
    if note["kind"] != "note":
        return BadRequest(f"note {cmd.id} is a section: sections take no votes", cmd.client_id)
    key = (cmd.id, cmd.voter)
    mine = tallies.get(key, 0)
    used = sum(n for (_, voter), n in tallies.items() if voter == cmd.voter)
    if cmd.delta > 0:
        if used >= vote["budget"]:
            return Forbidden(f"you have used all {vote['budget']} of your votes", cmd.client_id)
        if mine and not vote["multiple"]:
            return Forbidden(f"one vote per note in this vote; you already voted for note {cmd.id}", cmd.client_id)
    elif not mine:
        return NotFound(f"you have no vote on note {cmd.id} to take back", cmd.client_id)
    tallies[key] = mine = mine + cmd.delta
    if not mine:
        del tallies[key]
    total = sum(n for (note_id, _), n in tallies.items() if note_id == cmd.id)
    left = vote["budget"] - used - cmd.delta
    return VoteResult(board, seq, cmd.id, cmd.voter, cmd.delta, total, mine, left, vote["hidden"])


def drop_votes(note: Note, loaded: Loaded, plan: Plan) -> None:
    """A deleted note's votes go back to their voters (and do not come back with a restore)."""
    plan.votes_dropped.add(note["id"])
    tallies = loaded.tallies.get(note["board"])
    if tallies:
        for key in [k for k in tallies if k[0] == note["id"]]:
            del tallies[key]


def cast_vote(
    board: str, cmd: VoteCommand, loaded: Loaded, plan: Plan, next_seq: Callable[[str], int]
) -> Outcome | NotesError:
    """One vote: a replay of its client_id, or the rules of core/votes.py and the board's next seq."""
    tallies = loaded.tallies.setdefault(board, {})
    session = loaded.sessions.get(board)
    if cmd.client_id and (board, cmd.client_id) in loaded.votes:
        note_id, voter, delta, seq = loaded.votes[(board, cmd.client_id)]
        if voter != cmd.voter or note_id != cmd.id or delta != cmd.delta:
            return BadRequest(f"client_id {cmd.client_id} was used for another vote", cmd.client_id)
        vote = session["vote"] if session is not None else None
        budget, hidden = (vote["budget"], vote["hidden"]) if vote is not None else (0, True)
        used = sum(n for (_, v), n in tallies.items() if v == voter)
        total = sum(n for (i, _), n in tallies.items() if i == note_id)
        mine = tallies.get((note_id, voter), 0)
        return VoteResult(board, seq, note_id, voter, delta, total, mine, max(0, budget - used), hidden, replay=True)
    if board not in loaded.seqs:  # a board that was never written has no session, so no vote
        return NotFound(f"no vote is open on board {board}", cmd.client_id)
    decided = apply_vote(board, cmd, session, loaded.notes.get(cmd.id), tallies, loaded.seqs[board] + 1)
    if isinstance(decided, VoteResult):
        next_seq(board)
        plan.votes.append((board, decided.seq, cmd.id, cmd.voter, cmd.delta, cmd.client_id))
        if cmd.client_id:
            loaded.votes[(board, cmd.client_id)] = (cmd.id, cmd.voter, cmd.delta, decided.seq)
    return decided
