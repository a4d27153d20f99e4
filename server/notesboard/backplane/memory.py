"""In-process backplane: delivery is a direct call, so one process needs no broker."""

from __future__ import annotations

from notesboard.backplane.base import Backplane

__all__ = ["MemoryBackplane"]


class MemoryBackplane(Backplane):
    def publish(self, board: str, seq: int, frame: str) -> None:
        self.deliver(board, seq, frame)
