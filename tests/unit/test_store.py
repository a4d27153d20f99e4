"""The store on a real SQLite file, in-process: load -> decide -> persist in one transaction, reads, reopen."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from notesboard.contract.errors import Conflict, NotFound
from notesboard.contract.model import (
    BoardCleared,
    CreateCommand,
    DeleteBoardCommand,
    UpdateCommand,
    WriteOp,
    WriteResult,
)
from notesboard.storage import Store
from tests.support import Database
from tests.support.databases import postgres_reason


def _create(text: str, client_id: str | None = None) -> CreateCommand:
    return CreateCommand(text, client_id, None, None, None, None)


async def test_a_batch_commits_in_order_and_reads_back(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'nb.db'}"
    async with Store(url, readers=1) as store:
        first = await store.apply([WriteOp("b", _create("one", "c1"), author="ann"), WriteOp("b", _create("two"))])
        assert [r.seq for r in first if isinstance(r, WriteResult)] == [1, 2]
        note_id = first[0].note["id"]  # type: ignore[union-attr]
        second = await store.apply(
            [
                WriteOp("b", _create("one again", "c1")),  # a replay: the first create's result, no new seq
                WriteOp("b", UpdateCommand(note_id, {"text": "uno"}, 1, None)),
                WriteOp("b", UpdateCommand(note_id, {"text": "stale"}, 1, None)),
                WriteOp("b", UpdateCommand(999, {"text": "x"}, None, None)),
            ]
        )
        replay, updated, stale, missing = second
        assert isinstance(replay, WriteResult) and (replay.op, replay.seq) == (None, 1)
        assert isinstance(updated, WriteResult) and (updated.seq, updated.note["version"]) == (3, 2)
        assert isinstance(stale, Conflict) and isinstance(missing, NotFound)
        page = await store.read_notes("b", None, 10)
        assert (page.seq, [n["text"] for n in page.notes]) == (3, ["two", "uno"])
        assert [n["seq"] for n in (await store.read_notes("b", 1, None)).notes] == [2, 3]
        (cleared,) = await store.apply([WriteOp("b", DeleteBoardCommand())])
        assert isinstance(cleared, BoardCleared) and [r.seq for r in cleared.deleted] == [4, 5]
        assert (await store.read_notes("b", None, 10)).notes == [] and await store.list_boards(10) == []
        epoch = store.epoch
    assert not await store.healthy()  # closed: every connection released
    async with Store(url, readers=1) as again:
        assert again.epoch == epoch and (await again.board_seqs(["b", "nope"])) == {"b": 5}


def test_stores_opening_a_fresh_postgres_database_together_make_one_schema(tmp_path: Path) -> None:
    """Processes of a cluster (or --workers) starting at once on a new database: CREATE ... IF NOT EXISTS
    alone races on Postgres (a unique violation in pg_type); every store must open, with one epoch."""
    reason = postgres_reason()
    if reason:
        pytest.skip(reason)

    async def open_together(url: str) -> None:
        stores = [Store(url, readers=1) for _ in range(6)]
        opened = await asyncio.gather(*(s.connect() for s in stores), return_exceptions=True)
        try:
            assert [o for o in opened if o is not None] == []
            assert len({s.epoch for s in stores}) == 1
        finally:
            await asyncio.gather(*(s.close() for s in stores))

    for _ in range(3):  # a race: a few fresh databases
        db = Database("postgres", tmp_path)
        try:
            asyncio.run(open_together(db.url))
        finally:
            db.drop()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_client_id_replays_on_its_board_only_and_is_looked_up_by_index(backend: str, tmp_path: Path) -> None:
    """The earlier creates of a batch's client_ids are read by (board, client_id), one index probe each: the
    same client_id on another board is a new note; the query plan never scans the notes."""
    db = Database(backend, tmp_path)  # outside the event loop: it creates a Postgres database

    async def run() -> None:
        async with Store(db.url, readers=1) as store:
            first = await store.apply([WriteOp(f"b{i % 3}", _create(f"t{i}", f"c{i}")) for i in range(300)])
            ops = [("b0", "replay", "c0"), ("b1", "new", "c0"), ("b2", "replay", "c299"), ("b2", "new", "c300")]
            again = await store.apply([WriteOp(b, _create(t, c)) for b, t, c in ops])
            replay, other_board, replay2, fresh = again
            assert isinstance(replay, WriteResult) and replay.op is None and replay.note == first[0].note  # type: ignore[union-attr]
            assert isinstance(replay2, WriteResult) and replay2.op is None and replay2.note["text"] == "t299"
            assert isinstance(other_board, WriteResult) and other_board.op == "created"
            assert other_board.note["text"] == "new"
            assert isinstance(fresh, WriteResult) and fresh.op == "created"
            if backend == "sqlite":
                assert store._writer is not None
                raw = store._writer[1]
                pairs, params = raw.text_pairs("k", [("b0", "c0"), ("b1", "c1")])
                plan = await raw.fetch(
                    f"EXPLAIN QUERY PLAN SELECT n.id FROM {pairs} JOIN notes n"
                    " ON n.board = k.column1 AND n.client_id = k.column2",
                    params,
                )
                details = " ".join(str(r[-1]) for r in plan)
                assert "notes_board_client_id (board=? AND client_id=?)" in details, details

    try:
        asyncio.run(run())
    finally:
        db.drop()
