"""`Flag`: asyncio.Event's set/clear/is_set/wait, with the Event made only when someone has to wait.

Why: an asyncio.Event allocates its waiters' deque (~0.7 KiB with the Event) when it is created, and each
socket holds three (outbox ready and idle, reader in-flight slot) that an idle socket never waits on:
~2 KiB of the server's memory per idle socket (tracemalloc; docs/performance.md, "Connections against
the floor of the stack").
"""

from __future__ import annotations

import asyncio

__all__ = ["Flag"]


class Flag:
    __slots__ = ("_event", "_on")

    def __init__(self, on: bool = False) -> None:
        self._on = on
        self._event: asyncio.Event | None = None

    def is_set(self) -> bool:
        return self._on

    def set(self) -> None:
        self._on = True
        if self._event is not None:
            self._event.set()

    def clear(self) -> None:
        self._on = False
        if self._event is not None:
            self._event.clear()

    async def wait(self) -> None:
        """Return once the flag is set (at once if it is)."""
        if self._on:
            return
        if self._event is None:
            self._event = asyncio.Event()  # unset, as the flag is
        await self._event.wait()
