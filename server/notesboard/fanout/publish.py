"""Publish: committed changes -> event frames (encoded once) -> the backplane."""

from __future__ import annotations

from collections.abc import Sequence

from notesboard.cluster.base import Backplane
from notesboard.contract.model import SessionResult, WriteResult
from notesboard.contract.protocol import event_frame, session_frame

__all__ = ["Publisher"]


class Publisher:
    def __init__(self, backplane: Backplane) -> None:
        self._backplane = backplane
        self.published = 0

    def publish(self, results: Sequence[WriteResult | SessionResult]) -> None:
        """Results arrive in commit order, so each board's seqs go out ascending and without gaps."""
        for r in results:
            if isinstance(r, SessionResult):
                self._backplane.publish(r.board, r.seq, session_frame(r.seq, r.session))
                continue
            assert r.op is not None
            self._backplane.publish(r.note["board"], r.seq, event_frame(r.op, r.note))
        self.published += len(results)
