"""In-process backplane and broker.

`MemoryBackplane` (`memory://`): delivery is a direct call, so one process needs no broker.
`MemoryBroker`: a pub/sub bus inside one process, so the multi-process backplane (ordering, gap repair,
presence) can be tested without services; `fail()` simulates a lost broker connection.
"""

from __future__ import annotations

import asyncio

from notesboard.cluster.base import Backplane, Broker, BrokerError, Deliver, Message

__all__ = ["MemoryBackplane", "MemoryBroker", "MemoryBus"]


class MemoryBackplane(Backplane):
    def __init__(self, deliver: Deliver) -> None:
        self.deliver = deliver

    def publish(self, board: str, seq: int, frame: str) -> None:
        self.deliver(board, seq, frame)


class MemoryBus:
    """The shared "server": every connected broker subscribed to a channel gets each message."""

    def __init__(self) -> None:
        self.brokers: set[MemoryBroker] = set()
        self.down = False


class MemoryBroker(Broker):
    def __init__(self, bus: MemoryBus, max_payload: int | None = None) -> None:
        self.bus = bus
        self.max_payload = max_payload
        self._channels: set[str] = set()
        self._queue: asyncio.Queue[Message | BrokerError] = asyncio.Queue()
        self.connected = False

    async def connect(self) -> None:
        if self.bus.down:
            raise BrokerError("memory bus is down")
        self._queue = asyncio.Queue()
        self.connected = True
        self.bus.brokers.add(self)

    async def disconnect(self) -> None:
        self.connected = False
        self._channels.clear()
        self.bus.brokers.discard(self)

    def fail(self) -> None:
        """Drop this connection as a broker restart would: the listener sees a BrokerError."""
        self.bus.brokers.discard(self)
        self.connected = False
        self._channels.clear()
        self._queue.put_nowait(BrokerError("connection lost"))

    async def subscribe(self, channel: str) -> None:
        if not self.connected:
            raise BrokerError("not connected")
        self._channels.add(channel)

    async def unsubscribe(self, channel: str) -> None:
        self._channels.discard(channel)

    async def publish(self, channel: str, data: str) -> None:
        if not self.connected or self.bus.down:
            raise BrokerError("not connected")
        if self.max_payload is not None and len(data.encode()) > self.max_payload:
            raise BrokerError(f"payload of {len(data.encode())} bytes is over {self.max_payload}")
        for broker in tuple(self.bus.brokers):
            if channel in broker._channels:
                broker._queue.put_nowait(Message(channel, data))

    async def next_published(self) -> Message:
        item = await self._queue.get()
        if isinstance(item, BrokerError):
            raise item
        return item
