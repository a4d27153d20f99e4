"""Presence across processes: each process tells the others its per-board counts and names, with a TTL.

A process announces a board when its local connections on it change (coalesced, like presence frames), when
another process asks (it just subscribed to the board), and re-announces every board it has connections on
every `ttl / 3` seconds. Announcements go to the board's channel, so only processes watching it hear them.
Receivers keep each process's entry until it is replaced, withdrawn (count 0, or a goodbye at shutdown) or
expires: a crashed process's connections disappear from everyone's presence within `ttl` seconds (plus one
sweep).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from notesboard.fanout.hub import Hub
from notesboard.fanout.presence import MAX_NAMES

__all__ = ["Roster"]

Send = Callable[[dict[str, Any]], None]  # a presence message for the other processes


class Roster:
    """Implements `presence.RemotePresence`; `send` hands a message to the broker, `apply` takes one from it.

    `apply` and `expire` return the boards whose presence changed and that have local connections: the
    cluster backplane tells `Presence` to announce them again.
    """

    def __init__(self, hub: Hub, *, ttl: float, interval: float, send: Send) -> None:
        self._hub = hub
        self._local: dict[str, list[str]] = {}  # board -> this process's names (told by Presence)
        self.ttl = ttl
        self._interval = interval
        self._send = send
        # board -> origin -> (count, names, expires at)
        self._remote: dict[str, dict[str, tuple[int, list[str], float]]] = {}
        self._origins: dict[str, float] = {}  # other processes -> last heard from (monotonic)
        self._dirty: set[str] = set()
        self._timer: asyncio.TimerHandle | None = None
        self.heartbeat_due = True  # a reconnect asks for our full state soon
        # Told (board, origin) when another process's entry for a board goes (withdrawn, goodbye or TTL):
        # awareness drops that process's peers on the board with it.
        self.on_gone: Callable[[str, str], None] | None = None

    # -- what this process says ------------------------------------------------------------------------

    def local_changed(self, board: str, names: list[str]) -> None:
        if names:
            self._local[board] = names
        else:
            self._local.pop(board, None)
        self._dirty.add(board)
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self._interval, self._announce)

    def asked(self, board: str) -> None:
        """Another process just subscribed to the board and wants to know who is here: announce it soon."""
        self._dirty.add(board)
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self._interval, self._announce)

    def _announce(self) -> None:
        self._timer = None
        dirty, self._dirty = self._dirty, set()
        if dirty:
            self._send({"ttl": self.ttl, "b": {board: self._entry(board) for board in sorted(dirty)}})

    def _entry(self, board: str) -> list[Any]:
        return [self._hub.local_count(board), self._local.get(board, [])]

    def heartbeat(self) -> None:
        """Every board this process has connections on (refreshes their TTL on the other processes)."""
        self.heartbeat_due = False
        boards = self._hub.boards()
        if boards:
            self._send({"ttl": self.ttl, "b": {board: self._entry(board) for board in boards}})

    def goodbye(self) -> None:
        self._send({"bye": True})

    # -- what the others say -----------------------------------------------------------------------------

    def names(self, board: str) -> set[str]:
        names: set[str] = set()
        for _, entry_names, _ in self._remote.get(board, {}).values():
            names.update(entry_names)
        return names

    def listed(self, board: str, origin: str) -> bool:
        """Does another process's presence entry for this board stand?"""
        return origin in self._remote.get(board, {})

    def apply(self, origin: str, message: dict[str, Any]) -> set[str]:
        """Take another process's message; returns the local boards whose presence changed."""
        now = time.monotonic()
        changed: set[str] = set()
        self._origins[origin] = now
        if message.get("bye"):
            self._origins.pop(origin, None)
            for board in [b for b, entries in self._remote.items() if origin in entries]:
                if self._set(board, origin, None):
                    changed.add(board)
            return changed
        expires = now + float(message.get("ttl", self.ttl))
        for board, (count, names) in message.get("b", {}).items():
            entry = (int(count), [str(n) for n in names][:MAX_NAMES], expires) if count else None
            if self._set(board, origin, entry):
                changed.add(board)
        return changed

    def forget(self, board: str) -> None:
        """We stopped listening to the board: the others' entries for it would only go stale."""
        if self._remote.pop(board, None) is not None:
            self._hub.elsewhere.pop(board, None)

    def expire(self) -> set[str]:
        """Drop entries past their TTL; returns the local boards whose presence changed."""
        now = time.monotonic()
        changed: set[str] = set()
        for board, entries in list(self._remote.items()):
            for origin in [o for o, (_, _, expires) in entries.items() if expires <= now]:
                if self._set(board, origin, None):
                    changed.add(board)
        for origin in [o for o, seen in self._origins.items() if seen + 3 * self.ttl < now]:
            del self._origins[origin]
        return changed

    def _set(self, board: str, origin: str, entry: tuple[int, list[str], float] | None) -> bool:
        entries = self._remote.setdefault(board, {})
        before = entries.get(origin)
        if entry is None:
            entries.pop(origin, None)
            if before is not None and self.on_gone is not None:
                self.on_gone(board, origin)
        else:
            entries[origin] = entry
        if not entries:
            del self._remote[board]
        total = sum(count for count, _, _ in entries.values())
        if total:
            self._hub.elsewhere[board] = total
        else:
            self._hub.elsewhere.pop(board, None)
        changed = (before is None) != (entry is None) or (
            before is not None and entry is not None and before[:2] != entry[:2]
        )
        return changed and self._hub.local_count(board) > 0

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
