"""Backplanes, chosen by URL scheme.

- `memory://` (default): one process, delivery is a direct call.
- `redis://HOST:PORT/DB` (or `rediss://`): Redis pub/sub between processes.
- `postgres://` / `postgresql://USER@HOST:PORT/DB`: PostgreSQL LISTEN/NOTIFY between processes.

A `?channel=NAME` query parameter names the base channel (default: one per database, from its epoch); boards
get channels of their own under it (see `wire.py`). Drivers are imported only when their scheme is used.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from notesboard.cluster.base import Backplane, Broker, BrokerError, Deliver, Message
from notesboard.cluster.brokers.memory import MemoryBackplane
from notesboard.cluster.wire import BUCKET_SUFFIX

__all__ = [
    "Backplane",
    "Broker",
    "BrokerError",
    "Deliver",
    "MemoryBackplane",
    "Message",
    "broker_from_url",
    "check_url",
]

SCHEMES = ("memory", "redis", "rediss", "postgres", "postgresql", "postgresql+asyncpg")


def check_url(url: str) -> str:
    """The URL's scheme if there is a backplane for it; ValueError otherwise."""
    scheme = url.split(":", 1)[0].lower()
    if "://" not in url or scheme not in SCHEMES:
        raise ValueError(
            f"unsupported broker URL {url!r}: use memory:// (one process), redis://HOST:PORT/DB "
            "or postgresql://USER@HOST:PORT/DB"
        )
    channel = _split_channel(url)[1]
    if channel is not None and scheme.startswith("postgres") and len(channel.encode()) > 63 - BUCKET_SUFFIX:
        raise ValueError(
            f"unsupported broker URL {url!r}: a NOTIFY channel name is at most 63 bytes, "
            f"{63 - BUCKET_SUFFIX} before the board-bucket suffix"
        )
    return scheme


def _split_channel(url: str) -> tuple[str, str | None]:
    """The URL without our `channel` parameter (drivers would reject it), and that parameter."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    channel = next((v for k, v in query if k == "channel"), None)
    rest = urlencode([(k, v) for k, v in query if k != "channel"])
    return urlunsplit(parts._replace(query=rest)), channel or None


def broker_from_url(url: str) -> tuple[Broker, str | None] | None:
    """The broker for `url` and its `channel` option; None for `memory://` (one process, no broker)."""
    scheme = check_url(url)
    if scheme == "memory":
        return None
    plain, channel = _split_channel(url)
    broker: Broker
    if scheme.startswith("redis"):
        from notesboard.cluster.brokers.redis import RedisBroker

        broker = RedisBroker(plain)
    else:
        from notesboard.cluster.brokers.postgres import PostgresBroker

        broker = PostgresBroker(plain.replace("postgresql+asyncpg://", "postgresql://", 1))
    return broker, channel
