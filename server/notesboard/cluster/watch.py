"""Which boards this process listens to on the broker: those with local connections, and for a grace period
those that just lost their last one (a client reconnecting, or moving between tabs, should not make us drop
and re-read the board).

The hub reports a board's first local connection and its last leaving (`changed`); subscribing and
unsubscribing happen in one task (`run`), in order, so the broker sees one command at a time. Once a board's
channel is live, `on_live` gets the board: the owner reads it from the database then, since whatever was
committed and published before the subscription took effect never reaches us through the broker.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from notesboard.cluster.base import Broker, BrokerError
from notesboard.cluster.wire import Channels

__all__ = ["Watch"]

log = logging.getLogger("notesboard.backplane")

RETRY_S = 1.0


class Watch:
    def __init__(
        self,
        broker: Broker,
        *,
        grace: float,
        on_live: Callable[[list[str]], None],
        on_drop: Callable[[str], None],
        still_used: Callable[[str], bool],
    ) -> None:
        self._broker = broker
        self._grace = grace
        self._on_live = on_live
        self._on_drop = on_drop
        self._still_used = still_used
        self.channels = Channels("notesboard", None)  # set by the owner once the base name is known
        self.boards: set[str] = set()  # watched: local connections, or within the grace period
        self._refs: dict[str, set[str]] = {}  # channel -> its watched boards
        self._live: set[str] = set()  # channels subscribed on the current broker connection
        self._fresh: set[str] = set()  # watched boards whose channel is not confirmed live since they joined
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self.up = False  # the broker connection is usable (set by the owner)
        self.subscribes = 0
        self.unsubscribes = 0

    # -- from the hub -------------------------------------------------------------------------------------

    def changed(self, board: str, watched: bool) -> None:
        """The board got its first local connection (True) or lost its last (False)."""
        if watched:
            timer = self._timers.pop(board, None)
            if timer is not None:
                timer.cancel()
            if board not in self.boards:
                self.boards.add(board)
                self._refs.setdefault(self.channels.of(board), set()).add(board)
                self._fresh.add(board)
                self._wake.set()
        elif board in self.boards and board not in self._timers:
            if self._grace <= 0:
                self._expire(board)
            else:
                self._timers[board] = asyncio.get_running_loop().call_later(self._grace, self._expire, board)

    def _expire(self, board: str) -> None:
        self._timers.pop(board, None)
        if self._still_used(board):
            return
        self.boards.discard(board)
        self._fresh.discard(board)
        channel = self.channels.of(board)
        boards = self._refs.get(channel)
        if boards is not None:
            boards.discard(board)
            if not boards:
                del self._refs[channel]
        self._on_drop(board)
        self._wake.set()

    # -- to the broker -------------------------------------------------------------------------------------

    async def sync(self, *, reconnected: bool = False) -> None:
        """Subscribe what is watched and not live, unsubscribe what is live and no longer watched.

        `reconnected`: a new broker connection, on which nothing is subscribed yet; every watched board needs a
        fresh read once its channel is live again.
        """
        async with self._lock:
            self._wake.clear()
            if reconnected:
                self._live.clear()
                self._fresh.update(self.boards)
            for channel in [c for c in self._live if c not in self._refs]:
                self._live.discard(channel)
                self.unsubscribes += 1
                await self._broker.unsubscribe(channel)
            for channel in [c for c in self._refs if c not in self._live]:
                await self._broker.subscribe(channel)
                self._live.add(channel)
                self.subscribes += 1
            fresh = sorted(b for b in self._fresh if self.channels.of(b) in self._live)
            self._fresh.difference_update(fresh)
            if fresh:
                self._on_live(fresh)

    def connected(self, up: bool) -> None:
        self.up = up
        if up:
            self._wake.set()  # catch up on changes made while we were down

    async def run(self) -> None:
        while True:
            await self._wake.wait()
            if not self.up:
                self._wake.clear()  # the reconnect syncs everything
                continue
            try:
                await self.sync()
            except BrokerError as exc:
                log.warning("subscription change failed (%s); retrying", exc)
                await asyncio.sleep(RETRY_S)
                self._wake.set()
            except Exception:  # a bug must not end subscribing for good
                log.exception("subscription change failed; retrying")
                await asyncio.sleep(RETRY_S)
                self._wake.set()

    def close(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()

    def live_count(self) -> int:
        return len(self._live) if self.up else 0

    def stats(self) -> dict[str, int]:
        return {"boards": len(self.boards), "channels": len(self._live), "subscribes": self.subscribes}
