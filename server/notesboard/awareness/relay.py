"""Writing a tick's frames to a board's connections, a few connections per turn of the event loop.

At 200 peers moving their cursors a tick is 200 frames of ~25 KB. Written in one callback they held the loop
for milliseconds, and a change arriving meanwhile waited for all of them: with cursors on, the change p99
doubled (issue #21). Written `PER_TURN` connections at a time, a change waits for one chunk at most. A
board's ticks are written in order (one queue per board), so no connection gets an older tick after a newer.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

from notesboard.awareness.frames import Joined
from notesboard.awareness.peer import LocalPeer

__all__ = ["PER_TURN", "Relay"]

PER_TURN = 25  # connections written per turn of the event loop


class _Job:
    __slots__ = ("changes", "joined", "next", "only_one", "peers")

    def __init__(self, joined: Joined, changes: dict[str, str | None], peers: list[LocalPeer], only_one: bool):
        self.joined = joined
        self.changes = changes
        self.peers = peers
        self.only_one = only_one  # one peer changed: its own connection has nothing to hear
        self.next = 0


class Relay:
    """One board's ticks on their way to its connections."""

    __slots__ = ("_counted", "_jobs", "_limit")

    def __init__(self, limit: int, counted: Callable[[int], None]) -> None:
        self._jobs: deque[_Job] = deque()
        self._limit = limit  # a frame longer than this goes as merged pending state (split by the peer)
        self._counted = counted  # told how many frames were handed to connections

    def send(self, joined: Joined, changes: dict[str, str | None], peers: list[LocalPeer], only_one: bool) -> None:
        """Queue one tick for `peers` (the board's local connections now); the first chunk goes at once."""
        self._jobs.append(_Job(joined, changes, peers, only_one))
        if len(self._jobs) == 1:
            self._run()

    def _run(self) -> None:
        budget = PER_TURN
        pushed = 0
        jobs = self._jobs
        limit = self._limit
        while jobs and budget > 0:
            job = jobs[0]
            joined, peers = job.joined, job.peers
            while job.next < len(peers) and budget > 0:
                lp = peers[job.next]
                job.next += 1
                budget -= 1
                if lp.peer in joined.spans:
                    if job.only_one:
                        continue  # its own entry was all that changed
                    text = joined.without(lp.peer)
                else:
                    text = joined.shared
                pushed += lp.give(text if text is not None and len(text) <= limit else None, job.changes)
            if job.next >= len(peers):
                jobs.popleft()
        self._counted(pushed)
        if jobs:
            asyncio.get_running_loop().call_soon(self._run)
