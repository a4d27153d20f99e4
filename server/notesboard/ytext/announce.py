"""Coalescing of the v1 `updated` events that typing causes: at most one per note per `window` seconds.

A Yjs commit announces itself (version + 1, the board's next seq, an ordinary `updated` event) when the
note's last announce is at least `window` old; otherwise it commits quietly (the document and the note's
text only) and an announce is scheduled for the window's end, so the last change is never left
unannounced. The flag `note_ydocs.pending` makes that hold across a stop: `sweep()` at start-up announces
what a stopped process left due.
"""

from __future__ import annotations

import asyncio
import logging
import math

from notesboard.contract.model import Outcome, YUpdateCommand
from notesboard.core.usecases import Notes

__all__ = ["Announcer"]

log = logging.getLogger("notesboard.ytext")


class Announcer:
    def __init__(self, notes: Notes, window: float) -> None:
        self._notes = notes
        self._window = window
        self._last: dict[int, float] = {}  # note id -> loop time of its last announce (recent ones only)
        self._due: dict[int, asyncio.TimerHandle] = {}
        self._authors: dict[int, str | None] = {}
        self.announces = 0

    def announce_now(self, note_id: int) -> bool:
        """Should a commit of this note announce itself (True), or commit quietly and leave it to `later`?"""
        if self._window <= 0:
            return True
        now = asyncio.get_running_loop().time()
        if note_id in self._due or now - self._last.get(note_id, -math.inf) < self._window:
            return False
        self._last[note_id] = now
        if len(self._last) > 10_000:  # forget notes announced longer than a window ago
            self._last = {k: t for k, t in self._last.items() if now - t < self._window}
        return True

    def later(self, board: str, note_id: int, author: str | None) -> None:
        """A quiet commit happened: make sure an announce follows at the window's end."""
        self._authors[note_id] = author
        if note_id in self._due:
            return
        loop = asyncio.get_running_loop()
        delay = max(0.0, self._last.get(note_id, -math.inf) + self._window - loop.time())
        self._due[note_id] = loop.call_later(delay, self._fire, board, note_id)

    def flush(self, board: str, note_id: int) -> None:
        """Announce now what is due for the note (its last editor left)."""
        handle = self._due.get(note_id)
        if handle is not None:
            handle.cancel()
            self._fire(board, note_id)

    def _fire(self, board: str, note_id: int) -> None:
        self._due.pop(note_id, None)
        self._last[note_id] = asyncio.get_running_loop().time()
        self.submit(board, note_id, self._authors.pop(note_id, None))

    def submit(self, board: str, note_id: int, author: str | None) -> asyncio.Future[Outcome]:
        self.announces += 1
        future = self._notes.submit(board, YUpdateCommand(note_id, {}, None, None), author)
        future.add_done_callback(_log_failure)
        return future

    async def sweep(self, pending: list[tuple[str, int]]) -> None:
        """Announce what a stopped process left due (read from the database at start-up)."""
        for board, note_id in pending:
            await asyncio.gather(self.submit(board, note_id, None), return_exceptions=True)
        if pending:
            log.info("announced %d notes whose last Yjs commits were not announced", len(pending))


def _log_failure(future: asyncio.Future[Outcome]) -> None:
    if not future.cancelled() and future.exception() is not None:
        # The note was deleted meanwhile (nothing to announce), or the database is down: the pending flag
        # stays set and the next start-up's sweep announces it.
        log.info("announce failed: %s", future.exception())
