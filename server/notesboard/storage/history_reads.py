"""The two history reads, each in one read transaction (so the board's seq, how far back its log reaches and
the rows agree, even while a pruning step or a write commits meanwhile).

- `read_history`: the changes after `since` (of the board, or of one note). When retention (or a board
  delete, or the first start after an upgrade) left out some changes after `since`, the page starts after
  `oldest` and says `truncated`.
- `read_at`: the board right after seq `at`, shaped like a page of live notes; `at` above the board's seq or
  below `oldest` is `bad_request`.
"""

from __future__ import annotations

from dataclasses import dataclass

from notesboard.contract.errors import BadRequest, Forbidden
from notesboard.contract.model import BoardPage
from notesboard.storage import history
from notesboard.storage.history import Change
from notesboard.storage.store import Store

__all__ = ["HistoryPage", "read_at", "read_history"]


@dataclass(slots=True, frozen=True)
class HistoryPage:
    board: str
    changes: list[Change]
    more: bool
    truncated: bool
    oldest: int  # the oldest seq `?at=` accepts; every change after it is in the log
    seq: int


def _check_on(store: Store) -> None:
    if not store.history:
        raise Forbidden("history is off on this server (the history setting)")


async def read_history(store: Store, board: str, since: int, limit: int, note_id: int | None = None) -> HistoryPage:
    """The board's changes after `since`, or only those of note `note_id` (its versions)."""
    _check_on(store)
    async with store.snapshot() as db:
        head = await history.read_head(db, board)
        after = max(since, head.oldest)
        rows = await history.history_rows(db, board, after, limit + 1, note_id)
    more = len(rows) > limit
    return HistoryPage(board, rows[:limit], more, since < head.oldest, head.oldest, head.seq)


async def read_at(store: Store, board: str, at: int, limit: int) -> BoardPage:
    _check_on(store)
    async with store.snapshot() as db:
        head = await history.read_head(db, board)
        if at > head.seq:
            raise BadRequest(f"at={at} is after the board's latest change (seq {head.seq})")
        if at < head.oldest:
            raise BadRequest(f"at={at} is older than the history kept for this board (it starts at seq {head.oldest})")
        notes = await history.rows_at(db, board, at, limit + 1)
    more = len(notes) > limit
    notes = notes[:limit]
    notes.reverse()
    return BoardPage(board, store.epoch, at, notes, more)
