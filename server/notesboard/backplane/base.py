"""The backplane contract: carries committed events from the writer to every process's hub."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable

__all__ = ["Backplane", "Deliver"]

Deliver = Callable[[str, int, str], None]  # (board, seq, encoded event frame)


class Backplane(ABC):
    """Publishes events in seq order per board and hands every received one to `deliver`."""

    def __init__(self, deliver: Deliver) -> None:
        self.deliver = deliver

    async def connect(self) -> None:  # noqa: B027 - optional hook
        """Open connections to the broker, if any."""

    async def disconnect(self) -> None:  # noqa: B027 - optional hook
        """Close them."""

    @abstractmethod
    def publish(self, board: str, seq: int, frame: str) -> None:
        """Send one committed event; called by the single writer in commit order."""
