"""Fan-out: the hub keeps each board's connections and hands them every event and presence frame.

Delivery is synchronous and never awaits a socket: each connection's `Outbox` absorbs the frame. An event
frame is encoded once (by the publisher) and the same string object goes to every connection of the board.
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["Hub", "Subscriber"]


class Subscriber(Protocol):
    board: str

    def send_event(self, seq: int, frame: str) -> None: ...

    def send_frame(self, frame: str) -> None: ...


class Hub:
    def __init__(self) -> None:
        self._rooms: dict[str, set[Subscriber]] = {}
        self.delivered = 0

    def join(self, sub: Subscriber) -> int:
        """Add a connection; returns the board's connection count, this one included."""
        room = self._rooms.setdefault(sub.board, set())
        room.add(sub)
        return len(room)

    def leave(self, sub: Subscriber) -> None:
        room = self._rooms.get(sub.board)
        if room is not None:
            room.discard(sub)
            if not room:
                del self._rooms[sub.board]

    def count(self, board: str) -> int:
        return len(self._rooms.get(board, ()))

    def subscribers(self) -> list[Subscriber]:
        return [s for room in self._rooms.values() for s in room]

    def deliver(self, board: str, seq: int, frame: str) -> None:
        room = self._rooms.get(board)
        if not room:
            return
        for sub in tuple(room):  # a send may close a connection and leave the room
            sub.send_event(seq, frame)
        self.delivered += len(room)

    def broadcast(self, board: str, frame: str) -> None:
        for sub in tuple(self._rooms.get(board, ())):
            sub.send_frame(frame)
