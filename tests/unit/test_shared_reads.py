"""SharedReads on a real SQLite store, in-process: who shares a read, and what each request gets from it."""

from __future__ import annotations

import asyncio
from pathlib import Path

from notesboard.contract.model import BoardPage, CreateCommand, DeleteCommand, Session, WriteOp, WriteResult
from notesboard.fanout.hub import Hub
from notesboard.ingress.snapshot import SharedReads, read_snapshot
from notesboard.storage import Store


class GatedStore(Store):
    """A real store whose reads wait for `gate` first, so a test can hold a read in flight."""

    def __init__(self, url: str) -> None:
        super().__init__(url, readers=1)
        self.gate = asyncio.Event()
        self.entered = asyncio.Event()  # a read is in flight
        self.started = 0

    async def read_notes(self, board: str, since: int | None, limit: int | None) -> BoardPage:
        self.started += 1
        self.entered.set()
        await self.gate.wait()
        return await super().read_notes(board, since, limit)


async def _fill(store: Store, n: int) -> list[WriteResult]:
    results = await store.apply([WriteOp("b", CreateCommand(f"n{i}", None, None, None, None, None)) for i in range(n)])
    return [r for r in results if isinstance(r, WriteResult)]


async def test_requests_together_share_one_read_and_each_gets_its_own_answer(tmp_path: Path) -> None:
    async with Store(f"sqlite+aiosqlite:///{tmp_path / 'nb.db'}", readers=1) as store:
        made = await _fill(store, 6)
        await store.apply([WriteOp("b", DeleteCommand(made[1].note["id"], None, None))])  # seq 7: a tombstone
        shared = SharedReads(store, Hub())
        asks = [(None, None, 3), (None, None, 10), (2, store.epoch, 5), (5, None, 5), (99, None, 4), (1, "old", 2)]
        got = await asyncio.gather(*(shared.snapshot("b", since, epoch, limit) for since, epoch, limit in asks))
        alone = [await read_snapshot(store, "b", since, epoch, limit) for since, epoch, limit in asks]
        assert got == alone  # the same answer as one read each ...
        # ... from one changes read (since 2) and one fresh read, plus the fresh read of since=99 (ahead of the
        # board: a reset), which asks only after the changes read, when the first fresh read has started.
        assert (shared.requests, shared.reads) == (7, 3)
        assert [n["seq"] for n in got[2].notes] == [3, 4, 5, 6, 7] and got[2].notes[-1]["deleted"]
        assert got[0].more and not got[1].more and got[4].reset and got[5].reset


async def test_a_request_never_joins_a_read_already_in_flight(tmp_path: Path) -> None:
    """A read that started before a connection joined the hub may miss an event the connection never gets."""
    store = GatedStore(f"sqlite+aiosqlite:///{tmp_path / 'nb.db'}")
    async with store:
        await _fill(store, 2)
        shared = SharedReads(store, Hub())
        first = asyncio.create_task(shared.snapshot("b", None, None, 10))
        await store.entered.wait()  # the first read is in flight
        later = [asyncio.create_task(shared.snapshot("b", None, None, 10)) for _ in range(3)]
        for _ in range(10):  # loop turns enough for the later tasks to have asked
            await asyncio.sleep(0)
        assert store.started == 1  # the later ones wait for the next read: one in flight per board
        store.gate.set()
        await asyncio.gather(first, *later)
        assert (shared.requests, shared.reads, store.started) == (4, 2, 2)


async def test_a_waiter_that_leaves_does_not_cancel_the_read_of_the_others(tmp_path: Path) -> None:
    store = GatedStore(f"sqlite+aiosqlite:///{tmp_path / 'nb.db'}")
    async with store:
        await _fill(store, 3)
        shared = SharedReads(store, Hub())
        leaver = asyncio.create_task(shared.snapshot("b", 0, None, 10))
        stayer = asyncio.create_task(shared.snapshot("b", 1, None, 10))
        await store.entered.wait()
        leaver.cancel()
        store.gate.set()
        snap = await stayer
        assert [n["seq"] for n in snap.notes] == [2, 3] and leaver.cancelled()


async def test_sharing_off_reads_once_per_request(tmp_path: Path) -> None:
    async with Store(f"sqlite+aiosqlite:///{tmp_path / 'nb.db'}", readers=1) as store:
        await _fill(store, 2)
        shared = SharedReads(store, Hub(), share=False)
        await asyncio.gather(*(shared.snapshot("b", None, None, 10) for _ in range(4)))
        assert (shared.requests, shared.reads) == (4, 4)


class Sub:
    """A hub subscriber that records what reaches it (the connection's part, reduced to a list)."""

    def __init__(self, board: str) -> None:
        self.board, self.batch, self.seq = board, False, 0
        self.got: list[int] = []

    def send_events(self, first: int, last: int, frames: list[tuple[int, str]], chunk: str | None) -> None:
        self.got.extend(seq for seq, _ in frames)

    def send_frame(self, frame: str) -> None:
        pass

    def resync(self) -> None:
        pass


KEEP = 1 << 20


async def test_a_boards_fresh_page_is_kept_until_its_next_change(tmp_path: Path) -> None:
    store = GatedStore(f"sqlite+aiosqlite:///{tmp_path / 'nb.db'}")
    store.gate.set()
    async with store:
        await _fill(store, 4)
        hub = Hub()
        hub.join(Sub("b"))
        shared = SharedReads(store, hub, cache_bytes=KEEP)
        first = await shared.snapshot("b", None, None, 10)
        asks = [(None, None, 10), (None, None, 2), (4, store.epoch, 10), (9, None, 10), (1, "old", 3)]
        got = [await shared.snapshot("b", since, epoch, limit) for since, epoch, limit in asks]
        assert store.started == 1 and (shared.requests, shared.reads, shared.kept_hits) == (6, 1, 5)
        store.started = 0
        assert got == [await read_snapshot(store, "b", since, epoch, limit) for since, epoch, limit in asks]
        assert first == got[0] and got[1].more and got[2].notes == [] and got[3].reset and got[4].reset
        store.started = 0
        await shared.snapshot("b", 2, None, 10)  # the changes since 2: the database (tombstones)
        await shared.snapshot("b", None, None, 50)  # more than was read, but nothing more exists: kept
        assert store.started == 1
        made = await _fill(store, 1)
        hub.deliver("b", made[0].seq, "{}")  # the board changed: what was kept is gone
        assert hub.kept("b") is None
        snap = await shared.snapshot("b", None, None, 10)
        assert store.started == 2 and snap.seq == made[0].seq and len(snap.notes) == 5


async def test_a_read_that_saw_a_change_arrive_is_not_kept(tmp_path: Path) -> None:
    """The read may have missed an event the hub delivered while it ran: a later connect would never get it."""
    store = GatedStore(f"sqlite+aiosqlite:///{tmp_path / 'nb.db'}")
    async with store:
        await _fill(store, 2)
        hub = Hub()
        sub = Sub("b")
        hub.join(sub)
        shared = SharedReads(store, hub, cache_bytes=KEEP)
        reading = asyncio.create_task(shared.snapshot("b", None, None, 10))
        await store.entered.wait()
        hub.deliver("b", 3, "{}")  # committed elsewhere, delivered while the read is in flight
        store.gate.set()
        await reading
        assert hub.kept("b") is None
        await shared.snapshot("b", None, None, 10)
        assert store.started == 2 and hub.kept("b") is not None  # this one saw no change: kept
        hub.leave(sub)  # the last connection leaves: nothing is kept for a board nobody watches here
        assert hub.kept("b") is None and hub.stamp("b") is None


async def test_pages_over_the_size_and_sharing_off_are_not_kept(tmp_path: Path) -> None:
    async with Store(f"sqlite+aiosqlite:///{tmp_path / 'nb.db'}", readers=1) as store:
        await _fill(store, 3)
        hub = Hub()
        hub.join(Sub("b"))
        await SharedReads(store, hub, cache_bytes=3 * 300).snapshot("b", None, None, 10)  # 3 notes: > 900 bytes
        assert hub.kept("b") is None and hub.kept_bytes == 0
        await SharedReads(store, hub, share=False, cache_bytes=KEEP).snapshot("b", None, None, 10)
        assert hub.kept("b") is None
        await SharedReads(store, hub, cache_bytes=KEEP).snapshot("b", None, None, 10)
        assert hub.kept("b") is not None


async def test_all_boards_kept_pages_stay_within_the_budget(tmp_path: Path) -> None:
    async with Store(f"sqlite+aiosqlite:///{tmp_path / 'nb.db'}", readers=1) as store:
        for board in ("a", "b"):
            await store.apply([WriteOp(board, CreateCommand("x" * 100, None, None, None, None, None))])
        hub = Hub()
        subs = {board: Sub(board) for board in ("a", "b")}
        for sub in subs.values():
            hub.join(sub)
        one = 100 + 300  # page_bytes of a one-note page
        shared = SharedReads(store, hub, cache_bytes=one + one // 2)  # room for one board's page, not two
        await shared.snapshot("a", None, None, 10)
        await shared.snapshot("b", None, None, 10)
        assert hub.kept("a") is not None and hub.kept("b") is None and hub.kept_bytes == one
        hub.leave(subs["a"])  # a's page goes with its last connection, and frees its share of the budget
        assert hub.kept("a") is None and hub.kept_bytes == 0
        await shared.snapshot("b", None, None, 10)
        assert hub.kept("b") is not None and hub.kept_bytes == one
        hub.deliver("b", 2, "{}")
        assert hub.kept_bytes == 0


class SessionStore(GatedStore):
    """Counts session reads; `session_gate` holds one in flight."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.gate.set()
        self.session_gate = asyncio.Event()
        self.session_gate.set()
        self.session_reads = 0

    async def read_session(self, board: str) -> Session | None:
        self.session_reads += 1
        await self.session_gate.wait()
        return await super().read_session(board)


async def test_the_session_is_kept_beside_the_page_until_the_next_change(tmp_path: Path) -> None:
    store = SessionStore(f"sqlite+aiosqlite:///{tmp_path / 'nb.db'}")
    async with store:
        made = await _fill(store, 2)
        hub = Hub()
        hub.join(Sub("b"))
        shared = SharedReads(store, hub, cache_bytes=KEEP)
        assert await shared.session("b") is None and store.session_reads == 1  # nothing kept yet: no keeping
        await shared.snapshot("b", None, None, 10)
        assert [await shared.session("b") for _ in range(3)] == [None] * 3
        assert store.session_reads == 2 and shared.session_hits == 2
        hub.deliver("b", made[-1].seq + 1, "{}")  # a change (a session change is one): page and session gone
        await shared.snapshot("b", None, None, 10)
        await shared.session("b")
        assert store.session_reads == 3
        # A change that arrives while the session is read: that read is not kept (it may predate the change).
        hub.deliver("b", made[-1].seq + 2, "{}")
        await shared.snapshot("b", None, None, 10)
        kept = hub.kept("b")
        assert kept is not None and not kept.has_session
        store.session_gate.clear()
        reading = asyncio.create_task(shared.session("b"))
        await asyncio.sleep(0)
        hub.deliver("b", made[-1].seq + 3, "{}")
        await shared.snapshot("b", None, None, 10)  # kept again, without a session
        store.session_gate.set()
        await reading
        kept = hub.kept("b")
        assert kept is not None and not kept.has_session
        await shared.session("b")
        assert store.session_reads == 5


async def test_without_a_cache_every_session_is_read(tmp_path: Path) -> None:
    store = SessionStore(f"sqlite+aiosqlite:///{tmp_path / 'nb.db'}")
    async with store:
        await _fill(store, 1)
        hub = Hub()
        hub.join(Sub("b"))
        shared = SharedReads(store, hub, cache_bytes=0)
        await shared.snapshot("b", None, None, 10)
        for _ in range(3):
            await shared.session("b")
        assert store.session_reads == 3 and shared.session_hits == 0
