"""Forgetting old history: changes older than `history_days` leave the log, in small steps, in the background.

What stays is what `?at=` needs for every seq from the board's new `oldest` on: each note's newest state
from before that point (unless it was a delete). So a step on one board: read up to `rows` changes after
`oldest` that are older than the cutoff, move `oldest` to the last of them, and delete every row those
changes superseded (for each note they touch, its rows before its newest one there; a delete goes too).
The step is one write transaction on the writer connection between write batches (`Store.write_step`),
so ingest waits for at most one small step; `history_rows` and `rows_at` read in a snapshot, so they see
the log before or after a step, never half of one.

Boards are visited in name order from a cursor, `scan` at a time (one query says which of them have
changes past the cutoff); after a round that found nothing, the task sleeps `interval` seconds.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from notesboard.contract.errors import Unavailable
from notesboard.storage.driver import Driver
from notesboard.storage.history import keep_from
from notesboard.storage.store import Store

__all__ = ["Retention", "cutoff_for", "prune_step"]

log = logging.getLogger("notesboard.store")

CANDIDATES = (
    "SELECT b.board, COALESCE(k.oldest, 0), (SELECT h.updated_at FROM note_history h WHERE h.board = b.board"
    " AND h.seq > COALESCE(k.oldest, 0) ORDER BY h.seq LIMIT 1)"
    " FROM boards b LEFT JOIN history_kept k ON k.board = b.board WHERE b.board > ? ORDER BY b.board LIMIT ?"
)


def cutoff_for(days: float, now: datetime | None = None) -> str:
    """The timestamp (updated_at's format) before which changes are forgotten."""
    when = (now or datetime.now(UTC)) - timedelta(days=days)
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def prune_step(db: Driver, cutoff: str, cursor: str, *, scan: int = 200, rows: int = 1000) -> tuple[str, int]:
    """Prune at most one board by at most `rows` changes, looking at boards after `cursor`.

    Returns (the new cursor, changes forgotten); the cursor is "" after the last board (the round is over).
    """
    candidates = await db.fetch(CANDIDATES, [cursor, scan])
    if not candidates:
        return "", 0
    before = cursor
    for board, oldest, first in candidates:
        if first is not None and first < cutoff:
            done, more = await _prune_board(db, board, int(oldest), cutoff, rows)
            return (before if more else board), done
        before = board
    return str(candidates[-1][0]) if len(candidates) == scan else "", 0


async def _prune_board(db: Driver, board: str, oldest: int, cutoff: str, rows: int) -> tuple[int, bool]:
    chunk = await db.fetch(
        "SELECT seq, note_id, op, updated_at FROM note_history WHERE board = ? AND seq > ? ORDER BY seq LIMIT ?",
        [board, oldest, rows],
    )
    newest: dict[int, tuple[int, int]] = {}  # note id -> (seq, op) of its newest change before the cutoff
    horizon = oldest
    for seq, note_id, op, at in chunk:
        if at >= cutoff:
            break
        newest[int(note_id)] = (int(seq), int(op))
        horizon = int(seq)
    if horizon == oldest:
        return 0, False
    superseded = [(note_id, seq) for note_id, (seq, op) in newest.items() if op != 3]
    deleted = [(note_id, seq) for note_id, (seq, op) in newest.items() if op == 3]
    await db.executemany("DELETE FROM note_history WHERE note_id = ? AND seq < ?", superseded)
    await db.executemany("DELETE FROM note_history WHERE note_id = ? AND seq <= ?", deleted)
    await keep_from(db, [(board, horizon)])
    done = sum(1 for r in chunk if int(r[0]) <= horizon)
    return done, done == rows  # a full chunk, all of it old: there may be more on this board


class Retention:
    """The pruning task: started on enter when `days` > 0 and the log is kept, cancelled on exit."""

    def __init__(self, store: Store, days: float, interval: float, *, rows: int = 1000) -> None:
        self._store = store
        self._days = days
        self._interval = interval
        self._rows = rows
        self._task: asyncio.Task[None] | None = None
        self.pruned = 0  # changes forgotten since start (metrics)

    async def __aenter__(self) -> Retention:
        if self._days > 0 and self._store.history:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="notesboard-history-retention")
        return self

    async def __aexit__(self, *exc: object) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _run(self) -> None:
        cursor, found = "", False
        while True:
            cutoff = cutoff_for(self._days)
            try:
                cursor, done = await self._store.write_step(
                    lambda db: prune_step(db, cutoff, cursor, rows=self._rows)  # noqa: B023
                )
            except Unavailable as exc:
                log.warning("history pruning paused: %s", exc.message)
                await asyncio.sleep(self._interval)
                continue
            except Exception:
                log.exception("history pruning failed; retrying later")
                await asyncio.sleep(self._interval)
                continue
            self.pruned += done
            found = found or done > 0
            if cursor == "" and not found:
                await asyncio.sleep(self._interval)
            else:
                await asyncio.sleep(0.005 if done else 0)  # let write batches in between steps
            if cursor == "":
                found = False
