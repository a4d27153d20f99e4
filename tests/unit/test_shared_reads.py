"""SharedReads on a real SQLite store, in-process: who shares a read, and what each request gets from it."""

from __future__ import annotations

import asyncio
from pathlib import Path

from notesboard.model import BoardPage, CreateCommand, DeleteCommand, WriteOp, WriteResult
from notesboard.snapshot import SharedReads, read_snapshot
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
        shared = SharedReads(store)
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
        shared = SharedReads(store)
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
        shared = SharedReads(store)
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
        shared = SharedReads(store, share=False)
        await asyncio.gather(*(shared.snapshot("b", None, None, 10) for _ in range(4)))
        assert (shared.requests, shared.reads) == (4, 4)
