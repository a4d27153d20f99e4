"""Two "processes" in one event loop, joined by the in-process broker: ordering, outages, payload limits, presence."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from notesboard.cluster import broker_from_url, check_url
from notesboard.cluster.backplane import ClusterBackplane
from notesboard.cluster.brokers.memory import MemoryBroker, MemoryBus
from notesboard.cluster.brokers.postgres import PostgresBroker
from notesboard.cluster.brokers.redis import RedisBroker
from notesboard.cluster.outgoing import Outgoing
from notesboard.cluster.repair import Relay
from notesboard.cluster.roster import Roster
from notesboard.fanout.hub import Hub
from notesboard.fanout.presence import Presence
from notesboard.runtime.config import Settings
from tests.backplane.fakes import FakeStore, Sub, presence_frames

SETTINGS = Settings(gap_wait=0.05, presence_ttl=1.0, presence_interval=0.05, seq_check_interval=0.2)


class Node:
    """One server process's share of the runtime: hub, presence and backplane over a shared store."""

    def __init__(self, bus: MemoryBus, store: FakeStore, max_payload: int | None = None) -> None:
        self.hub = Hub()
        outgoing = Outgoing()
        interval = min(0.1, SETTINGS.presence_interval)
        roster = Roster(self.hub, ttl=SETTINGS.presence_ttl, interval=interval, send=outgoing.presence_message)
        self.presence = Presence(self.hub, SETTINGS.presence_interval, remote=roster)
        self.broker = MemoryBroker(bus, max_payload)
        self.store = store
        self.backplane = ClusterBackplane(
            self.broker,
            relay=Relay(self.hub, store, gap_wait=SETTINGS.gap_wait),  # type: ignore[arg-type]
            roster=roster,
            presence=self.presence,
            outgoing=outgoing,
            database=store,
            hub=self.hub,
            check_interval=SETTINGS.seq_check_interval,
            subscribe_grace=SETTINGS.subscribe_grace,
        )

    def join(self, board: str, name: str | None = None, seq: int = 0) -> Sub:
        sub = Sub(board, seq)
        self.hub.join(sub)
        self.presence.joined(board, name)
        return sub

    def leave(self, sub: Sub, name: str | None = None) -> None:
        self.hub.leave(sub)
        self.presence.left(sub.board, name)

    def write(self, board: str, note_id: int | None = None, text: str = "x") -> int:
        """What the writer does after a commit: publish in commit order."""
        seq, frame = self.store.change(board, note_id, text)
        self.backplane.publish(board, seq, frame)
        return seq


@asynccontextmanager
async def cluster(n: int = 2, max_payload: int | None = None) -> AsyncIterator[tuple[MemoryBus, list[Node]]]:
    bus, store = MemoryBus(), FakeStore()
    nodes = [Node(bus, store, max_payload) for _ in range(n)]
    for node in nodes:
        await node.backplane.connect()
    try:
        yield bus, nodes
    finally:
        for node in nodes:
            await node.backplane.disconnect()
            node.presence.close()


async def until(predicate: object, timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():  # type: ignore[operator]
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


def test_urls_pick_the_backplane() -> None:
    assert broker_from_url("memory://") is None
    for url, kind in (
        ("redis://127.0.0.1:6379/0?channel=x", RedisBroker),
        ("rediss://h/0", RedisBroker),
        ("postgres://u@h/db", PostgresBroker),
        ("postgresql://u@h/db", PostgresBroker),
    ):
        found = broker_from_url(url)
        assert found is not None and isinstance(found[0], kind)
    for bad in ("kafka://x", "redis", "http://x"):
        with pytest.raises(ValueError, match="unsupported broker URL"):
            check_url(bad)
    found = broker_from_url("redis://127.0.0.1:6379/0?channel=mine&db=1")
    assert found is not None and found[1] == "mine"
    assert found[0].url == "redis://127.0.0.1:6379/0?db=1"  # type: ignore[attr-defined]


async def test_events_reach_every_process_in_order_once() -> None:
    async with cluster() as (_, (a, b)):
        sub_a, sub_b = a.join("board"), b.join("board")
        for i in range(50):
            (a if i % 3 else b).write("board")
        await until(lambda: len(sub_a.got) == 50 and len(sub_b.got) == 50)
        assert sub_a.got == sub_b.got == list(range(1, 51))
        assert not sub_a.gaps and not sub_b.gaps


async def test_a_lost_broker_connection_is_repaired_from_the_store() -> None:
    async with cluster() as (bus, (a, b)):
        sub_b = b.join("board")
        a.write("board")
        await until(lambda: sub_b.got == [1])
        b.broker.fail()  # b's subscription drops; a keeps publishing into the void for b
        bus.down = True
        for _ in range(5):
            a.write("board")
        await until(lambda: not b.backplane.up)
        own = b.write("board")  # b's own events still reach b's connections at once (after the gap is filled)
        await until(lambda: sub_b.got == list(range(1, own + 1)))
        bus.down = False
        for _ in range(3):
            a.write("board")
        await until(lambda: sub_b.got == list(range(1, own + 4)))
        assert not sub_b.gaps and b.backplane.outages == 1


async def test_big_events_travel_as_board_and_seq_and_are_read_from_the_store() -> None:
    async with cluster(max_payload=600) as (_, (a, b)):
        sub_b = b.join("board")
        a.write("board", text="small")
        a.write("board", text="big" * 300)
        a.write("board", text="small again")
        await until(lambda: len(sub_b.got) == 3)
        assert sub_b.got == [1, 2, 3] and "big" * 300 in sub_b.frames[1]
        assert b.store.reads >= 1


async def test_presence_counts_and_names_every_process() -> None:
    async with cluster() as (_, (a, b)):
        watcher = a.join("room", "ann")
        b.join("room", "bob")
        other = b.join("room", "cy")
        await until(lambda: a.hub.count("room") == 3 and b.hub.count("room") == 3)
        await until(lambda: any(p["count"] == 3 for p in presence_frames(watcher)))
        assert presence_frames(watcher)[-1]["names"] == ["ann", "bob", "cy"]
        b.leave(other, "cy")
        await until(lambda: presence_frames(watcher)[-1] == {"type": "presence", "count": 2, "names": ["ann", "bob"]})


async def test_a_crashed_process_leaves_presence_within_the_ttl() -> None:
    async with cluster() as (bus, (a, b)):
        a.join("room", "ann")
        b.join("room", "bob")
        await until(lambda: a.hub.count("room") == 2)
        for task in b.backplane._tasks:  # b dies: no goodbye, no more heartbeats
            task.cancel()
        bus.brokers.discard(b.broker)
        loop = asyncio.get_running_loop()
        started = loop.time()
        await until(lambda: a.hub.count("room") == 1, timeout=SETTINGS.presence_ttl + 2)
        assert loop.time() - started <= SETTINGS.presence_ttl + 1.0


async def test_a_clean_shutdown_says_goodbye_at_once() -> None:
    async with cluster(3) as (_, (a, b, _c)):
        a.join("room")
        b.join("room")
        await until(lambda: a.hub.count("room") == 2)
        await b.backplane.disconnect()
        await until(lambda: a.hub.count("room") == 1, timeout=0.5)
