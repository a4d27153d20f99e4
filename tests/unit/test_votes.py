"""The vote rules (core/votes.py), the voter keys (core/voters.py) and split frames (contract/protocol.py), pure."""

from __future__ import annotations

import pytest

from notesboard.contract.errors import BadRequest, Forbidden, NotFound
from notesboard.contract.model import Note, Session, VoteCommand, VoteResult
from notesboard.contract.protocol import render, split_frame
from notesboard.core.auth import OPEN, Grant
from notesboard.core.privacy import check_text, shown
from notesboard.core.voters import rest_voter, socket_voter
from notesboard.core.votes import Tallies, apply_vote, new_round, totals, visible


def note(i: int, kind: str = "note", deleted: bool = False) -> Note:
    return {
        "id": i, "board": "b", "text": "", "author": None, "color": None, "x": 0.0, "y": 0.0, "w": 1.0, "h": 1.0,
        "z": 0, "version": 1, "seq": i, "created_at": "", "updated_at": "", "deleted": deleted, "updated_by": None,
        "kind": kind,
    }  # fmt: skip


def session(open_: bool = True, budget: int = 2, hidden: bool = False, multiple: bool = False) -> Session:
    vote = {"open": open_, "budget": budget, "hidden": hidden, "multiple": multiple}
    return {"vote": vote, "writing": "open", "timer": None, "version": 1}  # type: ignore[typeddict-item]


def cast(tallies: Tallies, s: Session | None, n: Note | None, voter: str = "ann", delta: int = 1) -> object:
    return apply_vote("b", VoteCommand(1 if n is None else n["id"], delta, "c", voter), s, n, tallies, 9)


def test_budget_one_per_note_and_taking_back() -> None:
    tallies: Tallies = {}
    first = cast(tallies, session(), note(1))
    assert isinstance(first, VoteResult) and (first.total, first.mine, first.left, first.seq) == (1, 1, 1, 9)
    assert isinstance(cast(tallies, session(), note(1)), Forbidden)  # not multiple
    assert isinstance(cast(tallies, session(), note(2)), VoteResult)
    over = cast(tallies, session(), note(3))
    assert isinstance(over, Forbidden) and "all 2" in over.message
    assert tallies == {(1, "ann"): 1, (2, "ann"): 1}  # a refusal changes nothing
    back = cast(tallies, session(), note(1), delta=-1)
    assert isinstance(back, VoteResult) and back.left == 1 and (1, "ann") not in tallies
    assert isinstance(cast(tallies, session(), note(1), delta=-1), NotFound)
    assert isinstance(cast(tallies, session(multiple=True), note(2)), VoteResult)
    assert tallies[(2, "ann")] == 2 and totals(tallies) == {2: 2}


def test_refusals() -> None:
    assert isinstance(cast({}, None, note(1)), NotFound)
    assert isinstance(cast({}, session(open_=False), note(1)), NotFound)
    assert isinstance(cast({}, session(), None), NotFound)
    assert isinstance(cast({}, session(), note(1, deleted=True)), NotFound)
    assert isinstance(cast({}, session(), note(1, kind="section")), BadRequest)


def test_rounds_and_visibility() -> None:
    opened = session()["vote"]
    closed = session(open_=False)["vote"]
    assert new_round(None, opened) and new_round(closed, opened) and new_round(opened, None)
    assert not new_round(opened, closed) and not new_round(opened, session(budget=5)["vote"])
    assert not new_round(None, None) and not new_round(None, closed)
    assert visible(opened) and visible(session(open_=False, hidden=True)["vote"])
    assert not visible(session(hidden=True)["vote"]) and not visible(None)


def test_split_frames_render_per_reader() -> None:
    frame = split_frame("key:ann", '{"mine":1}', '{"hidden":true}')
    assert render(frame, "key:ann") == '{"mine":1}'
    assert render(frame, "key:bob") == render(frame, None) == '{"hidden":true}'
    assert render('{"type":"event"}', "key:ann") == '{"type":"event"}'


def test_voter_keys() -> None:
    assert socket_voter(Grant("*", "write", 1.0, "ann"), "k") == "sub:ann"
    assert socket_voter(OPEN, "k") == "key:k" == rest_voter(OPEN, "k")
    assert socket_voter(OPEN, None).startswith("conn:") and socket_voter(OPEN, None) != socket_voter(OPEN, None)
    with pytest.raises(BadRequest):
        rest_voter(OPEN, None)
    with pytest.raises(BadRequest):
        rest_voter(OPEN, "not a key")
    assert rest_voter(Grant("*", "write", 1.0), None, "tok").startswith("tok:")


def test_private_notes_as_each_reader_sees_them() -> None:
    public, secret = note(1), {**note(2), "text": "idea"}
    notes = [public, secret]
    assert shown(notes, {}, "key:ann") is notes  # nothing private: the same list, no copy
    ann = shown(notes, {2: "key:ann"}, "key:ann")
    bob = shown(notes, {2: "key:ann"}, "key:bob")
    nobody = shown(notes, {2: "key:ann"}, None)
    assert ann[0] is public and ann[1]["text"] == "idea" and ann[1].get("private") is True
    assert bob[1]["text"] == "" and bob[1].get("hidden") is True and bob[1]["x"] == secret["x"]
    assert nobody[1] == bob[1] and secret["text"] == "idea"  # the stored note is not touched
    assert check_text(2, "key:ann", "key:ann", None) is None and check_text(1, None, "key:bob", None) is None
    refused = check_text(2, "key:ann", "key:bob", "c1")
    assert isinstance(refused, Forbidden) and refused.client_id == "c1"
