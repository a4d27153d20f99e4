"""`--cursors HZ`: every client moves a cursor HZ times a second, and every client times the others' cursors.

The send time travels in the cursor itself: `x` is the sender's CLOCK_MONOTONIC in microseconds modulo 10^12,
divided by 10^6 (so within v1's bound of 1e6, with microsecond resolution in a double). CLOCK_MONOTONIC is one
clock for every process of the machine, so a receiver in another generator process subtracts it from its own
clock: latency = send -> seen by another client (the server's tick, up to `awareness_tick`, included). Only a
cursor's first sighting counts: a peer whose entry comes again unchanged (a full frame after a resume) is not
a new measurement. A frame's entries are timed by a sample of at most `SAMPLE` (evenly spread): at 200 clients
and 20 Hz each client gets ~4,000 entries a second, and timing every one would make the generator, not the
server, the bottleneck. For the same reason a message that is one awareness frame is not decoded at all
(`seen_raw`): its entries are counted and `SAMPLE` of them, at evenly spread places in the text, are read with
string searches (the server's entries have a fixed key order: peer, name, color, cursor, ...). Decoding every
frame fully cost the generator ~70 us a frame at 100 clients, more than the server spent.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any, Protocol

import orjson

from notesboard.loadtest.tally import Tally

__all__ = ["AWARE_PREFIX", "cursor_frame", "cursor_loop", "figures", "seen", "seen_raw"]

WRAP_US = 10**12
SAMPLE = 8
AWARE_PREFIX = '{"type":"awareness"'
ENTRY = '{"peer":"'
CURSOR = '"cursor":'


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
    peers = frame["peers"]
    tally.aware_entries += len(peers)
    stride = max(1, len(peers) // SAMPLE)
    for entry in peers[now_us % stride :: stride]:
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


def seen_raw(tally: Tally, message: str, now_ns: int, last: dict[str, float]) -> None:
    """A message holding exactly one awareness frame, read without decoding it (see above)."""
    tally.aware_frames += 1
    tally.aware_bytes += len(message)
    n = message.count(ENTRY)
    tally.aware_entries += n
    if not n:
        return
    now_us = now_ns // 1000 % WRAP_US
    size = len(message)
    done = -1
    for k in range(min(n, SAMPLE)):
        pos = message.find(ENTRY, size * k // SAMPLE)
        if pos <= done:
            continue
        done = pos
        start = pos + len(ENTRY)
        peer = message[start : message.index('"', start)]
        c = message.index(CURSOR, start) + len(CURSOR)
        if message.startswith('{"x":', c):
            x = float(message[c + 5 : message.index(",", c)])
            if last.get(peer) != x:
                last[peer] = x
                tally.cursor.record((now_us - round(x * 1e6)) % WRAP_US)


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


def figures(hz: float, counts: Mapping[str, int], send_s: float) -> dict[str, Any] | None:
    """What each client sent and received of awareness, per second of the sending phase (None without cursors)."""
    if hz <= 0:
        return None
    per = counts["connected"] * send_s
    return {
        "hz": hz,
        "moves_sent": counts["cursor_moves"],
        "moves_skipped": counts["cursor_skipped"],
        "frames_received": counts["aware_frames"],
        "entries_received": counts["aware_entries"],
        "frames_per_client_s": round(counts["aware_frames"] / per, 2) if per > 0 else None,
        "entries_per_client_s": round(counts["aware_entries"] / per, 1) if per > 0 else None,
        "bytes_per_client_s": round(counts["aware_bytes"] / per) if per > 0 else None,
    }
