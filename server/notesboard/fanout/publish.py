"""Publish: committed changes -> event frames (encoded once) -> the backplane."""

from __future__ import annotations

from collections.abc import Sequence

from notesboard.cluster.base import Backplane
from notesboard.contract.model import SessionResult, VoteResult, WriteResult
from notesboard.contract.protocol import event_frame, session_frame, split_frame
from notesboard.contract.votes import vote_event
from notesboard.core.privacy import blank, own

__all__ = ["Publisher"]


class Publisher:
    def __init__(self, backplane: Backplane) -> None:
        self._backplane = backplane
        self.published = 0

    def publish(self, results: Sequence[WriteResult | SessionResult | VoteResult]) -> None:
        """Results arrive in commit order, so each board's seqs go out ascending and without gaps."""
        for r in results:
            if isinstance(r, SessionResult):
                self._backplane.publish(r.board, r.seq, session_frame(r.seq, r.session, r.totals))
                continue
            if isinstance(r, VoteResult):  # a split frame: the voter's own and everyone else's (contract/votes.py)
                self._backplane.publish(r.board, r.seq, vote_event(r))
                continue
            assert r.op is not None
            frame = event_frame(r.op, r.note)
            if r.owner is not None:  # written while private: its text for its writer only (core/privacy.py)
                frame = split_frame(r.owner, event_frame(r.op, own(r.note)), event_frame(r.op, blank(r.note)))
            self._backplane.publish(r.note["board"], r.seq, frame)
        self.published += len(results)
