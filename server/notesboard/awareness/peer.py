"""One local connection's awareness: its state, its encoded entry, and what waits to be sent to it.

A connection whose outbox is busy (a slow reader, or a change frame still going out) is not given awareness
frames: what it should see is merged into `pending` (peer -> newest entry, or None for gone), so only the
newest state per peer is ever kept, and sent when its outbox drains. Awareness therefore never sits in front
of a change frame for long, and holds at most one chunk (`limit` characters) of an outbox's bound.
"""

from __future__ import annotations

import time
from typing import Any, Protocol

import orjson

from notesboard.awareness.frames import empty_frame, frame
from notesboard.ingress.ratelimit import TokenBucket

__all__ = ["LocalPeer", "Sink"]


class Sink(Protocol):
    """What a peer needs of its connection's outbox (`outbox.Outbox`)."""

    closed: bool

    @property
    def busy(self) -> bool: ...

    def push(self, frame: str, count: int = 1) -> None: ...


class LocalPeer:
    __slots__ = (
        "board",
        "bucket",
        "checked_editing",
        "color",
        "dirty",
        "entry",
        "expires",
        "frames_out",
        "limit",
        "name",
        "peer",
        "pending",
        "pending_empty",
        "prefix",
        "sink",
        "state",
    )

    def __init__(
        self,
        peer: str,
        board: str,
        name: str,
        color: str,
        sink: Sink,
        *,
        rate: float,
        burst: int,
        limit: int,
        expires: float | None,
    ) -> None:
        self.peer = peer
        self.board = board
        self.name = name
        self.color = color
        self.sink = sink
        self.state: dict[str, Any] = {"cursor": None, "editing": None, "selected": [], "view": None}
        # Everything but the state never changes: encoded once, the state is appended to it.
        self.prefix = orjson.dumps({"peer": peer, "name": name, "color": color}).decode()[:-1] + ","
        self.entry = ""
        self.dirty = True  # the state changed since `entry` was encoded
        self.pending: dict[str, str | None] = {}
        self.pending_empty = False  # an (empty) initial frame is owed
        self.bucket = TokenBucket(rate, burst, time.monotonic())
        self.checked_editing: int | None = None  # the last `editing` id found on the board
        self.limit = limit
        self.expires = expires
        self.frames_out = 0

    def encoded(self) -> str:
        """The peer's entry with its newest state (encoded at most once per change)."""
        if self.dirty:
            self.entry = self.prefix + orjson.dumps(self.state).decode()[1:]
            self.dirty = False
        return self.entry

    def give(self, shared: str | None, changes: dict[str, str | None]) -> int:
        """A tick's frame for this connection: `shared` if it can go now, else `changes` are merged and wait.

        Returns frames pushed."""
        sink = self.sink
        if sink.closed:
            return 0
        if shared is not None and not self.pending and not sink.busy:
            sink.push(shared)
            return 1
        for peer, entry in changes.items():
            if peer != self.peer:
                self.pending[peer] = entry
        return self.flush()

    def owe_full(self, entries: dict[str, str]) -> int:
        """The full frame right after the snapshot (sent even when it lists nobody)."""
        self.pending.update(entries)
        self.pending.pop(self.peer, None)
        self.pending_empty = not self.pending
        return self.flush()

    def flush(self) -> int:
        """Send what is pending while the outbox takes it without queueing (called again when it drains)."""
        sink = self.sink
        pushed = 0
        if sink.closed:
            self.pending.clear()
            return 0
        if self.pending_empty and not sink.busy:
            self.pending_empty = False
            sink.push(empty_frame())
            pushed += 1
        while self.pending and not sink.busy:
            sink.push(self._next_frame())
            pushed += 1
        self.frames_out += pushed
        return pushed

    def _next_frame(self) -> str:
        """Take entries (and gone peers) from `pending` up to about `limit` characters, as one frame."""
        pending, self.pending = self.pending, {}
        parts: list[str] = []
        gone: list[str] = []
        size = 0
        items = iter(pending.items())
        for peer, entry in items:
            if entry is None:
                gone.append(peer)
            elif parts and size + len(entry) > self.limit:
                self.pending[peer] = entry  # the rest waits until the outbox is free again
                self.pending.update(items)
                break
            else:
                parts.append(entry)
                size += len(entry) + 1
        return frame(",".join(parts), orjson.dumps(gone).decode())
