"""Broker channel names, and packing events and presence into broker messages (see `cluster.py`).

A process listens only to the channels of boards that have connections on it. Redis channels cost nothing, so
each board has its own (`<base>:<board>`); Postgres channel names are identifiers of at most 63 bytes and each
LISTEN costs the server, so boards are hashed over a fixed number of buckets (`<base>_<bucket>`) and a
receiver drops the lines of boards it does not watch. `<base>` itself (the control channel) carries what every
process must hear: a goodbye at shutdown.
"""

from __future__ import annotations

import zlib
from typing import Any

import orjson

__all__ = ["Channels", "event_messages", "presence_messages", "query_messages"]

MAX_BUCKETS = 4096
BUCKET_SUFFIX = len(f"_{MAX_BUCKETS - 1:x}")  # bytes a bucket adds to the base name


class Channels:
    """Which channel carries each board: per board (`buckets` None) or per hash bucket."""

    def __init__(self, base: str, buckets: int | None) -> None:
        self.control = base
        self._buckets = buckets
        self._width = len(f"{buckets - 1:x}") if buckets else 0

    def of(self, board: str) -> str:
        if self._buckets is None:
            return f"{self.control}:{board}"
        return f"{self.control}_{zlib.crc32(board.encode()) % self._buckets:0{self._width}x}"


def event_messages(head: str, lines: list[str], limit: int | None) -> list[str]:
    """Pack `<board> <seq> <frame>` lines into as few messages as the broker's payload limit allows."""
    if limit is None:
        return [head + "\n" + "\n".join(lines)] if lines else []
    out: list[str] = []
    part: list[str] = []
    size = len(head)
    for line in lines:
        n = len(line.encode()) + 1
        if n + len(head) + 1 > limit:  # too big alone: announce it, subscribers read it from the database
            board, seq, _ = line.split(" ", 2)
            line = f"{board} {seq}"
            n = len(line) + 1
        if part and size + n > limit:
            out.append(head + "\n" + "\n".join(part))
            part, size = [], len(head)
        part.append(line)
        size += n
    if part:
        out.append(head + "\n" + "\n".join(part))
    return out


def presence_messages(head: str, message: dict[str, Any], limit: int | None) -> list[str]:
    """One presence message, or one per board (names cut to fit) when it exceeds the payload limit."""
    whole = head + "\n" + orjson.dumps(message).decode()
    if limit is None or len(whole.encode()) <= limit:
        return [whole]
    out: list[str] = []
    for board, (count, names) in message.get("b", {}).items():
        while True:
            one = head + "\n" + orjson.dumps({"ttl": message["ttl"], "b": {board: [count, names]}}).decode()
            if len(one.encode()) <= limit or not names:
                break
            names = names[: len(names) // 2]
        out.append(one)
    return out


def query_messages(head: str, boards: list[str], limit: int | None) -> list[str]:
    """`Q` messages: the boards whose presence the sender wants announced now (it just subscribed)."""
    return event_messages(head, boards, limit) if limit is not None else [head + "\n" + "\n".join(boards)]
