"""Awareness between processes: the `A` broker message (see `cluster.py` for the other kinds).

    A <origin>\n<board>\n+<peer> <colour> <entry json>\n-<peer>\n...

One message per board per tick (more when the broker's payload limit needs it), on the board's channel. Entries
travel already encoded, so the receiving process relays them without decoding. Nothing of it is stored: a
lost message is repaired by the peer's next change (and a process that subscribes asks for the full state).
An entry too big for the broker alone (a huge selection over Postgres NOTIFY's 8000 bytes) is not sent.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["MAX_QUEUED", "awareness_items", "awareness_messages", "split_awareness"]

MAX_QUEUED = 10_000  # awareness messages waiting for a slow broker; more are dropped (they are only cursors)


def awareness_messages(origin: str, board: str, lines: list[str], limit: int | None) -> tuple[list[str], int]:
    """The lines packed into messages within `limit` bytes; also how many lines were too big to send."""
    head = f"A {origin}\n{board}"
    if limit is None:
        return [head + "\n" + "\n".join(lines)], 0
    out: list[str] = []
    part: list[str] = []
    size = len(head.encode())
    base = size
    too_big = 0
    for line in lines:
        n = len(line.encode()) + 1
        if base + n > limit:
            too_big += 1
            continue
        if part and size + n > limit:
            out.append(head + "\n" + "\n".join(part))
            part, size = [], base
        part.append(line)
        size += n
    if part:
        out.append(head + "\n" + "\n".join(part))
    return out, too_big


def awareness_items(
    origin: str, aware: list[tuple[str, list[str]]], channel_of: Callable[[str], str], limit: int | None
) -> tuple[list[tuple[str, str]], int]:
    """Each board's lines as (channel, message) pairs; also how many lines were too big to send."""
    items: list[tuple[str, str]] = []
    too_big = 0
    for board, lines in aware:
        messages, skipped = awareness_messages(origin, board, lines, limit)
        items += [(channel_of(board), m) for m in messages]
        too_big += skipped
    return items, too_big


def split_awareness(body: str) -> tuple[str, list[str]]:
    """An `A` message's body (after the head line) -> (board, lines)."""
    board, _, rest = body.partition("\n")
    return board, rest.split("\n") if rest else []
