"""The Yjs document beside the note, through the store on a real SQLite file and a real Postgres database:
materialised once, compacted to one update per note, merged with v1 text, dropped with the note, and added
in place to a database made before the table existed."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from pycrdt import Doc, Text

from notesboard.contract.errors import BadRequest, NotFound, TooLarge
from notesboard.contract.model import CreateCommand, DeleteCommand, UpdateCommand, WriteOp, WriteResult, YUpdateCommand
from notesboard.storage import Store
from tests.support import Database


@pytest.fixture(params=["sqlite", "postgres"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    database = Database(request.param, tmp_path)
    try:
        yield database
    finally:
        database.drop()


async def _one(store: Store, board: str, cmd: object, author: str | None = None) -> WriteResult:
    (result,) = await store.apply([WriteOp(board, cmd, author)])  # type: ignore[arg-type]
    if isinstance(result, Exception):
        raise result
    assert isinstance(result, WriteResult)
    return result


def _y(note_id: int, update: bytes = b"", max_text: int = 10_000) -> YUpdateCommand:
    return YUpdateCommand(note_id, {}, None, None, update=update, max_text=max_text)


async def _sql(database: Database, query: str) -> list[tuple[object, ...]]:
    if database.backend == "sqlite":
        with sqlite3.connect(database.url.split("///", 1)[1]) as conn:
            return [tuple(r) for r in conn.execute(query).fetchall()]
    conn = await asyncpg.connect(database.dsn)
    try:
        return [tuple(r) for r in await conn.fetch(query)]
    finally:
        await conn.close()


async def test_typing_is_committed_compacted_and_merged_with_v1_text(db: Database) -> None:
    async with Store(db.url, readers=1) as store:
        note = (await _one(store, "b", CreateCommand("hello", None, None, None, None, "ann"))).note
        nid = note["id"]
        assert await store.read_ydoc(nid) == (note, None)  # no document until someone opens it
        opened = await _one(store, "b", _y(nid))
        assert opened.op is None and opened.ystate is not None  # materialised: no seq, no event
        assert (await store.read_ydoc(nid)) == (note, opened.ystate)

        doc: Doc[Text] = Doc()
        doc.apply_update(opened.ystate)
        text = doc.get("text", type=Text)
        for i in range(300):  # 300 keystrokes: each one commit, one version
            before = doc.get_state()
            text.insert(len(str(text)), "abcdefghij"[i % 10])
            result = await _one(store, "b", _y(nid, doc.get_update(before)), author="bob")
        assert result.op == "updated" and result.note["version"] == 301 and result.note["updated_by"] == "bob"
        assert result.note["text"] == "hello" + "abcdefghij" * 30
        (size,) = (await _sql(db, f"SELECT length(state) FROM note_ydocs WHERE id = {nid}"))[0]
        assert isinstance(size, int) and size < 600  # one compacted update, not 300 of them
        assert (await _sql(db, "SELECT COUNT(*) FROM note_ydocs"))[0][0] == 1

        # A v1 text edit becomes the smallest Y edit; what the editor types meanwhile merges around it.
        before = doc.get_state()
        text.insert(0, ">> ")
        typed = doc.get_update(before)
        v1 = await _one(store, "b", UpdateCommand(nid, {"text": "HELLO" + "abcdefghij" * 30}, 301, None))
        merged = await _one(store, "b", _y(nid, typed))
        assert merged.note["text"] == ">> HELLO" + "abcdefghij" * 30
        assert v1.ystate is not None
        doc.apply_update(v1.ystate)
        assert str(text) == merged.note["text"]
        stale = (await store.apply([WriteOp("b", UpdateCommand(nid, {"text": "x"}, 302, None))]))[0]
        assert type(stale).__name__ == "Conflict"  # v1's version rule still holds

        # Refused whole: nothing stored, version unchanged.
        with pytest.raises(BadRequest):
            await _one(store, "b", _y(nid, b"\x01\x02"))
        before = doc.get_state()
        text.insert(0, "x" * 50)
        with pytest.raises(TooLarge):
            await _one(store, "b", _y(nid, doc.get_update(before), max_text=len(merged.note["text"]) + 10))
        found = await store.read_ydoc(nid)
        assert found is not None and found[0]["version"] == merged.note["version"]

        await _one(store, "b", DeleteCommand(nid, None, None))
        assert (await _sql(db, "SELECT COUNT(*) FROM note_ydocs"))[0][0] == 0  # no text kept for a deleted note
        with pytest.raises(NotFound):
            await _one(store, "b", _y(nid))


async def test_a_database_from_before_the_table_is_upgraded_in_place(db: Database) -> None:
    async with Store(db.url, readers=1) as store:
        nid = (await _one(store, "b", CreateCommand("old text", None, None, None, None, None))).note["id"]
    await _sql(db, "DROP TABLE note_ydocs")  # as an older release left it
    async with Store(db.url, readers=1) as store:
        opened = await _one(store, "b", _y(nid))
        assert opened.ystate is not None
        again = await store.read_ydoc(nid)
        assert again is not None and again[0]["text"] == "old text" and again[1] == opened.ystate


async def test_quiet_commits_change_the_text_and_wait_for_one_announce(db: Database) -> None:
    async with Store(db.url, readers=1) as store:
        note = (await _one(store, "b", CreateCommand("", None, None, None, None, None))).note
        nid = note["id"]
        state = (await _one(store, "b", _y(nid))).ystate
        assert state is not None
        doc: Doc[Text] = Doc()
        doc.apply_update(state)
        text = doc.get("text", type=Text)
        for ch in "abc":
            before = doc.get_state()
            text.insert(len(str(text)), ch)
            cmd = YUpdateCommand(nid, {}, None, None, update=doc.get_update(before), announce=False)
            quiet = await _one(store, "b", cmd, author="ann")
            assert quiet.op is None and quiet.note["version"] == 1 and quiet.note["text"] == text_so_far(text)
        found = await store.read_ydoc(nid)
        assert found is not None and (found[0]["text"], found[0]["version"]) == ("abc", 1)  # REST sees it now
        assert await store.pending_ydocs() == [("b", nid)]
        announced = await _one(store, "b", _y(nid), author="ann")
        assert (announced.op, announced.note["version"], announced.seq) == ("updated", 2, 2)
        assert announced.note["updated_by"] == "ann" and await store.pending_ydocs() == []
        assert (await _one(store, "b", _y(nid))).op is None  # nothing due any more: no second event


def text_so_far(text: Text) -> str:
    return str(text)
