"""`--cursors HZ`: every client moves a cursor HZ times a second, and every client times the others' cursors.

The send time travels in the cursor itself: `x` is the sender's CLOCK_MONOTONIC in microseconds modulo 10^12,
divided by 10^6 (so within v1's bound of 1e6, with microsecond resolution in a double). CLOCK_MONOTONIC is one
clock for every process of the machine, so a receiver in another generator process subtracts it from its own
clock: latency = send -> seen by another client (the server's tick, up to `awareness_tick`, included). Only a
cursor's first sighting counts: a peer whose entry comes again unchanged (a full frame after a resume) is not
a new measurement.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Protocol

import orjson

from notesboard.loadtest.tally import Tally

__all__ = ["AWARE_PREFIX", "cursor_frame", "cursor_loop", "seen"]

WRAP_US = 10**12
AWARE_PREFIX = '{"type":"awareness"'


class Mover(Protocol):
    index: int
    failed: str | None

    async def send_text(self, frame: str) -> bool: ...


def cursor_frame(index: int, now_ns: int) -> str:
    x = (now_ns // 1000 % WRAP_US) / 1e6
    return orjson.dumps({"type": "awareness", "cursor": {"x": x, "y": index % 1000}}).decode()


def seen(tally: Tally, frame: dict[str, Any], now_ns: int, last: dict[str, float]) -> None:
    """An awareness frame arrived: count it and time each cursor in it (`last`: the client's last x per peer)."""
    tally.aware_frames += 1
    now_us = now_ns // 1000 % WRAP_US
    for entry in frame["peers"]:
        tally.aware_entries += 1
        cursor = entry.get("cursor")
        if cursor is None:
            continue
        x = cursor["x"]
        if last.get(entry["peer"]) == x:
            continue
        last[entry["peer"]] = x
        tally.cursor.record((now_us - round(x * 1e6)) % WRAP_US)
    for peer in frame["gone"]:
        last.pop(peer, None)


async def cursor_loop(client: Mover, hz: float, t_start: int, t_stop: int, phase: float) -> int:
    """Move the cursor `hz` times a second from `t_start` to `t_stop` (monotonic ns); returns moves skipped
    because the generator fell a whole period behind."""
    period = int(1e9 / hz)
    due = t_start + int(phase * period)
    skipped = 0
    while due < t_stop and not client.failed:
        now = time.monotonic_ns()
        if due > now:
            await asyncio.sleep((due - now) / 1e9)
            now = time.monotonic_ns()
        elif now - due > period:
            behind = (now - due) // period
            skipped += behind
            due += behind * period
        await client.send_text(cursor_frame(client.index, now))
        due += period
    return skipped
