"""The open sockets of this process: admission limits, per-address counts, the stall watchdog, shutdown."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from types import TracebackType
from typing import Protocol

from notesboard.contract.errors import RateLimited, Unavailable

__all__ = ["Registry", "Tracked"]

log = logging.getLogger("notesboard.ingress")


class Tracked(Protocol):
    address: str

    def check_stalled(self, now: float, limit: float) -> None:
        """Close the connection (1013) if a send has waited `limit` seconds."""

    async def shutdown(self, timeout: float) -> None:
        """Deliver what is queued, then close 1001."""


class Registry:
    """Entered by the runtime before the writer starts and left after it drained (see runtime.py)."""

    def __init__(
        self, *, max_connections: int, max_per_address: int, stall_timeout: float, shutdown_timeout: float
    ) -> None:
        self._max = max_connections
        self._max_per_address = max_per_address
        self._stall_timeout = stall_timeout
        self._shutdown_timeout = shutdown_timeout
        self.connections: set[Tracked] = set()
        self.admitted = 0  # sockets past admission (handshakes in flight included): what the caps count
        self.per_address: Counter[str] = Counter()
        self.accepting = False
        self.overflows = 0  # connections closed 1013 for reading too slowly
        self.closed_at_shutdown = 0
        self._watchdog: asyncio.TimerHandle | None = None

    def admit(self, address: str) -> None:
        """Count a new socket from `address` against the caps now, or raise the contract error that refuses it.

        Counted at admission, not once the socket is accepted: handshakes arriving together would otherwise
        all pass the cap before any of them is accepted. `release` gives the place back (see `admission`).
        """
        if not self.accepting:
            raise Unavailable("server is shutting down")
        if self.admitted >= self._max:
            raise Unavailable("too many connections")
        if self.per_address[address] >= self._max_per_address:
            raise RateLimited("too many connections from this address")
        self.admitted += 1
        self.per_address[address] += 1

    def release(self, address: str) -> None:
        self.admitted -= 1
        self.per_address[address] -= 1
        if self.per_address[address] <= 0:
            del self.per_address[address]

    def add(self, conn: Tracked) -> None:
        """Track an accepted socket for the stall watchdog and shutdown (it was counted at admission)."""
        self.connections.add(conn)

    def remove(self, conn: Tracked) -> None:
        self.connections.discard(conn)

    def overflowed(self) -> None:
        self.overflows += 1

    def open(self) -> None:
        """Start accepting sockets (the runtime calls it once every service is up)."""
        self.accepting = True

    def refuse(self) -> None:
        """Refuse new sockets from now on (first step of shutdown)."""
        self.accepting = False

    def _watch(self) -> None:
        """Every second: find connections whose peer stopped reading (see SocketConnection.check_stalled)."""
        now = time.monotonic()
        for conn in list(self.connections):
            conn.check_stalled(now, self._stall_timeout)
        self._watchdog = asyncio.get_running_loop().call_later(1.0, self._watch)

    async def __aenter__(self) -> Registry:
        self._watchdog = asyncio.get_running_loop().call_later(1.0, self._watch)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.accepting = False
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        await asyncio.sleep(0)  # let the writer's last commit callbacks queue their acks
        conns = list(self.connections)
        self.closed_at_shutdown = len(conns)
        if conns:
            timeout = self._shutdown_timeout
            await asyncio.gather(*(c.shutdown(timeout) for c in conns), return_exceptions=True)
