"""What waits to go to the broker: committed events and presence messages, drained by the cluster's sender.

A queue of its own so that its producers (the cluster backplane for events, the roster for presence) and its
one consumer are built independently of each other. Events beyond `max_lines` are dropped oldest first:
the subscribers repair them from the database.
"""

from __future__ import annotations

import asyncio
from typing import Any

from notesboard.cluster.awareness_wire import MAX_QUEUED

__all__ = ["MAX_QUEUED_LINES", "Outgoing"]

MAX_QUEUED_LINES = 100_000  # events waiting for a slow or absent broker; older ones are dropped (repair covers)


class Outgoing:
    def __init__(self, max_lines: int = MAX_QUEUED_LINES) -> None:
        self._max_lines = max_lines
        self.lines: list[str] = []  # "<board> <seq> <frame>"
        self.presence: list[dict[str, Any]] = []
        self.wake = asyncio.Event()
        self.dropped = 0  # events dropped here, never sent
        self.aware: list[tuple[str, list[str]]] = []  # (board, awareness lines), see awareness_wire.py
        self.aware_dropped = 0

    def event(self, line: str) -> None:
        self.lines.append(line)
        if len(self.lines) > self._max_lines:
            drop = len(self.lines) - self._max_lines
            del self.lines[:drop]
            self.dropped += drop
        self.wake.set()

    def presence_message(self, message: dict[str, Any]) -> None:
        self.presence.append(message)
        self.wake.set()

    def awareness(self, board: str, lines: list[str]) -> None:
        if len(self.aware) >= MAX_QUEUED:
            self.aware_dropped += len(lines)
            return
        self.aware.append((board, lines))
        self.wake.set()

    def take_awareness(self) -> list[tuple[str, list[str]]]:
        aware, self.aware = self.aware, []
        return aware

    def __bool__(self) -> bool:
        return bool(self.lines or self.presence or self.aware)

    def take(self) -> tuple[list[str], list[dict[str, Any]]]:
        lines, self.lines = self.lines, []
        presence, self.presence = self.presence, []
        return lines, presence
