"""Fan-out: the hub keeps each board's connections and hands them every event and presence frame.

Events published for a board are collected and flushed once per loop turn (or after `delay` seconds when
set), so everything one group commit produced reaches each connection in one push. Under load a board with
at least `coalesce_min` connections is flushed at most once per `coalesce` seconds: an event arriving sooner
after the last flush waits for the window's end, so a busy board's events go out several per push (a
`send()` per socket is most of a delivery's cost), while a quiet board's first event still goes at once.
For connections that accept batching (`batch=1`) the frames are joined into one newline-separated chunk
*once per board*, and the same string goes to every such connection. A flush that holds a split frame (one
whose content depends on the reader: a vote while tallies are hidden, `protocol.split_frame`) is rendered per
connection instead, by its `voter` key. Delivery never awaits a socket: each
connection's `Outbox` absorbs the push.

A room can also keep one value for its board (`keep`/`kept`: the snapshot cache of `snapshot.SharedReads`).
Every change the hub sees for the board (an event queued, a resync, the last connection leaving) drops it,
`stamp` lets its owner keep only what was read while nothing changed, and `kept_bytes` adds up the sizes
of what is kept, so that all boards together stay within a budget.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from typing import Any, Protocol

from notesboard.contract.protocol import SPLIT, render

__all__ = ["Hub", "Stamp", "Subscriber"]


class Subscriber(Protocol):
    board: str
    batch: bool
    seq: int  # the last event seq it was given (0 until its snapshot is read)

    def send_events(self, first: int, last: int, frames: list[tuple[int, str]], chunk: str | None) -> None:
        """Consecutive events `first`..`last`; `chunk` is them joined by newlines (for batching clients)."""

    def send_frame(self, frame: str) -> None: ...

    def resync(self) -> None:
        """Events were missed between processes: the connection should resume with `since` (close 1013)."""


class _Room:
    __slots__ = ("flushed", "hidden", "kept", "kept_size", "pending", "scheduled", "subs", "version")

    def __init__(self, version: int) -> None:
        self.subs: set[Subscriber] = set()
        self.pending: list[tuple[int, str]] = []
        self.scheduled = False
        self.flushed = -1e9  # loop time of the last flush
        self.version = version  # unique across rooms and changes: a stamp of another room never matches
        self.kept: Any = None  # what `keep` stored, until the board's next change
        self.kept_size = 0  # its size, as `keep` was told
        self.hidden = 0  # subscribers that are not connections (`counted = False`: a note's Yjs room, ytext/)


# Where a board's room stood when it was taken (`Hub.stamp`): the room and its version.
Stamp = tuple[_Room, int]


class Hub:
    def __init__(self, delay: float = 0.0, *, coalesce: float = 0.0, coalesce_min: int = 32) -> None:
        self._rooms: dict[str, _Room] = {}
        self._delay = delay
        self._coalesce = coalesce
        self._coalesce_min = coalesce_min
        self.delivered = 0
        self.flushes = 0  # pushes of events to a board's connections (one per socket each)
        # Connections per board on other server processes (kept by a cluster backplane's presence roster).
        self.elsewhere: dict[str, int] = {}
        # Told when a board gets its first local connection (True) and loses its last (False): a cluster
        # backplane listens to a board's broker channel only while it has connections here.
        self.on_watch: Callable[[str, bool], None] | None = None
        self._versions = itertools.count(1)
        self.kept_bytes = 0  # the sizes of everything kept, all rooms together

    def join(self, sub: Subscriber) -> int:
        """Add a connection; returns the board's connection count, this one included."""
        room = self._rooms.get(sub.board)
        if room is None:
            room = self._rooms[sub.board] = _Room(next(self._versions))
        if sub not in room.subs and not getattr(sub, "counted", True):
            room.hidden += 1
        room.subs.add(sub)
        if len(room.subs) == 1 and self.on_watch is not None:
            self.on_watch(sub.board, True)
        return len(room.subs)

    def leave(self, sub: Subscriber) -> None:
        room = self._rooms.get(sub.board)
        if room is not None and sub in room.subs:
            room.subs.discard(sub)
            if not getattr(sub, "counted", True):
                room.hidden -= 1
            if not room.subs:
                self._changed(room)  # nothing kept outlives the last local connection: no one here hears the board
                if not room.pending:
                    del self._rooms[sub.board]
                if self.on_watch is not None:
                    self.on_watch(sub.board, False)

    def count(self, board: str) -> int:
        """Connections on the board: this process's, plus those on other processes sharing the broker."""
        room = self._rooms.get(board)
        return (len(room.subs) - room.hidden if room else 0) + self.elsewhere.get(board, 0)

    def local_count(self, board: str) -> int:
        room = self._rooms.get(board)
        return len(room.subs) - room.hidden if room else 0

    def boards(self) -> list[str]:
        """Boards with a connection on this process."""
        return [board for board, room in self._rooms.items() if room.subs]

    def floor(self, board: str) -> int | None:
        """The lowest seq any local connection of the board has (None: no connection here).

        Whoever repairs a gap needs nothing at or below it; a connection still reading its snapshot reports 0.
        """
        room = self._rooms.get(board)
        if room is None or not room.subs:
            return None
        return min(sub.seq for sub in room.subs)

    def resync(self, board: str, missing: int) -> int:
        """Event `missing` cannot be delivered (it was superseded before this process saw it): every connection
        that has not seen it is asked to resume with `since` (close 1013). Returns how many were asked."""
        room = self._rooms.get(board)
        asked = 0
        if room is not None:
            self._changed(room)
        for sub in tuple(room.subs) if room else ():
            if sub.seq < missing:
                sub.resync()
                asked += 1
        return asked

    def room_sizes(self) -> list[int]:
        return [len(room.subs) for room in self._rooms.values() if room.subs]

    def deliver(self, board: str, seq: int, frame: str) -> None:
        """Queue one committed event (called in seq order per board); it goes out at the board's next flush."""
        room = self._rooms.get(board)
        if room is None:
            return
        self._changed(room)
        if not room.subs:
            return
        room.pending.append((seq, frame))
        if not room.scheduled:
            room.scheduled = True
            loop = asyncio.get_running_loop()
            if self._delay > 0:
                loop.call_later(self._delay, self._flush, board, room)
                return
            wait = room.flushed + self._coalesce - loop.time() if len(room.subs) >= self._coalesce_min else 0.0
            if wait > 0:
                loop.call_later(wait, self._flush, board, room)
            else:
                loop.call_soon(self._flush, board, room)

    def _flush(self, board: str, room: _Room) -> None:
        room.scheduled = False
        frames, room.pending = room.pending, []
        if not frames:
            return
        if self._coalesce > 0:
            room.flushed = asyncio.get_running_loop().time()
        self.flushes += 1
        subs = tuple(room.subs)  # a push may close a connection and leave the room
        first, last = frames[0][0], frames[-1][0]
        if any(f.startswith(SPLIT) for _, f in frames):
            for sub in subs:
                reader = getattr(sub, "voter", None)
                mine = [(seq, render(f, reader)) for seq, f in frames]
                sub.send_events(first, last, mine, "\n".join(f for _, f in mine) if sub.batch else None)
        else:
            chunk = "\n".join(f for _, f in frames) if any(s.batch for s in subs) else None
            for sub in subs:
                sub.send_events(first, last, frames, chunk)
        self.delivered += len(subs) * len(frames)
        if not room.subs and self._rooms.get(board) is room:
            del self._rooms[board]

    # -- one value kept per watched board, valid until the board's next change ------------------------------

    def _changed(self, room: _Room) -> None:
        room.version = next(self._versions)
        room.kept = None
        self.kept_bytes -= room.kept_size
        room.kept_size = 0

    def stamp(self, board: str) -> Stamp | None:
        """Where the board stands now (None: no connection here, nothing can be kept)."""
        room = self._rooms.get(board)
        return (room, room.version) if room is not None and room.subs else None

    def keep(self, board: str, stamp: Stamp | None, value: object, size: int, budget: int) -> bool:
        """Keep `value` (`size` bytes) for the board if nothing changed since `stamp` was taken and everything
        kept then fits `budget` bytes; False if not (what the board kept before stays)."""
        room = self._rooms.get(board)
        if stamp is None or room is not stamp[0] or room.version != stamp[1] or not room.subs:
            return False
        if self.kept_bytes - room.kept_size + size > budget:
            return False
        self.kept_bytes += size - room.kept_size
        room.kept, room.kept_size = value, size
        return True

    def kept(self, board: str) -> Any:
        """What was kept for the board, if nothing changed since (None otherwise)."""
        room = self._rooms.get(board)
        return room.kept if room is not None else None

    def broadcast(self, board: str, frame: str) -> None:
        room = self._rooms.get(board)
        if room is not None:
            for sub in tuple(room.subs):
                sub.send_frame(frame)
