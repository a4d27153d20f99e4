"""The store on a real SQLite file, in-process: load -> decide -> persist in one transaction, reads, reopen."""

from __future__ import annotations

from pathlib import Path

from notesboard.errors import Conflict, NotFound
from notesboard.model import BoardCleared, CreateCommand, DeleteBoardCommand, UpdateCommand, WriteOp, WriteResult
from notesboard.storage import Store


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
