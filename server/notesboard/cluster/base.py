"""The backplane contract, and the broker contract under the multi-process backplane.

`Backplane` is what the writer and the runtime see: it carries committed events to every process's hub.
`Broker` is the six-method transport a multi-process backplane runs on (Redis pub/sub, Postgres
LISTEN/NOTIFY, or in-process for tests), after encode/broadcaster's backends: text messages on named
channels, nothing more. Ordering, gap repair and presence live above it, in `cluster.py`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Backplane", "Broker", "BrokerError", "Deliver", "Message"]

Deliver = Callable[[str, int, str], None]  # (board, seq, encoded event frame)


class Backplane(ABC):
    """Publishes events in seq order per board and hands every received one to the hub (in seq order).

    An async context manager: `connect` on enter, `disconnect` on exit (the runtime's exit stack).
    """

    received = 0  # messages taken from a broker (0 for one process)

    async def __aenter__(self) -> Backplane:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.disconnect()

    def channels_live(self) -> int:
        """Broker channels this process listens to now (0 for one process)."""
        return 0

    async def connect(self) -> None:  # noqa: B027 - optional hook
        """Open connections to the broker, if any."""

    async def disconnect(self) -> None:  # noqa: B027 - optional hook
        """Close them."""

    @abstractmethod
    def publish(self, board: str, seq: int, frame: str) -> None:
        """Send one committed event; called by the single writer in commit order."""


class BrokerError(Exception):
    """The broker connection failed or was lost; the caller reconnects and repairs from the database."""


@dataclass(slots=True, frozen=True)
class Message:
    channel: str
    data: str


class Broker(ABC):
    """A pub/sub transport. One subscriber connection; `next_published` raises BrokerError when it is lost.

    `subscribe`/`unsubscribe` may be called while another task waits in `next_published` (a process
    subscribes to a board's channel when the board gets its first local connection). After a BrokerError the
    owner calls `connect()` and `subscribe()` again, which replace the subscriber connection (publishing goes
    on through its own connection meanwhile): a broker never resubscribes behind its owner's back, so the
    owner always knows when messages may have been missed. `disconnect()` closes all.
    """

    max_payload: int | None = None  # bytes per message, None for no practical limit
    channel_per_board = True  # False: channels are costly (Postgres), boards share hash buckets
    name = "notesboard"  # how its connections introduce themselves (Redis CLIENT SETNAME, Postgres application_name)

    @abstractmethod
    async def connect(self) -> None: ...

    @abstractmethod
    async def disconnect(self) -> None: ...

    @abstractmethod
    async def subscribe(self, channel: str) -> None:
        """Returns once the subscription is live: anything published afterwards will be received."""

    @abstractmethod
    async def unsubscribe(self, channel: str) -> None: ...

    @abstractmethod
    async def publish(self, channel: str, data: str) -> None: ...

    async def publish_many(self, channel: str, data: list[str]) -> None:
        """Several messages, in order (brokers that can, send them in one round trip)."""
        for item in data:
            await self.publish(channel, item)

    async def publish_batch(self, items: list[tuple[str, str]]) -> None:
        """(channel, message) pairs, in order per channel (brokers that can, send them in one round trip)."""
        for channel, data in items:
            await self.publish(channel, data)

    @abstractmethod
    async def next_published(self) -> Message: ...
