"""The socket registry: admission limits, per-address counts, the stall watchdog, shutdown."""

from __future__ import annotations

import asyncio

import pytest

from notesboard.contract.errors import RateLimited, Unavailable
from notesboard.ingress.registry import Registry


class Conn:
    """What the registry needs of a connection."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.checked = asyncio.Event()
        self.closed = False

    def check_stalled(self, now: float, limit: float) -> None:
        assert limit == 2.5
        self.checked.set()

    async def shutdown(self, timeout: float) -> None:
        assert timeout == 3.0
        self.closed = True


def _registry(max_connections: int = 3, max_per_address: int = 2) -> Registry:
    return Registry(
        max_connections=max_connections, max_per_address=max_per_address, stall_timeout=2.5, shutdown_timeout=3.0
    )


def test_admission() -> None:
    reg = _registry()
    with pytest.raises(Unavailable, match="shutting down"):
        reg.admit("a")  # not open yet
    reg.open()
    a1, a2, b = Conn("a"), Conn("a"), Conn("b")
    for conn in (a1, a2):
        reg.admit("a")
        reg.add(conn)
    with pytest.raises(RateLimited, match="from this address"):
        reg.admit("a")
    reg.add(b)
    with pytest.raises(Unavailable, match="too many connections"):
        reg.admit("c")
    reg.remove(a1)
    reg.remove(a1)  # twice: counted once
    assert dict(reg.per_address) == {"a": 1, "b": 1} and len(reg.connections) == 2
    reg.admit("a")
    reg.refuse()
    with pytest.raises(Unavailable, match="shutting down"):
        reg.admit("a")


async def test_the_watchdog_runs_while_open_and_shutdown_closes_everyone() -> None:
    reg = _registry()
    conns = [Conn("a"), Conn("b")]
    async with reg:
        reg.open()
        for conn in conns:
            reg.add(conn)
        async with asyncio.timeout(3):
            await asyncio.gather(*(c.checked.wait() for c in conns))
    assert all(c.closed for c in conns) and reg.closed_at_shutdown == 2
    assert not reg.accepting and reg._watchdog is None
