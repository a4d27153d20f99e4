"""The relay: events from several processes reach the hub in seq order, once, with gaps read from the store."""

from __future__ import annotations

import asyncio

import orjson
import pytest

from notesboard.cluster import repair
from notesboard.cluster.repair import Relay
from notesboard.fanout.hub import Hub
from tests.backplane.fakes import FakeStore, Sub

GAP_WAIT = 0.05


def setup(*subs: Sub) -> tuple[Hub, FakeStore, Relay]:
    hub = Hub()
    for sub in subs:
        hub.join(sub)
    store = FakeStore()
    return hub, store, Relay(hub, store, gap_wait=GAP_WAIT)  # type: ignore[arg-type]


async def settle(seconds: float = 0.0) -> None:
    await asyncio.sleep(seconds)
    for _ in range(5):
        await asyncio.sleep(0)


async def test_in_order_events_pass_straight_through_and_duplicates_are_dropped() -> None:
    sub = Sub("b")
    _hub, store, relay = setup(sub)
    events = [store.change("b") for _ in range(5)]
    for seq, frame in events + events[:3]:
        relay.receive("b", seq, frame)
    await settle()
    assert sub.got == [1, 2, 3, 4, 5] and not sub.gaps and store.reads == 0


async def test_an_early_event_waits_for_the_missing_one() -> None:
    sub = Sub("b")
    _hub, store, relay = setup(sub)
    e1, e2, e3 = (store.change("b") for _ in range(3))
    relay.receive("b", *e1)
    relay.receive("b", *e3)  # another process published 3 before this one's 2 arrived
    await settle()
    assert sub.got == [1]
    relay.receive("b", *e2)
    await settle()
    assert sub.got == [1, 2, 3] and store.reads == 0


async def test_a_lost_event_is_read_from_the_store_after_gap_wait() -> None:
    sub = Sub("b")
    _hub, store, relay = setup(sub)
    e1, _lost, e3 = (store.change("b") for _ in range(3))
    relay.receive("b", *e1)
    relay.receive("b", *e3)
    await settle(GAP_WAIT * 3)
    assert sub.got == [1, 2, 3] and not sub.gaps and store.reads == 1
    assert orjson.loads(sub.frames[1])["op"] == "created"


async def test_a_lost_private_note_is_repaired_for_its_writer_only() -> None:
    """Private writing (core/privacy.py): a change read back from the store to fill a gap is rendered per
    reader like the live event, so the repair path leaks no private text either."""
    writer, other = Sub("b", voter="key:ann"), Sub("b", voter="key:bob")
    _hub, store, relay = setup(writer, other)
    e1 = store.change("b")
    _lost = store.change("b", None, "private idea")
    store.private[2] = "key:ann"
    e3 = store.change("b")
    relay.receive("b", *e1)
    relay.receive("b", *e3)
    await settle(GAP_WAIT * 3)
    assert writer.got == other.got == [1, 2, 3] and store.reads == 1
    mine, theirs = orjson.loads(writer.frames[1])["note"], orjson.loads(other.frames[1])["note"]
    assert mine["text"] == "private idea" and mine["private"] is True
    assert theirs["text"] == "" and theirs["hidden"] is True


async def test_a_superseded_change_asks_only_the_connections_behind_it_to_resume() -> None:
    behind, ahead = Sub("b"), Sub("b")
    _hub, store, relay = setup(behind, ahead)
    seq1, f1 = store.change("b")
    relay.receive("b", seq1, f1)
    await settle()
    note_id = 1
    store.change("b", note_id, "v2")  # seq 2: lost
    store.change("b", note_id, "v3")  # seq 3: lost too, and it supersedes 2 in the store
    ahead.seq = 2  # e.g. joined with a snapshot taken at seq 2
    seq4, f4 = store.change("b")
    relay.receive("b", seq4, f4)
    await settle(GAP_WAIT * 3)
    assert behind.resynced and not behind.gaps
    assert not ahead.resynced and ahead.got[-2:] == [3, 4] and not ahead.gaps
    assert relay.resyncs == 1


async def test_a_board_nobody_here_watches_costs_no_reads() -> None:
    hub, store, relay = setup()
    for _ in range(3):
        store.change("quiet")
    seq, frame = store.change("quiet")
    relay.receive("quiet", seq, frame)  # 1..3 never arrived: nobody needs them
    await settle(GAP_WAIT * 3)
    assert store.reads == 0
    sub = Sub("quiet", seq=4)  # a later connection's snapshot covers them
    hub.join(sub)
    relay.receive("quiet", *store.change("quiet"))
    await settle()
    assert sub.got == [5] and store.reads == 0


async def test_a_fresh_connection_needs_nothing_below_its_snapshot() -> None:
    hub, store, relay = setup()
    for _ in range(7):
        store.change("b")  # committed before this process saw anything of the board
    sub = Sub("b", seq=7)
    hub.join(sub)
    relay.receive("b", *store.change("b"))
    await settle()
    assert sub.got == [8] and store.reads == 0


async def test_an_event_announced_without_its_frame_is_read_at_once() -> None:
    sub = Sub("b")
    _hub, store, relay = setup(sub)
    seq, _ = store.change("b", text="y" * 9000)
    relay.receive("b", seq, None)
    await settle(0.01)
    assert sub.got == [1] and store.reads == 1 and "y" * 9000 in sub.frames[0]


async def test_check_repairs_a_board_whose_last_event_was_lost() -> None:
    sub = Sub("b")
    _hub, store, relay = setup(sub)
    relay.receive("b", *store.change("b"))
    store.change("b")  # lost, and no later event will reveal it
    await relay.check(urgent=False)  # might still be in flight: only noted
    await settle()
    assert sub.got == [1]
    await relay.check(urgent=False)  # still behind at the next check: repair
    await settle(0.01)
    assert sub.got == [1, 2]
    store.change("b")
    await relay.check(urgent=True)  # the broker is down or just came back: repair at once
    await settle(0.01)
    assert sub.got == [1, 2, 3]


async def test_a_failed_repair_is_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(repair, "RETRY_S", 0.05)
    sub = Sub("b")
    _hub, store, relay = setup(sub)
    relay.receive("b", *store.change("b"))
    store.change("b")
    store.down = True
    relay.receive("b", *store.change("b"))
    await settle(GAP_WAIT * 2)
    assert sub.got == [1]
    store.down = False
    await settle(0.2)
    assert sub.got == [1, 2, 3] and not sub.gaps
    await relay.close()
