"""The change log's SQL: what a write batch adds to it (in the batch's transaction) and the two reads.

`record()` runs right after `sql.persist()`, in the same transaction, so an ack still means durable and the
log can neither miss nor invent a change: one row per committed change (one `executemany` per batch; on
Postgres it costs less CPU than one `INSERT ... SELECT FROM unnest(arrays)`, measured), the note as it was
right after it. A board delete erases the board's log (no text of a deleted board is kept)
and moves its `history_kept.oldest` to the seq after the delete; a purge blanks the note's logged texts
(the rows stay, so the log keeps every seq, move and colour; only the words go).

Reads: `history_rows()` pages the changes after a seq; `rows_at()` rebuilds a board at a seq. It starts
from the notes (their current seq says whether they changed since): an unchanged one is its log row at that
seq (a primary-key probe); a changed one is its newest row at or before the seq (one probe of the
`(note_id, seq)` index), so the cost grows with the notes on the board, not with the length of the history.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from notesboard.contract.errors import NotesError
from notesboard.contract.model import BoardCleared, Note, Outcome, SessionResult, WriteResult
from notesboard.storage.driver import Driver
from notesboard.storage.history_setup import OP_CODES, OP_NAMES
from notesboard.storage.sql import note_from_row

__all__ = ["Change", "HistoryHead", "history_rows", "read_head", "record", "rows_at"]

INSERT = (
    "INSERT INTO note_history (board, seq, note_id, op, text, color, x, y, w, h, z, version, updated_at, updated_by)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
# The note's columns in NOTE_FIELDS order, with the logged ones from the log row `h` and the fixed ones
# (author, created_at, kind) from the note `n`: the same shape as `sql.note_from_row` reads.
_LOGGED = (
    "n.id, n.board, h.text, n.author, h.color, h.x, h.y, h.version, h.seq, n.created_at, h.updated_at,"
    " {deleted}, h.w, h.h, h.z, h.updated_by, n.kind"
)


@dataclass(slots=True, frozen=True)
class Change:
    seq: int
    op: str
    note: Note


@dataclass(slots=True, frozen=True)
class HistoryHead:
    """A board's seq and the oldest seq its log can rebuild (0 and 0 for an unknown board)."""

    seq: int
    oldest: int


def _row(board: str, n: Note, op: str, private: bool = False) -> tuple[Any, ...]:
    """A log row; a private note's text is logged blank (the reveal logs it, core/privacy.py)."""
    text = "" if private else n["text"]
    return (board, n["seq"], n["id"], OP_CODES[op], text, n["color"], n["x"], n["y"], n["w"], n["h"], n["z"],
            n["version"], n["updated_at"], n["updated_by"])  # fmt: skip


async def record(
    db: Driver, results: Sequence[Outcome | NotesError], purged: Sequence[int], *, log: bool = True
) -> None:
    """Log a committed batch's changes (unless `log` is off); erase deleted boards' logs and blank purged
    notes' texts (also when it is off: rows from an earlier run with it on may hold them)."""
    cleared: dict[str, int] = {}
    for r in results:
        if isinstance(r, BoardCleared) and r.seq > 0:
            cleared[r.board] = max(cleared.get(r.board, 0), r.seq)
    if log:
        changes = [c for r in results for c in (r.revealed if isinstance(r, SessionResult) else [r])]
        rows = [
            _row(r.note["board"], r.note, r.op, r.owner is not None)
            for r in changes
            if isinstance(r, WriteResult) and r.op is not None and r.seq > cleared.get(r.note["board"], -1)
        ]
        await db.executemany(INSERT, rows)
    if cleared:
        erase = sorted(cleared.items())
        await db.executemany("DELETE FROM note_history WHERE board = ? AND seq <= ?", erase)
        await keep_from(db, erase)
    if purged:
        await db.executemany("UPDATE note_history SET text = ? WHERE note_id = ?", [("", i) for i in purged])


async def keep_from(db: Driver, oldest: Sequence[tuple[str, int]]) -> None:
    """Move boards' `oldest` up (never down: another process may have moved it further)."""
    top = "max" if db.is_sqlite else "GREATEST"
    await db.executemany(
        "INSERT INTO history_kept (board, oldest) VALUES (?, ?)"
        f" ON CONFLICT (board) DO UPDATE SET oldest = {top}(history_kept.oldest, excluded.oldest)",
        oldest,
    )


async def read_head(db: Driver, board: str) -> HistoryHead:
    rows = await db.fetch(
        "SELECT b.seq, k.oldest FROM (SELECT CAST(? AS VARCHAR(64)) AS board) q"
        " LEFT JOIN boards b ON b.board = q.board LEFT JOIN history_kept k ON k.board = q.board",
        [board],
    )
    seq, oldest = rows[0]
    return HistoryHead(int(seq or 0), int(oldest or 0))


async def history_rows(db: Driver, board: str, after: int, limit: int, note_id: int | None = None) -> list[Change]:
    """Up to `limit` changes with seq > `after`, ascending: the board's, or one note's (its own index)."""
    fields = _LOGGED.format(deleted="h.op = 3")
    which, args = ("h.board = ?", [board]) if note_id is None else ("h.note_id = ? AND h.board = ?", [note_id, board])
    rows = await db.fetch(
        f"SELECT h.op, {fields} FROM note_history h JOIN notes n ON n.id = h.note_id"
        f" WHERE {which} AND h.seq > ? ORDER BY h.seq LIMIT ?",
        [*args, after, limit],
    )
    return [Change(int(r[9]), OP_NAMES[int(r[0])], note_from_row(r[1:])) for r in rows]


async def rows_at(db: Driver, board: str, at: int, limit: int) -> list[Note]:
    """The newest `limit` notes live right after seq `at` (by their seq then), descending; the caller checked
    that the log reaches back to `at`."""
    fields = _LOGGED.format(deleted="FALSE")
    # Live notes not changed since `at`: their log row at their seq (not the `notes` row, which may hold text
    # committed quietly by ytext/ and not yet announced).
    unchanged = (
        f"SELECT {fields} FROM notes n JOIN note_history h ON h.board = n.board AND h.seq = n.seq"
        " WHERE n.board = ? AND n.seq <= ? AND NOT n.deleted"
    )
    changed_since = (
        f"SELECT {fields} FROM notes n JOIN note_history h ON h.note_id = n.id"
        " AND h.seq = (SELECT MAX(d.seq) FROM note_history d WHERE d.note_id = n.id AND d.seq <= ?)"
        " WHERE n.board = ? AND n.seq > ? AND n.created_seq <= ? AND h.op <> 3"
    )
    rows = await db.fetch(
        f"SELECT * FROM ({unchanged} UNION ALL {changed_since}) a ORDER BY seq DESC LIMIT ?",
        [board, at, at, board, at, at, limit],
    )
    return [note_from_row(r) for r in rows]
