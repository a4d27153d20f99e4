"""Presence: who is on each board, announced at most once per `interval` per board (coalesced)."""

from __future__ import annotations

import asyncio
from collections import Counter

from notesboard.fanout import Hub
from notesboard.protocol import presence_frame

__all__ = ["MAX_NAMES", "Presence"]

MAX_NAMES = 100


class Presence:
    def __init__(self, hub: Hub, interval: float) -> None:
        self._hub = hub
        self._interval = interval
        self._names: dict[str, Counter[str]] = {}
        self._dirty: set[str] = set()
        self._timer: asyncio.TimerHandle | None = None

    def joined(self, board: str, name: str | None) -> None:
        if name:
            self._names.setdefault(board, Counter())[name] += 1
        self._touch(board)

    def left(self, board: str, name: str | None) -> None:
        names = self._names.get(board)
        if name and names is not None:
            names[name] -= 1
            if names[name] <= 0:
                del names[name]
            if not names:
                del self._names[board]
        self._touch(board)

    def names(self, board: str) -> list[str]:
        return sorted(self._names.get(board, ()))[:MAX_NAMES]

    def _touch(self, board: str) -> None:
        self._dirty.add(board)
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self._interval, self.flush)

    def flush(self) -> None:
        self._timer = None
        dirty, self._dirty = self._dirty, set()
        for board in dirty:
            self._hub.broadcast(board, presence_frame(self._hub.count(board), self.names(board)))

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
