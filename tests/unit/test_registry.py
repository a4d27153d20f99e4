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
    reg.admit("a")
    reg.admit("a")  # counted at admission, before any socket is accepted (added)
    with pytest.raises(RateLimited, match="from this address"):
        reg.admit("a")
    reg.admit("b")
    with pytest.raises(Unavailable, match="too many connections"):
        reg.admit("c")
    assert dict(reg.per_address) == {"a": 2, "b": 1} and reg.admitted == 3
    reg.release("a")
    assert dict(reg.per_address) == {"a": 1, "b": 1} and reg.admitted == 2
    reg.admit("c")
    with pytest.raises(Unavailable):
        reg.admit("c")  # the process's cap: a refusal counts nothing
    reg.release("c")
    assert dict(reg.per_address) == {"a": 1, "b": 1} and reg.admitted == 2
    reg.release("a")
    reg.release("b")
    assert not reg.per_address and reg.admitted == 0
    reg.refuse()
    with pytest.raises(Unavailable, match="shutting down"):
        reg.admit("a")


def test_tracking_is_apart_from_counting() -> None:
    """`add`/`remove` track accepted sockets for the watchdog and shutdown; they do not touch the caps."""
    reg = _registry()
    reg.open()
    conn = Conn("a")
    reg.admit("a")
    reg.add(conn)
    reg.remove(conn)
    reg.remove(conn)  # twice: harmless
    assert not reg.connections and reg.admitted == 1
    reg.release("a")


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
