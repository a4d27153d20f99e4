"""The note rules (`domain.decide`) over rows given in memory: no database, no server."""

from __future__ import annotations

from notesboard.contract.errors import Conflict, Forbidden, NotFound
from notesboard.contract.model import (
    BoardCleared,
    CreateCommand,
    DeleteBoardCommand,
    DeleteCommand,
    Note,
    UpdateCommand,
    WriteOp,
    WriteResult,
)
from notesboard.core.domain import Loaded, boards_to_make, decide, needs

NOW = "2026-12-01T20:00:00.000Z"


def _note(id: int, board: str = "b", *, seq: int, version: int = 1, deleted: bool = False, text: str = "t") -> Note:
    return {
        "id": id,
        "board": board,
        "text": text,
        "author": "ann",
        "color": None,
        "x": None,
        "y": None,
        "w": 208.0,
        "h": 150.0,
        "z": 0,
        "version": version,
        "seq": seq,
        "created_at": "2026-01-01T00:00:00.000Z",
        "updated_at": "2026-01-01T00:00:00.000Z",
        "deleted": deleted,
        "updated_by": "ann",
    }


def _create(text: str = "hi", client_id: str | None = None, author: str | None = None) -> CreateCommand:
    return CreateCommand(text, client_id, None, None, None, author)


def _loaded(*notes: Note, seqs: dict[str, int] | None = None, live: dict[str, int] | None = None) -> Loaded:
    seqs = seqs if seqs is not None else {"b": max((n["seq"] for n in notes), default=0)}
    live = (
        live if live is not None else {b: sum(1 for n in notes if n["board"] == b and not n["deleted"]) for b in seqs}
    )
    return Loaded(seqs, live, {n["id"]: n for n in notes})


def test_needs_lists_what_to_load() -> None:
    ops = [
        WriteOp("b2", _create(client_id="c1")),
        WriteOp("b1", UpdateCommand(7, {"text": "x"}, None, None)),
        WriteOp("b1", DeleteCommand(3, None, None)),
        WriteOp("b3", DeleteBoardCommand()),
        WriteOp("b2", _create()),
    ]
    n = needs(ops)
    assert (n.boards, n.created_on, n.ids, n.cleared, n.client_ids, n.creates) == (
        ["b1", "b2", "b3"],
        ["b2"],
        [3, 7],
        ["b3"],
        [("b2", "c1")],
        2,
    )


def test_the_board_cap() -> None:
    assert boards_to_make(["a", "b", "c"], existing=8, max_boards=10) == ["a", "b"]
    assert boards_to_make(["a"], existing=10, max_boards=10) == []
    # A create on a board that was not made (the cap) is refused; one on an existing board is not.
    loaded = Loaded({"b": 0}, {"b": 0}, fresh_ids=[1])
    plan = decide([WriteOp("new", _create()), WriteOp("b", _create())], loaded, NOW, max_boards=1)
    refused, made = plan.results
    assert isinstance(refused, Forbidden) and "limit of 1 boards" in refused.message
    assert isinstance(made, WriteResult) and made.note["id"] == 1


def test_creates_take_the_next_seqs_and_the_fresh_ids() -> None:
    loaded = Loaded({"b": 4}, {"b": 2}, fresh_ids=[10, 11])
    ops = [WriteOp("b", _create("one", author="rest")), WriteOp("b", _create("two"), author="sock")]
    plan = decide(ops, loaded, NOW, max_boards=10)
    a, b = plan.results
    assert isinstance(a, WriteResult) and isinstance(b, WriteResult)
    assert (a.seq, a.op, a.note["id"], a.note["author"], a.note["updated_by"]) == (5, "created", 10, "rest", "rest")
    assert (b.seq, b.note["id"], b.note["author"], b.note["version"]) == (6, 11, "sock", 1)
    assert [n["id"] for n, _ in plan.inserts] == [10, 11] and plan.boards == [("b", 6, 4)]


def test_an_idempotent_create_replays_the_first_result() -> None:
    earlier = WriteResult(_note(1, seq=3), 3, "created")
    loaded = Loaded({"b": 5}, {"b": 1}, known={("b", "c1"): earlier}, fresh_ids=[2, 3])
    ops = [
        WriteOp("b", _create(client_id="c1")),
        WriteOp("b", _create(client_id="c2")),
        WriteOp("b", _create(client_id="c2")),
    ]
    plan = decide(ops, loaded, NOW, max_boards=10)
    replay, first, again = plan.results
    assert isinstance(replay, WriteResult) and (replay.seq, replay.op, replay.note["id"]) == (3, None, 1)
    assert isinstance(first, WriteResult) and first.op == "created" and first.seq == 6
    assert isinstance(again, WriteResult) and (again.op, again.seq, again.note["id"]) == (None, 6, first.note["id"])
    assert len(plan.inserts) == 1 and plan.boards == [("b", 6, 2)]


def test_update_not_found_conflict_and_success() -> None:
    loaded = _loaded(
        _note(1, seq=1), _note(2, seq=2, deleted=True), _note(3, "other", seq=1), seqs={"b": 2, "other": 1}
    )
    ops = [
        WriteOp("b", UpdateCommand(9, {"text": "x"}, None, "u1")),  # unknown
        WriteOp("b", UpdateCommand(2, {"text": "x"}, None, "u2")),  # a tombstone
        WriteOp("b", UpdateCommand(3, {"text": "x"}, None, "u3")),  # another board
        WriteOp("b", UpdateCommand(1, {"text": "x"}, 7, "u4")),  # stale version
        WriteOp("b", UpdateCommand(1, {"text": "new", "z": 5}, 1, "u5"), author="bob"),
        WriteOp("b", UpdateCommand(1, {"text": "newer"}, 1, "u6")),  # the version moved on in this batch
    ]
    plan = decide(ops, loaded, NOW, max_boards=10)
    *missing, stale, ok, late = plan.results
    assert all(isinstance(e, NotFound) for e in missing) and [e.client_id for e in missing] == ["u1", "u2", "u3"]
    assert isinstance(stale, Conflict) and stale.message == "note 1 is at version 1, not 7"
    assert isinstance(ok, WriteResult) and ok.op == "updated" and ok.seq == 3
    assert (ok.note["text"], ok.note["z"], ok.note["version"], ok.note["updated_by"], ok.note["updated_at"]) == (
        "new",
        5,
        2,
        "bob",
        NOW,
    )
    assert isinstance(late, Conflict) and "at version 2" in late.message
    assert list(plan.dirty) == [1] and plan.boards == [("b", 3, 1)]


def test_delete_then_restore() -> None:
    loaded = _loaded(_note(1, seq=1))
    ops = [
        WriteOp("b", DeleteCommand(1, 1, "d")),
        WriteOp("b", DeleteCommand(1, None, "d2")),  # already a tombstone
        WriteOp("b", UpdateCommand(1, {}, 2, "r", restore=True)),
        WriteOp("b", UpdateCommand(1, {}, None, "r2", restore=True)),  # live again: a restore alone conflicts
    ]
    plan = decide(ops, loaded, NOW, max_boards=10)
    deleted, gone, restored, live = plan.results
    assert isinstance(deleted, WriteResult) and (deleted.op, deleted.seq, deleted.note["deleted"]) == (
        "deleted",
        2,
        True,
    )
    assert isinstance(gone, NotFound)
    assert isinstance(restored, WriteResult) and restored.op == "created"  # every client adds it back
    assert (restored.seq, restored.note["version"], restored.note["deleted"]) == (3, 3, False)
    assert isinstance(live, Conflict) and live.message == "note 1 is not deleted"
    assert plan.boards == [("b", 3, 1)]


def test_a_board_delete_tombstones_every_live_note_in_seq_order() -> None:
    loaded = _loaded(_note(2, seq=5, text="b"), _note(1, seq=3, text="a"), _note(3, seq=4, deleted=True))
    loaded.fresh_ids = [4]
    ops = [WriteOp("b", _create("fresh")), WriteOp("b", DeleteBoardCommand(author="admin"))]
    plan = decide(ops, loaded, NOW, max_boards=10)
    created, cleared = plan.results
    assert isinstance(created, WriteResult) and created.seq == 6
    assert isinstance(cleared, BoardCleared) and cleared.seq == 9
    assert [(r.note["id"], r.seq, r.note["text"], r.note["updated_by"]) for r in cleared.deleted] == [
        (1, 7, "", "admin"),
        (2, 8, "", "admin"),
        (4, 9, "", "admin"),  # created earlier in the same batch
    ]
    assert plan.cleared == ["b"] and plan.boards == [("b", 9, 0)]


def test_deleting_an_unknown_board_changes_nothing() -> None:
    plan = decide([WriteOp("nope", DeleteBoardCommand())], Loaded({}, {}), NOW, max_boards=10)
    assert plan.results == [BoardCleared("nope", 0, [])]
    assert (plan.inserts, plan.dirty, plan.boards, plan.cleared) == ([], {}, [], [])
