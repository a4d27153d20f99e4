"""Presence: who is on each board, announced at most once per `interval` per board (coalesced).

With several server processes, `remote` (a cluster backplane's roster, given at construction) adds the other
processes' names, and the hub's count includes their connections; local joins and leaves are reported to it
(with this process's names on the board) so it can tell them.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Protocol

from notesboard.contract.protocol import presence_frame
from notesboard.fanout.hub import Hub

__all__ = ["MAX_NAMES", "Presence", "RemotePresence"]

MAX_NAMES = 100


class RemotePresence(Protocol):
    def local_changed(self, board: str, names: list[str]) -> None:
        """A connection joined or left this board on this process; `names` are this process's names there."""

    def names(self, board: str) -> set[str]:
        """Display names on this board on other processes."""


class Presence:
    def __init__(self, hub: Hub, interval: float, remote: RemotePresence | None = None) -> None:
        self._hub = hub
        self._interval = interval
        self._names: dict[str, Counter[str]] = {}
        self._dirty: set[str] = set()
        self._timer: asyncio.TimerHandle | None = None
        self._remote = remote

    def joined(self, board: str, name: str | None) -> None:
        if name:
            self._names.setdefault(board, Counter())[name] += 1
        self._touch(board)
        if self._remote is not None:
            self._remote.local_changed(board, self.local_names(board))

    def left(self, board: str, name: str | None) -> None:
        names = self._names.get(board)
        if name and names is not None:
            names[name] -= 1
            if names[name] <= 0:
                del names[name]
            if not names:
                del self._names[board]
        self._touch(board)
        if self._remote is not None:
            self._remote.local_changed(board, self.local_names(board))

    def names(self, board: str) -> list[str]:
        if self._remote is None:
            return self.local_names(board)
        return sorted(self._remote.names(board).union(self._names.get(board, ())))[:MAX_NAMES]

    def local_names(self, board: str) -> list[str]:
        return sorted(self._names.get(board, ()))[:MAX_NAMES]

    def changed(self, board: str) -> None:
        """Presence on another process changed: announce the board again (coalesced like local changes)."""
        self._touch(board)

    def _touch(self, board: str) -> None:
        self._dirty.add(board)
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self._interval, self.flush)

    def flush(self) -> None:
        self._timer = None
        dirty, self._dirty = self._dirty, set()
        for board in dirty:
            self._hub.broadcast(board, presence_frame(self._hub.count(board), self.names(board)))

    def __enter__(self) -> Presence:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
