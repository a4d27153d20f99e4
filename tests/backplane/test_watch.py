"""Per-board subscriptions in one event loop (two "processes" on the in-process broker): who listens to what."""

from __future__ import annotations

import asyncio

from notesboard.cluster.brokers.memory import MemoryBus
from notesboard.cluster.wire import BUCKET_SUFFIX, Channels
from tests.backplane.fakes import FakeStore, presence_frames
from tests.backplane.test_memory import SETTINGS, Node, cluster, until

GRACE = 0.2


def setup_module() -> None:
    SETTINGS.subscribe_grace = GRACE
    SETTINGS.presence_ttl = 30.0  # heartbeats every 10 s: presence seen sooner comes from answered queries


def teardown_module() -> None:
    SETTINGS.subscribe_grace = 30.0
    SETTINGS.presence_ttl = 1.0


def test_channel_names_fit_postgres_identifiers() -> None:
    base = "notesboard_" + "f" * 32  # the default base: notesboard_<epoch>
    names = {Channels(base, 4096).of(f"board-{i}") for i in range(20_000)}
    assert len(names) == 4096 and all(len(n.encode()) == len(base) + BUCKET_SUFFIX <= 63 for n in names)
    assert Channels(base, 256).of("a") == Channels(base, 256).of("a") != Channels(base, None).of("a")
    assert Channels(base, None).of("team/x") == base + ":team/x"


async def test_a_process_without_connections_on_a_board_receives_nothing_of_it() -> None:
    async with cluster() as (_, (a, b)):
        watcher = a.join("quiet", "ann")
        await until(lambda: a.backplane.channels_live() == 2)
        before = b.backplane.received
        for _ in range(20):
            a.write("quiet")
        await until(lambda: len(watcher.got) == 20)
        await asyncio.sleep(0.3)  # presence announcements and heartbeats included
        assert b.backplane.received == before and b.backplane.channels_live() == 1
        assert a.backplane.received > 0  # a hears its own (and drops them)


async def test_a_late_joiner_gets_presence_at_once_and_every_event_after_its_snapshot() -> None:
    async with cluster() as (_, (a, b)):
        a.join("late", "ann")
        for _ in range(5):
            a.write("late")
        bob = b.join("late", "bob", seq=5)
        await until(lambda: any(f["count"] == 2 for f in presence_frames(bob)), 1.0)  # a answered b's query
        assert presence_frames(bob)[-1]["names"] == ["ann", "bob"]
        for _ in range(5):
            a.write("late")
        await until(lambda: bob.got == [6, 7, 8, 9, 10])
        assert not bob.gaps


async def test_an_event_committed_before_the_subscription_is_read_from_the_store() -> None:
    async with cluster() as (_, (a, b)):
        check = b.backplane._check_interval
        b.backplane._check_interval = 300.0  # not the periodic check: the one a new subscription makes
        try:
            a.join("race")
            for _ in range(3):
                a.write("race")
            sub = b.join("race", seq=3)  # its snapshot was at 3 ...
            a.store.change("race")  # ... and 4 committed and published before b listened (lost to b)
            await until(lambda: sub.got == [4], 2)
            assert not sub.gaps
        finally:
            b.backplane._check_interval = check


async def test_the_last_leaving_unsubscribes_after_the_grace_period_and_a_return_within_it_keeps_it() -> None:
    async with cluster() as (_, (a, b)):
        a.join("grace")
        sub = b.join("grace")
        await until(lambda: b.backplane.channels_live() == 2)
        b.leave(sub)
        await asyncio.sleep(GRACE / 2)
        sub = b.join("grace", seq=0)  # back within the grace period: still subscribed, nothing to re-read
        await asyncio.sleep(GRACE)
        assert b.backplane.channels_live() == 2
        b.leave(sub)
        await until(lambda: b.backplane.channels_live() == 1, GRACE + 1)
        assert b.hub.elsewhere.get("grace") is None  # a's presence there is forgotten with the channel
        before = b.backplane.received
        a.write("grace")
        await asyncio.sleep(0.1)
        assert b.backplane.received == before


async def test_a_reconnect_resubscribes_every_watched_board() -> None:
    async with cluster() as (_, (a, b)):
        subs = [b.join(f"r{i}") for i in range(3)]
        a.join("r0")
        await until(lambda: b.backplane.channels_live() == 4)
        b.broker.fail()
        await until(lambda: b.backplane.outages == 1 and b.backplane.channels_live() == 4)
        for i in range(3):
            a.write(f"r{i}")
        await until(lambda: [s.got for s in subs] == [[1], [1], [1]])


async def test_boards_sharing_a_bucket_channel_are_filtered_on_receipt() -> None:
    """Postgres-style: every board hashes to the one channel; b watches "mine" and keeps nothing of "other"."""
    bus, store = MemoryBus(), FakeStore()
    a, b = Node(bus, store), Node(bus, store)
    for node in (a, b):
        node.backplane._buckets = 1  # what a broker without a channel per board gets (notify_buckets=1)
        await node.backplane.connect()
    try:
        a.join("other", "ann")
        a.join("mine", "ann")
        sub = b.join("mine", "bob")
        await until(lambda: b.backplane.channels_live() == 2)
        for _ in range(5):
            a.write("other")
            a.write("mine")
        await until(lambda: sub.got == [1, 2, 3, 4, 5])
        await asyncio.sleep(0.2)
        assert b.backplane.received > 0  # "other" arrived on the shared channel ...
        assert b.backplane.relay is not None and "other" not in b.backplane.relay.tracked()
        assert b.hub.elsewhere.get("other") is None and b.hub.elsewhere.get("mine") == 1  # ... and was dropped
    finally:
        for node in (a, b):
            await node.backplane.disconnect()
            node.presence.close()
