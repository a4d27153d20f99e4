"""The relay writes a tick to a board's connections a chunk per loop turn (so a change waits one chunk at most),
every connection gets each tick once and in order, and a connection never gets its own entry."""

from __future__ import annotations

import asyncio

import orjson

from notesboard.awareness.frames import Joined
from notesboard.awareness.peer import LocalPeer
from notesboard.awareness.relay import PER_TURN, Relay


class Box:
    """An idle outbox that keeps what it was given."""

    def __init__(self) -> None:
        self.closed = False
        self.frames: list[str] = []

    @property
    def busy(self) -> bool:
        return False

    def push(self, frame: str, count: int = 1) -> None:
        self.frames.append(frame)


def peers(n: int) -> tuple[list[LocalPeer], list[Box]]:
    boxes = [Box() for _ in range(n)]
    made = [
        LocalPeer(f"p{i}", "b", f"n{i}", "#e6194b", box, rate=20, burst=10, limit=65536, expires=None)
        for i, box in enumerate(boxes)
    ]
    return made, boxes


def tick(everyone: list[LocalPeer], x: int) -> tuple[Joined, dict[str, str | None]]:
    entries = {}
    for lp in everyone:
        lp.state["cursor"] = {"x": x, "y": 0}
        lp.dirty = True
        entries[lp.peer] = lp.encoded()
    return Joined(entries, []), dict(entries)


async def test_a_tick_goes_a_chunk_per_turn_each_connection_once_in_order() -> None:
    n = PER_TURN * 2 + 10
    everyone, boxes = peers(n)
    counted: list[int] = []
    relay = Relay(65536, counted.append)
    for x in (1, 2):  # two ticks queued before the first is written: they go in order
        joined, changes = tick(everyone, x)
        relay.send(joined, changes, everyone, only_one=False)
    assert sum(len(b.frames) for b in boxes) == PER_TURN  # the first chunk at once, not the whole tick
    await asyncio.sleep(0)
    assert sum(len(b.frames) for b in boxes) == 2 * PER_TURN
    for _ in range(6):
        await asyncio.sleep(0)
    assert sum(counted) == 2 * n
    for i, box in enumerate(boxes):
        seen = [orjson.loads(f)["peers"] for f in box.frames]
        assert [{e["cursor"]["x"] for e in frame} for frame in seen] == [{1}, {2}]  # tick 1, then tick 2
        assert all(len(frame) == n - 1 and f"p{i}" not in {e["peer"] for e in frame} for frame in seen)


async def test_the_only_changed_peer_hears_nothing_and_a_closed_one_is_skipped() -> None:
    everyone, boxes = peers(3)
    boxes[2].closed = True
    relay = Relay(65536, lambda n: None)
    joined = Joined({"p0": everyone[0].encoded()}, [])
    relay.send(joined, {"p0": everyone[0].encoded()}, everyone, only_one=True)
    assert [len(b.frames) for b in boxes] == [0, 1, 0]
